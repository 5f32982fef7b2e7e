"""Every stopping rule behind one interface (update / close / Decision), so the run loop treats them alike.

* "anytime"        the paired grid-mixture e-process (default; anytime-valid)
* "full_benchmark" the same engine in bank mode ("what would the full run say?")
* "posterior"      the ORIGINAL bayesbench rule (posterior threshold + skip window), for reproducing
                   its results. It is not error-controlled (statistics.md §1: false-winner rate up to
                   0.88 at horizon 10 000); the anytime e-values and CS are reported alongside.
* "fixed"          run everything, then one fixed-n paired test at close().
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from ..errors import ConfigError, ScoringError
from ._posteriors import BetaPosterior, Posterior, beta_prob_greater
from ._scores import Scores, paired
from ._sequential import Decision, EngineConfig, PairedSequentialTest

__all__ = [
    "PairTest",
    "make_pair_test",
    "PosteriorThresholdTest",
    "FixedNTest",
    "FixedTestResult",
    "fixed_n_paired_test",
    "paired_prob_a_beats_b",
    "RULES",
    "default_posterior",
]

Rule = Literal["anytime", "full_benchmark", "posterior", "fixed"]
RULES: tuple[str, ...] = ("anytime", "full_benchmark", "posterior", "fixed")


@runtime_checkable
class PairTest(Protocol):
    """What the run loop needs from a two-model stopping rule."""

    rule: str

    def update(self, a: Scores, b: Scores) -> Decision: ...

    def close(self) -> Decision: ...

    @property
    def decision(self) -> Decision: ...

    @property
    def n(self) -> int: ...

    def confidence_sequence(self) -> tuple[float, float]: ...


def make_pair_test(
    rule: str,
    cfg: EngineConfig | None = None,
    *,
    confidence: float = 0.95,
    skip_threshold: float | None = None,
    min_samples: int = 1,
    posterior_factory: Callable[[], Posterior] | None = None,
    seed: int | None = 0,
) -> PairTest:
    """Build the two-model stopping rule ``rule`` ("anytime", "full_benchmark", "posterior", "fixed").

    ``confidence``, ``skip_threshold``, ``min_samples``, ``posterior_factory`` and ``seed`` are used by
    the "posterior" rule only (seed: its Monte-Carlo draws for custom posteriors). ``cfg.alpha`` is the
    level of "anytime", "full_benchmark" and "fixed".
    """
    cfg = EngineConfig() if cfg is None else cfg
    if not isinstance(cfg, EngineConfig):
        raise ConfigError(f"`cfg` must be an EngineConfig, got {type(cfg).__name__}")
    if rule == "anytime":
        return PairedSequentialTest(dataclasses.replace(cfg, target="generalization"))
    if rule == "full_benchmark":
        if cfg.bank_size is None:
            raise ConfigError(
                "`bank_size` must be set for rule='full_benchmark', got None; pass "
                "EngineConfig(target='full_benchmark', bank_size=<problems in the bank>)"
            )
        return PairedSequentialTest(dataclasses.replace(cfg, target="full_benchmark"))
    if rule == "posterior":
        return PosteriorThresholdTest(
            cfg,
            confidence=confidence,
            skip_threshold=skip_threshold,
            min_samples=min_samples,
            posterior_factory=posterior_factory,
            seed=seed,
        )
    if rule == "fixed":
        return FixedNTest(cfg)
    raise ConfigError(
        f"`rule` must be one of {', '.join(repr(r) for r in RULES)}, got {rule!r}; 'anytime' is the default"
    )


# ------------------------------------------------------------------------------------ posterior rule
def default_posterior() -> Posterior:
    """The posterior of every run that names none: Jeffreys' Beta(1/2, 1/2) per model."""
    return BetaPosterior(0.5, 0.5)


