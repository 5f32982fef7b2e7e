"""BIG-Bench Hard (Suzgun et al., 2022): 23 hard BIG-bench tasks (27 subtasks), exact match after extraction."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DatasetError
from ._base import Benchmark, LoadedData, Problem, Record
from ._data import hub_rows, read_records, split_files

_SUBTASKS = (
    "boolean_expressions causal_judgement date_understanding disambiguation_qa dyck_languages formal_fallacies "
    "geometric_shapes hyperbaton logical_deduction_five_objects logical_deduction_seven_objects "
    "logical_deduction_three_objects movie_recommendation multistep_arithmetic_two navigate object_counting "
    "penguins_in_a_table reasoning_about_colored_objects ruin_names salient_translation_error_detection snarks "
    "sports_understanding temporal_sequences tracking_shuffled_objects_five_objects "
    "tracking_shuffled_objects_seven_objects tracking_shuffled_objects_three_objects web_of_lies word_sorting"
).split()

BigBenchHardTask = Enum("BigBenchHardTask", {s.upper(): s for s in _SUBTASKS}, type=str)  # type: ignore[misc]
BigBenchHardTask.__doc__ = (
    "The 23 BBH tasks as their 27 upstream subsets (logical_deduction and tracking_shuffled_objects come in "
    "three sizes each); values are the config names of the hub dataset."
)

HUB_PATH = "lukaemon/bbh"
VENDORED_DIR = Path(__file__).parent / "data" / "bbh"


def vendored_tasks() -> list[str]:
    """BBH tasks shipped with bayesbench (converted from BIG-bench, Apache-2.0; see data/NOTICE)."""
    return sorted(p.stem for p in VENDORED_DIR.glob("*.json"))


def _convert(rows: list[dict[str, Any]], task: str, origin: str) -> list[Record]:
    out = []
    for i, row in enumerate(rows):
        if "input" not in row or "target" not in row:
            raise DatasetError(f"BBH {task} row {i} in {origin} needs 'input' and 'target', got {sorted(row)}")
        out.append({"id": f"bbh/{task}/{i}", "input": str(row["input"]), "target": str(row["target"])})
    return out


class BigBenchHard(Benchmark):
    """BIG-Bench Hard: up to 3 shots, optional chain-of-thought, exact match after answer extraction.

    Prompt: optional task description, shots "Q: <input>\\nA: <target>\\n\\n" from other items of the same task
    (never the item itself), then "Q: <input>\\nA:" (``cot=True`` appends " Let's think step by step." and the
    scorer reads "the answer is X"). Score: ``bayesbench.scoring.bbh_score``.

    Data, per task: ``data_dir`` (``<task>.json`` with an ``examples`` list, or ``<task>.jsonl``, as in the
    BBH repository), else the vendored files (4 tasks converted from BIG-bench: see ``vendored_tasks()``), else
    ``lukaemon/bbh`` from the hub. With the default ``tasks=None`` and no network, pass
    ``tasks=vendored_tasks()``.
    """

    name = "BigBenchHard"
    max_shots = 3
    task_enum = BigBenchHardTask
    hub_path = HUB_PATH

    def __init__(
        self,
        *,
        tasks: list[Any] | None = None,
        n_shots: int = 3,
        n_problems_per_task: int | None = None,
        cot: bool = False,
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
            tasks=tasks, n_shots=n_shots, n_problems_per_task=n_problems_per_task, seed=seed,
            confinement_instructions=confinement_instructions, data_dir=data_dir, source=source, cache_dir=cache_dir,
        )
        # BBH resolves per task, so "all tasks" really means all 27 (no narrowing to what a source holds).
        self._tasks_explicit = True
        self._descriptions: dict[str, str] = {}

    def _text_key(self, record: Record) -> str:
        return record["input"]

    # Each task resolves on its own: some may come from data_dir, others from the vendored files or the hub.
    def _parts(self) -> list[str | None]:
        return list(self.tasks)

    def load_from_dir(self, data_dir: Path, part: str | None) -> LoadedData | None:
        task = str(part)
        files = split_files(data_dir, task) if data_dir.is_dir() else [data_dir]
        if not files:
            return None
        return LoadedData({task: _convert([r for p in files for r in read_records(p)], task, f"data_dir:{data_dir}")})

    def load_from_package(self, part: str | None) -> LoadedData | None:
        """The vendored copy of the task (BBH's offline source), or None for a task that is not vendored."""
        task = str(part)
        path = VENDORED_DIR / f"{task}.json"
        if not path.is_file():
            return None
        doc = json.loads(path.read_text(encoding="utf-8"))
        self._descriptions[task] = str(doc.get("description", ""))
        origin = "vendored:bigbench task.json (Apache-2.0, see benchmarks/data/NOTICE)"
        return LoadedData({task: _convert(list(doc["examples"]), task, origin)}, {}, origin)

    def _package_missing(self, part: str | None) -> str:
        return f"the task is not vendored (vendored: {vendored_tasks()})"

    def load_from_hub(self, part: str | None) -> LoadedData:
        task = str(part)
        rows = hub_rows(HUB_PATH, name=task, split="test", cache_dir=self.cache_dir,
                        feature=f"Loading BBH task {task!r} from the Hugging Face hub")
        return LoadedData(self.to_records(rows, task), {}, f"hub:{HUB_PATH}")

    def to_records(self, rows: list[dict[str, Any]], split: str) -> dict[str, list[Record]]:
        """Rows of one task (BBH's hub configs are its tasks, so ``split`` names the task)."""
        return {split: _convert(rows, split, f"hub:{HUB_PATH}")}

    def _format(self, task: str, record: Record, shots: list[Record]) -> str:
        desc = self._descriptions.get(task, "")
        head = f"{desc.strip().rstrip('.')}.\n\n" if desc else ""
        body = "".join(f"Q: {s['input']}\nA: {s['target']}\n\n" for s in shots)
        tail = " Let's think step by step." if self.cot else ""
        return head + body + f"Q: {record['input']}\nA:{tail}"

    def _expected(self, record: Record) -> str:
        return record["target"]

    def _settings(self) -> dict[str, Any]:
        return {**super()._settings(), "cot": self.cot}

    def score(self, problem: Problem, response: Any) -> float:
        from ..scoring import bbh_score

        return float(bbh_score(str(response), problem["expected_output"], task=problem["task"]))
