"""BIG-Bench Hard on the vendored BIG-bench tasks and on local files."""

from __future__ import annotations

import json

import pytest

from bayesbench.benchmarks import BigBenchHard, BigBenchHardTask, vendored_tasks
from bayesbench.benchmarks._bbh import VENDORED_DIR
from bayesbench.errors import ConfigError, DatasetError

from .conftest import oracle

VENDORED = ["causal_judgement", "date_understanding", "navigate", "sports_understanding"]
FLIP = {"yes": "no", "no": "yes", "Yes": "No", "No": "Yes"}


def test_enum_and_vendored_files() -> None:
    assert len(BigBenchHardTask) == 27  # 23 tasks; two of them in three sizes each
    assert BigBenchHardTask.WEB_OF_LIES.value == "web_of_lies"
    assert vendored_tasks() == VENDORED
    assert "Apache" in (VENDORED_DIR.parent / "NOTICE").read_text()
    for task in VENDORED:
        doc = json.loads((VENDORED_DIR / f"{task}.json").read_text())
        assert doc["license"] == "Apache-2.0" and 150 <= len(doc["examples"]) <= 250
        assert all(set(e) == {"input", "target"} for e in doc["examples"])


def test_oracle_exact_accuracy_on_vendored_tasks() -> None:
    bench = BigBenchHard(tasks=vendored_tasks(), n_shots=3, n_problems_per_task=25, seed=2)
    problems = bench.problems()
    assert bench.data_source.startswith("vendored:")
    assert len(problems) == 100

    def wrong(p: dict) -> str:
        t = p["expected_output"]
        return FLIP.get(t, "(A)" if t != "(A)" else "(B)")

    model, n_right = oracle(problems, lambda i: i % 5 != 0, lambda p: p["expected_output"], wrong)
    result = bench.evaluate(model)
    assert n_right == 80 and result.overall_accuracy.value == pytest.approx(0.8)
    assert set(result.task_scores) == set(VENDORED)
    for p in problems:
        assert p["id"] not in p["shot_ids"] and len(p["shot_ids"]) == 3
        assert p["prompt"].count("Q: " + p["reference"]["input"] + "\nA:") == 1


def test_chain_of_thought_prompt_and_extraction() -> None:
    bench = BigBenchHard(tasks=["navigate"], n_shots=0, n_problems_per_task=10, cot=True)
    problems = bench.problems()
    assert all(p["prompt"].endswith("\nA: Let's think step by step.") for p in problems)
    by_prompt = {p["prompt"]: f"Step 1 ... step 4. So the answer is {p['expected_output']}." for p in problems}
    result = bench.evaluate(lambda prompt: by_prompt[prompt])
    assert result.overall_accuracy.value == 1.0 and result.settings["cot"] is True


def test_prompt_golden_from_data_dir(fixtures) -> None:
    bench = BigBenchHard(tasks=[BigBenchHardTask.BOOLEAN_EXPRESSIONS], n_shots=1, data_dir=fixtures / "bbh")
    problems = bench.problems()
    assert len(problems) == 4 and bench.data_source.startswith("data_dir:")
    assert problems[0]["prompt"].endswith("\n\nQ: not ( True ) and ( True ) is\nA:")
    assert problems[0]["prompt"].startswith("Q: ") and problems[0]["prompt"].count("\nA: ") == 1


def test_sports_item_follows_the_bbh_format() -> None:
    p = BigBenchHard(tasks=["sports_understanding"], n_shots=0).problems()[0]
    assert p["prompt"].startswith("Determine whether an artificially constructed sentence relating to sports is "
                                  "plausible or implausible.\n\nQ: Is the following sentence plausible? \"")
    assert p["expected_output"] in {"yes", "no"}


def test_default_tasks_are_all_27_and_validation() -> None:
    assert len(BigBenchHard().tasks) == 27
    with pytest.raises(ConfigError, match="n_shots"):
        BigBenchHard(n_shots=4)
    with pytest.raises(ConfigError, match="snarks"):
        BigBenchHard(tasks=["snark"])
    with pytest.raises(DatasetError, match="not vendored"):
        BigBenchHard(tasks=["snarks"], source="package").load()
