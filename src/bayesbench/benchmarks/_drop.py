"""DROP (Dua et al., 2019): reading comprehension with discrete reasoning, scored by the official EM and F1."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._validate import one_of
from ..errors import DatasetError
from ._base import Benchmark, Calls, LoadedData, Problem, Record, single_task_n
from ._data import dir_rows, split_files
from ._result import PredictionRecord, ScoreEstimate

HUB_PATH = "ucinlp/drop"


def gold_answers(row: dict[str, Any]) -> list[str | list[str]]:
    """Alternative gold answers. ``answers`` (ours) is a list whose entries are a string or a list of spans
    (a multi-span answer); the hub's ``answers_spans`` lists one span per alternative answer."""
    if "answers" in row:
        answers = row["answers"]
        if isinstance(answers, str):
            return [answers]
        return [a if isinstance(a, str) else [str(x) for x in a] for a in answers]
    spans = row["answers_spans"]["spans"]
    return [str(s) for s in spans]


def _convert(rows: list[dict[str, Any]], split: str) -> list[Record]:
    out = []
    for i, row in enumerate(rows):
        try:
            gold = gold_answers(row)
            rid = row.get("query_id", row.get("id", i))
            out.append({"id": f"drop/{split}/{rid}", "passage": str(row["passage"]), "question": str(row["question"]),
                        "answers": gold})
        except (KeyError, TypeError) as exc:
            raise DatasetError(
                f"DROP row {i} of {split} needs passage, question and answers_spans {{spans: [...]}} (upstream) or "
                f"answers; got {sorted(row)} ({type(exc).__name__}: {exc})"
            ) from exc
        if not out[-1]["answers"]:
            raise DatasetError(f"DROP row {i} of {split} has no gold answer; every item needs at least one")
    return out


def _first(answer: str | Sequence[str]) -> str:
    return answer if isinstance(answer, str) else ", ".join(answer)


def extract_prediction(response: str) -> str:
    """The answer line: text after a final 'Answer:' if present, else the first non-empty line."""
    text = response.strip()
    if "answer:" in text.lower():
        text = text[text.lower().rindex("answer:") + len("answer:"):].strip()
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


class DROP(Benchmark):
    """DROP validation questions, up to 5 shots, scored with the official DROP EM and F1 (both reported).

    Prompt: shots "Passage: <p>\\nQuestion: <q>\\nAnswer: <gold>\\n\\n", then the item ending in "Answer:".
    Shots come from the train split when the source has one, else other items (never the item itself).
    ``metric`` picks the headline (``"em"`` default, or ``"f1"``). Score: ``bayesbench.scoring.drop_em_f1`` of the
    answer line against every gold answer (max over them).

    Data: ``data_dir`` (``validation.jsonl`` [+ ``train.jsonl``] with passage, question, answers_spans) or
    ``ucinlp/drop`` from the hub. No PyPI package ships DROP, so there is no offline default.
    """

    name = "DROP"
    max_shots = 5
    primary_metric = "em"
    hub_path = HUB_PATH
    eval_split = "validation"
    shot_split = "train"

    def __init__(
        self,
        *,
        n_shots: int = 3,
        n_problems: int | None = None,
        n_problems_per_task: int | None = None,
        metric: str = "em",
        seed: int = 0,
        confinement_instructions: str | None = None,
        data_dir: Any = None,
        source: str = "auto",
        cache_dir: Any = None,
    ) -> None:
        self.metric = one_of("metric", metric, ("em", "f1"))
        self.primary_metric = self.metric
        super().__init__(
            tasks=None, n_shots=n_shots, n_problems_per_task=single_task_n(n_problems, n_problems_per_task),
            seed=seed, confinement_instructions=confinement_instructions, data_dir=data_dir, source=source,
            cache_dir=cache_dir,
        )

    def _text_key(self, record: Record) -> str:
        return record["passage"] + "\n" + record["question"]

    def load_from_dir(self, data_dir: Path, part: str | None) -> LoadedData:
        split = "validation" if split_files(data_dir, "validation") else "test"
        test = _convert(dir_rows(data_dir, split), "validation")
        train = self.to_records(dir_rows(data_dir, "train"), "train") if data_dir.is_dir() else {}
        return LoadedData({self.all_tasks()[0]: test}, train)

    def to_records(self, rows: list[dict[str, Any]], split: str) -> dict[str, list[Record]]:
        return {self.all_tasks()[0]: _convert(rows, split)}

    @staticmethod
    def format_item(record: Record, answer: str | None = None) -> str:
        tail = f"Answer: {answer}" if answer is not None else "Answer:"
        return f"Passage: {record['passage'].strip()}\nQuestion: {record['question'].strip()}\n{tail}"

    def _format(self, task: str, record: Record, shots: list[Record]) -> str:
        body = "".join(self.format_item(s, _first(s["answers"][0])) + "\n\n" for s in shots)
        return body + self.format_item(record)

    def _expected(self, record: Record) -> str:
        return " | ".join(_first(a) for a in record["answers"])

    def em_f1(self, problem: Problem, response: Any) -> tuple[float, float]:
        from ..scoring import drop_em_f1

        em, f1 = drop_em_f1(extract_prediction(str(response)), problem["reference"]["answers"])
        return float(em), float(f1)

    def score(self, problem: Problem, response: Any) -> float:
        em, f1 = self.em_f1(problem, response)
        return em if self.metric == "em" else f1

    async def _run(
        self, model: Any, model_name: str | None, problems: list[Problem], calls: Calls
    ) -> tuple[list[PredictionRecord], str]:
        records, name = await super()._run(model, model_name, problems, calls)
        by_id = {p["id"]: p for p in problems}
        for r in records:
            em, f1 = self.em_f1(by_id[r.problem_id], r.prediction) if r.prediction is not None else (0.0, 0.0)
            r.details.update(em=em, f1=f1)
        return records, name

    def _extra_metrics(self, records: list[PredictionRecord]) -> dict[str, ScoreEstimate]:
        other = "f1" if self.metric == "em" else "em"
        return {other: ScoreEstimate.from_scores([r.details[other] for r in records])}

    def _settings(self) -> dict[str, Any]:
        return {**super()._settings(), "metric": self.metric}
