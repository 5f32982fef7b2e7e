"""Conjugate posteriors over a model's mean score (the original bayesbench view, §3 a).

They describe *one* model's performance with its uncertainty. They are not a stopping rule: a
posterior threshold checked after every problem has a false-winner rate far above its nominal level
(statistics.md §1); the default stopping rule is the anytime-valid paired test.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from ..errors import ConfigError, ScoringError

__all__ = ["Posterior", "BetaPosterior", "NormalPosterior", "DirichletPosterior", "GammaPosterior"]


def _pos(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (value > 0 and math.isfinite(value)):
        raise ConfigError(f"`{name}` must be a finite number > 0, got {value!r}")
    return float(value)


def _scores(cls: str, scores: Sequence[float] | np.ndarray, lo: float, hi: float, what: str) -> np.ndarray:
    try:
        arr = np.asarray(scores, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ScoringError(f"{cls} scores must be numbers {what}, got {scores!r}") from None
    ok = (arr >= lo) & (arr <= hi)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise ScoringError(f"{cls} score #{i} must be a number {what}, got {arr[i]!r}")
    return arr


def _rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


class Posterior(ABC):
    """Base class for a posterior over one model's mean score; subclass it for a custom metric.

    A subclass must implement :meth:`update_many`, :attr:`mean`, :attr:`variance`, :attr:`n` and
    :meth:`sample`. :meth:`credible_interval` and :meth:`prob_greater` then work from seeded samples;
    override them when a closed form exists.
    """

    def update(self, score: float) -> None:
        """Add one observed score."""
        self.update_many([score])

    @abstractmethod
    def update_many(self, scores: Sequence[float]) -> None:
        """Add several observed scores (vectorised)."""

    @property
    @abstractmethod
    def mean(self) -> float:
        """Posterior mean of the model's mean score."""

    @property
    @abstractmethod
    def variance(self) -> float:
        """Posterior variance of the model's mean score."""

    @property
    @abstractmethod
    def n(self) -> int:
        """Number of scores observed."""

    @abstractmethod
    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """``size`` draws of the model's mean score from the posterior."""

    def credible_interval(self, level: float = 0.95, *, n_samples: int = 20000, seed: int = 0) -> tuple[float, float]:
        """Equal-tailed credible interval (default: from ``n_samples`` seeded draws)."""
        _level(level)
        draws = self.sample(n_samples, np.random.default_rng(seed))
        lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
        return float(lo), float(hi)

    def prob_greater(self, other: Posterior, *, n_samples: int = 100000, seed: int = 0) -> float:
        """P(this model's mean > the other's), independent posteriors (default: seeded Monte Carlo)."""
        rng = np.random.default_rng(seed)
        return float(np.mean(self.sample(n_samples, rng) > other.sample(n_samples, rng)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.n}, mean={self.mean:.4g}, sd={math.sqrt(max(self.variance, 0)):.3g})"


def _level(level: float) -> None:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not (0 < level < 1):
        raise ConfigError(f"`level` must be in (0, 1), got {level!r}")


_GL_X, _GL_W = np.polynomial.legendre.leggauss(64)


class BetaPosterior(Posterior):
    """Beta-Bernoulli posterior for binary (or fractional, in [0, 1]) scores.

    A score s adds s to alpha and 1 - s to beta. Default prior Beta(1, 1); the original bayesbench
    rule uses Beta(1/2, 1/2) (Jeffreys).
    """

    def __init__(self, alpha: float = 1.0, beta: float = 1.0) -> None:
        self.alpha = _pos("alpha", alpha)
        self.beta = _pos("beta", beta)
        self._n = 0

    def update_many(self, scores: Sequence[float]) -> None:
        arr = _scores("BetaPosterior", scores, 0.0, 1.0, "in [0, 1] (rescale other scores or use NormalPosterior)")
        s = float(arr.sum())
        self.alpha += s
        self.beta += arr.size - s
        self._n += int(arr.size)

    @property
    def n(self) -> int:
        return self._n

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    @property
    def variance(self) -> float:
        a, b = self.alpha, self.beta
        return a * b / ((a + b) ** 2 * (a + b + 1))

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        return _rng(rng).beta(self.alpha, self.beta, size)

    def credible_interval(self, level: float = 0.95, *, n_samples: int = 20000, seed: int = 0) -> tuple[float, float]:
        """Exact equal-tailed interval from the Beta quantiles."""
        from scipy import stats  # on first use: keeps `import bayesbench` fast
        _level(level)
        lo, hi = stats.beta.ppf([(1 - level) / 2, (1 + level) / 2], self.alpha, self.beta)
        return float(lo), float(hi)

    def prob_greater(self, other: Posterior, *, n_samples: int = 100000, seed: int = 0) -> float:
        """Exact for two Betas: ∫ f_self(x) F_other(x) dx by split 64-point Gauss–Legendre."""
        if not isinstance(other, BetaPosterior):
            if isinstance(other, NormalPosterior):
                return _normal_prob(self.mean, self.variance, other.mean, other.variance)
            return super().prob_greater(other, n_samples=n_samples, seed=seed)
        return beta_prob_greater(self.alpha, self.beta, other.alpha, other.beta)


