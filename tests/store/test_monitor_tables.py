"""The monitor tables (schema 4) on a real SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

import math
import sqlite3

import pytest

from bayesbench.errors import ConfigError, StoreError
from bayesbench.store import SCHEMA_VERSION, Store

pytestmark = pytest.mark.timeout(180)


def _exercise(store: Store) -> None:
    rid = store.start_run("nightly", {}, 0, ["p1", "p2"])
    store.record_batch(rid, {"p1": {"m": 1.0}, "p2": {"m": 0.0}})
    base = store.start_run("nightly", {}, 0, ["p1"])
    store.record_batch(base, {"p1": {"m": 1.0, "other": 0.0}})
    store.save_monitor("acc", {"model": "m", "webhook": {"api_key": "sk-secret"}}, baseline_run_id=base)
    store.save_monitor("acc", {"model": "m", "alpha": 0.05})  # update keeps the pinned baseline
    (mon,) = store.monitors()
    assert mon["name"] == "acc" and mon["baseline_run_id"] == base and mon["config"] == {"model": "m", "alpha": 0.05}
    store.set_monitor_baseline("acc", rid)
    assert store.get_monitor("acc")["baseline_run_id"] == rid and store.get_monitor("nope") is None
    with pytest.raises(StoreError, match="no monitor named 'nope'"):
        store.set_monitor_baseline("nope", rid)
    first = store.record_monitor_check("acc", run_id=rid, metric="accuracy", estimate=-0.02, ci_low=-0.1,
                                       ci_high=0.05, e_value=1.5, alert=False, detail={"token": "t0k", "n": 2},
                                       checked_at=100.0)
    second = store.record_monitor_check("acc", run_id=rid, metric="latency_s", estimate=0.3, ci_low=None,
                                        ci_high=None, e_value=math.inf, alert=True)
    store.record_monitor_check("other", run_id=None, metric="accuracy", estimate=None, ci_low=None, ci_high=None,
                               e_value=None, alert=False)
    assert second > first > 0
    checks = store.monitor_checks("acc")
    assert [c["metric"] for c in checks] == ["accuracy", "latency_s"]
    assert checks[0]["checked_at"] == 100.0 and checks[0]["alert"] is False and checks[1]["alert"] is True
    assert checks[0]["detail"] == {"token": "<redacted>", "n": 2}  # secrets never reach a record
    assert checks[1]["e_value"] is None  # +inf has no JSON/SQL-portable form
    assert len(store.monitor_checks()) == 3 and len(store.monitor_checks("acc", metric="accuracy")) == 1
    assert store.item_exposures() == {("m", "p1"): 2, ("m", "p2"): 1, ("other", "p1"): 1}
    assert store.item_exposures(model="m", run_ids=[rid]) == {("m", "p1"): 1, ("m", "p2"): 1}
    with pytest.raises(ConfigError, match="`metric` must be a non-empty string"):
        store.record_monitor_check("acc", run_id=rid, metric="", estimate=0, ci_low=0, ci_high=0, e_value=1,
                                   alert=False)


def test_monitor_tables_on_sqlite(tmp_path):
    store = Store(tmp_path / "bb.sqlite")
    assert store.schema_version == SCHEMA_VERSION == 4
    _exercise(store)


def test_monitor_tables_on_postgres(pg_url):
    _exercise(Store(pg_url))


def test_migration_from_version_3_adds_the_monitor_tables_and_keeps_runs(tmp_path):
    path = tmp_path / "v3.sqlite"
    store = Store(path)
    rid = store.start_run("r", {"n": 1}, 1, ["a"])
    store.close()
    con = sqlite3.connect(path)  # make it a version-3 file: no monitor tables
    con.execute("DROP TABLE monitor_checks")
    con.execute("DROP TABLE monitors")
    con.execute("UPDATE schema_version SET version = 3")
    con.commit()
    con.close()
    store = Store(path)
    assert store.schema_version == 4 and [r["id"] for r in store.runs()] == [rid]
    store.save_monitor("m", {})
    assert [m["name"] for m in store.monitors()] == ["m"] and store.monitor_checks() == []