class PosteriorThresholdTest:
    """The original bayesbench rule: two independent posteriors, P_t = P(p_A > p_B), checked after
    every problem once n >= min_samples: A if P_t >= confidence, B if P_t <= 1 - confidence, and
    EQUIVALENT ("skip_window") if 1 - skip_threshold < P_t < skip_threshold.

    P_t is exact for two Betas (Gauss–Legendre), a normal approximation for Normal posteriors and a
    seeded Monte-Carlo estimate for custom posteriors. Default posterior: Beta(1/2, 1/2) per model.
    NOT anytime-valid: its false-winner rate grows with the horizon (statistics.md §1).
    """

    rule = "posterior"

    def __init__(
        self,
        cfg: EngineConfig | None = None,
        *,
        confidence: float = 0.95,
        skip_threshold: float | None = None,
        min_samples: int = 1,
        posterior_factory: Callable[[], Posterior] | None = None,
        seed: int | None = 0,
        mc_samples: int = 4000,
    ) -> None:
        cfg = EngineConfig() if cfg is None else cfg
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not (0.5 < confidence < 1):
            raise ConfigError(f"`confidence` must be in (0.5, 1), got {confidence!r}")
        if skip_threshold is not None and (
            isinstance(skip_threshold, bool)
            or not isinstance(skip_threshold, (int, float))
            or not (0.5 < skip_threshold < 1)
        ):
            raise ConfigError(f"`skip_threshold` must be in (0.5, 1) or None (no skip window), got {skip_threshold!r}")
        if isinstance(min_samples, bool) or not isinstance(min_samples, int) or min_samples < 1:
            raise ConfigError(f"`min_samples` must be an integer >= 1, got {min_samples!r}")
        factory = default_posterior if posterior_factory is None else posterior_factory
        if not callable(factory):
            raise ConfigError(
                "`posterior_factory` must be a callable returning a new Posterior, e.g. BetaPosterior or "
                f"lambda: NormalPosterior(mu_0=0.3), got {posterior_factory!r}"
            )
        self.cfg = cfg
        self.confidence = float(confidence)
        self.skip_threshold = None if skip_threshold is None else float(skip_threshold)
        self.min_samples = min_samples
        self.seed = 0 if seed is None else int(seed)
        self.mc_samples = mc_samples
        self.posterior_a = factory()
        self.posterior_b = factory()
        for p in (self.posterior_a, self.posterior_b):
            if not hasattr(p, "update") or not hasattr(p, "mean"):
                raise ConfigError(
                    f"`posterior_factory` must return a Posterior (update, mean, sample, ...), got {type(p).__name__}"
                )
        self._engine = PairedSequentialTest(dataclasses.replace(cfg, target="generalization", bank_size=None))
        self._lo, self._hi = cfg.score_range
        self._prob = 0.5
        self._decision = self._wrap(self._engine.decision, "CONTINUE", "continue")

    @property
    def n(self) -> int:
        return self._engine.n

    @property
    def decision(self) -> Decision:
        return self._decision

    @property
    def prob_a_beats_b(self) -> float:
        """The latest P_t = P(p_A > p_B)."""
        return self._prob

    def confidence_sequence(self) -> tuple[float, float]:
        return self._engine.confidence_sequence()

    def _wrap(self, d: Decision, status: str, reason: str) -> Decision:
        e = self._engine
        return Decision(status, e.n, e.log_e_values(), e.confidence_sequence(), e.estimate, reason, self.rule)  # type: ignore[arg-type]

    def _p_greater(self, step: int) -> float:
        pa, pb = self.posterior_a, self.posterior_b
        if isinstance(pa, BetaPosterior) and isinstance(pb, BetaPosterior):
            return beta_prob_greater(pa.alpha, pa.beta, pb.alpha, pb.beta)
        if type(pa).prob_greater is not Posterior.prob_greater:
            return float(pa.prob_greater(pb, n_samples=self.mc_samples, seed=self.seed + step))
        rng = np.random.default_rng([self.seed, step])
        return float(np.mean(pa.sample(self.mc_samples, rng) > pb.sample(self.mc_samples, rng)))

    def update(self, a: Scores, b: Scores) -> Decision:
        oa, ob = paired(a, b, self._lo, self._hi)
        if self._decision.status != "CONTINUE":
            return self._decision
        xa, xb = oa, ob
        scale = self._hi - self._lo
        xa = (xa - self._lo) / scale
        xb = (xb - self._lo) / scale
        conf, skip = self.confidence, self.skip_threshold
        for i in range(xa.shape[0]):
            self.posterior_a.update(float(xa[i]))
            self.posterior_b.update(float(xb[i]))
            n = self._engine.n + i + 1
            status, reason = "CONTINUE", "continue"
            if n >= self.min_samples:
                p = self._prob = self._p_greater(n)
                if p >= conf:
                    status, reason = "A", "posterior_threshold"
                elif p <= 1 - conf:
                    status, reason = "B", "posterior_threshold"
                elif skip is not None and 1 - skip < p < skip:
                    status, reason = "EQUIVALENT", "skip_window"
            if status != "CONTINUE":
                d = self._engine.update(oa[: i + 1], ob[: i + 1])
                self._decision = self._wrap(d, status, reason)
                return self._decision
            if i == xa.shape[0] - 1:
                d = self._engine.update(oa, ob)
                self._decision = self._wrap(d, "CONTINUE", "continue")
        return self._decision

    def close(self) -> Decision:
        if self._decision.status == "CONTINUE":
            self._decision = self._wrap(self._engine.decision, "UNDECIDED", "undecided")
        return self._decision