def beta_prob_greater(a1: float, b1: float, a2: float, b2: float) -> float:
    """P(X > Y) for independent X ~ Beta(a1, b1), Y ~ Beta(a2, b2) (split Gauss–Legendre)."""
    from scipy import special, stats  # on first use: keeps `import bayesbench` fast
    lo, hi = stats.beta.ppf([1e-13, 1 - 1e-13], a1, b1)
    edges = np.linspace(lo, hi, 9)  # 8 panels x 64 nodes around the mass of X
    mid = 0.5 * (edges[1:] + edges[:-1])[:, None]
    half = 0.5 * (edges[1:] - edges[:-1])[:, None]
    x = (mid + half * _GL_X[None, :]).ravel()
    w = (half * _GL_W[None, :]).ravel()
    val = float(np.sum(w * stats.beta.pdf(x, a1, b1) * special.betainc(a2, b2, x)))
    return min(1.0, max(0.0, val))


def _normal_prob(m1: float, v1: float, m2: float, v2: float) -> float:
    from scipy import stats  # on first use: keeps `import bayesbench` fast
    sd = math.sqrt(max(v1 + v2, 1e-300))
    return float(stats.norm.cdf((m1 - m2) / sd))


class NormalPosterior(Posterior):
    """Normal-Inverse-Gamma posterior for continuous scores (statistics.md §3 a).

    κ_n = κ0 + n, μ_n = (κ0 μ0 + n x̄)/κ_n, α_n = α0 + n/2,
    β_n = β0 + ½ Σ(x − x̄)² + n κ0 (x̄ − μ0)² / (2 κ_n); the mean score μ ~ t_{2α_n}(μ_n, β_n/(α_n κ_n)).
    ``beta_0 = 0.05`` corresponds to a prior score spread of about 0.2 on a [0, 1] scale.
    """

    def __init__(self, mu_0: float = 0.5, kappa_0: float = 1.0, alpha_0: float = 1.0, beta_0: float = 0.05) -> None:
        if isinstance(mu_0, bool) or not isinstance(mu_0, (int, float)) or not math.isfinite(mu_0):
            raise ConfigError(f"`mu_0` must be a finite number, got {mu_0!r}")
        self.mu_0 = float(mu_0)
        self.kappa_0 = _pos("kappa_0", kappa_0)
        self.alpha_0 = _pos("alpha_0", alpha_0)
        self.beta_0 = _pos("beta_0", beta_0)
        self._n = 0
        self._xbar = 0.0
        self._ss = 0.0  # Σ (x - x̄)²

    def update_many(self, scores: Sequence[float]) -> None:
        arr = _scores("NormalPosterior", scores, -np.inf, np.inf, "(finite)")
        if not arr.size:
            return
        m, xb, ss = arr.size, float(arr.mean()), float(((arr - arr.mean()) ** 2).sum())
        n = self._n
        tot = n + m
        d = xb - self._xbar
        self._ss += ss + d * d * n * m / tot  # Chan et al. parallel update
        self._xbar += d * m / tot
        self._n = tot

    @property
    def n(self) -> int:
        return self._n

    def params(self) -> tuple[float, float, float, float]:
        """(μ_n, κ_n, α_n, β_n)."""
        n, xb = self._n, self._xbar
        k = self.kappa_0 + n
        mu = (self.kappa_0 * self.mu_0 + n * xb) / k
        a = self.alpha_0 + n / 2
        b = self.beta_0 + 0.5 * self._ss + n * self.kappa_0 * (xb - self.mu_0) ** 2 / (2 * k)
        return mu, k, a, b

    def _t(self) -> tuple[float, float, float]:
        mu, k, a, b = self.params()
        return 2 * a, mu, math.sqrt(b / (a * k))

    @property
    def mean(self) -> float:
        return self.params()[0]

    @property
    def variance(self) -> float:
        df, _, scale = self._t()
        return scale**2 * df / (df - 2) if df > 2 else math.inf

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        df, loc, scale = self._t()
        return loc + scale * _rng(rng).standard_t(df, size)

    def credible_interval(self, level: float = 0.95, *, n_samples: int = 20000, seed: int = 0) -> tuple[float, float]:
        """Exact equal-tailed interval from the Student-t marginal of μ."""
        from scipy import stats  # on first use: keeps `import bayesbench` fast
        _level(level)
        df, loc, scale = self._t()
        lo, hi = stats.t.ppf([(1 - level) / 2, (1 + level) / 2], df, loc, scale)
        return float(lo), float(hi)

    def prob_greater(self, other: Posterior, *, n_samples: int = 100000, seed: int = 0) -> float:
        """Normal approximation to the difference of the two marginals (matched variances)."""
        comparable = isinstance(other, (NormalPosterior, BetaPosterior))
        if comparable and math.isfinite(self.variance) and math.isfinite(other.variance):
            return _normal_prob(self.mean, self.variance, other.mean, other.variance)
        return super().prob_greater(other, n_samples=n_samples, seed=seed)


