"""The paired grid-mixture betting e-process (statistics.md §3 c2, c4, e and §6.3).

Four one-sided e-processes share one λ-grid. Side ``s`` has a null boundary ``m_s`` and a
direction ``d_s``; its per-problem factor is ``1 + λ_g · d_s · (Z − c_s)`` where ``c_s = m_s`` for the
generalization estimand and the without-replacement centre ``μ_t(m_s) = (N m_s − S_{t−1})/(N − t + 1)``
in bank mode.

    side   null            m_s    d_s
    A      Δ ≤ 0           0      +1
    B      Δ ≥ 0           0      −1
    eq_hi  Δ ≥ δ           δ      −1
    eq_lo  Δ ≤ −δ          −δ     +1

Bets are constant, so log-wealth is a sum of per-problem terms: for binary scores it is a function of
the counts only, which is what makes an update O(G) regardless of n.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..errors import ConfigError
from ._scores import Scores, paired

__all__ = ["Status", "EngineConfig", "Decision", "PairedSequentialTest"]

Status = Literal["A", "B", "EQUIVALENT", "CONTINUE", "UNDECIDED"]
Target = Literal["generalization", "full_benchmark"]

DEFAULT_LAMBDAS: tuple[float, ...] = tuple(float(x) for x in np.geomspace(0.005, 0.5, 12))
_TERMINAL = ("A", "B", "EQUIVALENT", "UNDECIDED")
_BIN_VALS = np.array([1.0, -1.0, 0.0])
_BIN_Z = np.array([-1.0, 0.0, 1.0])
_MAX_DISTINCT = 64  # keep Z as a value->count table while it has at most this many distinct values
_CS_SLACK = 1e-3
_NO_CROSS = {n: np.full(n, -1) for n in (2, 4)}  # shared "no side crossed" result (never mutated)


@dataclass(frozen=True)
class EngineConfig:
    """Configuration of the sequential paired test (defaults: statistics.md §6.1).

    alpha: total error level; each direction is tested at alpha/2 (threshold 2/alpha).
    lambdas: the betting grid, every value in (0, 0.5]; equal-weight mixture.
    delta: equivalence margin on the rescaled [0, 1] scale, or None for no equivalence stop.
    target: "generalization" (population mean difference) or "full_benchmark" (what the full
        bank would say: without-replacement centring, exact curtailment, exact verdict at t = N).
    bank_size: number of problems in the bank; required for "full_benchmark", optional otherwise
        (then UNDECIDED is issued when the bank is exhausted).
    score_range: a-priori (lo, hi) bounds of one score, used to rescale scores to [0, 1].
    equivalence_alpha: level of the equivalence stop (false equivalence <= equivalence_alpha/2 when
        |Δ| >= delta); None means alpha. The front door sets it to 1 - skip_threshold.
    """

    alpha: float = 0.05
    lambdas: tuple[float, ...] = DEFAULT_LAMBDAS
    delta: float | None = None
    target: Target = "generalization"
    bank_size: int | None = None
    score_range: tuple[float, float] = (0.0, 1.0)
    equivalence_alpha: float | None = None

    def __post_init__(self) -> None:
        a = self.alpha
        if isinstance(a, bool) or not isinstance(a, (int, float)) or not (0 < a < 0.5):
            raise ConfigError(f"`alpha` must be in (0, 0.5), got {a!r}; 0.05 is the usual choice")
        try:
            lam = tuple(float(x) for x in self.lambdas)
        except (TypeError, ValueError):
            raise ConfigError(
                f"`lambdas` must be a sequence of numbers in (0, 0.5], got {self.lambdas!r}"
            ) from None
        if not lam or not all(0 < x <= 0.5 for x in lam):
            raise ConfigError(
                f"`lambdas` must be a non-empty sequence of numbers in (0, 0.5], got {self.lambdas!r}; "
                "the default is geomspace(0.005, 0.5, 12)"
            )
        object.__setattr__(self, "lambdas", lam)
        d = self.delta
        if d is not None and (
            isinstance(d, bool) or not isinstance(d, (int, float)) or not (0 < d < 1)
        ):
            raise ConfigError(
                f"`delta` must be in (0, 1) or None, got {d!r}; it is an equivalence margin on the "
                "[0, 1] score scale, e.g. 0.05"
            )
        if self.target not in ("generalization", "full_benchmark"):
            raise ConfigError(
                f"`target` must be one of 'generalization', 'full_benchmark', got {self.target!r}"
            )
        bs = self.bank_size
        if bs is not None and (isinstance(bs, bool) or not isinstance(bs, int) or bs < 1):
            raise ConfigError(f"`bank_size` must be an integer >= 1 or None, got {bs!r}")
        if self.target == "full_benchmark" and bs is None:
            raise ConfigError(
                "`bank_size` must be set when target='full_benchmark', got None; pass the number of "
                "problems in the bank, e.g. EngineConfig(target='full_benchmark', bank_size=1000)"
            )
        try:
            lo, hi = (float(v) for v in self.score_range)
        except (TypeError, ValueError):
            raise ConfigError(
                f"`score_range` must be a pair (lo, hi) of finite numbers, got {self.score_range!r}"
            ) from None
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ConfigError(
                f"`score_range` must be a pair (lo, hi) of finite numbers with lo < hi, got "
                f"{self.score_range!r}; use the a-priori bounds of one score, e.g. (0, 10)"
            )
        object.__setattr__(self, "score_range", (lo, hi))
        ea = self.equivalence_alpha
        if ea is not None and (isinstance(ea, bool) or not isinstance(ea, (int, float)) or not (0 < ea < 0.5)):
            raise ConfigError(
                f"`equivalence_alpha` must be in (0, 0.5) or None (same as alpha), got {ea!r}; "
                "it is 1 - skip_threshold, e.g. 0.15"
            )

    @property
    def log_threshold(self) -> float:
        """log(2/alpha): each one-sided e-process must reach 2/alpha."""
        return math.log(2.0 / self.alpha)

    @property
    def log_equivalence_threshold(self) -> float:
        """log(2/alpha_eq): both equivalence e-processes must reach it (alpha_eq = equivalence_alpha or alpha)."""
        return math.log(2.0 / (self.equivalence_alpha if self.equivalence_alpha is not None else self.alpha))


@dataclass
class Decision:
    """The state of a paired comparison after a batch.

    status: "A" / "B" (winner, final), "EQUIVALENT", "CONTINUE", or "UNDECIDED" (no more data).
    n: paired problems consumed.
    log_e: running-max log e-values of the sides "A", "B", "eq_hi", "eq_lo" (the last two only when
        delta is set); always those of the anytime engine, whatever rule decided.
    cs: (1 - alpha) confidence sequence for the mean difference Δ on the rescaled [0, 1] scale
        (for the full-bank mean Δ_N in bank mode; the fixed-n interval for the "fixed" rule at close).
    estimate: mean of Z = a - b on the rescaled scale.
    reason: why the status is what it is: "e_value", "curtailment", "bank_exhausted", "equivalence",
        "skip_window", "posterior_threshold", "fixed_n_test", "undecided", "continue".
    rule: which rule produced the status ("anytime", "full_benchmark", "posterior", "fixed").
    """

    status: Status
    n: int
    log_e: dict[str, float]
    cs: tuple[float, float]
    estimate: float
    reason: str = "continue"
    rule: str = "anytime"

    @property
    def stopped(self) -> bool:
        """True when no more data is needed (anything but CONTINUE)."""
        return self.status != "CONTINUE"


def _lse_rows(x: np.ndarray) -> np.ndarray:
    """log-sum-exp over the last axis, robust to rows of -inf."""
    mx = x.max(axis=-1, keepdims=True)
    mx = np.where(np.isfinite(mx), mx, 0.0)
    with np.errstate(divide="ignore"):
        return (mx + np.log(np.exp(x - mx).sum(axis=-1, keepdims=True)))[..., 0]


class PairedSequentialTest:
    """Anytime-valid paired comparison of two models on the same problems.

    Feed batches with :meth:`update` in dispatch order; call :meth:`close` when no more data will
    come. Once A or B is issued it is final (later data is accounted but never revises it).
    """

    def __init__(self, cfg: EngineConfig | None = None) -> None:
        cfg = EngineConfig() if cfg is None else cfg
        if not isinstance(cfg, EngineConfig):
            raise ConfigError(f"`cfg` must be an EngineConfig, got {type(cfg).__name__}")
        self.cfg = cfg
        self.rule = "full_benchmark" if cfg.target == "full_benchmark" else "anytime"
        self._lam = np.asarray(cfg.lambdas, dtype=float)
        self._log_g = math.log(len(cfg.lambdas))
        self._thr = cfg.log_threshold
        self._bank = cfg.target == "full_benchmark"
        self._N = cfg.bank_size
        self._lo, self._hi = cfg.score_range
        self._scale = self._hi - self._lo
        self._names = ["A", "B"] if cfg.delta is None else ["A", "B", "eq_hi", "eq_lo"]
        dl = 0.0 if cfg.delta is None else cfg.delta
        S = self._S = len(self._names)
        # per-side decision thresholds: A/B at alpha, the two equivalence sides at equivalence_alpha
        self._side_thr = np.array([self._thr, self._thr] + [cfg.log_equivalence_threshold] * (S - 2))
        # Rows 0..S-1 are the test sides; rows S and S+1 track log K at the current CS ends
        # (lower: "Δ ≤ L", d = +1; upper: "Δ ≥ U", d = -1) so the per-batch CS check costs nothing.
        self._m = np.array([0.0, 0.0, dl, -dl][:S] + [-1.0, 1.0])
        self._d = np.array([1.0, -1.0, -1.0, 1.0][:S] + [1.0, -1.0])
        # λ_g·d_s, shape (S+2, G): the per-problem log factor is log1p(self._ld * (Z - c_s)).
        self._ld = self._d[:, None] * self._lam[None, :]
        self._ell = np.zeros((S + 2, len(self._lam)))
        self._max = np.zeros(S)  # running max of log E_s (E_0 = 1)
        self._cs_next = 0  # history paths: next n at which the CS ends may move
        self._tab: np.ndarray | None = None  # log factors of Z = -1, 0, 1 per row (single-item path)
        self._lazy_cs = False  # True: move the CS ends only when the CS is asked for (ranking)
        self._n = 0
        self._sum = 0.0
        self._binary = True
        self._c = [0, 0, 0, 0]  # n10, n01, n00, n11 while binary
        self._zcount: dict[float, int] | None = {}
        self._chunks: list[np.ndarray] = []
        self._hist_cache: np.ndarray | None = None
        self._decision = Decision("CONTINUE", 0, self._log_e(), (-1.0, 1.0), 0.0, "continue", self.rule)

    # ------------------------------------------------------------------ public state
    @property
    def n(self) -> int:
        """Paired problems consumed so far."""
        return self._n

    @property
    def decision(self) -> Decision:
        """The latest decision (the one returned by the last update/close)."""
        return self._decision

    @property
    def is_binary(self) -> bool:
        """True while every rescaled score seen so far is exactly 0 or 1."""
        return self._binary

    @property
    def n10(self) -> int | None:
        """Problems A got right and B wrong (None once a non-binary score was seen)."""
        return self._c[0] if self._binary else None

    @property
    def n01(self) -> int | None:
        """Problems A got wrong and B right (None once a non-binary score was seen)."""
        return self._c[1] if self._binary else None

    @property
    def n00(self) -> int | None:
        """Problems both got wrong (None once a non-binary score was seen)."""
        return self._c[2] if self._binary else None

    @property
    def n11(self) -> int | None:
        """Problems both got right (None once a non-binary score was seen)."""
        return self._c[3] if self._binary else None

    @property
    def estimate(self) -> float:
        """Mean of Z on the rescaled scale (0 before any data)."""
        return self._sum / self._n if self._n else 0.0

    def log_e_values(self) -> dict[str, float]:
        """Running-max log e-values per side."""
        return self._log_e()

    def current_log_e(self) -> dict[str, float]:
        """Current (not running-max) log e-values per side."""
        cur = _lse_rows(self._ell[: self._S]) - self._log_g
        return {k: float(v) for k, v in zip(self._names, cur)}

    def bank_verdict(self) -> str | None:
        """Bank mode only: the verdict that is already certain ("A", "B", "EQUIVALENT"), else None.

        Certain means exact curtailment (|S_t| > N − t) or the exhausted bank (sign of S_N).
        """
        if not self._bank or self._N is None:
            return None
        if self._n == self._N:
            s = self._exact_sum()
            return "A" if s > 0 else "B" if s < 0 else "EQUIVALENT"
        if abs(self._sum) > self._N - self._n:
            return "A" if self._sum > 0 else "B"
        return None

    def confidence_sequence(self) -> tuple[float, float]:
        """Running intersection (1 - alpha) confidence sequence [L, U] for Δ (Δ_N in bank mode),
        brought up to date with all data fed so far."""
        self._update_cs(force=True)
        return (float(self._m[-2]), float(self._m[-1]))

    # ------------------------------------------------------------------ updates
    def update(self, a: Scores, b: Scores) -> Decision:
        """Feed one batch of paired scores IN DISPATCH ORDER (a[i], b[i] = the same problem)."""
        xa, xb = paired(a, b, self._lo, self._hi)
        k = xa.shape[0]
        if k == 0:
            return self._decision
        if self._N is not None and self._n + k > self._N:
            raise ConfigError(
                f"`bank_size` is {self._N} but {self._n + k} pairs were fed; a bank problem can be "
                "scored only once: stop feeding when the bank is exhausted or raise bank_size"
            )
        if self._scale != 1.0 or self._lo != 0.0:
            xa = (xa - self._lo) / self._scale
            xb = (xb - self._lo) / self._scale
        z = xa - xb
        self._track_counts(xa, xb, z)
        first = self._advance(z)  # first crossing index per side within the batch (or -1)
        self._n += k
        self._sum += float(z[0]) if k == 1 else float(z.sum())
        if self._decision.status in _TERMINAL:
            # An issued decision is final and frozen; n, estimate, log_e_values() and
            # confidence_sequence() of the test keep tracking the extra data.
            self._update_cs()
            return self._decision
        status, reason = self._decide(first)
        # re-solve the CS when a side first crosses its threshold, so the CS shows the crossing
        self._update_cs(force=status != "CONTINUE" or bool((first >= 0).any()))
        cs = (float(self._m[-2]), float(self._m[-1]))
        self._decision = Decision(
            status, self._n, self._log_e(), cs, self.estimate, reason, self.rule
        )
        return self._decision

    def close(self) -> Decision:
        """No more data will come (budget hit or bank ended): CONTINUE becomes UNDECIDED."""
        dec = self._decision
        if dec.status == "CONTINUE":
            self._update_cs(force=True)
            self._decision = Decision(
                "UNDECIDED", self._n, self._log_e(), self.confidence_sequence(), self.estimate, "undecided",
                self.rule,
            )
        return self._decision

    # ------------------------------------------------------------------ internals
    def _log_e(self) -> dict[str, float]:
        return {k: float(v) for k, v in zip(self._names, self._max)}

    def _track_counts(self, xa: np.ndarray, xb: np.ndarray, z: np.ndarray) -> None:
        if self._binary:
            if xa.shape[0] == 1:
                x, y = float(xa[0]), float(xb[0])
                if x in (0.0, 1.0) and y in (0.0, 1.0):
                    self._c[0 if x > y else 1 if x < y else 3 if x else 2] += 1
                else:
                    self._leave_binary()
            else:
                if np.all((xa == 0) | (xa == 1)) and np.all((xb == 0) | (xb == 1)):
                    # 0: both wrong, 1: only B right, 2: only A right, 3: both right
                    cnt = np.bincount((xa * 2 + xb).astype(np.int64), minlength=4)
                    c = self._c
                    c[0] += int(cnt[2])
                    c[1] += int(cnt[1])
                    c[2] += int(cnt[0])
                    c[3] += int(cnt[3])
                else:
                    self._leave_binary()
        if not self._binary and self._zcount is not None:  # while binary, the counts are the table
            zc = self._zcount
            if z.shape[0] == 1:
                v = float(z[0])
                zc[v] = zc.get(v, 0) + 1
            else:
                vals, cnt = np.unique(z, return_counts=True)
                for v, c in zip(vals.tolist(), cnt.tolist()):
                    zc[v] = zc.get(v, 0) + c
            if len(zc) > _MAX_DISTINCT:
                self._zcount = None
        self._chunks.append(z)
        self._hist_cache = None

    def _leave_binary(self) -> None:
        """A non-binary score arrived: turn the counts into the value table (before this batch)."""
        self._binary = False
        c = self._c
        self._zcount = {v: k for v, k in ((1.0, c[0]), (-1.0, c[1]), (0.0, c[2] + c[3])) if k}

    def _history(self) -> np.ndarray:
        if self._hist_cache is None:
            h = np.concatenate(self._chunks) if self._chunks else np.zeros(0)
            self._chunks = [h]
            self._hist_cache = h
        return self._hist_cache

    def _centres(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-item centre c_s (shape (S, k)) and a mask of items whose factor is skipped."""
        k = z.shape[0]
        if not self._bank:
            return np.broadcast_to(self._m[:, None], (len(self._m), k)), np.zeros((1, k), bool)
        N = self._N
        assert N is not None
        s_prev = self._sum + np.cumsum(z) - z  # S_{t-1}
        t = self._n + 1 + np.arange(k)
        mu = (N * self._m[:, None] - s_prev[None, :]) / (N - t + 1)[None, :]
        skip = np.abs(mu) > 1.0  # |μ_t| > 1: the null is infeasible, skip the factor
        return mu, skip

    def _advance(self, z: np.ndarray) -> np.ndarray:
        """Add the batch to the log-wealth, update running maxima; return first crossing per side."""
        k = z.shape[0]
        S = self._S
        if k == 1 and not self._bank:  # factors are >= 0 here; only the CS rows can hit log(0)
            ell = self._ell
            zi = float(z[0])
            if zi == 1.0 or zi == -1.0 or zi == 0.0:  # binary Z: per-row log factors from a table
                if self._tab is None:
                    with np.errstate(divide="ignore"):
                        self._tab = np.log1p(self._ld[None, :, :] * (_BIN_Z[:, None, None] - self._m[None, :, None]))
                ell += self._tab[int(zi) + 1]
            else:
                ell += np.log1p(self._ld * (zi - self._m)[:, None])
            first = _NO_CROSS[S]
            # Only rows that can have grown need their log-sum-exp: with binary Z and no margin,
            # a concordant pair leaves A and B unchanged and a discordant one grows one side only.
            if S == 2 and (zi == 1.0 or zi == -1.0 or zi == 0.0):
                if zi == 0.0:
                    return first
                rows: tuple[int, ...] = (0,) if zi == 1.0 else (1,)
            else:
                rows = tuple(range(S))
            sub = ell[rows[0]] if len(rows) == 1 else ell[:S]
            if len(rows) == 1:
                mx1 = sub.max()
                curs = (mx1 + math.log(float(np.exp(sub - mx1).sum())) - self._log_g,)
            else:
                mx = sub.max(axis=1)
                curs = tuple((mx + np.log(np.exp(sub - mx[:, None]).sum(axis=1)) - self._log_g).tolist())
            mxs = self._max
            for s, c in zip(rows, curs):
                if c > mxs[s]:
                    st = self._side_thr[s]
                    if c >= st and mxs[s] < st:
                        if first is _NO_CROSS[S]:
                            first = np.full(S, -1)
                        first[s] = 0
                    mxs[s] = c
            return first
        first = np.full(S, -1)
        with np.errstate(divide="ignore", invalid="ignore"):
            c, skip = self._centres(z)
            pay = z[None, :] - c  # (S+2, k)
            inc = np.log1p(self._ld[:, None, :] * pay[:, :, None])  # (S+2, k, G)
            if skip.any():
                inc[skip] = 0.0
            cum = self._ell[:, None, :] + np.cumsum(inc, axis=1)
            cur = _lse_rows(cum) - self._log_g  # (S+2, k)
        self._ell = cum[:, -1, :]
        hit = cur[:S] >= self._side_thr[:, None]
        for s in range(S):
            if self._max[s] < self._side_thr[s] and hit[s].any():
                first[s] = int(np.argmax(hit[s]))
        np.maximum(self._max, cur[:S].max(axis=1), out=self._max)
        return first

    def _decide(self, first: np.ndarray) -> tuple[Status, str]:
        S = self._S
        fa, fb = int(first[0]), int(first[1])
        if fa >= 0 or fb >= 0:
            if fb < 0 or (fa >= 0 and fa <= fb):
                return "A", "e_value"
            return "B", "e_value"
        if self._bank:
            N = self._N
            assert N is not None
            if self._n == N:
                s = self._exact_sum()
                return ("A" if s > 0 else "B" if s < 0 else "EQUIVALENT"), "bank_exhausted"
            if abs(self._sum) > N - self._n:
                return ("A" if self._sum > 0 else "B"), "curtailment"
        if S == 4 and self._max[2] >= self._side_thr[2] and self._max[3] >= self._side_thr[3]:
            return "EQUIVALENT", "equivalence"
        if self._N is not None and self._n >= self._N:
            return "UNDECIDED", "bank_exhausted"
        return "CONTINUE", "continue"

    def _exact_sum(self) -> float:
        if self._binary:
            return float(self._c[0] - self._c[1])
        return float(np.sum(self._history()))

    # ------------------------------------------------------------------ confidence sequence
    def _discrete(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct Z values and their (non-zero) counts (generalization mode, few distinct values)."""
        if self._binary:
            c = self._c
            vals, cnt = _BIN_VALS, np.array([c[0], c[1], c[2] + c[3]], dtype=float)
        else:
            zc = self._zcount
            assert zc is not None
            vals = np.fromiter(zc.keys(), float, len(zc))
            cnt = np.fromiter(zc.values(), float, len(zc))
        keep = cnt > 0
        return (vals, cnt) if keep.all() else (vals[keep], cnt[keep])

    def _row(self, m: float, d: float, deriv: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """Per-λ log-wealth ℓ_g(m) of side d (and dℓ_g/dm) over all data so far."""
        lam = self._lam
        if not self._bank and self._zcount is not None:
            vals, w = self._discrete()
            pay = d * (vals - m)
            dpay = np.full_like(vals, -d)
        else:
            z = self._history()
            w = None
            if self._bank:
                N = self._N
                assert N is not None
                t = np.arange(1, z.shape[0] + 1)
                rest = (N - t + 1).astype(float)
                mu = (N * m - (np.cumsum(z) - z)) / rest
                pay = d * (z - mu)
                dpay = -d * N / rest
            else:
                pay = d * (z - m)
                dpay = np.full_like(z, -d)
        f = 1.0 + np.multiply.outer(pay, lam)  # (V, G)
        logf = np.log(f)
        ell = logf.sum(axis=0) if w is None else w @ logf
        if not deriv:
            return ell, None
        q = np.multiply.outer(dpay, lam) / f
        dell = q.sum(axis=0) if w is None else w @ q
        return ell, dell

    def _logk(self, m: float, d: float) -> float:
        with np.errstate(divide="ignore", invalid="ignore"):
            ell, _ = self._row(m, d)
        return float(_lse_rows(ell[None, :])[0]) - self._log_g

    def _boundary(self, d: float, start: float, stop: float) -> tuple[float, np.ndarray | None]:
        """The CS end between ``start`` (rejected) and ``stop`` (not rejected) for side ``d``.

        log K is monotone in m: safeguarded Newton from the rejected end (quadratic convergence,
        usually 2-4 evaluations because the end moves little per batch); the returned point is
        always a verified rejected one, so the reported interval is conservative.
        """
        thr = self._thr
        a, b = start, stop  # a: rejected (g >= 0), b: not rejected (g < 0)
        x = a
        ell_a: np.ndarray | None = None
        # Newton aims a hair inside the rejected side, so it ends on a verified rejected point.
        aim = 5e-10
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for _ in range(100):
                ell, dell = self._row(x, d, deriv=True)
                assert dell is not None
                mx = ell.max()
                if not np.isfinite(mx):
                    g, dg = -np.inf, 0.0
                else:
                    w = np.exp(ell - mx)
                    g = mx + math.log(w.sum()) - self._log_g - thr
                    dg = float(w @ dell / w.sum())
                if g >= 0:
                    a, ell_a = x, ell
                    if g < 2 * aim:
                        break
                else:
                    b = x
                if abs(b - a) <= 1e-13:
                    break
                step = x - (g - aim) / dg if (dg != 0 and np.isfinite(g)) else None
                if step is None or not (min(a, b) < step < max(a, b)):
                    step = 0.5 * (a + b)  # Newton left the bracket: bisect
                x = step
        return a, ell_a

    def _move_end(self, row: int, start: float, stop: float) -> None:
        m, ell = self._boundary(float(self._d[row]), start, stop)
        if ell is None:  # the end did not move
            return
        self._m[row] = m
        self._tab = None
        self._ell[row] = ell

    def _set_end(self, row: int, m: float) -> None:
        d = float(self._d[row])
        self._m[row] = m
        self._tab = None
        with np.errstate(divide="ignore", invalid="ignore"):
            ell, _ = self._row(m, d)
        self._ell[row] = ell

    def _update_cs(self, force: bool = False) -> None:
        """Running intersection: an end moves only when the old end is rejected again.

        The ends are re-solved when n has grown by 5 % (10 % when the Z history is needed: bank mode,
        many distinct values, where a solve costs O(n·G)), at a final decision, and whenever
        :meth:`confidence_sequence` is called; a CS intersected over a subset of times is still a
        valid CS, so ``Decision.cs`` may only be slightly wider than the freshest one.
        """
        if self._n == 0 or (self._lazy_cs and not force):
            return
        if self._bank and self._n == self._N:
            force = True  # the bank is exhausted: Δ_N is known exactly
        if not force:
            if self._n < self._cs_next:
                return
            grow = 1.1 if (self._bank or self._zcount is None) else 1.05
            self._cs_next = int(self._n * grow) + 1
        thr = self._thr
        r_lo, r_hi = self._S, self._S + 1
        L0, U0 = float(self._m[r_lo]), float(self._m[r_hi])
        if self._bank:
            N = self._N
            assert N is not None
            rest = N - self._n
            s = self._exact_sum() if self._n == N else self._sum
            if self._n == N:
                self._m[r_lo] = self._m[r_hi] = s / N
                return
            lo_b, hi_b = (s - rest) / N, (s + rest) / N  # Δ_N is deterministically in here
            if lo_b > L0:
                self._set_end(r_lo, lo_b)
                L0 = lo_b
            if hi_b < U0:
                self._set_end(r_hi, hi_b)
                U0 = hi_b
            if U0 <= L0:
                return
        # An end moves once log K at the old end exceeds the threshold by _CS_SLACK: the interval is
        # then at most ~_CS_SLACK/|d log K/dm| (about 1e-5 at n = 1e3) wider than the tightest one,
        # and the O(1)-but-not-free Newton solve runs on a fraction of the updates only.
        slack = 0.0 if force else _CS_SLACK
        cur = _lse_rows(self._ell[r_lo:]) - self._log_g
        if cur[0] >= thr + slack:
            self._move_end(r_lo, L0, U0)
        if cur[1] >= thr + slack:
            self._move_end(r_hi, U0, float(self._m[r_lo]))
        if self._m[r_hi] < self._m[r_lo]:  # only through rounding; keep a valid degenerate interval
            mid = 0.5 * float(self._m[r_lo] + self._m[r_hi])
            self._set_end(r_lo, mid)
            self._set_end(r_hi, mid)
