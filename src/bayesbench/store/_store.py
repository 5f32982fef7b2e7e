"""One persistence layer for runs, calls, cached responses, scores and decisions.

SQLAlchemy Core, so the same code serves a SQLite file (the default) and a Postgres URL.
SQLite is opened in WAL mode with a busy timeout, and every write transaction starts
with ``BEGIN IMMEDIATE`` so that two processes writing at once queue for the lock instead
of failing half-way; transactions are kept short (one call or one batch of calls).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event, func, insert, inspect, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from ..errors import ConfigError, StoreError, missing_dependency
from . import _schema as S
from ._posted import PostedRuns

__all__ = ["Store", "redact_secrets"]

#: A key is secret when it contains one of these words, is one of ``_SECRET_NAMES`` or ends in
#: ``_token`` (``access_token``); ``max_tokens`` / ``input_tokens`` are counts, not secrets.
_SECRET_WORDS = ("api_key", "apikey", "secret", "password", "passwd", "authorization", "credential")
_SECRET_NAMES = ("token", "auth", "bearer", "key")


def _is_secret_key(key: str) -> bool:
    k = key.lower().replace("-", "_")
    return any(w in k for w in _SECRET_WORDS) or k in _SECRET_NAMES or k.endswith("_token")


def redact_secrets(value: Any) -> Any:
    """Return a copy of a JSON-like value with secret-looking keys redacted (API keys are never stored)."""
    if isinstance(value, Mapping):
        return {
            str(k): "<redacted>" if _is_secret_key(str(k)) and v is not None else redact_secrets(v)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact_secrets(v) for v in value]
    return value


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(
            f"value must be JSON-serialisable (str, number, bool, None, list, dict) to be stored, got {exc}; "
            "convert it to plain types first"
        ) from exc


def _config_hash(config: Mapping[str, Any]) -> str:
    return hashlib.sha256(_dumps(redact_secrets(dict(config))).encode()).hexdigest()


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _to_url(url_or_path: str | os.PathLike[str]) -> str:
    s = os.fspath(url_or_path)
    if "://" in s:
        return s
    if s == ":memory:":
        raise ConfigError(
            "`url_or_path` must be a file path or a database URL, got ':memory:'; an in-memory SQLite "
            "database cannot be shared between threads or survive a crash, use a file in a temp directory"
        )
    return "sqlite:///" + os.path.abspath(s)


class Store(PostedRuns):
    """The results store. ``Store("bayesbench.sqlite")`` or ``Store("postgresql+psycopg://...")``.

    Parameters
    ----------
    url_or_path:
        A file path (SQLite, created if missing) or an SQLAlchemy URL. Default ``"bayesbench.sqlite"``.
    busy_timeout_s:
        How long a SQLite writer waits for another process's lock before failing. Default 30.
    synchronous:
        SQLite ``PRAGMA synchronous``: ``"NORMAL"`` (default; in WAL mode a committed transaction
        survives a killed process, and may lose the last commits only on power loss) or ``"FULL"``
        (also survives power loss, slower).
    read_only:
        Open an existing store for reading only (the dashboard's pages): the database refuses every write
        (SQLite ``mode=ro``, Postgres ``default_transaction_read_only``). Default False.
    """

    def __init__(
        self,
        url_or_path: str | os.PathLike[str] = "bayesbench.sqlite",
        *,
        busy_timeout_s: float = 30.0,
        synchronous: str = "NORMAL",
        read_only: bool = False,
    ) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ConfigError(f"`synchronous` must be one of 'NORMAL', 'FULL', got {synchronous!r}")
        if isinstance(busy_timeout_s, bool) or not isinstance(busy_timeout_s, (int, float)) or busy_timeout_s < 0:
            raise ConfigError(f"`busy_timeout_s` must be a number >= 0, got {busy_timeout_s!r}")
        self.url = _to_url(url_or_path)
        self.is_sqlite = _is_sqlite(self.url)
        self.read_only = bool(read_only)
        self.engine = self._make_engine(float(busy_timeout_s), synchronous)
        if self.read_only:
            self._check_readable()
        else:
            self._ensure_schema()

    # ------------------------------------------------------------------ plumbing
    def _make_engine(self, busy_timeout_s: float, synchronous: str) -> Engine:
        if self.is_sqlite:
            path = self.url.split("///", 1)[-1]
            parent = os.path.dirname(path)
            if parent and not os.path.isdir(parent):
                raise StoreError(
                    f"the store's directory {parent!r} does not exist; create it first or pass another path"
                )
            if self.read_only and not os.path.isfile(path):
                raise StoreError(f"no store at {path!r} to read; run something with store={path!r} first")
            if self.read_only:  # a URI (mode=ro) built here, so no character of the path is read as URL syntax
                import sqlite3
                from urllib.parse import quote

                uri = f"file:{quote(path)}?mode=ro"
                from sqlalchemy.pool import QueuePool

                engine = create_engine("sqlite://", poolclass=QueuePool, creator=lambda: sqlite3.connect(
                    uri, uri=True, timeout=busy_timeout_s, check_same_thread=False, isolation_level=None))
            else:
                engine = create_engine(
                    self.url,
                    connect_args={"timeout": busy_timeout_s, "check_same_thread": False, "isolation_level": None},
                )

            @event.listens_for(engine, "connect")
            def _on_connect(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                if not self.read_only:
                    cur.execute("PRAGMA journal_mode=WAL")
                cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
                cur.execute(f"PRAGMA synchronous={synchronous}")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()

            @event.listens_for(engine, "begin")
            def _on_begin(conn: Connection) -> None:
                # The driver is in autocommit mode (isolation_level=None) so we choose the BEGIN:
                # IMMEDIATE for writers takes the write lock up front, so a busy database makes
                # the writer wait (busy timeout) instead of failing on a read->write upgrade.
                immediate = conn.get_execution_options().get("bb_write", False)
                conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

            return engine
        try:
            if self.read_only and self.url.startswith("postgresql"):  # the server refuses any write in these sessions
                return create_engine(self.url, pool_pre_ping=True,
                                     connect_args={"options": "-c default_transaction_read_only=on"})
            return create_engine(self.url, pool_pre_ping=True)
        except ModuleNotFoundError as exc:
            name = exc.name or "the database driver"
            if "postgres" in self.url:
                raise missing_dependency("psycopg", "postgres", f"A Postgres store ({name} missing)") from exc
            raise StoreError(
                f"the database driver {name!r} for {self.url.split('://')[0]!r} is not installed; "
                f"install it with pip, or use a SQLite file path"
            ) from exc
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot use database URL {self._safe_url()!r}: {exc}; pass a file path or a valid SQLAlchemy URL"
            ) from exc

    def _safe_url(self) -> str:
        """The URL with any password masked, for messages."""
        try:
            from sqlalchemy.engine import make_url

            return make_url(self.url).render_as_string(hide_password=True)
        except Exception:  # a malformed URL: show only the scheme
            return self.url.split("://", 1)[0] + "://..."

    def _hint(self) -> str:
        if self.is_sqlite:
            return "check that the file is writable and that no other process holds the lock longer than `busy_timeout_s`"
        return "check the URL, that the database server is running and that the credentials are right"

    @contextmanager
    def _write(self, action: str = "write to") -> Iterator[Connection]:
        try:
            with self.engine.connect().execution_options(bb_write=True) as conn:
                with conn.begin():
                    yield conn
        except StoreError:
            raise
        except OperationalError as exc:
            raise StoreError(f"cannot {action} the store at {self._safe_url()!r}: {exc.orig}; {self._hint()}") from exc

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                with conn.begin():
                    yield conn
        except OperationalError as exc:
            raise StoreError(f"cannot read the store at {self._safe_url()!r}: {exc.orig}; {self._hint()}") from exc

    def _ensure_schema(self) -> None:
        try:
            with self._write(action="open") as conn:
                existing = set(inspect(conn).get_table_names())
                if "schema_version" not in existing:
                    S.metadata.create_all(conn)
                    conn.execute(S.schema_version.delete())
                    conn.execute(insert(S.schema_version).values(version=S.SCHEMA_VERSION))
                    return
                version = conn.execute(select(func.max(S.schema_version.c.version))).scalar()
                if version is None:
                    raise StoreError("the store's schema_version table is empty; the file is not a bayesbench store")
                if version > S.SCHEMA_VERSION:
                    raise StoreError(
                        f"the store has schema version {version}, newer than this bayesbench understands "
                        f"({S.SCHEMA_VERSION}); upgrade bayesbench or use another file"
                    )
                for v in range(version, S.SCHEMA_VERSION):
                    S.MIGRATIONS[v](conn)
                if version < S.SCHEMA_VERSION:
                    conn.execute(S.schema_version.delete())
                    conn.execute(insert(S.schema_version).values(version=S.SCHEMA_VERSION))
                # tables added in later versions (none yet) are created here
                S.metadata.create_all(conn, checkfirst=True)
        except StoreError:
            raise
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot open the store at {self._safe_url()!r}: {getattr(exc, 'orig', exc)}; {self._hint()}"
            ) from exc

    def _check_readable(self) -> None:
        version = self.schema_version
        if version > S.SCHEMA_VERSION:
            raise StoreError(f"the store has schema version {version}, newer than this bayesbench understands "
                             f"({S.SCHEMA_VERSION}); upgrade bayesbench or use another file")

    @property
    def schema_version(self) -> int:
        with self._read() as conn:
            return int(conn.execute(select(func.max(S.schema_version.c.version))).scalar() or 0)

    def close(self) -> None:
        """Release the connection pool (the file stays)."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self._safe_url()!r})"

    # ------------------------------------------------------------------ runs
    def start_run(
        self,
        name: str,
        config: Mapping[str, Any],
        seed: int | None,
        order: Sequence[str],
        *,
        rule: str | None = None,
        run_id: str | None = None,
    ) -> str:
        """Create a run (status ``running``) and return its id. Secrets in ``config`` are redacted."""
        if not isinstance(name, str) or not name:
            raise ConfigError(f"`name` must be a non-empty string, got {name!r}")
        if not isinstance(config, Mapping):
            raise ConfigError(f"`config` must be a dict, got {type(config).__name__}")
        clean = redact_secrets(dict(config))
        rid = run_id or uuid.uuid4().hex
        with self._write() as conn:
            conn.execute(
                insert(S.runs).values(
                    id=rid,
                    name=name,
                    created=time.time(),
                    config_json=_dumps(clean),
                    config_hash=_config_hash(config),
                    seed=seed,
                    rule=rule if rule is not None else clean.get("rule"),
                    status="running",
                    order_json=_dumps([str(p) for p in order]),
                )
            )
        return rid

    def find_resumable_run(self, name: str, config: Mapping[str, Any]) -> str | None:
        """The newest unfinished run with this name and the same config, or None."""
        h = _config_hash(config)
        with self._read() as conn:
            row = conn.execute(
                select(S.runs.c.id)
                .where(S.runs.c.name == name, S.runs.c.config_hash == h, S.runs.c.status == "running")
                .order_by(S.runs.c.created.desc())
                .limit(1)
            ).first()
        return None if row is None else str(row[0])

    def finish_run(self, run_id: str, summary: Mapping[str, Any], *, status: str = "finished") -> None:
        """Mark a run finished (or ``"failed"``) and store its summary."""
        if status not in ("finished", "failed"):
            raise ConfigError(f"`status` must be one of 'finished', 'failed', got {status!r}")
        with self._write() as conn:
            n = conn.execute(
                update(S.runs)
                .where(S.runs.c.id == run_id)
                .values(status=status, summary_json=_dumps(redact_secrets(dict(summary))), finished=time.time())
            ).rowcount
        if n == 0:
            raise StoreError(f"no run with id {run_id!r} in the store; use an id returned by start_run()")

    def runs(self) -> list[dict[str, Any]]:
        """All runs, newest first, with config/order/summary decoded."""
        with self._read() as conn:
            rows = conn.execute(select(S.runs).order_by(S.runs.c.created.desc())).mappings().all()
        out = []
        for r in rows:
            d = dict(r)
            d["config"] = json.loads(d.pop("config_json"))
            d["order"] = json.loads(d.pop("order_json"))
            s = d.pop("summary_json")
            d["summary"] = None if s is None else json.loads(s)
            out.append(d)
        return out

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        with self._read() as conn:
            row = conn.execute(select(S.runs).where(S.runs.c.id == run_id)).mappings().first()
        if row is None:
            return None
        d = dict(row)
        d["config"] = json.loads(d.pop("config_json"))
        d["order"] = json.loads(d.pop("order_json"))
        s = d.pop("summary_json")
        d["summary"] = None if s is None else json.loads(s)
        return d

    # ------------------------------------------------------------------ calls and cache
    @staticmethod
    def _call_row(run_id: str | None, record: Any) -> dict[str, Any]:
        def num(x: Any) -> float | None:
            return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else float(x)

        return {
            "run_id": run_id,
            "model": str(record.model),
            "problem_id": str(record.problem_id),
            "prompt_hash": getattr(record, "prompt_hash", None),
            "cache_key": getattr(record, "cache_key", None),
            "latency_s": num(getattr(record, "latency_s", None)),
            "ttft_s": num(getattr(record, "ttft_s", None)),
            "input_tokens": getattr(record, "input_tokens", None),
            "output_tokens": getattr(record, "output_tokens", None),
            "tokens_estimated": getattr(record, "tokens_estimated", None),
            "cost_usd": num(getattr(record, "cost_usd", None)),
            "attempts": getattr(record, "attempts", None),
            "error": getattr(record, "error", None),
            "error_type": getattr(record, "error_type", None),
            "cached": bool(getattr(record, "cached", False)),
            "created": time.time(),
        }

    def record_call(self, run_id: str | None, record: Any) -> None:
        """Append one call record (a :class:`~bayesbench.execution.CallRecord`)."""
        self.write_batch(calls=[(run_id, record)])

    def record_calls(self, run_id: str | None, records: Iterable[Any]) -> None:
        self.write_batch(calls=[(run_id, r) for r in records])

    def write_batch(
        self,
        *,
        calls: Sequence[tuple[str | None, Any]] = (),
        cached: Sequence[tuple[str, str, Mapping[str, Any]]] = (),
    ) -> None:
        """Write call records and cache entries in ONE transaction (all or nothing).

        The executor uses this to commit a finished call and its cached response together
        before it reports the call, so a killed run never loses a paid-for answer.
        """
        if not calls and not cached:
            return
        with self._write() as conn:
            for key, response, meta in cached:
                self._put_cached(conn, key, response, meta)
            if calls:
                conn.execute(insert(S.calls), [self._call_row(rid, rec) for rid, rec in calls])

    def calls(self, run_id: str | None = None) -> list[dict[str, Any]]:
        """Call records of one run (or of all runs when ``run_id`` is None), in insertion order."""
        q = select(S.calls).order_by(S.calls.c.id)
        if run_id is not None:
            q = q.where(S.calls.c.run_id == run_id)
        with self._read() as conn:
            rows = conn.execute(q).mappings().all()
        return [dict(r, cached=bool(r["cached"])) for r in rows]

    def _put_cached(self, conn: Connection, key: str, response: str, meta: Mapping[str, Any]) -> None:
        if not isinstance(response, str):
            raise StoreError(f"a cached response must be a str, got {type(response).__name__}; encode it as JSON text")
        row = {
            "key": key,
            "model": str(meta.get("model", "")),
            "response": str(response),  # plain str even for str subclasses
            "meta_json": _dumps(dict(meta)),
            "created": time.time(),
        }
        # First write wins: an identical key means an equivalent answer, and keeping the first one
        # keeps re-runs reproducible. Two processes may race here, hence the IntegrityError guard.
        exists = conn.execute(select(S.responses.c.key).where(S.responses.c.key == key)).first()
        if exists is None:
            try:
                with conn.begin_nested():
                    conn.execute(insert(S.responses).values(**row))
            except IntegrityError:
                pass

    def put_cached(self, key: str, response: str, meta: Mapping[str, Any]) -> None:
        """Store a successful response under ``key`` (first write wins)."""
        self.write_batch(cached=[(key, response, meta)])

    def get_cached(self, key: str) -> tuple[str, dict[str, Any]] | None:
        """``(response_text, meta)`` for ``key``, or None."""
        with self._read() as conn:
            row = conn.execute(
                select(S.responses.c.response, S.responses.c.meta_json).where(S.responses.c.key == key)
            ).first()
        return None if row is None else (str(row[0]), json.loads(row[1]))

    def get_cached_many(self, keys: Sequence[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """``{key: (response_text, meta)}`` for the keys that are cached (one query per 500 keys)."""
        out: dict[str, tuple[str, dict[str, Any]]] = {}
        unique = list(dict.fromkeys(keys))
        with self._read() as conn:
            for i in range(0, len(unique), 500):  # stay under SQLite's bound-parameter limit
                chunk = unique[i : i + 500]
                rows = conn.execute(
                    select(S.responses.c.key, S.responses.c.response, S.responses.c.meta_json).where(
                        S.responses.c.key.in_(chunk)
                    )
                ).all()
                for key, response, meta in rows:
                    out[str(key)] = (str(response), json.loads(meta))
        return out

    def cache_size(self) -> int:
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(S.responses)).scalar() or 0)

    # ------------------------------------------------------------------ scores and decisions
    def record_scores(self, run_id: str, problem_id: str, scores: Mapping[str, float]) -> None:
        """Store ``{model: score}`` for one problem; re-recording a (problem, model) replaces it."""
        self.record_batch(run_id, {problem_id: scores})

    def record_batch(
        self,
        run_id: str,
        scores: Mapping[str, Mapping[str, float]],
        decision: Mapping[str, Any] | None = None,
    ) -> None:
        """One engine batch in ONE transaction: ``{problem_id: {model: score}}`` (re-recording a
        (problem, model) replaces it) and, optionally, the decision taken after it."""
        rows = []
        for problem_id, by_model in scores.items():
            for model, score in by_model.items():
                if isinstance(score, bool):
                    score = float(score)
                if not isinstance(score, (int, float)) or not math.isfinite(score):
                    raise StoreError(f"score for model {model!r} must be a finite number, got {score!r}")
                rows.append({"run_id": run_id, "problem_id": str(problem_id), "model": str(model),
                             "score": float(score)})
        if not rows and decision is None:
            return
        now = time.time()
        with self._write() as conn:
            for r in rows:
                conn.execute(
                    S.scores.delete().where(
                        S.scores.c.run_id == r["run_id"],
                        S.scores.c.problem_id == r["problem_id"],
                        S.scores.c.model == r["model"],
                    )
                )
            if rows:
                conn.execute(insert(S.scores), [dict(r, created=now) for r in rows])
            if decision is not None:
                self._insert_decision(conn, self._decision_row(run_id, decision, now))

    def scores(self, run_id: str) -> list[dict[str, Any]]:
        """``[{problem_id, model, score}]`` of a run, in recording order."""
        with self._read() as conn:
            rows = conn.execute(
                select(S.scores.c.problem_id, S.scores.c.model, S.scores.c.score)
                .where(S.scores.c.run_id == run_id)
                .order_by(S.scores.c.created, S.scores.c.problem_id, S.scores.c.model)
            ).all()
        return [{"problem_id": r[0], "model": r[1], "score": r[2]} for r in rows]

    def record_decision(self, run_id: str, decision: Mapping[str, Any]) -> None:
        """Append one engine decision. Known keys ``n``, ``status``, ``log_evalues``, ``cs`` get columns."""
        self.record_batch(run_id, {}, decision)

    @staticmethod
    def _insert_decision(conn: Connection, row: dict[str, Any]) -> None:
        """Insert a decision unless this run already has one for this ``n`` (the first one wins).

        Idempotent, so a resumed run re-deciding its batches, or two identical runs writing the
        same run at once, leave one row per (run, n); the unique index enforces it.
        """
        name = conn.dialect.name
        if name in ("sqlite", "postgresql"):
            if name == "sqlite":
                from sqlalchemy.dialects.sqlite import insert as dialect_insert
            else:
                from sqlalchemy.dialects.postgresql import insert as dialect_insert
            conn.execute(dialect_insert(S.decisions).values(**row).on_conflict_do_nothing(
                index_elements=["run_id", "n"]))
            return
        if row["n"] is not None and conn.execute(
            select(S.decisions.c.id).where(S.decisions.c.run_id == row["run_id"], S.decisions.c.n == row["n"])
        ).first() is not None:
            return
        conn.execute(insert(S.decisions).values(**row))

    @staticmethod
    def _decision_row(run_id: str, decision: Mapping[str, Any], now: float) -> dict[str, Any]:
        d = dict(decision)
        n = d.get("n")
        return {
            "run_id": run_id,
            "n": None if n is None else int(n),
            "status": None if d.get("status") is None else str(d["status"]),
            "log_evalues_json": None if d.get("log_evalues") is None else _dumps(d["log_evalues"]),
            "cs_json": None if d.get("cs") is None else _dumps(d["cs"]),
            "payload_json": _dumps(d),
            "created": now,
        }

    # ------------------------------------------------------------------ resources
    def record_resources(self, run_id: str, report: Mapping[str, Any]) -> None:
        """Store a run's resource use (``ResourceReport.to_dict()``); recording it again replaces it."""
        if not isinstance(report, Mapping) or "samples" not in report:
            raise StoreError(f"`report` must be a ResourceReport.to_dict(), got {type(report).__name__}")
        peak = report.get("peak_rss_bytes")
        mean = report.get("mean_process_cpu_percent")
        row = {"run_id": str(run_id), "peak_rss_bytes": None if peak is None else int(peak),
               "mean_process_cpu_percent": None if mean is None else float(mean),
               "report_json": _dumps(dict(report)), "created": time.time()}
        with self._write() as conn:
            conn.execute(S.resources.delete().where(S.resources.c.run_id == str(run_id)))
            conn.execute(insert(S.resources).values(**row))

    def resources(self, run_id: str) -> dict[str, Any] | None:
        """The resource report of a run (``ResourceReport.to_dict()`` shape), or None if none was recorded."""
        with self._read() as conn:
            row = conn.execute(select(S.resources.c.report_json).where(S.resources.c.run_id == str(run_id))).first()
        return None if row is None else json.loads(row[0])

    def decisions(self, run_id: str) -> list[dict[str, Any]]:
        with self._read() as conn:
            rows = conn.execute(
                select(S.decisions.c.payload_json).where(S.decisions.c.run_id == run_id).order_by(S.decisions.c.id)
            ).all()
        return [json.loads(r[0]) for r in rows]

    # ------------------------------------------------------------------ monitors (schema 4)
    def save_monitor(self, name: str, config: Mapping[str, Any], *, baseline_run_id: str | None = None) -> None:
        """Create or update a named monitor. Its config is stored with secrets redacted; the baseline run
        is kept when ``baseline_run_id`` is None (pin another one with :meth:`set_monitor_baseline`)."""
        if not isinstance(name, str) or not name:
            raise ConfigError(f"`name` must be a non-empty string, got {name!r}")
        if not isinstance(config, Mapping):
            raise ConfigError(f"`config` must be a dict, got {type(config).__name__}")
        now = time.time()
        cfg = _dumps(redact_secrets(dict(config)))
        with self._write() as conn:
            old = conn.execute(select(S.monitors.c.name).where(S.monitors.c.name == name)).first()
            if old is None:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(S.monitors).values(
                            name=name, config_json=cfg, baseline_run_id=baseline_run_id, created_at=now,
                            updated_at=now))
                    return
                except IntegrityError:  # another process created it just now: update it instead
                    pass
            values: dict[str, Any] = {"config_json": cfg, "updated_at": now}
            if baseline_run_id is not None:
                values["baseline_run_id"] = baseline_run_id
            conn.execute(update(S.monitors).where(S.monitors.c.name == name).values(**values))

    def set_monitor_baseline(self, name: str, run_id: str) -> None:
        """Pin ``run_id`` as the baseline of monitor ``name``."""
        with self._write() as conn:
            n = conn.execute(update(S.monitors).where(S.monitors.c.name == name).values(
                baseline_run_id=run_id, updated_at=time.time())).rowcount
        if n == 0:
            raise StoreError(f"no monitor named {name!r} in the store; create it with save_monitor() first")

    @staticmethod
    def _monitor_row(r: Any) -> dict[str, Any]:
        d = dict(r)
        d["config"] = json.loads(d.pop("config_json"))
        return d

    def monitors(self) -> list[dict[str, Any]]:
        """All monitors, by name: ``{name, config, baseline_run_id, created_at, updated_at}``."""
        with self._read() as conn:
            rows = conn.execute(select(S.monitors).order_by(S.monitors.c.name)).mappings().all()
        return [self._monitor_row(r) for r in rows]

    def get_monitor(self, name: str) -> dict[str, Any] | None:
        """One monitor (as in :meth:`monitors`), or None."""
        with self._read() as conn:
            row = conn.execute(select(S.monitors).where(S.monitors.c.name == name)).mappings().first()
        return None if row is None else self._monitor_row(row)

    def record_monitor_check(
        self,
        monitor: str,
        *,
        run_id: str | None,
        metric: str,
        estimate: float | None,
        ci_low: float | None,
        ci_high: float | None,
        e_value: float | None,
        alert: bool,
        detail: Mapping[str, Any] | None = None,
        checked_at: float | None = None,
    ) -> int:
        """Append one check of a monitor (one metric of one run) and return its id. ``detail`` is stored as
        JSON with secrets redacted; a non-finite number is stored as NULL (JSON has no infinity)."""
        if not isinstance(monitor, str) or not monitor:
            raise ConfigError(f"`monitor` must be a non-empty string, got {monitor!r}")
        if not isinstance(metric, str) or not metric:
            raise ConfigError(f"`metric` must be a non-empty string, got {metric!r}")

        def num(x: Any) -> float | None:
            return None if x is None or not math.isfinite(float(x)) else float(x)

        row = {
            "monitor": monitor,
            "run_id": run_id,
            "checked_at": time.time() if checked_at is None else float(checked_at),
            "metric": metric,
            "estimate": num(estimate),
            "ci_low": num(ci_low),
            "ci_high": num(ci_high),
            "e_value": num(e_value),
            "alert": bool(alert),
            "detail_json": _dumps(redact_secrets(dict(detail or {}))),
        }
        with self._write() as conn:
            res = conn.execute(insert(S.monitor_checks).values(**row))
            pk = res.inserted_primary_key
        return int(pk[0]) if pk is not None and pk[0] is not None else 0

    def monitor_checks(self, monitor: str | None = None, *, metric: str | None = None) -> list[dict[str, Any]]:
        """Checks of one monitor (all when None), oldest first, with ``detail`` decoded."""
        q = select(S.monitor_checks).order_by(S.monitor_checks.c.id)
        if monitor is not None:
            q = q.where(S.monitor_checks.c.monitor == monitor)
        if metric is not None:
            q = q.where(S.monitor_checks.c.metric == metric)
        with self._read() as conn:
            rows = conn.execute(q).mappings().all()
        out = []
        for r in rows:
            d = dict(r)
            d["alert"] = bool(d["alert"])
            d["detail"] = json.loads(d.pop("detail_json"))
            out.append(d)
        return out

    def item_exposures(self, *, model: str | None = None, run_ids: Sequence[str] | None = None) -> dict[
            tuple[str, str], int]:
        """``{(model, problem_id): runs that scored it}``: how often each item was shown to each model
        (over the given runs, or all runs), for contamination risk."""
        q = select(S.scores.c.model, S.scores.c.problem_id, func.count(S.scores.c.run_id)).group_by(
            S.scores.c.model, S.scores.c.problem_id)
        if model is not None:
            q = q.where(S.scores.c.model == model)
        out: dict[tuple[str, str], int] = {}
        ids = None if run_ids is None else list(dict.fromkeys(run_ids))
        with self._read() as conn:
            if ids is None:
                chunks: list[list[str] | None] = [None]
            else:
                chunks = [ids[i : i + 500] for i in range(0, len(ids), 500)]
            for chunk in chunks:
                qq = q if chunk is None else q.where(S.scores.c.run_id.in_(chunk))
                for m, p, c in conn.execute(qq).all():
                    out[(str(m), str(p))] = out.get((str(m), str(p)), 0) + int(c)
        return out
