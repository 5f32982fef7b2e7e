"""The estimation API: fit, save/load, estimate options, baselines, suites, errors, history mixture."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbench.errors import ConfigError, DatasetError, ScoringError
from bayesbench.history import (
    Estimate,
    FactorFit,
    HistoryMixture,
    estimate_suite,
    fit_bank,
    history_mixture,
    load_fit,
)
from bayesbench.stats import EngineConfig, PairedSequentialTest

from ._sim import factor_bank


@pytest.fixture(scope="module")
def sim():
    bank, _ = factor_bank(n_models=220, n_items=80, rank=3, seed=4)
    train = bank.filter(models=bank.models[:200])
    return bank, train, train.fit(ranks=(2, 3), penalties=(1.0, 10.0), seed=0)


def test_fit_reports_cv_and_round_trips_npz(sim, tmp_path):
    bank, train, fit = sim
    assert fit.rank in (2, 3) and fit.penalty in (1.0, 10.0)
    assert len(fit.cv["table"]) == 4 and 0.6 < fit.heldout_accuracy < 1 and fit.heldout_log_loss > 0
    path = fit.save(tmp_path / "fit")
    assert path.suffix == ".npz"
    back = load_fit(path)
    assert isinstance(back, FactorFit) and back.items == fit.items and back.models == fit.models
    np.testing.assert_array_equal(back.V, fit.V)
    row = bank.scores[210]
    a = fit.estimate(lambda j, row=row: row[j], budget=20, seed=1)
    b = back.estimate(lambda j, row=row: row[j], budget=20, seed=1)
    assert a.to_dict() == b.to_dict()  # same fit, same seed: the same run
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DatasetError, match="not a bayesbench history fit"):
        load_fit(tmp_path / "junk.npz")
    again = fit_bank(train, ranks=(2, 3), penalties=(1.0, 10.0), seed=0)
    np.testing.assert_allclose(again.V, fit.V)  # seeded: refitting gives the same model


def test_estimate_result_fields_and_summary(sim):
    bank, _, fit = sim
    row = bank.scores[205]
    e = fit.estimate(lambda j, row=row: row[j], budget=40, seed=7, confidence=0.9)
    assert isinstance(e, Estimate)
    assert e.n == 40 and e.n_calls == len(set(e.items)) <= 40 and len(e.items) == 40
    assert set(e.items) <= set(fit.items)
    d = e.to_dict()
    assert d["method"] == "active" and d["ci_kind"] == "asymptotic" and d["confidence"] == 0.9 and d["seed"] == 7
    assert "questions drawn" in e.summary() and "seed 7" in e.summary()
    assert e.effective_sample_size > 0 and e.ci[0] <= e.mean <= e.ci[1]


def test_target_width_stops_early_and_the_interval_narrows(sim):
    bank, _, fit = sim
    row = bank.scores[201]
    e = fit.estimate(lambda j, row=row: row[j], budget=400, seed=0, ci="anytime", target_width=0.3)
    assert e.stopped_early and e.n < 400 and e.width <= 0.3
    widths = [hi - lo for _, _, lo, hi in e.trace]
    assert widths == sorted(widths, reverse=True)  # a running intersection never widens
    with pytest.raises(ConfigError, match="`target_width` needs ci='anytime'"):
        fit.estimate(lambda j, row=row: row[j], budget=10, target_width=0.2)


@pytest.mark.parametrize("kw, match", [
    ({"budget": 1}, "`budget` must be an integer >= 2, got 1"),
    ({"confidence": 1.2}, r"`confidence` must be in \(0.5, 1\), got 1.2"),
    ({"ci": "exact"}, "`ci` must be 'asymptotic' or 'anytime'"),
    ({"tau": 0}, "`tau`"),
    ({"seed": "x"}, "`seed` must be an integer"),
])
def test_bad_arguments(sim, kw, match):
    _, _, fit = sim
    with pytest.raises(ConfigError, match=match):
        fit.estimate(lambda j: 1.0, **kw)


def test_a_bad_score_is_refused_and_the_partial_estimate_is_kept(sim):
    _, _, fit = sim
    n = {"k": 0}

    def flaky(j):
        n["k"] += 1
        return 1.0 if n["k"] < 6 else 1.7

    with pytest.raises(ScoringError, match=r"returned 1.7; it must return a score in \[0, 1\]") as info:
        fit.estimate(flaky, budget=50, seed=0)
    assert info.value.partial.n_calls == 5 and info.value.partial.n >= 5


def test_baselines(sim):
    bank, _, fit = sim
    row = bank.scores[215]
    u = fit.estimate_uniform(lambda j, row=row: row[j], budget=30, seed=2)
    assert u.method == "uniform" and u.n_calls == 30 == len(set(u.items))  # without replacement
    ex = fit.estimate_uniform(lambda j, row=row: row[j], budget=30, seed=2, ci="exact")
    assert ex.mean == u.mean and ex.ci[1] - ex.ci[0] >= u.ci[1] - u.ci[0] - 1e-9  # Clopper-Pearson is wider
    ir = fit.estimate_irt(lambda j, row=row: row[j], budget=15)
    ir2 = fit.estimate_irt(lambda j, row=row: row[j], budget=15, seed=9)
    assert ir.items == ir2.items and ir.ci_kind == "model"  # fixed anchors, whatever the seed
    with pytest.raises(ConfigError, match="needs 0/1 scores"):
        fit.estimate_uniform(lambda j: 0.5, budget=5, ci="exact")


def test_estimate_suite_maps_items_to_problems(sim):
    bank, _, fit = sim
    row = bank.scores[212]
    problems = [{"id": it, "gold": "A" if row[j] else "B"} for j, it in enumerate(fit.items)][::-1]
    asked = []

    def model(p):
        asked.append(p["id"])
        return "A"

    e = estimate_suite(fit, problems, model, lambda p, r: float(r == p["gold"]), budget=30, seed=0)
    assert e.n_calls == len(asked) == len(set(asked)) and set(asked) <= set(fit.items)
    direct = fit.estimate(lambda j, row=row: row[j], budget=30, seed=0)
    assert e.mean == pytest.approx(direct.mean)  # same answers, same draws
    with pytest.raises(DatasetError, match="1 of the bank's 80 items are not problems of this suite, e.g. \\['q0'\\]"):
        estimate_suite(fit, [p for p in problems if p["id"] != "q0"], model, lambda p, r: 1.0, budget=10)


def test_history_mixture_is_fixed_by_the_bank_and_plugs_into_the_engine(sim):
    _, train, _ = sim
    mix = history_mixture(train, seed=0)
    assert isinstance(mix, HistoryMixture)
    assert mix == history_mixture(train, seed=0) and len(mix.lambdas) == 12
    assert all(0.005 <= x <= 0.5 for x in mix.lambdas) and list(mix.lambdas) == sorted(mix.lambdas)
    cfg = mix.config(alpha=0.05)
    assert isinstance(cfg, EngineConfig) and cfg.lambdas == mix.lambdas
    # still an e-process: equal models (the same true row twice, independent draws) rarely give a verdict
    P = np.full(300, 0.7)
    rng = np.random.default_rng(0)
    false = 0
    R = 300
    for _ in range(R):
        t = PairedSequentialTest(cfg)
        d = t.update((rng.random(300) < P).astype(float), (rng.random(300) < P).astype(float))
        false += d.status in ("A", "B")
    assert false / R <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / R)
    with pytest.raises(ConfigError, match="`grid_size`"):
        history_mixture(train, grid_size=0)
