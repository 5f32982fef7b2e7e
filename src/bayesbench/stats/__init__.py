"""The statistics layer: pure numpy/scipy, arrays in, result objects out (no I/O, no models).

The default engine is a paired grid-mixture betting e-process (anytime-valid: stop whenever you
like, the error stays below alpha); see docs/statistics.md.
"""

from ._posteriors import BetaPosterior, DirichletPosterior, GammaPosterior, NormalPosterior, Posterior
from ._ranking import RankingRace
from ._rules import (
    FixedNTest,
    FixedTestResult,
    PairTest,
    PosteriorThresholdTest,
    fixed_n_paired_test,
    make_pair_test,
    paired_prob_a_beats_b,
)
from ._sequential import Decision, EngineConfig, PairedSequentialTest, Status

__all__ = [
    "BetaPosterior",
    "Decision",
    "DirichletPosterior",
    "EngineConfig",
    "FixedNTest",
    "FixedTestResult",
    "GammaPosterior",
    "NormalPosterior",
    "PairTest",
    "PairedSequentialTest",
    "Posterior",
    "PosteriorThresholdTest",
    "RankingRace",
    "Status",
    "fixed_n_paired_test",
    "make_pair_test",
    "paired_prob_a_beats_b",
]
