"""The low-rank logistic factor model of a bank: P(score_ij = 1) = sigmoid(u_i . v_j + b_j).

Fitted by L-BFGS on the mean binary cross-entropy over observed entries plus a ridge penalty
(lam/2)(|U|^2 + |V|^2) / n_observed, i.e. a N(0, 1/lam) prior per factor entry. Rank and penalty are
chosen by seeded cross-validation on held-out entries (1-SE rule towards the simpler model).
Fractional scores enter the cross-entropy as soft labels.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

from ..errors import ConfigError, DatasetError

__all__ = ["FactorFit", "fit_bank", "load_fit"]

DEFAULT_RANKS = (16, 32)
DEFAULT_PENALTIES = (3.0, 10.0)
MIN_MODELS, MIN_ITEMS = 10, 5


def _loss_grad(theta: np.ndarray, H: np.ndarray, M: np.ndarray | None, n_obs: int, K: int, lam: float):
    # float32 inside (the loss is an average of ~1e5-1e6 terms; L-BFGS needs no more), float64 outside.
    # The elementwise part works in place on two models x items buffers (the fit's cost is these passes
    # and three matrix products): softplus(L) = max(L, 0) + log1p(exp(-|L|)), sigmoid(L) = exp(L - softplus(L)).
    nm, ni = H.shape
    U = theta[: nm * K].reshape(nm, K)
    V = theta[nm * K: nm * K + ni * K].reshape(ni, K)
    b = theta[nm * K + ni * K:]
    U32, V32 = U.astype(np.float32), V.astype(np.float32)
    L = U32 @ V32.T
    L += b.astype(np.float32)
    A = np.abs(L)
    np.negative(A, out=A)
    np.exp(A, out=A)
    np.log1p(A, out=A)
    sp = np.maximum(L, np.float32(0.0))
    sp += A  # softplus(L)
    R = np.subtract(L, sp, out=A)
    np.exp(R, out=R)  # sigmoid(L)
    R -= H  # the gradient of the cross-entropy in L
    np.multiply(H, L, out=L)
    sp -= L  # the cross-entropy term
    if M is not None:
        sp *= M
        R *= M
    loss = float(sp.sum(dtype=np.float64)) / n_obs + 0.5 * lam * (np.sum(U * U) + np.sum(V * V)) / n_obs
    R /= np.float32(n_obs)
    gU = (R @ V32).astype(np.float64) + lam * U / n_obs
    gV = (R.T @ U32).astype(np.float64) + lam * V / n_obs
    gb = R.sum(axis=0, dtype=np.float64)
    return loss, np.concatenate([gU.ravel(), gV.ravel(), gb])


def _fit_once(H: np.ndarray, M: np.ndarray, K: int, lam: float, rng: np.random.Generator,
              maxiter: int, init: np.ndarray | None = None, tol: float = 2.2e-9) -> np.ndarray:
    nm, ni = H.shape
    n_obs = int(M.sum())
    Hf = H.astype(np.float32)
    Mf = None if M.all() else M.astype(np.float32)
    if init is None:
        p = np.clip((H * M).sum(0) / np.maximum(M.sum(0), 1), 0.02, 0.98)
        init = np.concatenate([rng.normal(0, 0.1, nm * K), rng.normal(0, 0.1, ni * K), np.log(p / (1 - p))])
    res = minimize(_loss_grad, init, args=(Hf, Mf, n_obs, K, lam), jac=True, method="L-BFGS-B",
                   options={"maxiter": maxiter, "gtol": 1e-7, "ftol": tol})
    return res.x


def _split(theta: np.ndarray, nm: int, ni: int, K: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (theta[: nm * K].reshape(nm, K), theta[nm * K: nm * K + ni * K].reshape(ni, K), theta[nm * K + ni * K:])


def _scores(H: np.ndarray, M: np.ndarray, P: np.ndarray) -> tuple[float, float, np.ndarray]:
    h, p = H[M], np.clip(P[M], 1e-9, 1 - 1e-9)
    ll = -(h * np.log(p) + (1 - h) * np.log(1 - p))
    acc = float(np.mean((p >= 0.5) == (h >= 0.5)))
    return acc, float(ll.mean()), ll


@dataclass
class FactorFit:
    """A fitted factor model of an :class:`ItemBank` (``V`` per item, ``U`` per recorded model).

    ``V_aug = [V, b]`` and ``U_aug = [U, 1]`` put the item bias into the dot product; the prior of a new
    model's factor is the mean and covariance of the rows of ``U`` (bias coordinate fixed at 1).
    ``cv`` holds the cross-validation table and the held-out accuracy / log-loss of the chosen model.
    """

    U: np.ndarray
    V: np.ndarray
    b: np.ndarray
    models: tuple[str, ...]
    items: tuple[str, ...]
    rank: int
    penalty: float
    model_means: np.ndarray  # each recorded model's observed mean (for placement)
    cv: dict[str, Any] = field(default_factory=dict)
    seed: int = 0

    @property
    def n_items(self) -> int:
        return self.V.shape[0]

    @property
    def V_aug(self) -> np.ndarray:
        return np.hstack([self.V, self.b[:, None]])

    def prior(self) -> tuple[np.ndarray, np.ndarray]:
        """(mu0, Sigma0) of a new model's augmented factor [u, 1]."""
        K = self.rank
        mu = np.append(self.U.mean(axis=0), 1.0)
        S = np.zeros((K + 1, K + 1))
        S[:K, :K] = np.cov(self.U, rowvar=False).reshape(K, K) if self.U.shape[0] > 1 else np.eye(K)
        return mu, S

    def predict(self, model: str | None = None) -> np.ndarray:
        """P(score = 1) per item for a recorded model (or the prior-mean new model when None)."""
        u = self.prior()[0][:-1] if model is None else self.U[self.models.index(model)]
        return expit(self.V @ u + self.b)

    @property
    def heldout_accuracy(self) -> float:
        return float(self.cv.get("heldout_accuracy", float("nan")))

    @property
    def heldout_log_loss(self) -> float:
        return float(self.cv.get("heldout_log_loss", float("nan")))

    def item_index(self, item: str) -> int:
        try:
            return self.items.index(str(item))
        except ValueError:
            raise DatasetError(
                f"item {item!r} is not in the fitted bank ({self.n_items} items, e.g. {list(self.items[:3])}); "
                "item ids must match the dataset's problem ids"
            ) from None

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """Save to ``.npz`` (load with :func:`load_fit` / ``FactorFit.load``)."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(path.suffix + ".npz") if path.suffix else path.with_suffix(".npz")
        import json

        np.savez_compressed(
            path, U=self.U, V=self.V, b=self.b, model_means=self.model_means,
            models=np.array(self.models, dtype=str), items=np.array(self.items, dtype=str),
            meta=np.array(json.dumps({"rank": self.rank, "penalty": self.penalty, "seed": self.seed,
                                      "cv": self.cv, "format": 1})),
        )
        return path

    @classmethod
    def load(cls, path: str | Path) -> FactorFit:
        return load_fit(path)

    # ------------------------------------------------------------------ uses (defined in their modules)
    def estimate(self, score_item: Any, budget: int = 100, **kw: Any) -> Any:
        """Active estimate of a new model's bank-wide mean (see :func:`bayesbench.history.estimate`)."""
        from ._active import estimate

        return estimate(self, score_item, budget=budget, **kw)

    def estimate_uniform(self, score_item: Any, budget: int = 100, **kw: Any) -> Any:
        from ._baselines import estimate_uniform

        return estimate_uniform(self, score_item, budget=budget, **kw)

    def estimate_irt(self, score_item: Any, budget: int = 100, **kw: Any) -> Any:
        from ._baselines import estimate_irt

        return estimate_irt(self, score_item, budget=budget, **kw)

    def place(self, score_item: Any, budget: int = 100, **kw: Any) -> Any:
        from ._place import place

        return place(self, score_item, budget=budget, **kw)


