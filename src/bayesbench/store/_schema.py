"""The store's tables (SQLAlchemy Core) and its forward migrations.

The schema version lives in ``schema_version``. A fresh database is created at
:data:`SCHEMA_VERSION` directly; an older one is brought forward by running every
migration above its version, in order, inside one transaction. A database written by a
newer bayesbench is refused rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.engine import Connection

SCHEMA_VERSION = 4

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("created", Float, nullable=False),  # unix seconds
    Column("config_json", Text, nullable=False),
    Column("config_hash", String(64), nullable=False),
    Column("seed", Integer),
    Column("rule", String(255)),
    Column("status", String(32), nullable=False),  # running | finished | failed
    Column("order_json", Text, nullable=False),
    Column("summary_json", Text),
    Column("finished", Float),
    Index("ix_runs_name_hash", "name", "config_hash"),
    Index("ix_runs_created", "created"),  # the dashboard's newest-first pages (fresh stores)
)

calls = Table(
    "calls",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64)),
    Column("model", String(255), nullable=False),
    Column("problem_id", String(255), nullable=False),
    Column("prompt_hash", String(64)),
    Column("cache_key", String(64)),  # added in schema 2
    Column("latency_s", Float),
    Column("ttft_s", Float),
    Column("input_tokens", Integer),
    Column("output_tokens", Integer),
    Column("tokens_estimated", Boolean),  # added in schema 2
    Column("cost_usd", Float),
    Column("attempts", Integer),
    Column("error", Text),
    Column("error_type", String(255)),
    Column("cached", Boolean, nullable=False),
    Column("created", Float, nullable=False),
    Index("ix_calls_run", "run_id"),
)

responses = Table(
    "responses",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("model", String(255), nullable=False),
    Column("response", Text, nullable=False),
    Column("meta_json", Text, nullable=False),
    Column("created", Float, nullable=False),
)

scores = Table(
    "scores",
    metadata,
    Column("run_id", String(64), nullable=False),
    Column("problem_id", String(255), nullable=False),
    Column("model", String(255), nullable=False),
    Column("score", Float, nullable=False),
    Column("created", Float, nullable=False),
    PrimaryKeyConstraint("run_id", "problem_id", "model"),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("n", Integer),
    Column("status", String(64)),
    Column("log_evalues_json", Text),
    Column("cs_json", Text),
    Column("payload_json", Text, nullable=False),  # the whole decision dict, for readers
    Column("created", Float, nullable=False),
    Index("ix_decisions_run", "run_id"),
    # schema 3: one decision per (run, n), so a resumed run or two identical runs started together
    # re-deciding the same batch write it once (inserts are idempotent)
    Index("ux_decisions_run_n", "run_id", "n", unique=True),
)

# schema 4: named monitors (bayesbench.monitor) and every check they made, read by the dashboard
monitors = Table(
    "monitors",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("config_json", Text, nullable=False),
    Column("baseline_run_id", String(64)),
    Column("created_at", Float, nullable=False),  # unix seconds
    Column("updated_at", Float, nullable=False),
)

monitor_checks = Table(
    "monitor_checks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("monitor", String(255), nullable=False),
    Column("run_id", String(64)),
    Column("checked_at", Float, nullable=False),  # unix seconds
    Column("metric", String(255), nullable=False),
    Column("estimate", Float),
    Column("ci_low", Float),
    Column("ci_high", Float),
    Column("e_value", Float),  # the monitor's lifetime e-process after this check (may be +inf: stored as NULL)
    Column("alert", Boolean, nullable=False),
    Column("detail_json", Text, nullable=False),
    Index("ix_monitor_checks_monitor", "monitor", "checked_at"),
)

# schema 4: what a run used (the resource monitor's ResourceReport.to_dict()), one row per run
resources = Table(
    "resources",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("peak_rss_bytes", Integer),
    Column("mean_process_cpu_percent", Float),
    Column("report_json", Text, nullable=False),
    Column("created", Float, nullable=False),
)


# Posted runs (``post_results``): what a run is filed under and what the dashboard shows beside the scores.
# New tables, not new columns, so ``create_all(checkfirst=True)`` adds them to an older store without a
# migration; every insert into them is idempotent (re-posting a run writes nothing twice).
run_meta = Table(
    "run_meta",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),  # compare | rank | suite
    Column("model_name", String(255)),  # the model the run is filed under (post_results(model_name=...))
    Column("models_json", Text, nullable=False),  # the run's models, in the result's order
    Column("usage_json", Text),
    Column("resources_json", Text),
    Column("posted", Float, nullable=False),
    Index("ix_run_meta_posted", "posted"),
)

run_tags = Table(
    "run_tags",
    metadata,
    Column("run_id", String(64), nullable=False),
    Column("tag", String(255), nullable=False),
    PrimaryKeyConstraint("run_id", "tag"),
    Index("ix_run_tags_tag", "tag"),
)

run_models = Table(
    "run_models",
    metadata,
    Column("run_id", String(64), nullable=False),
    Column("model", String(255), nullable=False),
    PrimaryKeyConstraint("run_id", "model"),
    Index("ix_run_models_model", "model"),
)

run_items = Table(
    "run_items",
    metadata,
    Column("run_id", String(64), nullable=False),
    Column("problem_id", String(255), nullable=False),
    Column("model", String(255), nullable=False),
    Column("input", Text),
    Column("answer", Text),
    Column("expected", Text),
    Column("error", Text),
    PrimaryKeyConstraint("run_id", "problem_id", "model"),
)


def _v1_to_v2(conn: Connection) -> None:
    """Schema 2 records which cache entry a call used and whether its tokens were estimated."""
    conn.execute(text("ALTER TABLE calls ADD COLUMN cache_key VARCHAR(64)"))
    conn.execute(text("ALTER TABLE calls ADD COLUMN tokens_estimated BOOLEAN"))


def _v2_to_v3(conn: Connection) -> None:
    """Schema 3 keeps one decision per (run, n): drop the duplicates older versions wrote (the first
    written is kept), then let the database enforce it."""
    conn.execute(text(
        "DELETE FROM decisions WHERE n IS NOT NULL AND id NOT IN "
        "(SELECT MIN(id) FROM decisions WHERE n IS NOT NULL GROUP BY run_id, n)"
    ))
    conn.execute(text("CREATE UNIQUE INDEX ux_decisions_run_n ON decisions (run_id, n)"))


def _v3_to_v4(conn: Connection) -> None:
    """Schema 4 adds tables, nothing existing changes: the monitors and their checks, and each run's resource use."""
    for table in (monitors, monitor_checks, resources):
        table.create(conn, checkfirst=True)


#: ``MIGRATIONS[v]`` brings a database from version ``v`` to ``v + 1``.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4}
