"""bayesbench's paired anytime-valid test as an Inspect AI ``EarlyStopping`` manager, and as an Inspect metric.

``inspect eval task.py --model a,b`` runs one task per model; when both runs share this manager, every scored
sample is kept per model, and the engine consumes the samples *both* models have scored, in dataset order
(the order Inspect gave ``start_task``; shuffle the dataset, seeded, for an order that says nothing about
difficulty). Once the test decides, every sample not yet started, of either model, is skipped. Against a
recorded model (``reference=bank.model(name)`` from a history bank, or ``{sample id: score}``) only one model
runs. The verdict, interval and counts are written to the eval log (``log.results.early_stopping.metadata``).

Which model a hook call belongs to is Inspect's active model: each task run sets it in its own context.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError, DatasetError, missing_dependency

#: Samples are keyed by (id, epoch); an epoch of one model pairs with the same epoch of the other.
Key = tuple[Any, int]


def _require_inspect(feature: str) -> None:
    try:
        import inspect_ai  # noqa: F401
    except ImportError:
        raise missing_dependency("inspect-ai", "inspect", feature) from None


def _score_value(scores: Mapping[str, Any], scorer: str | None, where: str) -> float:
    from ..history._importers import _inspect_value  # the one mapping of Inspect values (C/I/P/N, bools) to [0, 1]

    if not scores:
        raise DatasetError(f"{where}: the sample has no score")
    name = scorer or next(iter(scores))
    if name not in scores:
        raise DatasetError(f"{where}: no scorer {name!r} (the sample has {sorted(scores)}); pass scorer=")
    score = scores[name]
    return _inspect_value(getattr(getattr(score, "score", score), "value", score), where)


def _active_model_name() -> str:
    from inspect_ai.model._model import active_model

    model = active_model()
    if model is None:
        raise ConfigError("PairedEarlyStopping was called outside an Inspect task run (no active model)")
    return str(model)


class PairedEarlyStopping:
    """Stop an Inspect eval of two models (or one model against a recorded one) as soon as bayesbench's
    paired anytime-valid test decides.

    Pass it as ``Task(..., early_stopping=PairedEarlyStopping())`` and run ``inspect eval task.py
    --model a,b`` (or ``eval(task, model=[a, b])``). The settings are the engine's (docs/engine.md):
    ``confidence``, ``min_samples`` (pairs before any stop), ``equivalence_margin``, ``rule``; ``scorer``
    picks the task's scorer (default: the first). ``reference`` replaces the second model by recorded scores:
    a :class:`~bayesbench.history.RecordedModel` (items ``<task>/<sample id>`` or ``<sample id>``) or a
    mapping ``{sample id: score}``.
    """

    def __init__(self, *, confidence: float = 0.95, min_samples: int = 10, equivalence_margin: float | None = None,
                 rule: str = "anytime", scorer: str | None = None, reference: Any = None) -> None:
        from ..engine._settings import RunSettings

        _require_inspect("PairedEarlyStopping")
        self.settings = RunSettings.build("PairedEarlyStopping", (), {
            "confidence": confidence, "min_samples": min_samples, "equivalence_margin": equivalence_margin,
            "rule": rule}, live=False)
        if self.settings.rule not in ("anytime", "full_benchmark"):
            raise ConfigError(f"`rule` must be 'anytime' or 'full_benchmark' for early stopping, got {rule!r}")
        self.scorer = scorer
        self.reference = reference
        self._order: list[Key] = []
        self._models: list[str] = []
        self._scores: dict[str, dict[Key, float]] = {}
        self._task = ""
        self._test: Any = None
        self._next = 0  # position in the dataset order of the next pair the test has not seen
        self._skipped: dict[str, int] = {}
        self._stop: Any = None  # the final Decision once the test has decided

    # ------------------------------------------------------------------ Inspect's EarlyStopping protocol
    async def start_task(self, task: Any, samples: list[Any], epochs: int) -> str:
        from ..engine._settings import engine_config
        from ..stats import PairedSequentialTest

        model = str(task.model)
        order = [(s.id, e) for e in range(1, epochs + 1) for s in samples]
        if self._models and order != self._order:
            raise ConfigError(f"PairedEarlyStopping got a different sample list for {model!r} than for "
                              f"{self._models[0]!r}: the models must run the same task and dataset")
        if model in self._models:
            raise ConfigError(f"PairedEarlyStopping is already running model {model!r}: use a new instance per eval")
        limit = 1 if self.reference is not None else 2
        if len(self._models) >= limit:
            raise ConfigError(f"PairedEarlyStopping compares two models; it was started for {model!r} after "
                              f"{', '.join(map(repr, self._models))}" + (" and a reference" if limit == 1 else ""))
        if not self._models:
            self._order, self._task = order, str(task.task)
            self._test = PairedSequentialTest(engine_config(self.settings, len(order)))
            if self.reference is not None:
                self._scores["reference"] = self._reference_scores(order)
        self._models.append(model)
        self._scores[model] = {}
        self._skipped[model] = 0
        return "bayesbench"

    async def schedule_sample(self, id: str | int, epoch: int) -> Any:
        if self._stop is None:
            return None
        from inspect_ai.util import EarlyStop

        model = _active_model_name()
        self._skipped[model] = self._skipped.get(model, 0) + 1
        d = self._stop
        return EarlyStop(id=id, epoch=epoch, reason=f"bayesbench: {self._verdict()} after {d.n} paired samples",
                         metadata={"n_paired": d.n, "status": d.status})

    async def complete_sample(self, id: str | int, epoch: int, scores: dict[str, Any]) -> None:
        model = _active_model_name()
        where = f"{self._task} sample {id} (epoch {epoch}) of {model}"
        self._scores.setdefault(model, {})[(id, epoch)] = _score_value(scores, self.scorer, where)
        self._advance()

    async def complete_task(self) -> dict[str, Any]:
        return self.metadata()

    # ------------------------------------------------------------------ the rule
    def _sides(self) -> tuple[dict[Key, float], dict[Key, float]] | None:
        names = self._models + (["reference"] if self.reference is not None else [])
        if len(names) < 2:
            return None
        return self._scores[names[0]], self._scores[names[1]]

    def _advance(self) -> None:
        """Feed the test the next samples both sides have scored, in dataset order, one at a time (a stop is
        checked after each pair; a sample the reference lacks is passed over)."""
        sides = self._sides()
        if sides is None or self._stop is not None:
            return
        a, b = sides
        while self._next < len(self._order):
            key = self._order[self._next]
            if self.reference is not None and key not in b:
                self._next += 1  # no recorded score for this sample: it cannot be paired
                continue
            if key not in a or key not in b:
                return
            self._next += 1
            decision = self._test.update([a[key]], [b[key]])
            if decision.stopped and self._test.n >= self.settings.min_samples:
                self._stop = decision
                return

    def _reference_scores(self, order: list[Key]) -> dict[Key, float]:
        ref = self.reference
        out: dict[Key, float] = {}
        for key in order:
            sid = key[0]
            if isinstance(ref, Mapping):
                if sid in ref:
                    out[key] = float(ref[sid])
                continue
            for item in (f"{self._task}/{sid}", str(sid)):
                try:
                    out[key] = float(ref.score(item))
                    break
                except (DatasetError, KeyError):
                    continue
        if not out:
            raise DatasetError(f"the reference has no score for any sample of {self._task!r} (looked up as "
                               f"'{self._task}/<id>' and '<id>'); is it the same dataset?")
        return out

    def _verdict(self) -> str:
        d = self._stop if self._stop is not None else (self._test.decision if self._test is not None else None)
        if d is None:
            return "not started"
        names = self._models + (["reference"] if self.reference is not None else [])
        if d.status == "A":
            return f"{names[0]} better"
        if d.status == "B":
            return f"{names[1]} better"
        return {"EQUIVALENT": "equivalent", "CONTINUE": "undecided"}.get(d.status, d.status.lower())

    def metadata(self) -> dict[str, Any]:
        """What is written to the eval log: the verdict, the interval for mean(A) - mean(B), the e-values,
        and per model the samples scored and skipped."""
        d = self._stop if self._stop is not None else (self._test.decision if self._test is not None else None)
        names = self._models + (["reference"] if self.reference is not None else [])
        return {
            "verdict": self._verdict(), "stopped": self._stop is not None,
            "models": names, "confidence": self.settings.confidence,
            "n_paired": 0 if d is None else d.n, "dataset_samples": len(self._order),
            "estimate": None if d is None else d.estimate,
            "interval": None if d is None else list(d.cs),
            "log_e_values": {} if d is None else dict(d.log_e),
            "scored": {m: len(self._scores.get(m, {})) for m in self._models},
            "skipped": dict(self._skipped),
        }


def anytime_interval(*, confidence: float = 0.95) -> Any:
    """An Inspect metric: the anytime-valid confidence interval (betting confidence sequence) for the task's
    mean score, valid however many samples were run and wherever the eval stopped. Returns an Inspect
    ``@metric`` reporting ``{"mean", "low", "high"}``. Use it as ``Task(..., metrics=[anytime_interval()])``
    or on a scorer."""
    _require_inspect("anytime_interval")
    from inspect_ai.scorer import metric

    from ..history._intervals import BettingCS

    @metric(name="bayesbench_interval")
    def _interval() -> Any:
        def compute(scores: list[Any]) -> dict[str, float]:
            values = [_score_value({"s": s.score}, "s", "metric") for s in scores]
            if not values:
                return {"mean": float("nan"), "low": 0.0, "high": 1.0}
            cs = BettingCS(alpha=1.0 - confidence)
            for v in values:
                cs.update(v, 0.0, 1.0)
            low, high = cs.interval
            return {"mean": sum(values) / len(values), "low": float(low), "high": float(high)}

        return compute

    return _interval()