# ------------------------------------------------------------------------------------ fixed-n rule
@dataclass(frozen=True)
class FixedTestResult:
    """A two-sided fixed-n paired test at level alpha."""

    status: str  # "A", "B" or "UNDECIDED"
    p_value: float
    estimate: float  # mean of Z = a - b
    ci: tuple[float, float]  # (1 - alpha) interval for the mean difference
    n: int
    method: str  # "exact McNemar (binomial on discordant pairs)" or "paired t-test"
    alpha: float


def fixed_n_paired_test(
    a: Scores,
    b: Scores,
    alpha: float = 0.05,
    *,
    score_range: tuple[float, float] = (0.0, 1.0),
) -> FixedTestResult:
    """Two-sided paired test on all data: exact McNemar for binary scores, paired t-test otherwise.

    The interval is Clopper–Pearson on θ = n10/(n10 + n01) mapped to Δ = (2θ − 1)·m/n for binary
    scores (conditional on the m discordant pairs), and the t-interval otherwise.
    """
    from scipy import stats  # imported on first use: scipy.stats costs ~1 s at `import bayesbench`

    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not (0 < alpha < 1):
        raise ConfigError(f"`alpha` must be in (0, 1), got {alpha!r}")
    lo, hi = float(score_range[0]), float(score_range[1])
    xa, xb = paired(a, b, lo, hi)
    xa = (xa - lo) / (hi - lo)
    xb = (xb - lo) / (hi - lo)
    n = int(xa.shape[0])
    if n == 0:
        return FixedTestResult("UNDECIDED", 1.0, 0.0, (-1.0, 1.0), 0, "no data", float(alpha))
    z = xa - xb
    est = float(z.mean())
    binary = bool(np.all((xa == 0) | (xa == 1)) and np.all((xb == 0) | (xb == 1)))
    if binary:
        n10, n01 = int(np.sum(z > 0)), int(np.sum(z < 0))
        m = n10 + n01
        method = "exact McNemar (binomial on discordant pairs)"
        if m == 0:
            return FixedTestResult("UNDECIDED", 1.0, est, (0.0, 0.0), n, method, float(alpha))
        res = stats.binomtest(n10, m, 0.5)
        p = float(res.pvalue)
        ci_t = res.proportion_ci(confidence_level=1 - alpha, method="exact")
        ci = ((2 * ci_t.low - 1) * m / n, (2 * ci_t.high - 1) * m / n)
    else:
        method = "paired t-test"
        sd = float(z.std(ddof=1)) if n > 1 else 0.0
        if n < 2 or sd == 0.0:
            status = "UNDECIDED" if est == 0 or n < 2 else ("A" if est > 0 else "B")
            p_value = 0.0 if status != "UNDECIDED" else 1.0
            return FixedTestResult(status, p_value, est, (est, est), n, method, float(alpha))
        tstat = est / (sd / math.sqrt(n))
        p = float(2 * stats.t.sf(abs(tstat), n - 1))
        h = float(stats.t.ppf(1 - alpha / 2, n - 1)) * sd / math.sqrt(n)
        ci = (est - h, est + h)
    status = ("A" if est > 0 else "B") if p < alpha else "UNDECIDED"
    return FixedTestResult(status, p, est, (float(ci[0]), float(ci[1])), n, method, float(alpha))


