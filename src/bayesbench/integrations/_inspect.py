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


class _Pairing:
    """The state one eval's two model runs share: samples scored per model, the test, the decision."""

    def __init__(self, owner: PairedEarlyStopping, order: list[Key], task: str) -> None:
        from ..engine._settings import engine_config
        from ..stats import PairedSequentialTest

        self.owner = owner
        self.order, self.task = order, task
        self.models: list[str] = []
        self.scores: dict[str, dict[Key, float | None]] = {}  # None: the sample ended without a score
        self.skipped: dict[str, int] = {}
        self.done: set[str] = set()
        self.test = PairedSequentialTest(engine_config(owner.settings, len(order)))
        self.next = 0  # position in the dataset order of the next pair the test has not seen
        self.stop: Any = None  # the final Decision once the test has decided
        if owner.reference is not None:
            self.scores["reference"] = owner._reference_scores(order, task)

    @property
    def sides(self) -> list[str]:
        return self.models + (["reference"] if self.owner.reference is not None else [])

    def advance(self) -> None:
        """Feed the test the next samples both sides have scored, in dataset order, one at a time (a stop is
        checked after each pair; a sample the reference lacks is passed over)."""
        if len(self.sides) < 2 or self.stop is not None:
            return
        a, b = (self.scores[m] for m in self.sides[:2])
        while self.next < len(self.order):
            key = self.order[self.next]
            if self.owner.reference is not None and key not in b:
                self.next += 1  # no recorded score for this sample: it cannot be paired
                continue
            if key not in a or key not in b:
                return
            self.next += 1
            if a[key] is None or b[key] is None:
                continue  # a sample that ended without a score (an errored sample) is never paired
            decision = self.test.update([a[key]], [b[key]])
            if decision.stopped and self.test.n >= self.owner.settings.min_samples:
                self.stop = decision
                return

    def verdict(self) -> str:
        d = self.stop if self.stop is not None else self.test.decision
        if d.status in ("A", "B"):
            return f"{self.sides[0 if d.status == 'A' else 1]} better"
        return {"EQUIVALENT": "equivalent", "CONTINUE": "undecided"}.get(d.status, d.status.lower())

    def metadata(self) -> dict[str, Any]:
        d = self.stop if self.stop is not None else self.test.decision
        return {
            "verdict": self.verdict(), "stopped": self.stop is not None, "models": self.sides,
            "confidence": self.owner.settings.confidence, "n_paired": d.n, "dataset_samples": len(self.order),
            "estimate": d.estimate, "interval": list(d.cs), "log_e_values": dict(d.log_e),
            "scored": {m: sum(v is not None for v in self.scores.get(m, {}).values()) for m in self.models},
            "unscored": {m: sum(v is None for v in self.scores.get(m, {}).values()) for m in self.models},
            "skipped": dict(self.skipped),
        }


#: One pairing per (eval run, task): `inspect eval task.py --model a,b` builds the task (and so a manager) once
#: per model, and both runs of one eval carry the same run id.
_PAIRINGS: dict[tuple[str, str], _Pairing] = {}


