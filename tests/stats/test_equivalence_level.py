"""The equivalence stop runs at its own level (the front door's skip_threshold), not at alpha."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bayesbench import ConfigError
from bayesbench.stats import EngineConfig, PairedSequentialTest


def run_until_stop(a, b, cfg, batch=50):
    test = PairedSequentialTest(cfg)
    for start in range(0, len(a), batch):
        d = test.update(a[start:start + batch], b[start:start + batch])
        if d.status != "CONTINUE":
            return d
    return test.close()


def test_looser_equivalence_level_stops_sooner_on_equal_models():
    rng = np.random.default_rng(0)
    a = (rng.random(20000) < 0.7).astype(float)
    b = (rng.random(20000) < 0.7).astype(float)
    strict = run_until_stop(a, b, EngineConfig(delta=0.05))
    loose = run_until_stop(a, b, EngineConfig(delta=0.05, equivalence_alpha=0.15))
    assert strict.status == loose.status == "EQUIVALENT"
    assert loose.n < strict.n


def test_false_equivalence_at_the_margin_stays_below_its_level():
    """At the boundary gap (|Δ| = δ = 0.05) P(EQUIVALENT) <= α_eq/2 + 3 SE, with α_eq = 0.15, R = 300."""
    rng = np.random.default_rng(1)
    R, horizon, alpha_eq = 300, 4000, 0.15
    cfg = EngineConfig(delta=0.05, equivalence_alpha=alpha_eq)
    equivalent = 0
    for _ in range(R):
        a = (rng.random(horizon) < 0.725).astype(float)
        b = (rng.random(horizon) < 0.675).astype(float)
        equivalent += run_until_stop(a, b, cfg, batch=100).status == "EQUIVALENT"
    bound = alpha_eq / 2 + 3 * math.sqrt(alpha_eq / 2 * (1 - alpha_eq / 2) / R)
    assert equivalent / R <= bound


def test_equivalence_alpha_is_validated():
    with pytest.raises(ConfigError, match="`equivalence_alpha` must be in \\(0, 0.5\\)"):
        EngineConfig(delta=0.05, equivalence_alpha=0.7)