class FixedNTest:
    """Never stops early; :meth:`close` runs :func:`fixed_n_paired_test` on everything at level alpha."""

    rule = "fixed"

    def __init__(self, cfg: EngineConfig | None = None) -> None:
        cfg = EngineConfig() if cfg is None else cfg
        self.cfg = cfg
        self._engine = PairedSequentialTest(dataclasses.replace(cfg, target="generalization", bank_size=None))
        self._a: list[np.ndarray] = []
        self._b: list[np.ndarray] = []
        self.result: FixedTestResult | None = None
        self._decision = self._wrap(self._engine.decision, "CONTINUE", "continue")

    @property
    def n(self) -> int:
        return self._engine.n

    @property
    def decision(self) -> Decision:
        return self._decision

    def confidence_sequence(self) -> tuple[float, float]:
        return self._engine.confidence_sequence()

    def _wrap(self, d: Decision, status: str, reason: str, cs: tuple[float, float] | None = None) -> Decision:
        e = self._engine
        cs = e.confidence_sequence() if cs is None else cs
        return Decision(status, e.n, e.log_e_values(), cs, e.estimate, reason, self.rule)  # type: ignore[arg-type]

    def update(self, a: Scores, b: Scores) -> Decision:
        if self.result is not None:
            raise ConfigError("this fixed-n test was already closed; build a new one with make_pair_test('fixed', cfg)")
        lo, hi = self.cfg.score_range
        xa, xb = paired(a, b, lo, hi)
        if self.cfg.bank_size is not None and self.n + xa.shape[0] > self.cfg.bank_size:
            raise ConfigError(f"`bank_size` is {self.cfg.bank_size} but {self.n + xa.shape[0]} pairs were fed")
        self._a.append(xa)
        self._b.append(xb)
        d = self._engine.update(xa, xb)
        self._decision = self._wrap(d, "CONTINUE", "continue")
        return self._decision

    def close(self) -> Decision:
        if self.result is None:
            a = np.concatenate(self._a) if self._a else np.zeros(0)
            b = np.concatenate(self._b) if self._b else np.zeros(0)
            self.result = fixed_n_paired_test(a, b, self.cfg.alpha, score_range=self.cfg.score_range)
            r = self.result
            reason = "fixed_n_test" if r.status != "UNDECIDED" else "undecided"
            self._decision = self._wrap(self._engine.decision, r.status, reason, cs=r.ci)
        return self._decision


# ------------------------------------------------------------------------------------ paired posterior
def paired_prob_a_beats_b(a: Scores, b: Scores) -> float:
    """Paired posterior probability that A is better than B (descriptive, not a stopping rule).

    Binary scores: θ = P(A right | discordant) ~ Beta(½ + n10, ½ + n01), returns P(θ > ½).
    Otherwise: Normal-Inverse-Gamma on Z = a − b with μ0 = 0 (κ0 = 1, α0 = 1, β0 = 0.05),
    returns P(mean Z > 0).
    """
    from scipy import special, stats  # imported on first use (import time)

    xa = np.asarray(a, dtype=float).reshape(-1)
    xb = np.asarray(b, dtype=float).reshape(-1)
    if xa.shape != xb.shape:
        raise ScoringError(f"`a` and `b` must have the same length, got {xa.shape[0]} and {xb.shape[0]}")
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(xb))):
        i = int(np.flatnonzero(~(np.isfinite(xa) & np.isfinite(xb)))[0])
        raise ScoringError(f"scores must be finite numbers, got a NaN/inf at index {i}")
    z = xa - xb
    if np.all((xa == 0) | (xa == 1)) and np.all((xb == 0) | (xb == 1)):
        n10, n01 = float(np.sum(z > 0)), float(np.sum(z < 0))
        return float(special.betainc(0.5 + n01, 0.5 + n10, 0.5))
    n = z.shape[0]
    k0, a0, b0 = 1.0, 1.0, 0.05
    zbar = float(z.mean())
    kn = k0 + n
    mun = n * zbar / kn
    an = a0 + n / 2
    bn = b0 + 0.5 * float(((z - zbar) ** 2).sum()) + n * k0 * zbar**2 / (2 * kn)
    return float(stats.t.sf(0.0, 2 * an, loc=mun, scale=math.sqrt(bn / (an * kn))))

