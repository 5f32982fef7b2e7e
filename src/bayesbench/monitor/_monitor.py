"""A named monitor: scheduled runs into the store, and checks of every run against the pinned baseline.

The store is the monitor's whole state: its baseline run, its scheduled runs (name ``monitor:<name>``, the
slot and the baseline in the run config), their per-item scores and call records, and one ``monitor_checks``
row per (run, metric). A check replays the e-process from those rows, so ``bayesbench monitor run`` can be
a cron job with no other memory, and a crashed run is resumed (same slot, same items, answers from the cache).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engine import run_sync
from ..errors import ConfigError, ModelError, ScoringError, StoreError
from ..execution import Executor, RetryPolicy
from ..models import as_callable
from ..stats import EngineConfig, PairedSequentialTest
from ..store import Store
from ._config import MonitorConfig, MonitorFile, parse_duration
from ._detector import RegressionDetector, baseline_noise_margin, e_bh
from ._rotation import ExposureReport, Rotation, base_item
from ._sinks import AlertSink, LogSink, WebhookSink

__all__ = ["CheckResult", "Monitor", "RunOutcome", "check_monitors", "run_monitors"]

logger = logging.getLogger("bayesbench.monitor")

_UNITS = {"score": "", "latency_s": " s", "cost_usd": " USD"}


@dataclass(frozen=True)
class RunOutcome:
    """What one scheduled evaluation did."""

    monitor: str
    run_id: str
    kind: str  # "baseline" | "scheduled"
    slot: int
    n: int
    n_errors: int
    resumed: bool

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))

    def summary(self) -> str:
        what = "baseline run (pinned)" if self.kind == "baseline" else f"scheduled run, slot {self.slot}"
        again = ", resumed" if self.resumed else ""
        return f"monitor {self.monitor!r}: {what} {self.run_id}: {self.n} items, {self.n_errors} failed calls{again}"


@dataclass(frozen=True)
class CheckResult:
    """One metric of one run of one monitor, compared with the pinned baseline.

    estimate, ci_low, ci_high: mean of (new − baseline) in the metric's units on the run's items, with the
    engine's (1 − alpha) confidence sequence of that run alone. e_value / log_e / log_e_max: the monitor's
    lifetime e-process after this run. alert: the family rule (``multiplicity``) says "regressed";
    new_alert: it did not before this run.
    """

    monitor: str
    metric: str
    run_id: str
    baseline_run_id: str
    slot: int
    n: int
    estimate: float
    ci_low: float
    ci_high: float
    log_e: float
    log_e_max: float
    run_log_e: float
    threshold_e: float
    alert: bool
    new_alert: bool
    alpha: float
    margin: float
    multiplicity: str
    seed: int
    check_id: int | None = None
    method: str = "paired betting e-process with margin, start-mixture over runs (anytime-valid, lifetime)"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def e_value(self) -> float:
        return math.exp(min(self.log_e, 700.0))

    @property
    def level(self) -> float:
        return 1.0 - self.alpha

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in vars(self).items() if k != "extra"}
        d.update(self.extra)
        d["e_value"] = self.e_value
        d["e_value_text"] = f"{self.e_value:.3g}"
        d["level"] = self.level
        d["unit"] = _UNITS[self.metric]
        return d

    def summary(self) -> str:
        flag = "ALERT" if self.alert else "ok"
        u = _UNITS[self.metric]
        return (f"[{flag}] {self.monitor} / {self.metric} run {self.run_id[:12]} (slot {self.slot}, n={self.n}): "
                f"new - baseline {self.estimate:+.4g}{u} [{self.ci_low:+.4g}, {self.ci_high:+.4g}], margin "
                f"{self.margin:g}{u}; lifetime e-value {self.e_value:.3g} (alert at {self.threshold_e:.3g}, "
                f"{self.multiplicity}, alpha={self.alpha:g})")


def _score_value(v: Any, lo: float, hi: float, where: str) -> float:
    if isinstance(v, bool):
        v = float(v)
    if not isinstance(v, (int, float)) or not math.isfinite(v) or not (lo <= v <= hi):
        raise ScoringError(f"{where}: the score must be a number in [{lo:g}, {hi:g}] (score_range), got {v!r}")
    return float(v)


class Monitor:
    """One named monitor over a store.

    Parameters
    ----------
    config:
        A :class:`MonitorConfig`.
    store:
        A :class:`~bayesbench.store.Store` or a path / URL.
    """

    def __init__(self, config: MonitorConfig, store: Store | str) -> None:
        if not isinstance(config, MonitorConfig):
            raise ConfigError(f"`config` must be a MonitorConfig, got {type(config).__name__}")
        self.config = config
        self.store = store if isinstance(store, Store) else Store(store)
        self._problems: dict[str, Mapping[str, Any]] | None = None
        self._rotation: Rotation | None = None
        self._suite: Any = None

    def _suite_instance(self) -> Any:
        if self._suite is None:
            cls = self.config.resolve("suite")
            try:
                self._suite = cls(**self.config.suite_options)
            except TypeError as exc:
                raise ConfigError(f"monitor {self.config.name!r}: bad `suite_options` for {self.config.suite}: "
                                  f"{exc}") from None
        return self._suite

    def score_fn(self) -> Any:
        """The score function: ``score`` from the config, or the suite's ``score(problem, response)``."""
        return self._suite_instance().score if self.config.suite else self.config.resolve("score")

    # ------------------------------------------------------------------ the task
    @property
    def run_name(self) -> str:
        return f"monitor:{self.config.name}"

    def problems(self) -> dict[str, Mapping[str, Any]]:
        if self._problems is None:
            if self.config.suite:
                rows = self._suite_instance().problems()
            else:
                ds = self.config.resolve("dataset")
                rows = ds() if callable(ds) else ds
            out: dict[str, Mapping[str, Any]] = {}
            for i, p in enumerate(rows):
                if not isinstance(p, Mapping) or "id" not in p or not ({"prompt", "input"} & set(p)):
                    raise ConfigError(f"monitor {self.config.name!r}: problem {i} must be a dict with 'id' and "
                                      f"'prompt' (or 'input'), got {p!r:.120}")
                out[str(p["id"])] = p
            if not out:
                raise ConfigError(f"monitor {self.config.name!r}: the dataset is empty")
            self._problems = out
        return self._problems

    @property
    def rotation(self) -> Rotation:
        if self._rotation is None:
            c = self.config
            self._rotation = Rotation(list(self.problems()), items_per_run=c.items_per_run,
                                      holdout_fraction=c.holdout_fraction, seed=c.seed)
        return self._rotation

    # ------------------------------------------------------------------ store state
    def baseline_run_id(self) -> str | None:
        row = self.store.get_monitor(self.config.name)
        return None if row is None else row["baseline_run_id"]

    def pin_baseline(self, run_id: str) -> None:
        """Pin another finished run (of this model on the pool's items) as the baseline; a new lifetime starts."""
        run = self.store.get_run(run_id)
        if run is None or run["status"] != "finished":
            raise ConfigError(f"run {run_id!r} is not a finished run in the store; pin a finished run's id")
        self.store.save_monitor(self.config.name, self._stored_config(), baseline_run_id=run_id)

    def _stored_config(self) -> dict[str, Any]:
        d = self.config.to_dict()
        d["rotation"] = self.rotation.to_dict()
        return d

    def scheduled_runs(self) -> list[dict[str, Any]]:
        """Finished scheduled runs against the current baseline, by slot."""
        base = self.baseline_run_id()
        if base is None:
            return []
        runs = [r for r in self.store.runs() if r["name"] == self.run_name and r["status"] == "finished"
                and r["config"].get("kind") == "scheduled" and r["config"].get("baseline_run_id") == base]
        return sorted(runs, key=lambda r: int(r["config"]["slot"]))

    # ------------------------------------------------------------------ running
    def run_once(self) -> RunOutcome:
        """One scheduled evaluation: the baseline (every pool item) if none is pinned, else the next slot's draws."""
        self.store.save_monitor(self.config.name, self._stored_config())
        base = self.baseline_run_id()
        if base is None:
            outcome = self._evaluate("baseline", 0, list(self.rotation.pool), epoch="baseline")
            self.store.set_monitor_baseline(self.config.name, outcome.run_id)
            return outcome
        done = self.scheduled_runs()
        slot = 1 + max((int(r["config"]["slot"]) for r in done), default=0)
        # every baseline epoch gets its own seeded draws: slot numbers restart when another baseline is pinned
        epoch = zlib.crc32(base.encode())
        return self._evaluate("scheduled", slot, self.rotation.draws(slot, epoch=epoch), epoch=base)

    def _run_config(self, kind: str, slot: int, epoch: str) -> dict[str, Any]:
        c = self.config
        return {"kind": kind, "monitor": c.name, "model": c.model_name, "slot": slot,
                "baseline_run_id": None if kind == "baseline" else epoch, "seed": c.seed,
                "items_per_run": c.items_per_run, "holdout_fraction": c.holdout_fraction, "dataset": c.dataset,
                "score": c.score, "suite": c.suite, "suite_options": c.suite_options}

    def _evaluate(self, kind: str, slot: int, draws: Sequence[str], *, epoch: str) -> RunOutcome:
        c = self.config
        config = self._run_config(kind, slot, epoch)
        rid = self.store.find_resumable_run(self.run_name, config)
        resumed = rid is not None
        if rid is None:
            rid = self.store.start_run(self.run_name, config, c.seed, list(draws))
        problems = self.problems()
        model = c.resolve("model")
        if not callable(model) and not callable(getattr(model, "generate", None)):
            raise ConfigError(f"monitor {c.name!r}: `model` must be callable (prompt -> text) or have generate()")
        prompt_key = "prompt" if "prompt" in next(iter(problems.values())) else "input"
        fn = as_callable(model, prompt_key=prompt_key)  # the problem's prompt text goes to the model
        score_fn = self.score_fn()
        lo, hi = c.score_range

        async def go() -> list[Any]:
            prices = None if c.price_per_million_tokens is None else {c.model_name: c.price_per_million_tokens}
            ex = Executor(store=self.store, run_id=rid, max_concurrency=c.max_concurrency, timeout=c.timeout_s,
                          retry=RetryPolicy(max_attempts=3, backoff_base=0.2, backoff_max=5.0), seed=c.seed,
                          prices=prices)
            try:
                return list(await asyncio.gather(*(
                    ex.call(c.model_name, fn, problems[base_item(d)], problem_id=d,
                            params={"monitor": c.name, "epoch": epoch, "slot": slot, "draw": d})
                    for d in draws)))
            finally:
                ex.close()
                aclose = getattr(model, "aclose", None)
                if callable(aclose):  # an adapter's HTTP client belongs to this run's event loop
                    await aclose()

        records = run_sync(go)  # also inside a running event loop (notebooks)
        scores: dict[str, dict[str, float]] = {}
        errors = 0
        for d, rec in zip(draws, records):
            if rec.error is not None or rec.response is None:  # no answer is never scored
                errors += 1
                continue
            scores[d] = {c.model_name: _score_value(score_fn(problems[base_item(d)], str(rec.response)), lo, hi,
                                                    f"monitor {c.name!r} item {d!r}")}
        self.store.record_batch(rid, scores)
        n = len(draws)
        summary = {"kind": kind, "n": n, "n_scored": len(scores), "n_errors": errors,
                   "mean_score": float(np.mean([v[c.model_name] for v in scores.values()])) if scores else None}
        if errors > c.max_error_fraction * n:
            self.store.finish_run(rid, summary, status="failed")
            raise ModelError(f"monitor {c.name!r}: {errors} of {n} calls failed (more than max_error_fraction="
                             f"{c.max_error_fraction:g}); the run {rid} is marked failed and nothing was checked")
        self.store.finish_run(rid, summary)
        return RunOutcome(c.name, rid, kind, slot, n, errors, resumed)

    # ------------------------------------------------------------------ per-item metric values
    def metric_values(self, run_id: str, metric: str) -> dict[str, float]:
        """``{draw id: value}`` of one metric in one run (scores, or latency / cost of answered, uncached calls)."""
        c = self.config
        if metric == "score":
            return {r["problem_id"]: float(r["score"]) for r in self.store.scores(run_id) if r["model"] ==
                    c.model_name}
        col = {"latency_s": "latency_s", "cost_usd": "cost_usd"}[metric]
        out: dict[str, float] = {}
        for r in self.store.calls(run_id):  # the last answered, really-made call of each draw
            if r["model"] == c.model_name and r["error"] is None and not r["cached"] and r[col] is not None:
                out[str(r["problem_id"])] = float(r[col])
        return out

    def _unit_values(self, metric: str, values: Mapping[str, float]) -> dict[str, float]:
        """Values on [0, 1], oriented so that larger is better (score) or larger is worse (latency, cost)."""
        c = self.config
        if metric == "score":
            lo, hi = c.score_range
            return {k: (v - lo) / (hi - lo) for k, v in values.items()}
        bound = c.latency_bound_s if metric == "latency_s" else c.cost_bound_usd
        return {k: min(max(v, 0.0), bound) / bound for k, v in values.items()}

    def _scale(self, metric: str) -> float:
        c = self.config
        return {"score": c.score_range[1] - c.score_range[0], "latency_s": c.latency_bound_s,
                "cost_usd": c.cost_bound_usd}[metric]

    def _margin(self, metric: str) -> float:
        c = self.config
        return {"score": c.margin, "latency_s": c.latency_margin_s, "cost_usd": c.cost_margin_usd}[metric]

    def series(self, metric: str) -> list[dict[str, Any]]:
        """Replay the lifetime e-process of ``metric`` over the scheduled runs against the current baseline."""
        base = self.baseline_run_id()
        if base is None:
            return []
        c = self.config
        scale = self._scale(metric)
        base_u = self._unit_values(metric, self.metric_values(base, metric))
        if not base_u:
            raise StoreError(f"monitor {c.name!r}: the baseline run {base} has no {metric} values; pin a run that "
                             f"recorded them")
        alpha, margin_u = c.alpha, self._margin(metric) / scale
        if c.account_baseline_noise:  # Hoeffding on the baseline run's own mean, at alpha/2 (docs/monitoring.md)
            alpha = c.alpha / 2
            margin_u += baseline_noise_margin(len(base_u), c.alpha)
        if not margin_u < 1:
            raise ConfigError(f"monitor {c.name!r}: the margin on the [0, 1] scale is {margin_u:.3g} (>= 1)")
        det = RegressionDetector(alpha=alpha, margin=margin_u)
        out = []
        for run in self.scheduled_runs():
            new_u = self._unit_values(metric, self.metric_values(run["id"], metric))
            keys = [k for k in run["order"] if k in new_u and base_item(k) in base_u]
            new = np.array([new_u[k] for k in keys])
            old = np.array([base_u[base_item(k)] for k in keys])
            worse = (old - new) if metric == "score" else (new - old)
            state = det.update(worse)
            if keys:
                eng = PairedSequentialTest(EngineConfig(alpha=alpha))
                eng.update(new, old)
                lo_u, hi_u = eng.confidence_sequence()
                est_u = float(np.mean(new - old))
            else:
                lo_u, hi_u, est_u = -1.0, 1.0, 0.0
            out.append({"run_id": run["id"], "slot": int(run["config"]["slot"]), "n": len(keys),
                        "estimate": est_u * scale, "ci_low": lo_u * scale, "ci_high": hi_u * scale,
                        "state": state, "alpha": alpha, "margin_unit": margin_u, "checked_at": run["finished"]})
        return out

    def is_due(self, *, now: float | None = None) -> bool:
        """True when this monitor never ran, or its last finished run is at least ``schedule`` old."""
        last = max((r["finished"] or 0.0 for r in self.store.runs()
                    if r["name"] == self.run_name and r["status"] == "finished"), default=None)
        t = time.time() if now is None else float(now)
        return last is None or t - last >= parse_duration(self.config.schedule)

    def exposures(self, *, all_runs: bool = True) -> ExposureReport:
        """Per-item exposure of this monitor's model: runs in the store that scored each item (all runs of the
        store by default, or only this monitor's with ``all_runs=False``)."""
        ids = None if all_runs else [r["id"] for r in self.store.runs() if r["name"] == self.run_name]
        raw = self.store.item_exposures(model=self.config.model_name, run_ids=ids)
        return ExposureReport.from_store_counts(self.config.model_name, raw, list(self.problems()),
                                                self.rotation.holdout)


