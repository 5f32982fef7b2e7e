"""The store: one persistence layer for runs, calls, cached responses, scores and decisions.

SQLite file by default (WAL, busy timeout, short transactions); any SQLAlchemy URL (e.g. Postgres)
through the same code. See docs/store.md for the schema and migrations.
"""

from ._schema import SCHEMA_VERSION
from ._store import Store, redact_secrets

__all__ = ["SCHEMA_VERSION", "Store", "redact_secrets"]
