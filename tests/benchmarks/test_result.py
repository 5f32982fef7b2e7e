"""ScoreEstimate: every number a suite reports carries its interval."""

from __future__ import annotations

import pytest

from bayesbench.benchmarks import ScoreEstimate


def test_score_estimate_intervals() -> None:
    est = ScoreEstimate.from_scores([1.0] * 7 + [0.0] * 3)
    assert est.method == "wilson" and est.n == 10 and float(est) == 0.7
    assert est.ci[0] == pytest.approx(0.3968, abs=1e-3) and est.ci[1] == pytest.approx(0.8922, abs=1e-3)
    frac = ScoreEstimate.from_scores([0.5, 1.0, 0.0, 0.8])
    assert frac.method == "normal" and 0.0 <= frac.ci[0] < frac.value < frac.ci[1] <= 1.0
    assert "n=10" in repr(est)
