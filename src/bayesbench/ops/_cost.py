"""What a model's answers cost: local hardware by the hour (and its energy), remote APIs by the price table.

A local model occupies its hardware for the run's wall time whatever it is asked, so its cost is
``hourly_usd * hours`` plus, with ``watts`` and ``usd_per_kwh``, ``watts / 1000 * hours * usd_per_kwh``.
A remote model costs what the executor's price table says its tokens cost (``ModelUsage.cost_usd``).
Per call, per correct answer and "saved by stopping early" (the projected cost of the problems a run
did not ask, at this run's own rate) follow from the total.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import ConfigError


def _nonneg(name: str, value: Any, *, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        allowed = "a number >= 0 or None" if allow_none else "a number >= 0"
        raise ConfigError(f"`{name}` must be {allowed}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class CostModel:
    """The cost of running a model on your own hardware.

    ``hourly_usd``: dollars per hour the hardware costs while the run holds it (a cloud GPU's price, or the
    amortised purchase price), default 0. ``watts``: its mean power draw, and ``usd_per_kwh`` the price of
    electricity; give both or neither (default None: no energy cost).
    """

    hourly_usd: float = 0.0
    watts: float | None = None
    usd_per_kwh: float | None = None

    def __post_init__(self) -> None:
        _nonneg("hourly_usd", self.hourly_usd)
        _nonneg("watts", self.watts, allow_none=True)
        _nonneg("usd_per_kwh", self.usd_per_kwh, allow_none=True)
        if (self.watts is None) != (self.usd_per_kwh is None):
            raise ConfigError(
                "`watts` and `usd_per_kwh` go together (energy cost = watts/1000 x hours x usd_per_kwh), got "
                f"watts={self.watts!r}, usd_per_kwh={self.usd_per_kwh!r}; give both or neither"
            )

    def energy_kwh(self, wall_time_s: float) -> float | None:
        return None if self.watts is None else self.watts / 1000.0 * wall_time_s / 3600.0

    def cost(self, wall_time_s: float) -> tuple[float, float | None]:
        """(hardware dollars, energy dollars or None) for holding the hardware ``wall_time_s`` seconds."""
        hours = wall_time_s / 3600.0
        kwh = self.energy_kwh(wall_time_s)
        energy = None if kwh is None or self.usd_per_kwh is None else kwh * self.usd_per_kwh
        return self.hourly_usd * hours, energy


def check_cost_models(value: Any) -> dict[str, CostModel]:
    """The ``cost_models`` setting: ``{model name: CostModel}`` (a dict of CostModel keywords also works)."""
    if not isinstance(value, Mapping):
        raise ConfigError("`cost_models` must be a dict {model name: CostModel(hourly_usd=..., watts=..., "
                          f"usd_per_kwh=...)}} or None, got {type(value).__name__}")
    out: dict[str, CostModel] = {}
    for name, cm in value.items():
        if isinstance(cm, Mapping):
            try:
                cm = CostModel(**cm)
            except TypeError as exc:
                raise ConfigError(f"`cost_models[{name!r}]`: {exc}; its keys are hourly_usd, watts, usd_per_kwh") from None
        if not isinstance(cm, CostModel):
            raise ConfigError(f"`cost_models[{name!r}]` must be a CostModel, got {type(cm).__name__}")
        out[str(name)] = cm
    return out


@dataclass(frozen=True)
class ModelCost:
    """One model's cost over a run. ``source`` is ``"hardware"`` (a CostModel), ``"price_table"`` (the
    executor's prices) or None (not priced: every dollar figure is None). ``correct`` is the sum of the
    model's scores scaled to 0..1 (the number of correct answers for 0/1 scores)."""

    model: str
    source: str | None
    total_usd: float | None
    hardware_usd: float | None
    energy_usd: float | None
    energy_kwh: float | None
    calls: int
    correct: float | None
    problems_used: int | None
    problems_total: int | None
    per_call_usd: float | None
    per_correct_usd: float | None
    per_1000_problems_usd: float | None
    saved_usd: float | None
    wall_time_s: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def model_cost(model: str, *, usage: Any, wall_time_s: float | None, cost_model: CostModel | None = None,
               correct: float | None = None, problems_used: int | None = None,
               problems_total: int | None = None) -> ModelCost:
    """The :class:`ModelCost` of one model from its ``ModelUsage`` (or its ``to_dict()``).

    ``problems_used`` / ``problems_total``: the problems the run asked and the bank it drew them from; with
    both, ``saved_usd`` is the cost of the ``problems_total - problems_used`` problems not asked at this run's
    cost per problem (0 for an exhaustive run).
    """
    u = usage if isinstance(usage, Mapping) else usage.to_dict()
    calls = int(u.get("calls") or 0)
    hardware = energy = kwh = None
    if cost_model is not None:
        if wall_time_s is None:
            raise ConfigError(f"the cost of {model!r} from its CostModel needs the run's wall time, got None")
        hardware, energy = cost_model.cost(wall_time_s)
        kwh = cost_model.energy_kwh(wall_time_s)
        total = hardware + (energy or 0.0)
        source: str | None = "hardware"
    elif u.get("cost_usd") is not None:
        total, source = float(u["cost_usd"]), "price_table"
    else:
        total, source = None, None
    per_problem = None
    if total is not None and problems_used:
        per_problem = total / problems_used
    saved = None
    if per_problem is not None and problems_total is not None and problems_used is not None:
        saved = per_problem * max(0, problems_total - problems_used)
    return ModelCost(
        model=model, source=source, total_usd=total, hardware_usd=hardware, energy_usd=energy, energy_kwh=kwh,
        calls=calls, correct=correct, problems_used=problems_used, problems_total=problems_total,
        per_call_usd=None if total is None or not calls else total / calls,
        per_correct_usd=None if total is None or not correct else total / correct,
        per_1000_problems_usd=None if per_problem is None else 1000.0 * per_problem,
        saved_usd=saved, wall_time_s=wall_time_s,
    )


