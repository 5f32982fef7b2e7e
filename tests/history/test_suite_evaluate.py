"""`Suite(...).evaluate(model, budget=, history=bank)` on a real suite (HellaSwag's offline package data):
the bank is built here over the suite's problem ids from simulated models, the new model answers from a
known row, so the estimate is checked against that row's true mean."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from bayesbench.benchmarks import HellaSwag
from bayesbench.errors import DatasetError, ModelError
from bayesbench.history import ItemBank


@pytest.fixture(scope="module")
def suite_bank():
    suite = HellaSwag()
    problems = suite.problems()
    ids = [p["id"] for p in problems]
    rng = np.random.default_rng(4)
    theta, V, b = rng.normal(0, 1.2, (121, 2)), rng.normal(0, 1, (len(ids), 2)), rng.normal(0, 1.2, len(ids))
    P = expit(theta @ V.T + b)
    S = (rng.random(P.shape) < P).astype(float)
    bank = ItemBank(S[:120], [f"sim{i}" for i in range(120)], ids)
    return suite, problems, bank, S[120]


def _model_from_row(problems, row, calls):
    """Answers HellaSwag correctly exactly where the row says 1 (a wrong letter elsewhere)."""
    by_prompt = {p["prompt"]: (p, v) for p, v in zip(problems, row)}

    def model(prompt: str) -> str:
        p, v = by_prompt[prompt]
        calls.append(p["id"])
        return p["expected_output"] if v == 1 else ("A" if p["expected_output"] != "A" else "B")

    return model


def test_evaluate_with_history_asks_budget_problems_and_estimates_the_row(suite_bank):
    suite, problems, bank, row = suite_bank
    fit = bank.fit(ranks=(2,), penalties=(3.0,))
    calls: list[str] = []
    result = suite.evaluate(_model_from_row(problems, row, calls), budget=30, history=fit, ci="anytime", seed=0)
    est = result.metrics["history"]
    assert len(calls) == result.n_problems == est.n <= 30  # only the chosen problems were asked, each once
    assert set(calls) <= set(bank.items)
    assert est.ci[0] <= est.value <= est.ci[1] and est.method == "history-active"
    assert result.settings["history"]["ci"] == "anytime" and result.settings["history"]["budget"] == 30
    assert abs(est.value - row.mean()) < 0.25  # loose: 30 questions; coverage is tested in test_oracles
    assert est.ci[0] - 0.02 <= row.mean() <= est.ci[1] + 0.02


def test_an_item_the_suite_lacks_is_a_clear_error(suite_bank):
    suite, problems, bank, row = suite_bank
    bad = ItemBank(bank.scores, bank.models, [*bank.items[:-1], "hellaswag/validation/not-a-problem"])
    with pytest.raises(DatasetError, match="not problems of this suite.*not-a-problem"):
        suite.evaluate(lambda p: "A", budget=10, history=bad.fit(ranks=(2,), penalties=(3.0,)))


def test_a_failed_call_is_never_scored(suite_bank):
    suite, problems, bank, row = suite_bank

    def broken(prompt):
        raise RuntimeError("provider down")

    with pytest.raises(ModelError, match="provider down"):
        suite.evaluate(broken, budget=10, history=bank.fit(ranks=(2,), penalties=(3.0,)), max_retries=0)


def test_budget_without_history_is_refused():
    from bayesbench import ConfigError

    with pytest.raises(ConfigError, match="`budget`.*only with history"):
        HellaSwag().evaluate(lambda p: "A", budget=10)
