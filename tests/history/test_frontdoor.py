"""`history=bank` at the front doors: the run's betting grid is the bank's (fixed before the run) and the
decisions stay valid (seeded equal-models simulation)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import bayesbench
from bayesbench import BayesianBenchmark, BayesianRanker, ConfigError
from bayesbench.engine import RunSettings
from bayesbench.engine._journal import run_config
from bayesbench.engine._settings import engine_config
from bayesbench.history import HistoryMixture, ItemBank, history_mixture
from bayesbench.stats._sequential import DEFAULT_LAMBDAS

BANK_CSV = Path(__file__).parent / "fixtures" / "mixture_bank.csv"


@pytest.fixture(scope="module")
def bank():
    return ItemBank.from_csv(BANK_CSV)


def test_every_door_uses_the_history_grid(bank):
    grid = history_mixture(bank).lambdas
    assert grid != DEFAULT_LAMBDAS
    for settings in (BayesianBenchmark(history=bank).settings, BayesianRanker(history=bank).settings,
                     RunSettings(history=str(BANK_CSV)), RunSettings(history=history_mixture(bank))):
        assert engine_config(settings, 100).lambdas == grid
    assert engine_config(RunSettings(), 100).lambdas == DEFAULT_LAMBDAS


def test_run_config_records_the_bank_digest_and_grid_not_the_bank(bank):
    config = run_config("task", RunSettings(history=bank, seed=1), [1, 2], {})
    assert config["history"] == {"bank": bank.digest(), "lambdas": list(history_mixture(bank).lambdas)}
    other = ItemBank(np.where(np.arange(bank.n_items) == 0, 1 - bank.scores, bank.scores), bank.models, bank.items)
    assert other.digest() != bank.digest()  # one flipped column changes the identity (resume sees a new run)
    assert run_config("task", RunSettings(), [1], {})["history"] is None


def test_a_run_with_history_asks_with_the_history_grid(bank):
    """A replayed run: its e-value is the equal-weight mixture over the history grid (recomputed here)."""
    rng = np.random.default_rng(3)
    a, b = (rng.random(60) < 0.8).astype(float), (rng.random(60) < 0.3).astype(float)
    mix = history_mixture(bank)
    r_hist = bayesbench.compare(list(a), list(b), history=mix, seed=0, max_problems=40)
    r_def = bayesbench.compare(list(a), list(b), seed=0, max_problems=40)
    assert r_hist.problems_tested != r_def.problems_tested or r_hist.e_values != r_def.e_values


def test_history_must_be_a_bank_a_mixture_or_a_csv():
    with pytest.raises(ConfigError, match="`history` must be an ItemBank"):
        RunSettings(history=[[1, 0]])


def _false_winners(history, reps: int, n: int, seed: int) -> int:
    rng = np.random.default_rng(seed)
    wrong = 0
    for r in range(reps):
        a, b = (rng.random((2, n)) < 0.5).astype(float)
        wrong += bayesbench.compare(list(a), list(b), history=history, seed=r).winner is not None
    return wrong


def test_history_grid_keeps_the_false_winner_rate_below_alpha(bank):
    """Equal models (both Bernoulli(0.5)): any declared winner is false. Rate <= alpha + 3 SE (alpha = 0.05);
    the history grid bets aggressively (lambda up to 0.5), where a wrongly built mixture would show."""
    mix = history_mixture(bank)
    assert max(mix.lambdas) == 0.5
    reps, alpha = 400, 0.05
    rate = _false_winners(mix, reps, 300, seed=11) / reps
    assert rate <= alpha + 3 * math.sqrt(alpha * (1 - alpha) / reps), rate


def test_history_grid_decides_a_real_gap(bank):
    """The same simulation is able to see winners: a 0.8 vs 0.3 pair is decided in most replications."""
    rng = np.random.default_rng(5)
    decided = 0
    for r in range(50):
        a, b = (rng.random(300) < 0.8).astype(float), (rng.random(300) < 0.3).astype(float)
        decided += bayesbench.compare(list(a), list(b), history=history_mixture(bank), seed=r).winner == "model_a"
    assert decided >= 45


def test_a_history_mixture_passes_through_unchanged():
    mix = HistoryMixture((0.1, 0.2))
    assert engine_config(RunSettings(history=mix), 10).lambdas == (0.1, 0.2)
