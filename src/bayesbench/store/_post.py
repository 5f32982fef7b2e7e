"""``post_results``: file a finished result in a store, or send it to a running ``bayesbench serve``.

A result becomes one JSON document (:func:`run_document`): the run (name, kind, seed, rule, its summary),
its per-item scores, answers where the result has them, the stopping path, usage and resources (when the
result carries ``.resources``), the models and the tags. Its id is the engine's run id when the run was
journaled, else one minted on the first post and kept on the result object (so posting the same result
twice files it once, while two executions, e.g. two nightly runs with equal scores, stay two runs). The store
writes it idempotently (:meth:`Store.put_posted_run`); ``url=`` sends the same document to
``POST {url}/api/runs`` with a bearer token, and the server writes it the same way.
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Sequence
from typing import Any

from ..errors import ConfigError, StoreError
from ._posted import DOCUMENT_FORMAT

__all__ = ["DEFAULT_STORE", "post_result", "run_document"]

#: Where ``post_results()`` writes without ``store=``/``url=``: the :class:`Store`'s own default file.
DEFAULT_STORE = "bayesbench.sqlite"
_MAX_INPUT_CHARS = 20_000  # a few-shot prompt is kept, a pasted book is cut


def _plain(value: Any) -> Any:
    """JSON-safe copy: numpy numbers and objects with ``to_dict`` become plain, non-finite floats None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "to_dict"):
        return _plain(value.to_dict())
    if hasattr(value, "item"):
        return _plain(value.item())
    return str(value)


def _resources(result: Any) -> Any:
    res = getattr(result, "resources", None)
    if res is None:
        return None
    return _plain(res.to_dict() if hasattr(res, "to_dict") else res)


def _check_tags(tags: Any) -> list[str]:
    if isinstance(tags, str):
        raise ConfigError(f"`tags` must be a list of strings, got the string {tags!r}; write tags=[{tags!r}]")
    out = []
    for t in tags or ():
        if not isinstance(t, str) or not t.strip() or len(t) > 255:
            raise ConfigError(f"each tag must be a non-empty string of at most 255 characters, got {t!r}")
        out.append(t.strip())
    return list(dict.fromkeys(out))


def _task_document(result: Any) -> dict[str, Any]:
    summary = result.to_dict()
    summary.pop("problem_order", None)  # the scores carry the order
    ids = [str(i) for i in result.problem_order]
    a, b = list(getattr(result, "scores_a", []) or []), list(getattr(result, "scores_b", []) or [])
    scores = []
    if len(a) == len(b) == len(ids):
        for pid, x, y in zip(ids, a, b):  # keyed by side, as the engine's journal keys them
            scores += [{"problem_id": pid, "model": "model_a", "score": float(x)},
                       {"problem_id": pid, "model": "model_b", "score": float(y)}]
    return {
        "kind": "compare", "name": result.name, "seed": result.seed, "rule": result.rule,
        "models": [result.model_a_name, result.model_b_name], "summary": summary, "scores": scores,
        "decisions": _decisions(getattr(result, "stopping_path", None)), "usage": result.usage,
        "config": {"rule": result.rule, "confidence": result.confidence, "seed": result.seed,
                   "total_problems": result.total_problems},
    }


def _decisions(path: Any) -> list[dict[str, Any]]:
    """The stopping path as the dashboard draws it: per batch, n, the estimate and the interval."""
    if not path:
        return []
    return [{"n": n, "estimate": e, "cs": [lo, hi]}
            for n, e, lo, hi in zip(path.n, path.estimate, path.cs_low, path.cs_high)]


def _ranking_document(result: Any, name: str) -> dict[str, Any]:
    summary = result.to_dict()
    scores = [{"problem_id": str(pid), "model": m, "score": float(v)}
              for m, by_item in (getattr(result, "item_scores", None) or {}).items() for pid, v in by_item.items()]
    return {
        "kind": "rank", "name": name, "seed": result.seed, "rule": result.rule, "models": result.order,
        "summary": summary, "scores": scores, "decisions": [], "usage": result.usage,
        "config": {"rule": result.rule, "confidence": result.confidence, "goal": result.goal, "seed": result.seed,
                   "total_problems": result.total_problems},
    }