@dataclass(frozen=True)
class CostReport:
    """Per-model :class:`ModelCost` of one run (``report.models[name]``)."""

    models: dict[str, ModelCost]

    @property
    def total_usd(self) -> float | None:
        priced = [c.total_usd for c in self.models.values() if c.total_usd is not None]
        return sum(priced) if priced else None

    def to_dict(self) -> dict[str, Any]:
        return {"models": {m: c.to_dict() for m, c in self.models.items()}, "total_usd": self.total_usd}

    def summary(self) -> str:
        def usd(v: float | None) -> str:
            return "-" if v is None else f"${v:.4f}"

        lines = []
        for c in self.models.values():
            lines.append(f"{c.model}: total {usd(c.total_usd)} ({c.source or 'not priced'}), per call "
                         f"{usd(c.per_call_usd)}, per correct {usd(c.per_correct_usd)}, per 1000 problems "
                         f"{usd(c.per_1000_problems_usd)}, saved by stopping early {usd(c.saved_usd)}")
        return "\n".join(lines)


def cost_report(usage: Any, *, cost_models: Mapping[str, CostModel] | None = None, wall_time_s: float | None = None,
                correct: Mapping[str, float] | None = None, problems_used: Mapping[str, int] | int | None = None,
                problems_total: int | None = None) -> CostReport:
    """A :class:`CostReport` for every model of a ``UsageReport`` (or its ``to_dict()``).

    ``wall_time_s`` defaults to the usage's own; ``correct`` and ``problems_used`` are per model (an int
    ``problems_used`` applies to every model).
    """
    u = usage if isinstance(usage, Mapping) else usage.to_dict()
    wall = wall_time_s if wall_time_s is not None else u.get("wall_time_s")
    models = check_cost_models(cost_models or {})
    out = {}
    for name, mu in (u.get("models") or {}).items():
        used = problems_used.get(name) if isinstance(problems_used, Mapping) else problems_used
        out[name] = model_cost(name, usage=mu, wall_time_s=wall, cost_model=models.get(name),
                               correct=None if correct is None else correct.get(name), problems_used=used,
                               problems_total=problems_total)
    return CostReport(models=out)
