"""Figures of a run recorded in a store: its stopping path rebuilt by replaying the recorded per-problem
scores through the engine (nothing extra is stored), its ranking from the recorded summary, its latencies
from the ``calls`` table."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from ..errors import ConfigError, StoreError

KINDS = ("auto", "path", "ranking", "latency")
_PAIR_KINDS = ("compare", "task")


def open_existing(store: Any) -> Any:
    """A Store from a Store, a database URL, or the path of an existing file (never creates an empty one)."""
    from ..store import Store

    if isinstance(store, (str, os.PathLike)):
        text = os.fspath(store)
        if "://" not in text and not Path(text).is_file():
            raise StoreError(f"store file {text!r} does not exist; pass the SQLite file a run was recorded in "
                             "(the --store of `bayesbench run`)")
        return Store(text)
    if not all(hasattr(store, m) for m in ("get_run", "scores", "calls")):
        raise ConfigError(f"`store` must be a bayesbench.store.Store, a file path or a URL, got {type(store).__name__}")
    return store


def _run(store: Any, run_id: str) -> dict[str, Any]:
    run = store.get_run(run_id)
    if run is None:
        known = [r["id"] for r in store.runs()[:5]]
        raise StoreError(f"no run with id {run_id!r} in the store; its newest runs are: "
                         + (", ".join(known) if known else "none"))
    return run


def replay_pair_run(store: Any, run_id: str) -> Any:
    """The TaskResult of a stored two-model run, rebuilt by feeding its recorded scores to the engine with
    the run's recorded settings, seed and problem order, batch by batch as the live run did."""
    from ..engine._loop import batch_boundaries
    from ..engine._pair import PairRun
    from ..engine._settings import RunSettings, engine_config
    from ..stats import make_pair_test

    store = open_existing(store)
    run = _run(store, run_id)
    config = run["config"]
    if config.get("kind") not in _PAIR_KINDS:
        raise ConfigError(f"run {run_id!r} is a {config.get('kind')!r} run, not a two-model comparison; "
                          "use kind='ranking' for a ranking run")
    recorded = {f.name for f in dataclasses.fields(RunSettings) if f.metadata["recorded"]} - {"history", "seed"}
    options = {k: (tuple(v) if isinstance(v, list) else v) for k, v in config.items() if k in recorded}
    settings = RunSettings(**options, seed=int(run["seed"]))
    n_problems = int(config["n_problems"])
    pair = PairRun(run["name"], list(range(n_problems)), settings, settings.posteriors)
    history = config.get("history")
    if history:  # the run's betting grid was tuned on a bank before it started: the grid is recorded
        cfg = dataclasses.replace(engine_config(settings, n_problems), lambdas=tuple(history["lambdas"]))
        pair.test = make_pair_test(settings.rule, cfg, confidence=settings.confidence,
                                   skip_threshold=settings.skip_threshold, min_samples=settings.min_samples,
                                   posterior_factory=settings.posteriors, seed=settings.seed)
    by_problem: dict[str, dict[str, float]] = {}
    for row in store.scores(run_id):
        by_problem.setdefault(str(row["problem_id"]), {})[row["model"]] = float(row["score"])
    if [str(i) for i in pair.order] != [str(p) for p in run["order"]]:
        raise StoreError(f"run {run_id!r}: the recorded problem order does not match its seed; the store was "
                         "written by another version of the shuffle and cannot be replayed")
    for start, end in batch_boundaries(pair.limit, settings.batch_size, settings.min_samples):
        ids = pair.order[start:end]
        rows = [by_problem.get(str(i), {}) for i in ids]
        if not all("model_a" in r and "model_b" in r for r in rows):
            break  # the live run fed no further batch (it stopped, failed or was interrupted here)
        if pair.feed([(i, r["model_a"], r["model_b"]) for i, r in zip(ids, rows)]):
            break
    if not pair.scores_a:
        raise StoreError(f"run {run_id!r} has no recorded scores: nothing to replay")
    result = pair.finish()
    summary = run.get("summary") or {}
    result.model_a_name = summary.get("model_a_name") or result.model_a_name
    result.model_b_name = summary.get("model_b_name") or result.model_b_name
    result.stop_reason = summary.get("stop_reason") or result.stop_reason
    result.run_id = run_id
    return result


def call_latencies(source: Any, run_id: str | None = None) -> dict[str, list[float]]:
    """Seconds per live, successful call by model: from a store's ``calls`` table (a Store, file or URL; one
    run, or all when ``run_id`` is None), or from an Executor's recent call records (``executor.records``)."""
    records = getattr(source, "records", None)
    if records is not None and not hasattr(source, "calls"):  # an Executor
        rows = [{"model": r.model, "latency_s": r.latency_s, "cached": r.cached, "error": r.error} for r in records]
    else:
        rows = open_existing(source).calls(run_id)
    out: dict[str, list[float]] = {}
    for row in rows:
        latency = row.get("latency_s")
        if row.get("cached") or row.get("error") or latency is None or latency <= 0:
            continue
        out.setdefault(row["model"], []).append(float(latency))
    return out


def stored_run(store: Any, run_id: str, *, kind: str = "auto", path: Any = None) -> Any:
    """A figure of a run recorded in ``store`` (a Store, a SQLite file or a URL).

    ``kind``: ``"path"`` (a two-model run's stopping path, rebuilt by replaying its recorded scores),
    ``"ranking"`` (a ranking run, from its recorded result), ``"latency"`` (its calls' latencies per model), or
    ``"auto"`` (path for a two-model run, ranking for a ranking run). ``path`` (.png/.svg) saves the figure.
    """
    from ._mpl import check_path
    from ._ops import latency
    from ._path import stopping_path
    from ._ranking import ranking

    if kind not in KINDS:
        raise ConfigError(f"`kind` must be one of {', '.join(repr(k) for k in KINDS)}, got {kind!r}")
    check_path(path)
    store = open_existing(store)
    run = _run(store, run_id)
    run_kind = run["config"].get("kind")
    if kind == "auto":
        kind = "ranking" if run_kind == "rank" else "path"
    if kind == "latency":
        data = call_latencies(store, run_id)
        if not data:
            raise StoreError(f"run {run_id!r} recorded no live successful calls with a latency (all cached, "
                             "failed, or a replay): nothing to draw")
        return latency(data, path=path, title=f"latency per call — run {run['name']} ({run_id[:8]})")
    if kind == "ranking":
        if run_kind != "rank":
            raise ConfigError(f"run {run_id!r} is a {run_kind!r} run, not a ranking; use kind='path'")
        if not run.get("summary"):
            raise StoreError(f"ranking run {run_id!r} did not finish (status {run['status']!r}): it has no "
                             "recorded result to draw")
        return ranking(run["summary"], path=path)
    return stopping_path(replay_pair_run(store, run_id), path=path)