class DirichletPosterior(Posterior):
    """Dirichlet-categorical posterior for ordinal/categorical scores (e.g. rubric grades 0, 0.5, 1).

    ``categories`` are the ordered score values; ``prior`` the symmetric Dirichlet concentration.
    The mean is the expected score Σ_k p_k c_k.
    """

    def __init__(self, categories: Sequence[float] = (0.0, 0.5, 1.0), prior: float = 1.0) -> None:
        try:
            cats = np.asarray(categories, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise ConfigError(f"`categories` must be a sequence of numbers, got {categories!r}") from None
        if cats.size < 2 or not np.all(np.isfinite(cats)) or np.unique(cats).size != cats.size:
            raise ConfigError(
                f"`categories` must hold at least 2 distinct finite score values, got {categories!r}"
            )
        self.categories = cats
        self.prior = _pos("prior", prior)
        self.counts = np.zeros(cats.size)

    def update_many(self, scores: Sequence[float]) -> None:
        arr = _scores("DirichletPosterior", scores, -np.inf, np.inf, "(finite)")
        idx = np.searchsorted(np.sort(self.categories), arr)
        order = np.argsort(self.categories)
        idx = np.clip(idx, 0, self.categories.size - 1)
        pos = order[idx]
        bad = self.categories[pos] != arr
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ScoringError(
                f"DirichletPosterior score #{i} must be one of the categories {self.categories.tolist()}, "
                f"got {arr[i]!r}"
            )
        self.counts += np.bincount(pos, minlength=self.categories.size)

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    @property
    def concentration(self) -> np.ndarray:
        """Posterior Dirichlet parameters per category."""
        return self.counts + self.prior

    @property
    def mean(self) -> float:
        a = self.concentration
        return float(a @ self.categories / a.sum())

    @property
    def variance(self) -> float:
        a = self.concentration
        a0 = a.sum()
        p = a / a0
        c = self.categories
        return float((p @ c**2 - (p @ c) ** 2) / (a0 + 1))

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        return _rng(rng).dirichlet(self.concentration, size) @ self.categories


class GammaPosterior(Posterior):
    """Gamma–exponential posterior for positive quantities (latency, cost per call).

    Model: x ~ Exponential with rate θ; prior θ ~ Gamma(shape, rate); posterior
    θ ~ Gamma(shape + n, rate + Σx). The reported quantity is the mean μ = 1/θ (inverse-gamma):
    mean = rate_n/(shape_n − 1). Lower is better for latency and cost: compare with prob_greater.
    """

    def __init__(self, shape: float = 1.0, rate: float = 1.0) -> None:
        self.shape = _pos("shape", shape)
        self.rate = _pos("rate", rate)
        self._n = 0

    def update_many(self, scores: Sequence[float]) -> None:
        arr = _scores("GammaPosterior", scores, 0.0, np.inf, "> 0 (a latency or cost)")
        if (arr <= 0).any():
            i = int(np.flatnonzero(arr <= 0)[0])
            raise ScoringError(f"GammaPosterior score #{i} must be a number > 0 (a latency or cost), got {arr[i]!r}")
        self.shape += arr.size
        self.rate += float(arr.sum())
        self._n += int(arr.size)

    @property
    def n(self) -> int:
        return self._n

    @property
    def mean(self) -> float:
        return self.rate / (self.shape - 1) if self.shape > 1 else math.inf

    @property
    def variance(self) -> float:
        a, b = self.shape, self.rate
        return b * b / ((a - 1) ** 2 * (a - 2)) if a > 2 else math.inf

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        return 1.0 / _rng(rng).gamma(self.shape, 1.0 / self.rate, size)

    def credible_interval(self, level: float = 0.95, *, n_samples: int = 20000, seed: int = 0) -> tuple[float, float]:
        """Exact interval from the inverse-gamma quantiles of μ = 1/θ."""
        from scipy import stats  # on first use: keeps `import bayesbench` fast
        _level(level)
        lo, hi = stats.invgamma.ppf([(1 - level) / 2, (1 + level) / 2], self.shape, scale=self.rate)
        return float(lo), float(hi)

    def prob_greater(self, other: Posterior, *, n_samples: int = 100000, seed: int = 0) -> float:
        """Closed form for two Gammas: P(μ1 > μ2) = P(θ1 < θ2) = I_{r1/(r1+r2)}(a1, a2)."""
        from scipy import special  # on first use: keeps `import bayesbench` fast
        if isinstance(other, GammaPosterior):
            r1, r2 = self.rate, other.rate
            return float(special.betainc(self.shape, other.shape, r1 / (r1 + r2)))
        return super().prob_greater(other, n_samples=n_samples, seed=seed)