class PairedEarlyStopping:
    """Stop an Inspect eval of two models (or one model against a recorded one) as soon as bayesbench's
    paired anytime-valid test decides.

    Pass it as ``Task(..., early_stopping=PairedEarlyStopping())`` and run ``inspect eval task.py
    --model a,b`` (or ``eval(task, model=[a, b])``); with ``--max-tasks 2`` both runs go on side by side and
    both stop, otherwise the second run is stopped against the first. The settings are the engine's
    (docs/engine.md): ``confidence``, ``min_samples`` (pairs before any stop), ``equivalence_margin``,
    ``rule``; ``scorer`` picks the task's scorer (default: the first). ``reference`` replaces the second model
    by recorded scores: a :class:`~bayesbench.history.RecordedModel` (items ``<task>/<sample id>`` or
    ``<sample id>``) or a mapping ``{sample id: score}``.
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
        self._pairing: _Pairing | None = None

    # ------------------------------------------------------------------ Inspect's EarlyStopping protocol
    async def start_task(self, task: Any, samples: list[Any], epochs: int) -> str:
        model = str(task.model)
        order = [(s.id, e) for e in range(1, epochs + 1) for s in samples]
        key = (str(task.run_id), str(task.task))
        pairing = _PAIRINGS.get(key)
        if pairing is None:
            pairing = _PAIRINGS[key] = _Pairing(self, order, str(task.task))
        elif pairing.owner.settings != self.settings or pairing.owner.scorer != self.scorer:
            raise ConfigError(f"the PairedEarlyStopping of {model!r} has other settings than the one of "
                              f"{pairing.models[0]!r} in the same eval: give both runs the same settings")
        if order != pairing.order:
            raise ConfigError(f"PairedEarlyStopping got a different sample list for {model!r} than for "
                              f"{pairing.models[0]!r}: the models must run the same task and dataset")
        if model in pairing.models:
            raise ConfigError(f"PairedEarlyStopping is already running model {model!r} in this eval")
        limit = 1 if pairing.owner.reference is not None else 2
        if len(pairing.models) >= limit:
            raise ConfigError(f"PairedEarlyStopping compares two models; it was started for {model!r} after "
                              f"{', '.join(map(repr, pairing.models))}" + (" and a reference" if limit == 1 else ""))
        pairing.models.append(model)
        pairing.scores[model] = {}
        pairing.skipped[model] = 0
        self._pairing = pairing
        return "bayesbench"

    async def schedule_sample(self, id: str | int, epoch: int) -> Any:
        pairing = self._pairing
        if pairing is None or pairing.stop is None:
            return None
        from inspect_ai.util import EarlyStop

        model = _active_model_name()
        pairing.skipped[model] = pairing.skipped.get(model, 0) + 1
        d = pairing.stop
        return EarlyStop(id=id, epoch=epoch, reason=f"bayesbench: {pairing.verdict()} after {d.n} paired samples",
                         metadata={"n_paired": d.n, "status": d.status})

    async def complete_sample(self, id: str | int, epoch: int, scores: dict[str, Any]) -> None:
        pairing = self._pairing
        if pairing is None:
            raise ConfigError("PairedEarlyStopping.complete_sample was called before start_task")
        model = _active_model_name()
        where = f"{pairing.task} sample {id} (epoch {epoch}) of {model}"
        # no score at all (an errored sample Inspect still reports) is "not paired", not an error that ends the
        # eval; a score the manager cannot read (a wrong `scorer=`, a non-numeric value) is a clear error
        value = _score_value(scores, self.scorer, where) if scores else None
        pairing.scores.setdefault(model, {})[(id, epoch)] = value
        pairing.advance()

    async def complete_task(self) -> dict[str, Any]:
        pairing = self._pairing
        if pairing is None:
            return {}
        pairing.done.add(_active_model_name())
        if pairing.done >= set(pairing.models):  # every run of this eval is over: forget the pairing
            for key, value in list(_PAIRINGS.items()):
                if value is pairing:
                    del _PAIRINGS[key]
        return pairing.metadata()

    def metadata(self) -> dict[str, Any]:
        """What is written to the eval log: the verdict, the interval for mean(A) - mean(B), the e-values,
        and per model the samples scored and skipped."""
        return {} if self._pairing is None else self._pairing.metadata()

    def _reference_scores(self, order: list[Key], task: str) -> dict[Key, float]:
        ref = self.reference
        out: dict[Key, float] = {}
        for key in order:
            sid = key[0]
            if isinstance(ref, Mapping):
                if sid in ref:
                    out[key] = float(ref[sid])
                continue
            for item in (f"{task}/{sid}", str(sid)):
                try:
                    out[key] = float(ref.score(item))
                    break
                except (DatasetError, KeyError):
                    continue
        if not out:
            raise DatasetError(f"the reference has no score for any sample of {task!r} (looked up as "
                               f"'{task}/<id>' and '<id>'); is it the same dataset?")
        return out


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
