"""The statistics layer: pure numpy/scipy, arrays in, result objects out (no I/O, no models).

Besides the engine, a small toolkit for reports by hand: intervals (Wilson, Clopper-Pearson, t, BCa
bootstrap), paired tests (exact McNemar, paired t, Wilcoxon, permutation), effect sizes (Cohen's h and d),
Holm / Benjamini-Hochberg adjustment, and repeated-run statistics (variance components, clustered standard
errors, cluster bootstrap); see docs/repeated-runs.md.

The default engine is a paired grid-mixture betting e-process (anytime-valid: stop whenever you
like, the error stays below alpha); see docs/statistics.md.
"""

from ._clustered import (
    BootstrapResult,
    ClusteredMean,
    RepeatedRunsSummary,
    cluster_bootstrap,
    clustered_mean,
    repeated_runs,
)
from ._effects import EffectSize, cohens_d, cohens_h, interpret_effect
from ._intervals import Interval, bootstrap_interval, clopper_pearson_interval, t_interval, wilson_interval
from ._multiplicity import AdjustedPValues, adjust_p_values
from ._posteriors import BetaPosterior, DirichletPosterior, GammaPosterior, NormalPosterior, Posterior
from ._power import (
    PowerResult,
    mcnemar_detectable_gap,
    mcnemar_power,
    mcnemar_sample_size,
    paired_cells,
    two_proportion_power,
    two_proportion_sample_size,
)
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
from ._tests import PairedTestResult, mcnemar_test, paired_t_test, permutation_test, wilcoxon_test

__all__ = [
    "AdjustedPValues",
    "BetaPosterior",
    "BootstrapResult",
    "ClusteredMean",
    "Decision",
    "DirichletPosterior",
    "EffectSize",
    "EngineConfig",
    "FixedNTest",
    "FixedTestResult",
    "GammaPosterior",
    "Interval",
    "NormalPosterior",
    "PairTest",
    "PairedSequentialTest",
    "PairedTestResult",
    "Posterior",
    "PosteriorThresholdTest",
    "PowerResult",
    "RankingRace",
    "RepeatedRunsSummary",
    "Status",
    "adjust_p_values",
    "bootstrap_interval",
    "clopper_pearson_interval",
    "cluster_bootstrap",
    "clustered_mean",
    "cohens_d",
    "cohens_h",
    "fixed_n_paired_test",
    "interpret_effect",
    "make_pair_test",
    "mcnemar_detectable_gap",
    "mcnemar_power",
    "mcnemar_sample_size",
    "mcnemar_test",
    "paired_cells",
    "paired_prob_a_beats_b",
    "paired_t_test",
    "permutation_test",
    "repeated_runs",
    "t_interval",
    "two_proportion_power",
    "two_proportion_sample_size",
    "wilcoxon_test",
    "wilson_interval",
]