def _suite_document(result: Any, model: str) -> dict[str, Any]:
    summary = result.to_dict()
    summary["model_name"] = model
    scores, items = [], []
    for r in result.records:
        scores.append({"problem_id": str(r.problem_id), "model": model, "score": float(r.score)})
        items.append({"problem_id": str(r.problem_id), "model": model, "input": str(r.input)[:_MAX_INPUT_CHARS],
                      "answer": None if r.prediction is None else str(r.prediction),
                      "expected": None if r.expected_output is None else str(r.expected_output),
                      "error": None if r.error is None else str(r.error)})
    return {
        "kind": "suite", "name": result.benchmark, "seed": result.seed, "rule": None, "models": [model],
        "summary": summary, "scores": scores, "items": items, "decisions": [], "usage": None,
        "config": {"benchmark": result.benchmark, "seed": result.seed, "n_shots": result.n_shots,
                   "n_problems": result.n_problems, "settings": result.settings},
    }


def run_document(result: Any, *, model_name: str | None = None, tags: Sequence[str] = (),
                 name: str | None = None) -> dict[str, Any]:
    """The JSON document ``post_results`` files for one result (a TaskResult, RankingResult or suite result)."""
    from ._store import redact_secrets

    if model_name is not None and (not isinstance(model_name, str) or not model_name.strip()):
        raise ConfigError(f"`model_name` must be a non-empty string or None, got {model_name!r}")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise ConfigError(f"`name` must be a non-empty string or None, got {name!r}")
    kind = type(result).__name__
    if kind == "TaskResult":
        doc = _task_document(result)
    elif kind == "RankingResult":
        doc = _ranking_document(result, name or "ranking")
    elif kind == "BenchmarkResult":
        doc = _suite_document(result, model_name or result.model_name)
    else:
        raise ConfigError(f"post_results() files a TaskResult, BenchmarkReport, RankingResult or a suite's "
                          f"BenchmarkResult, got {kind}")
    if name is not None:
        doc["name"] = name
    doc = _plain(doc)
    doc["summary"] = redact_secrets(doc["summary"])
    doc["config"] = redact_secrets(doc["config"])
    run_id = getattr(result, "run_id", None)
    if not run_id:  # minted once per result (and name): posting the same result again files it once
        minted = result.__dict__.setdefault("_posted_ids", {})
        run_id = minted.setdefault((model_name, name), uuid.uuid4().hex)
    doc.update(format=DOCUMENT_FORMAT, id=run_id, model_name=model_name, tags=_check_tags(tags),
               resources=_resources(result))
    doc.setdefault("items", [])
    return doc


def _post_http(doc: dict[str, Any], url: str, token: str | None, timeout: float) -> str:
    import httpx

    token = token if token is not None else os.environ.get("BAYESBENCH_TOKEN")
    if not token:
        raise ConfigError("posting to a server needs its token: pass token=... or set BAYESBENCH_TOKEN "
                          "(the one `bayesbench serve --token` was started with)")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"`url` must start with http:// or https://, got {url!r}")
    endpoint = url.rstrip("/") + "/api/runs"
    try:
        resp = httpx.post(endpoint, json=doc, headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
    except httpx.HTTPError as exc:
        raise StoreError(f"cannot post the run to {endpoint}: {type(exc).__name__}: {exc}; is `bayesbench serve` "
                         "running there?") from None
    if resp.status_code == 401:
        raise StoreError(f"the server at {endpoint} refused the token (401); use the token it was started with")
    if resp.status_code >= 400:
        detail = resp.text[:300]
        raise StoreError(f"the server at {endpoint} refused the run ({resp.status_code}): {detail}")
    return str(resp.json()["id"])


def post_result(result: Any, *, model_name: str | None = None, tags: Sequence[str] = (), store: Any = None,
                url: str | None = None, token: str | None = None, name: str | None = None,
                timeout: float = 30.0) -> str:
    """File one result; returns its run id. See :func:`run_document` for what is filed."""
    if store is not None and url is not None:
        raise ConfigError("pass `store=` (a file, URL or Store) or `url=` (a running bayesbench serve), not both")
    doc = run_document(result, model_name=model_name, tags=tags, name=name)
    if url is not None:
        return _post_http(doc, url, token, timeout)
    if token is not None:
        raise ConfigError("`token` is for url= (a running bayesbench serve); a store needs none")
    from ._store import Store

    if store is None or isinstance(store, (str, os.PathLike)):
        with Store(DEFAULT_STORE if store is None else store) as opened:
            return opened.put_posted_run(doc)
    if not hasattr(store, "put_posted_run"):
        raise ConfigError(f"`store` must be a bayesbench.store.Store, a file path, a database URL or None, "
                          f"got {type(store).__name__}")
    return str(store.put_posted_run(doc))
