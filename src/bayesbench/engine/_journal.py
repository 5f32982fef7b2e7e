"""Write a run to the store as it goes, and find the unfinished run to resume.

Resume needs no special replay logic: an unfinished run with the same name and configuration gives
back its seed, hence the same problem order; the executor's response cache (same store) answers
every call that had finished, so nothing paid for is asked again and the engine, fed the same scores
in the same order, reaches the same decisions.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import ConfigError
from ..execution._keys import callable_identity, stable_json
from ._settings import RunSettings


def open_store(store: Any) -> Any:
    """Accept a Store, a path / URL, or None."""
    if store is None:
        return None
    if isinstance(store, (str, os.PathLike)):
        from ..store import Store

        return Store(store)
    if not all(hasattr(store, m) for m in ("start_run", "find_resumable_run", "get_cached")):
        raise ConfigError(f"`store` must be a bayesbench.store.Store, a file path or None, got {type(store).__name__}")
    return store


def dataset_fingerprint(problems: Sequence[Any]) -> str:
    text = stable_json(list(problems))
    if text is None:
        text = repr(list(problems))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def run_config(kind: str, settings: RunSettings, problems: Sequence[Any],
               functions: Mapping[str, Callable[..., Any]]) -> dict[str, Any]:
    """What makes two runs 'the same run' for resuming (the seed is added only if the user fixed it)."""
    return {
        "kind": kind,
        **settings.recorded(),
        "dataset": dataset_fingerprint(problems),
        "n_problems": len(problems),
        "functions": {name: callable_identity(fn) for name, fn in functions.items()},
    }


class RunJournal:
    """One run's record in the store: started (or resumed), one entry per batch, finished."""

    def __init__(self, store: Any, run_id: str, seed: int, resumed: bool) -> None:
        self.store = store
        self.run_id = run_id
        self.seed = seed
        self.resumed = resumed

    @classmethod
    def open(cls, store: Any, name: str, config: dict[str, Any], requested_seed: int | None,
             order_for: Callable[[int], list[int]]) -> RunJournal:
        run_id = store.find_resumable_run(name, config)
        if run_id is not None:
            run = store.get_run(run_id) or {}
            seed = run.get("seed")
            if seed is not None:
                return cls(store, run_id, int(seed), resumed=True)
        seed = requested_seed if requested_seed is not None else secrets.randbits(31)
        run_id = store.start_run(name, config, seed, [str(i) for i in order_for(seed)], rule=config.get("rule"))
        return cls(store, run_id, seed, resumed=False)

    def batch(self, problem_ids: Sequence[int], scores: Mapping[str, Sequence[float]], decision: Any) -> None:
        """The batch's scores and the decision taken after it, in one store transaction."""
        by_problem = {str(pid): {m: float(v[k]) for m, v in scores.items()} for k, pid in enumerate(problem_ids)}
        payload = None
        if decision is not None:
            payload = {
                "n": decision.n,
                "status": decision.status,
                "log_evalues": {k: float(v) for k, v in decision.log_e.items()},
                "cs": [float(decision.cs[0]), float(decision.cs[1])],
                "estimate": float(decision.estimate),
                "reason": decision.reason,
            }
        self.store.record_batch(self.run_id, by_problem, payload)

    def finish(self, summary: Mapping[str, Any]) -> None:
        """Mark the run finished. A run that raised stays 'running', so the next identical run resumes it.
        The resource samples are left out: they have their own table (``Store.resources(run_id)``)."""
        summary = {k: v for k, v in summary.items() if k != "resources"}
        self.store.finish_run(self.run_id, json.loads(json.dumps(summary, default=str)))