def load_fit(path: str | Path) -> FactorFit:
    """Load a fit saved by :meth:`FactorFit.save`."""
    import json

    try:
        with np.load(Path(path), allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            return FactorFit(U=z["U"], V=z["V"], b=z["b"], models=tuple(str(x) for x in z["models"]),
                             items=tuple(str(x) for x in z["items"]), rank=int(meta["rank"]),
                             penalty=float(meta["penalty"]), model_means=z["model_means"], cv=meta["cv"],
                             seed=int(meta["seed"]))
    except (OSError, KeyError, ValueError) as exc:
        raise DatasetError(f"{path} is not a bayesbench history fit (.npz from FactorFit.save): {exc}") from None


def _check_bank(bank: Any, ranks: Sequence[int]) -> tuple[int, ...]:
    """Raise if the bank cannot be fitted at all; return the ranks it has enough scores for."""
    nm, ni = bank.shape
    obs = ~np.isnan(bank.scores)
    per_model = obs.sum(axis=1)
    if nm < MIN_MODELS or ni < MIN_ITEMS:
        raise DatasetError(
            f"the bank is too small to fit: {nm} models x {ni} items; a factor model needs at least "
            f"{MIN_MODELS} models and {MIN_ITEMS} items (a useful one: hundreds of models on the same items)"
        )
    feasible = tuple(k for k in ranks if int(obs.sum()) >= 2 * (nm + ni) * k)
    if not feasible:
        raise DatasetError(
            f"the bank is too small to fit rank {min(ranks)}: {int(obs.sum())} observed scores for "
            f"{(nm + ni) * min(ranks)} factor entries; record more scores or pass ranks=(1,) / (2,)"
        )
    if (per_model == 0).any():
        bad = [bank.models[i] for i in np.flatnonzero(per_model == 0)[:3]]
        raise DatasetError(f"models {bad} have no observed score; drop them with bank.filter(min_observed=...)")
    return feasible


def fit_bank(bank: Any, *, ranks: Sequence[int] = DEFAULT_RANKS, penalties: Sequence[float] = DEFAULT_PENALTIES,
             holdout: float = 0.1, seed: int = 0, maxiter: int = 300, cv_maxiter: int | None = 150,
             one_se: bool = True, tol: float = 2.2e-9, cv_tol: float | None = 1e-6,
             threads: int | None = 1) -> FactorFit:
    """Fit the factor model, choosing ``rank`` and ``penalty`` by seeded hold-out cross-validation.

    A fraction ``holdout`` of the observed entries is held out; every (rank, penalty) is fitted on the rest
    and scored by held-out log-loss; the simplest model within one standard error of the best is chosen
    (``one_se``), then refitted on every entry. A single rank and penalty skip the search (still reporting
    held-out accuracy). The search fits stop after ``cv_maxiter`` L-BFGS iterations (enough to rank the
    candidates); the final refit, warm-started from the chosen one, runs up to ``maxiter``.

    ``tol`` is L-BFGS's relative loss-decrease tolerance (scipy's default) of the final refit, ``cv_tol`` a
    looser one for the search fits (the candidates' held-out ranking settles long before convergence; on the
    Open LLM Leaderboard bank 1e-6 halves the fit time and picks the same model; ``None``: ``tol``).
    ``threads`` caps the BLAS threads during the fit (default 1: the matrix products are small, and extra
    threads only contend on a busy machine -- 20x slower under load here); ``None`` keeps the library's own.
    """
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ConfigError(f"`threads` must be a positive integer or None, got {threads!r}")
    for name, value in (("tol", tol), ("cv_tol", cv_tol)):
        if value is not None and not (0 < value < 1):
            raise ConfigError(f"`{name}` must be in (0, 1), got {value!r}")
    if threads is None:
        return _fit_bank(bank, ranks, penalties, holdout, seed, maxiter, cv_maxiter, one_se, tol, cv_tol)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads, user_api="blas"):
        return _fit_bank(bank, ranks, penalties, holdout, seed, maxiter, cv_maxiter, one_se, tol, cv_tol)


