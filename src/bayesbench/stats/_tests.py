"""Paired tests of two models on the same problems: exact McNemar (binary scores), paired t, Wilcoxon
signed-rank and a sign-flip permutation test. Thin, checked wrappers over scipy (imported on first use)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ._report import StatResult, as_binary, as_pairs, check_alternative, check_count, check_seed, fmt_p

__all__ = ["PairedTestResult", "mcnemar_test", "paired_t_test", "wilcoxon_test", "permutation_test"]


@dataclass(frozen=True)
class PairedTestResult(StatResult):
    """A paired test of ``a`` against ``b``; ``estimate`` is the mean of a - b, ``alternative`` is about
    it ("greater": a is better). ``seed`` and ``n_resamples`` are set for the permutation test."""

    method: str
    statistic: float
    p_value: float
    alternative: str
    estimate: float
    n: int
    seed: int | None = None
    n_resamples: int | None = None

    def reject(self, alpha: float = 0.05) -> bool:
        return self.p_value < alpha

    def summary(self) -> str:
        extra = f", {self.n_resamples} resamples, seed {self.seed}" if self.seed is not None else ""
        return (f"{self.method}: statistic={self.statistic:.4g}, p={fmt_p(self.p_value)} ({self.alternative}), "
                f"mean difference {self.estimate:+.4g}, n={self.n}{extra}")


def mcnemar_test(a: Any, b: Any, *, alternative: str = "two-sided") -> PairedTestResult:
    """Exact McNemar test on paired 0/1 scores: a binomial test of the a-only wins among the discordant
    pairs (statistic = problems only ``a`` solved)."""
    from scipy import stats

    xa, xb = as_pairs(a, b)
    as_binary("a", xa), as_binary("b", xb)
    alternative = check_alternative(alternative)
    n10 = int(np.sum((xa == 1) & (xb == 0)))
    n01 = int(np.sum((xa == 0) & (xb == 1)))
    m = n10 + n01
    p = 1.0 if m == 0 else float(stats.binomtest(n10, m, 0.5, alternative=alternative).pvalue)
    return PairedTestResult("exact McNemar", float(n10), p, alternative, float((xa - xb).mean()), int(xa.shape[0]))


def paired_t_test(a: Any, b: Any, *, alternative: str = "two-sided") -> PairedTestResult:
    """Paired Student t-test on the differences a - b (at least 2 pairs, not all differences equal)."""
    from scipy import stats

    xa, xb = as_pairs(a, b, minimum=2)
    alternative = check_alternative(alternative)
    z = xa - xb
    if float(z.min()) == float(z.max()):
        raise ConfigError("every difference a - b is the same: the t statistic is undefined; "
                          "use mcnemar_test for 0/1 scores or report the constant difference")
    res = stats.ttest_rel(xa, xb, alternative=alternative)
    return PairedTestResult("paired t", float(res.statistic), float(res.pvalue), alternative, float(z.mean()),
                            int(z.shape[0]))


def wilcoxon_test(a: Any, b: Any, *, alternative: str = "two-sided") -> PairedTestResult:
    """Wilcoxon signed-rank test on a - b (zero differences dropped, as Wilcoxon did; exact p for
    small samples without ties, the normal approximation otherwise)."""
    from scipy import stats

    xa, xb = as_pairs(a, b)
    alternative = check_alternative(alternative)
    z = xa - xb
    if not np.any(z != 0):
        raise ConfigError("every difference a - b is zero: the Wilcoxon test has nothing to rank")
    res = stats.wilcoxon(xa, xb, alternative=alternative)
    return PairedTestResult("Wilcoxon signed-rank", float(res.statistic), float(res.pvalue), alternative,
                            float(z.mean()), int(z.shape[0]))


def permutation_test(a: Any, b: Any, *, alternative: str = "two-sided", n_resamples: int = 9999,
                     seed: int | None = None) -> PairedTestResult:
    """Paired permutation (sign-flip) test of the mean difference: exact when 2^n <= n_resamples,
    Monte Carlo otherwise (``seed`` None draws one, recorded)."""
    from scipy import stats

    xa, xb = as_pairs(a, b, minimum=2)
    alternative = check_alternative(alternative)
    resamples = check_count("n_resamples", n_resamples, minimum=100)
    used = check_seed(seed)

    def mean_diff(x: np.ndarray, y: np.ndarray, axis: int = -1) -> Any:
        return np.mean(x - y, axis=axis)

    res = stats.permutation_test((xa, xb), mean_diff, permutation_type="samples", vectorized=True,
                                 n_resamples=resamples, alternative=alternative, rng=np.random.default_rng(used))
    return PairedTestResult("paired permutation (sign-flip)", float(res.statistic), float(res.pvalue), alternative,
                            float((xa - xb).mean()), int(xa.shape[0]), seed=used, n_resamples=resamples)