# ---------------------------------------------------------------------- the family of a config file
def _sinks_for(cfg: MonitorConfig, extra: Sequence[AlertSink]) -> list[AlertSink]:
    sinks: list[AlertSink] = [LogSink(), *extra]
    url = cfg.webhook_url()
    if url:
        sinks.append(WebhookSink(url))
    return sinks


def check_monitors(file: MonitorFile, *, store: Store | None = None, sinks: Sequence[AlertSink] = ()) -> \
        list[CheckResult]:
    """Check every (monitor, metric) of a config file: record a ``monitor_checks`` row for each run not checked
    yet, decide alerts with the file's multiplicity rule, and tell the sinks about new alerts.

    Rules over the family of K (monitor, metric) e-processes: ``"none"``: each alerts when its running max
    reaches 1/alpha (lifetime false-alarm probability <= alpha per e-process); ``"bonferroni"``: at K/alpha
    (P(any false alarm in the family, ever) <= alpha); ``"ebh"``: e-BH at level alpha on the family's current
    e-values at this check (FDR <= alpha among the pairs flagged at the first alert; see docs/monitoring.md).
    An alert is sticky until another baseline is pinned. Returns the latest check of every (monitor, metric)
    that has a scheduled run.
    """
    file.activate()
    st = store if store is not None else Store(file.store)
    mons = {cfg.name: Monitor(cfg, st) for cfg in file.monitors}
    series = {(name, metric): m.series(metric) for name, m in mons.items() for metric in m.config.metrics}
    k_total = len(series)
    pending: list[tuple[CheckResult, bool]] = []  # (check, it is the pair's latest run)
    latest: dict[tuple[str, str], CheckResult] = {}
    for (name, metric), points in series.items():
        m = mons[name]
        base = m.baseline_run_id() or ""
        old = {c["run_id"]: c for c in st.monitor_checks(name, metric=metric)
               if c["detail"].get("baseline_run_id") == base}
        alerted = False
        for i, point in enumerate(points):
            state, a = point["state"], point["alpha"]
            thr_log = math.log((1 if file.multiplicity == "none" else k_total) / a)
            prev = old.get(point["run_id"])
            crossed = state.log_e_max >= thr_log  # for "ebh" this is e-BH's k = 1 case, the rest is below
            check = CheckResult(
                monitor=name, metric=metric, run_id=point["run_id"], baseline_run_id=base, slot=point["slot"],
                n=point["n"], estimate=point["estimate"], ci_low=point["ci_low"], ci_high=point["ci_high"],
                log_e=state.log_e, log_e_max=state.log_e_max, run_log_e=state.run_log_e,
                threshold_e=math.exp(thr_log), alert=alerted or (crossed if prev is None else bool(prev["alert"])),
                new_alert=False, alpha=a, margin=m._margin(metric), multiplicity=file.multiplicity,
                seed=m.config.seed, check_id=None if prev is None else prev["id"],
                extra={"margin_unit": point["margin_unit"], "was_alerted": alerted})
            if prev is None:
                pending.append((check, i == len(points) - 1))
            alerted = check.alert
            latest[(name, metric)] = check
    if file.multiplicity == "ebh" and latest:
        level = min(m.config.alpha for m in mons.values())
        rejected = e_bh({k: r.e_value for k, r in latest.items()}, alpha=level)
        pending = [(_replace(c, alert=c.alert or (is_last and (c.monitor, c.metric) in rejected)), is_last)
                   for c, is_last in pending]
    for c, _ in pending:
        c = _replace(c, new_alert=c.alert and not c.extra["was_alerted"])
        detail = {k: v for k, v in c.to_dict().items()
                  if k not in ("monitor", "run_id", "metric", "estimate", "ci_low", "ci_high", "alert")}
        cid = st.record_monitor_check(c.monitor, run_id=c.run_id, metric=c.metric, estimate=c.estimate,
                                      ci_low=c.ci_low, ci_high=c.ci_high, e_value=min(c.e_value, 1e300),
                                      alert=c.alert, detail=detail)
        c = _replace(c, check_id=cid)
        if latest[(c.monitor, c.metric)].run_id == c.run_id:
            latest[(c.monitor, c.metric)] = c
        if c.new_alert:
            for sink in _sinks_for(mons[c.monitor].config, sinks):
                try:
                    sink.send(c)
                except Exception as exc:  # a sink never loses the check: it is already in the store
                    logger.error("bayesbench monitor: alert sink %r failed: %s", sink, type(exc).__name__)
    return list(latest.values())


def _replace(r: CheckResult, **changes: Any) -> CheckResult:
    from dataclasses import replace

    return replace(r, **changes)


def run_monitors(file: MonitorFile, *, store: Store | None = None, sinks: Sequence[AlertSink] = (),
                 only: Sequence[str] | None = None, due_only: bool = False,
                 now: float | None = None) -> tuple[list[RunOutcome], list[CheckResult]]:
    """One scheduled evaluation of every monitor of the file (or of those named in ``only``; with ``due_only``
    only of those whose last finished run is older than their ``schedule``), then :func:`check_monitors`."""
    file.activate()
    st = store if store is not None else Store(file.store)
    outcomes = []
    for cfg in file.monitors:
        if only and cfg.name not in only:
            continue
        mon = Monitor(cfg, st)
        if due_only and not mon.is_due(now=now):
            continue
        outcomes.append(mon.run_once())
    return outcomes, check_monitors(file, store=st, sinks=sinks)