def _fit_bank(bank: Any, ranks: Sequence[int], penalties: Sequence[float], holdout: float, seed: int, maxiter: int,
              cv_maxiter: int | None, one_se: bool, tol: float, cv_tol: float | None) -> FactorFit:
    ranks = tuple(int(k) for k in ranks)
    penalties = tuple(float(x) for x in penalties)
    if not ranks or any(k < 1 for k in ranks):
        raise ConfigError(f"`ranks` must be positive integers, got {ranks!r}")
    if not penalties or any(not (x > 0 and math.isfinite(x)) for x in penalties):
        raise ConfigError(f"`penalties` must be positive numbers, got {penalties!r}")
    if not (0 < holdout < 0.5):
        raise ConfigError(f"`holdout` must be in (0, 0.5), got {holdout!r}")
    ranks = _check_bank(bank, ranks)  # ranks a small bank cannot support are skipped
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    S = bank.scores
    M = ~np.isnan(S)
    H = np.where(M, S, 0.0)
    obs = np.flatnonzero(M.ravel())
    test = rng.choice(obs, size=max(1, int(holdout * obs.size)), replace=False)
    Mtr = M.copy().ravel()
    Mtr[test] = False
    Mtr = Mtr.reshape(M.shape)
    Mte = M & ~Mtr
    nm, ni = S.shape
    table = []
    for K in sorted(ranks):
        warm = None
        for lam in sorted(penalties, reverse=True):  # strongest penalty first, warm-starting the next
            th = _fit_once(H, Mtr, K, lam, rng, cv_maxiter or maxiter, warm, cv_tol or tol)
            warm = th
            U, V, b = _split(th, nm, ni, K)
            acc, ll, lls = _scores(H, Mte, expit(U @ V.T + b))
            table.append({"rank": K, "penalty": lam, "heldout_log_loss": ll, "heldout_accuracy": acc,
                          "se": float(lls.std(ddof=1) / math.sqrt(lls.size)) if lls.size > 1 else 0.0, "theta": th})
    best = min(table, key=lambda r: r["heldout_log_loss"])
    chosen = best
    if one_se:
        ok = [r for r in table if r["heldout_log_loss"] <= best["heldout_log_loss"] + best["se"]]
        chosen = min(ok, key=lambda r: (r["rank"], -r["penalty"]))
    K, lam = chosen["rank"], chosen["penalty"]
    th = _fit_once(H, M, K, lam, rng, maxiter, chosen["theta"], tol)
    U, V, b = _split(th, nm, ni, K)
    cv = {"heldout_accuracy": chosen["heldout_accuracy"], "heldout_log_loss": chosen["heldout_log_loss"],
          "holdout": holdout, "table": [{k: v for k, v in r.items() if k != "theta"} for r in table],
          "fit_seconds": time.perf_counter() - t0}
    return FactorFit(U=U, V=V, b=b, models=bank.models, items=bank.items, rank=K, penalty=lam,
                     model_means=bank.means(), cv=cv, seed=seed)
