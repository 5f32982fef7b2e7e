"""History-tuned betting grids for the paired e-process.

The default engine mixes 12 constant bets geomspace(0.005, 0.5) with equal weights. For a pair with
gap Delta and E[Z^2] = d (the discordance rate for 0/1 scores) the growth-optimal constant bet is about
lambda* = Delta / d. A bank shows which lambda* are typical for its benchmark: ``history_mixture`` takes
random pairs of recorded models whose gap is decidable on the bank, and puts the grid at equally spaced
quantiles of their lambda*. An equal-weight mixture over those quantiles is the empirical distribution
of lambda* as mixing weights. The grid is fixed before any new run (it depends on the recorded models
only), so the mixture is still an e-process: plug it in with ``EngineConfig(lambdas=mix.lambdas)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError, DatasetError

__all__ = ["HistoryMixture", "history_mixture"]


@dataclass(frozen=True)
class HistoryMixture:
    """lambdas: the bets (each in (0, 0.5]), equal weights; stats: how they were derived."""

    lambdas: tuple[float, ...]
    stats: dict[str, Any] = field(default_factory=dict, compare=False)

    def config(self, **kw: Any) -> Any:
        """An :class:`~bayesbench.stats.EngineConfig` using these bets (other settings as given)."""
        from ..stats import EngineConfig

        return EngineConfig(lambdas=self.lambdas, **kw)

    def record(self) -> dict[str, Any]:
        """What a run's configuration records: the grid and the bank's digest (never the bank itself)."""
        return {"bank": self.stats.get("bank"), "lambdas": list(self.lambdas)}


def resolve_history(history: Any) -> HistoryMixture:
    """The grid of a run's ``history=`` setting: a HistoryMixture as given, an ItemBank (or a bank CSV path,
    the CLI's ``--history BANK.csv``) through :func:`history_mixture` with its defaults."""
    import os

    from ._bank import ItemBank

    if isinstance(history, HistoryMixture):
        return history
    if isinstance(history, (str, os.PathLike)):
        history = ItemBank.from_csv(history)
    if isinstance(history, ItemBank):
        return history_mixture(history)
    raise ConfigError(
        "`history` must be an ItemBank, a HistoryMixture (bayesbench.history.history_mixture(bank)) or the path "
        f"of a bank CSV, got {type(history).__name__}"
    )


def history_mixture(
    bank: Any,
    *,
    grid_size: int = 12,
    n_pairs: int = 4000,
    confidence: float = 0.95,
    seed: int = 0,
    min_bet: float = 0.005,
    max_bet: float = 0.5,
) -> HistoryMixture:
    """A betting grid tuned on the bank's recorded pairs (see the module docstring)."""
    if not (isinstance(grid_size, int) and grid_size >= 1):
        raise ConfigError(f"`grid_size` must be an integer >= 1, got {grid_size!r}")
    if not (0 < min_bet < max_bet <= 0.5):
        raise ConfigError(f"need 0 < min_bet < max_bet <= 0.5, got {min_bet!r}, {max_bet!r}")
    if not (0.5 < confidence < 1):
        raise ConfigError(f"`confidence` must be in (0.5, 1), got {confidence!r}")
    S = bank.scores
    nm, N = S.shape
    if nm < 3 or N < 10:
        raise DatasetError(f"history_mixture needs a bank of at least 3 models x 10 items, got {nm} x {N}")
    rng = np.random.default_rng(seed)
    a = rng.integers(0, nm, n_pairs)
    b = (a + rng.integers(1, nm, n_pairs)) % nm
    Z = S[a] - S[b]
    ok = ~np.isnan(Z)
    n = ok.sum(axis=1)
    Zf = np.where(ok, Z, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.abs(Zf.sum(1)) / n
        d = (Zf**2).sum(1) / n
        # decidable on the bank: the e-process needs roughly 2 d log(2/alpha) / gap^2 problems
        need = 2 * d * math.log(2 / (1 - confidence)) / gap**2
    use = (n >= 10) & (d > 0) & (gap > 0) & (need <= n)
    if use.sum() < grid_size:
        raise DatasetError(
            f"only {int(use.sum())} recorded pairs have a gap decidable on the bank; history_mixture needs at "
            f"least grid_size={grid_size} (use more models or items, or the default grid)"
        )
    lam = np.clip(gap[use] / d[use], min_bet, max_bet)
    qs = (np.arange(grid_size) + 0.5) / grid_size
    grid = tuple(float(x) for x in np.quantile(lam, qs))
    return HistoryMixture(
        grid,
        {
            "pairs": int(n_pairs),
            "decidable_pairs": int(use.sum()),
            "median_gap": float(np.median(gap[use])),
            "median_discordance": float(np.median(d[use])),
            "seed": seed,
            "bank": bank.digest(),
        },
    )
