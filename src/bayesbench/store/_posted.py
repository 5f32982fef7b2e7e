"""Posted runs: write a result sent by ``post_results`` (idempotently) and read runs back for the dashboard.

A posted run is one JSON document (see :func:`bayesbench.store._post.run_document`): the run row, its
per-item scores, answers, decisions, usage, resources, tags and models. Writing it is one transaction of
"insert unless present" statements, so posting the same run twice, or two writers posting it at once,
leaves one copy; tags and models accumulate. A run the engine already journaled in this store (same id)
keeps its own row, scores and decisions, and gains the tags, models, answers and usage.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, and_, func, insert, not_, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from ..errors import ConfigError, StoreError
from . import _schema as S

#: The document format ``post_results`` writes and ``POST /api/runs`` accepts.
DOCUMENT_FORMAT = "bayesbench.run/1"
KINDS = ("compare", "rank", "suite")
_MAX_PAGE = 500


def _insert_ignore(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> None:
    """Insert the rows whose primary key is not there yet (ON CONFLICT DO NOTHING where the dialect has it)."""
    if not rows:
        return
    name = conn.dialect.name
    if name in ("sqlite", "postgresql"):
        if name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        for i in range(0, len(rows), 500):
            conn.execute(dialect_insert(table).on_conflict_do_nothing(index_elements=list(keys)), list(rows[i:i + 500]))
        return
    for row in rows:  # other dialects: look first (a concurrent writer may still win; its row is the same)
        cond = and_(*(table.c[k] == row[k] for k in keys))
        if conn.execute(select(table.c[keys[0]]).where(cond)).first() is None:
            conn.execute(insert(table).values(**row))


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise StoreError(f"a posted run's `{field}` must be a non-empty string, got {value!r}")
    return value


def _opt_text(value: Any) -> str | None:
    return None if value is None else str(value)


def check_document(doc: Any) -> dict[str, Any]:
    """Validate a posted run document; raises :class:`StoreError` naming the bad field."""
    if not isinstance(doc, Mapping):
        raise StoreError(f"a posted run must be a JSON object, got {type(doc).__name__}")
    if doc.get("format") != DOCUMENT_FORMAT:
        raise StoreError(f"a posted run's `format` must be {DOCUMENT_FORMAT!r}, got {doc.get('format')!r}; "
                         "post it with the same bayesbench version as the server")
    _text(doc.get("id"), "id")
    if len(doc["id"]) > 64:
        raise StoreError(f"a posted run's `id` must be at most 64 characters, got {len(doc['id'])}")
    _text(doc.get("name"), "name")
    if doc.get("kind") not in KINDS:
        raise StoreError(f"a posted run's `kind` must be one of {', '.join(KINDS)}, got {doc.get('kind')!r}")
    for key in ("tags", "models", "scores", "items", "decisions"):
        if not isinstance(doc.get(key, []), list):
            raise StoreError(f"a posted run's `{key}` must be a list, got {type(doc.get(key)).__name__}")
    for s in doc.get("scores", []):
        if not isinstance(s, Mapping) or not {"problem_id", "model", "score"} <= set(s):
            raise StoreError("each posted score must be an object with problem_id, model and score")
        v = s["score"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise StoreError(f"posted score for problem {s['problem_id']!r} must be a finite number, got {v!r}")
    for key in ("tags", "models"):
        bad = [t for t in doc.get(key, []) if not isinstance(t, str) or not t]
        if bad:
            raise StoreError(f"a posted run's `{key}` must be non-empty strings, got {bad[:3]!r}")
    for dec in doc.get("decisions", []):
        n = dec.get("n") if isinstance(dec, Mapping) else None
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise StoreError(f"each posted decision must be an object with an integer `n` >= 0, got {dec!r:.80}")
    for item in doc.get("items", []):
        if not isinstance(item, Mapping) or any(
                item.get(k) is not None and not isinstance(item.get(k), str) for k in ("answer", "input", "expected",
                                                                                        "error")):
            raise StoreError("each posted item must be an object whose answer, input, expected and error are strings "
                             "or null")
    for key in ("summary", "config", "usage", "resources"):
        if doc.get(key) is not None and not isinstance(doc[key], Mapping):
            raise StoreError(f"a posted run's `{key}` must be an object or null, got {type(doc[key]).__name__}")
    return dict(doc)


class PostedRuns:
    """The store's methods for posted runs and the dashboard's read queries (mixed into :class:`Store`)."""

    # provided by Store
    _write: Any
    _read: Any

    def put_posted_run(self, doc: Mapping[str, Any]) -> str:
        """Write a posted run document (idempotent) and return its id."""
        from ._store import _config_hash, _dumps, redact_secrets

        d = check_document(doc)
        rid = d["id"]
        now = time.time()
        config = redact_secrets(dict(d.get("config") or {}))
        summary = redact_secrets(dict(d.get("summary") or {}))
        run_row = {
            "id": rid, "name": d["name"][:255], "created": float(d.get("created") or now),
            "config_json": _dumps(config), "config_hash": _config_hash(config),
            "seed": d.get("seed") if isinstance(d.get("seed"), int) else None, "rule": _opt_text(d.get("rule")),
            "status": "finished",
            "order_json": _dumps(list(dict.fromkeys(str(s["problem_id"]) for s in d.get("scores", [])))),
            "summary_json": _dumps(summary), "finished": float(d.get("created") or now),
        }
        models = [str(m)[:255] for m in d.get("models", []) if m is not None]
        if d.get("model_name"):
            models.append(str(d["model_name"])[:255])
        usage, resources = d.get("usage"), d.get("resources")
        meta_row = {
            "run_id": rid, "kind": d["kind"], "model_name": _opt_text(d.get("model_name")),
            "models_json": _dumps(list(dict.fromkeys(models))),
            "usage_json": None if usage is None else _dumps(redact_secrets(usage)),
            "resources_json": None if resources is None else _dumps(redact_secrets(resources)),
            "posted": now,
        }
        scores = [{"run_id": rid, "problem_id": str(s["problem_id"])[:255], "model": str(s["model"])[:255],
                   "score": float(s["score"]), "created": now} for s in d.get("scores", [])]
        items = [{"run_id": rid, "problem_id": str(i.get("problem_id"))[:255], "model": str(i.get("model"))[:255],
                  "input": _opt_text(i.get("input")), "answer": _opt_text(i.get("answer")),
                  "expected": _opt_text(i.get("expected")), "error": _opt_text(i.get("error"))}
                 for i in d.get("items", []) if isinstance(i, Mapping)]
        try:
            self._write_posted(rid, d, run_row, meta_row, models, scores, items, now)
        except SQLAlchemyError as exc:  # e.g. a read-only store (Postgres raises InternalError, not Operational)
            raise StoreError(f"cannot file run {rid!r} in the store: {getattr(exc, 'orig', exc)}; "
                             "open the store writable (not read_only=True) and check it is reachable") from exc
        return rid

    def _write_posted(self, rid: str, d: Mapping[str, Any], run_row: dict[str, Any], meta_row: dict[str, Any],
                      models: list[str], scores: list[dict[str, Any]], items: list[dict[str, Any]],
                      now: float) -> None:
        with self._write() as conn:
            _insert_ignore(conn, S.runs, [run_row], ["id"])
            _insert_ignore(conn, S.run_meta, [meta_row], ["run_id"])
            _insert_ignore(conn, S.run_tags, [{"run_id": rid, "tag": str(t)[:255]} for t in d.get("tags", [])],
                           ["run_id", "tag"])
            _insert_ignore(conn, S.run_models, [{"run_id": rid, "model": m} for m in dict.fromkeys(models)],
                           ["run_id", "model"])
            _insert_ignore(conn, S.scores, scores, ["run_id", "problem_id", "model"])
            _insert_ignore(conn, S.run_items, items, ["run_id", "problem_id", "model"])
            from ._store import Store

            for dec in d.get("decisions", []):
                if isinstance(dec, Mapping) and dec.get("n") is not None:
                    Store._insert_decision(conn, Store._decision_row(rid, dec, now))

    # ------------------------------------------------------------------ reads (the dashboard's)
    def list_runs(
        self,
        *,
        model: str | None = None,
        task: str | None = None,
        tag: str | None = None,
        kind: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of runs, newest first, and the number of runs matching the filters.

        Filters: ``model`` (a model of the run), ``task`` (the run's name), ``tag``, ``kind`` (compare, rank,
        suite), ``since``/``until`` (Unix seconds, on the run's creation time). Each row has the run's
        columns, its ``kind``, ``model_name``, ``models``, ``tags`` and decoded ``summary``.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= _MAX_PAGE:
            raise ConfigError(f"`limit` must be an integer in [1, {_MAX_PAGE}], got {limit!r}")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ConfigError(f"`offset` must be an integer >= 0, got {offset!r}")
        r, m = S.runs, S.run_meta
        conds = []
        if model:
            conds.append(r.c.id.in_(select(S.run_models.c.run_id).where(S.run_models.c.model == model)))
        if tag:
            conds.append(r.c.id.in_(select(S.run_tags.c.run_id).where(S.run_tags.c.tag == tag)))
        if task:
            conds.append(r.c.name == task)
        if kind:
            conds.append(or_(m.c.kind == kind, and_(m.c.kind.is_(None), _journaled_kind(kind))))
        if since is not None:
            conds.append(r.c.created >= float(since))
        if until is not None:
            conds.append(r.c.created < float(until))
        joined = r.outerjoin(m, m.c.run_id == r.c.id)
        cols = [r.c.id, r.c.name, r.c.created, r.c.status, r.c.rule, r.c.seed, r.c.summary_json, r.c.config_json,
                m.c.kind, m.c.model_name, m.c.models_json]
        with self._read() as conn:
            total = int(conn.execute(select(func.count()).select_from(joined).where(*conds)).scalar() or 0)
            rows = conn.execute(select(*cols).select_from(joined).where(*conds)
                                .order_by(r.c.created.desc(), r.c.id).limit(limit).offset(offset)).mappings().all()
            ids = [row["id"] for row in rows]
            tags: dict[str, list[str]] = {i: [] for i in ids}
            if ids:
                for rid, t in conn.execute(select(S.run_tags.c.run_id, S.run_tags.c.tag)
                                           .where(S.run_tags.c.run_id.in_(ids)).order_by(S.run_tags.c.tag)):
                    tags[rid].append(t)
        out = []
        for row in rows:
            d = dict(row)
            s = d.pop("summary_json")
            d["summary"] = None if s is None else json.loads(s)
            mj, cj = d.pop("models_json"), d.pop("config_json")
            d["models"] = json.loads(mj) if mj else _models_from_summary(d["summary"]) or _models_from_config(cj)
            d["kind"] = d["kind"] or _kind_from_summary(d["summary"])
            d["tags"] = tags[d["id"]]
            out.append(d)
        return out, total

    def run_record(self, run_id: str) -> dict[str, Any] | None:
        """Everything stored about one run, for its page: the run, meta, tags, scores, answers, decisions, calls."""
        from ._store import Store

        with self._read() as conn:
            row = conn.execute(select(S.runs).where(S.runs.c.id == run_id)).mappings().first()
            if row is None:
                return None
            run = dict(row)
            meta = conn.execute(select(S.run_meta).where(S.run_meta.c.run_id == run_id)).mappings().first()
            tags = [t for (t,) in conn.execute(select(S.run_tags.c.tag).where(S.run_tags.c.run_id == run_id)
                                               .order_by(S.run_tags.c.tag))]
            items = [dict(i) for i in conn.execute(select(S.run_items).where(S.run_items.c.run_id == run_id))
                     .mappings()]
            # answers of a run the engine journaled: its calls, joined to the cached responses they used
            answered = conn.execute(
                select(S.calls.c.problem_id, S.calls.c.model, S.responses.c.response, S.calls.c.error)
                .select_from(S.calls.outerjoin(S.responses, S.responses.c.key == S.calls.c.cache_key))
                .where(S.calls.c.run_id == run_id).order_by(S.calls.c.id)
            ).all()
        run["config"] = json.loads(run.pop("config_json"))
        run["order"] = json.loads(run.pop("order_json"))
        s = run.pop("summary_json")
        run["summary"] = None if s is None else json.loads(s)
        run["tags"] = tags
        run["kind"] = meta["kind"] if meta else _kind_from_summary(run["summary"])
        run["model_name"] = meta["model_name"] if meta else None
        run["models"] = json.loads(meta["models_json"]) if meta else \
            _models_from_summary(run["summary"]) or _models_from_config(json.dumps(run["config"]))
        run["usage"] = json.loads(meta["usage_json"]) if meta and meta["usage_json"] else \
            (run["summary"] or {}).get("usage")
        run["resources"] = json.loads(meta["resources_json"]) if meta and meta["resources_json"] else \
            (run["summary"] or {}).get("resources")
        run["items"] = items
        run["call_answers"] = [{"problem_id": p, "model": m, "answer": a, "error": e} for p, m, a, e in answered]
        store: Any = self
        run["scores"] = Store.scores(store, run_id)
        run["decisions"] = Store.decisions(store, run_id)
        return run

    def run_filters(self) -> dict[str, list[str]]:
        """The distinct models, tasks and tags in the store (for the runs page's filters)."""
        with self._read() as conn:
            m = S.run_models.c.model
            models = [x for (x,) in conn.execute(select(m).distinct().order_by(m))]
            tasks = [t for (t,) in conn.execute(select(S.runs.c.name).distinct().order_by(S.runs.c.name).limit(1000))]
            tags = [t for (t,) in conn.execute(select(S.run_tags.c.tag).distinct().order_by(S.run_tags.c.tag))]
        return {"models": models, "tasks": tasks, "tags": tags}


def _journaled_kind(kind: str) -> Any:
    """SQL for the kind of a run the engine or a monitor journaled (no run_meta row), as _kind_from_summary."""
    r = S.runs.c
    rank, suite = r.summary_json.like('%"ranking":[%'), r.summary_json.like('%"benchmark":%')
    monitor = r.name.like("monitor:%")
    return {"rank": rank, "suite": suite, "monitor": monitor}.get(kind, not_(or_(rank, suite, monitor)))


def _kind_from_summary(summary: Mapping[str, Any] | None) -> str:
    """The kind of a run the engine journaled (no run_meta row): a ranking has ``ranking``."""
    if summary and "ranking" in summary:
        return "rank"
    if summary and "benchmark" in summary:
        return "suite"
    if summary and summary.get("kind") in ("baseline", "scheduled"):  # a bayesbench.monitor run
        return "monitor"
    return "compare"


def _models_from_config(config_json: str | None) -> list[str]:
    """A monitor's run names its model in the run config."""
    try:
        model = json.loads(config_json or "{}").get("model")
    except (ValueError, AttributeError):
        return []
    return [model] if isinstance(model, str) and model else []


def _models_from_summary(summary: Mapping[str, Any] | None) -> list[str]:
    if not summary:
        return []
    if "ranking" in summary:
        return [str(r.get("name")) for r in summary["ranking"]]
    if "model_a_name" in summary:
        return [str(summary["model_a_name"]), str(summary["model_b_name"])]
    if "model_name" in summary:
        return [str(summary["model_name"])]
    return []
