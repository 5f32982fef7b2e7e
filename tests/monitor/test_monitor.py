"""Monitors end to end: a local function model, a real SQLite file (and a real PostgreSQL server), a real local
webhook receiver on 127.0.0.1, and the real `bayesbench monitor` CLI in a subprocess."""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bayesbench.errors import ConfigError
from bayesbench.monitor import Monitor, WebhookSink, check_monitors, load_monitors, redact_url, run_monitors
from bayesbench.store import Store

pytestmark = pytest.mark.timeout(180)
HERE = Path(__file__).resolve().parent
SRC = HERE.parents[1] / "src"
SECRET = "T0KEN-very-secret-123"


def _write_config(tmp_path: Path, *, metrics=("score",), extra: str = "", store: str = "runs.sqlite") -> Path:
    cfg = tmp_path / "monitors.toml"
    mets = ", ".join(f'"{m}"' for m in metrics)
    cfg.write_text(f'''
store = "{store}"
python_path = ["{HERE}"]
multiplicity = "none"

[[monitor]]
name = "qa"
model = "_qa_models:answer"
model_name = "qa-model"
dataset = "_qa_models:problems"
score = "_qa_models:exact"
metrics = [{mets}]
items_per_run = 40
webhook_url_env = "BB_TEST_WEBHOOK"
latency_bound_s = 0.2
latency_margin_s = 0.02
{extra}
''')
    return cfg


class _Receiver:
    """A real HTTP server on 127.0.0.1 that records the JSON bodies POSTed to it (or answers 500)."""

    def __init__(self, status: int = 200) -> None:
        self.bodies: list[dict] = []
        self.paths: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                n = int(self.headers.get("Content-Length", 0))
                outer.bodies.append(json.loads(self.rfile.read(n)))
                outer.paths.append(self.path)
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/{SECRET}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = _Receiver()
    yield r
    r.close()


def test_an_unchanged_model_never_alerts_and_a_broken_one_alerts_once(tmp_path, monkeypatch, receiver, caplog):
    monkeypatch.setenv("BB_TEST_WEBHOOK", receiver.url)
    monkeypatch.delenv("QA_MODE", raising=False)
    file = load_monitors(_write_config(tmp_path))
    outcomes, checks = run_monitors(file)
    assert outcomes[0].kind == "baseline" and outcomes[0].n == 48 and checks == []  # 60 items, 12 held out
    store = Store(file.store)
    base = store.get_monitor("qa")["baseline_run_id"]
    assert base == outcomes[0].run_id
    for _ in range(3):
        _, checks = run_monitors(file)
        assert [c.alert for c in checks] == [False]
    assert receiver.bodies == []
    monkeypatch.setenv("QA_MODE", "broken")
    caplog.set_level(logging.WARNING, logger="bayesbench.monitor")
    outcomes, checks = run_monitors(file)
    (c,) = checks
    assert c.alert and c.new_alert and c.slot == 4 and c.estimate == pytest.approx(-1.0)
    assert c.ci_high < 0 and c.e_value >= 20
    (body,) = receiver.bodies  # Slack-compatible: a "text" line, plus the check
    assert body["text"].startswith("bayesbench monitor 'qa': score regression") and body["bayesbench"]["alert"]
    assert receiver.paths == [f"/services/{SECRET}"]
    _, checks = run_monitors(file)  # still in alert, but not announced again
    assert checks[0].alert and not checks[0].new_alert and len(receiver.bodies) == 1
    rows = store.monitor_checks("qa")
    assert [r["alert"] for r in rows] == [False, False, False, True, True]
    assert [r["detail"]["slot"] for r in rows] == [1, 2, 3, 4, 5]
    # the check's run is in the store with its per-item scores, paired with the baseline on the same items
    run_items = {r["problem_id"].split("#")[0] for r in store.scores(rows[-1]["run_id"])}
    assert run_items <= {r["problem_id"] for r in store.scores(base)}
    # no secret anywhere: not in the log, not in any record of the store
    assert SECRET not in caplog.text
    con_text = b"".join(p.read_bytes() for p in tmp_path.glob("runs.sqlite*"))
    assert SECRET.encode() not in con_text
    assert "score regression" in caplog.text  # the log sink
    # checking again without a new run records nothing and says the same
    again = check_monitors(file)
    assert again[0].alert and len(store.monitor_checks("qa")) == 5


def test_a_failing_webhook_does_not_lose_the_check_and_logs_no_secret(tmp_path, monkeypatch, caplog):
    bad = _Receiver(status=500)
    try:
        monkeypatch.setenv("BB_TEST_WEBHOOK", bad.url)
        monkeypatch.delenv("QA_MODE", raising=False)
        file = load_monitors(_write_config(tmp_path))
        run_monitors(file)
        monkeypatch.setenv("QA_MODE", "broken")
        caplog.set_level(logging.INFO, logger="bayesbench.monitor")
        _, checks = run_monitors(file)
    finally:
        bad.close()
    assert checks[0].new_alert and len(bad.bodies) == 2  # tried twice (a 5xx is retried)
    rows = Store(file.store).monitor_checks("qa")
    assert len(rows) == 1 and rows[0]["alert"]
    assert "webhook http://127.0.0.1:" in caplog.text and "failed (HTTP 500)" in caplog.text
    assert SECRET not in caplog.text
    # a receiver that is gone (connection refused) is also only logged
    sink = WebhookSink(bad.url, timeout_s=2, attempts=1)
    assert sink.send(checks[0]) is False and sink.last_error is not None and SECRET not in repr(sink)
    assert redact_url(bad.url).endswith("/<redacted>") and SECRET not in redact_url(bad.url)


def test_latency_regression_on_a_bounded_latency(tmp_path, monkeypatch):
    monkeypatch.setenv("BB_TEST_WEBHOOK", "")
    monkeypatch.delenv("QA_MODE", raising=False)
    monkeypatch.setenv("QA_SLEEP_S", "0")
    file = load_monitors(_write_config(tmp_path, metrics=("score", "latency_s"), extra="max_concurrency = 40"))
    run_monitors(file)
    _, checks = run_monitors(file)
    assert [c.alert for c in checks] == [False, False]
    monkeypatch.setenv("QA_SLEEP_S", "0.12")  # 0.12 s slower per call: capped at 0.2 s, margin 0.02 s
    alerts = []
    for _ in range(3):
        _, checks = run_monitors(file)
        alerts.append({c.metric: c.alert for c in checks})
        if alerts[-1]["latency_s"]:
            break
    assert alerts[-1] == {"score": False, "latency_s": True}, alerts
    lat = [c for c in checks if c.metric == "latency_s"][0]
    assert 0.09 < lat.estimate < 0.2


def test_rotation_holdout_and_exposures_from_the_store(tmp_path, monkeypatch):
    monkeypatch.setenv("BB_TEST_WEBHOOK", "")
    monkeypatch.delenv("QA_MODE", raising=False)
    file = load_monitors(_write_config(tmp_path))
    for _ in range(4):
        run_monitors(file)
    mon = Monitor(file.monitors[0], Store(file.store))
    rep = mon.exposures()
    held = set(mon.rotation.holdout)
    assert len(held) == 12 and rep.holdout_exposed == []
    assert all(rep.counts[i] == 0 for i in held)
    # the baseline showed every pool item once, and 3 runs of 40 draws showed 120 more (a repeated draw is asked
    # again, so it counts again)
    assert sum(rep.counts.values()) == 48 + 120
    assert any("#" in p for r in mon.scheduled_runs() for p in r["order"])
    d = rep.to_dict()
    assert d["max"] >= 2 and d["holdout"] == 12 and "exposed" in rep.summary()
    # the draws are reproducible and never touch the holdout
    assert mon.rotation.draws(3) == mon.rotation.draws(3) and not held & {p.split("#")[0] for p in
                                                                           mon.rotation.draws(3)}


def test_config_errors_are_clear(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_monitors(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text('[[monitor]]\nname = "x"\nmodel = "m:f"\ndataset = "m:d"\nscore = "m:s"\nmargn = 0.1\n')
    with pytest.raises(ConfigError, match=r"unknown monitor key\(s\) \['margn'\]"):
        load_monitors(bad)
    bad.write_text('[[monitor]]\nname = "x"\nmodel = "m:f"\ndataset = "m:d"\nscore = "m:s"\n'
                   'webhook_url_env = "https://hooks.slack.com/x"\n')
    with pytest.raises(ConfigError, match="NAME of an environment variable"):
        load_monitors(bad)
    bad.write_text('[[monitor]]\nname = "x"\nmodel = "m:f"\ndataset = "m:d"\nscore = "m:s"\nmetrics = ["acc"]\n')
    with pytest.raises(ConfigError, match="`metrics` must be distinct names from"):
        load_monitors(bad)


def test_postgres_store(pg_url, tmp_path, monkeypatch):
    monkeypatch.setenv("BB_TEST_WEBHOOK", "")
    monkeypatch.delenv("QA_MODE", raising=False)
    file = load_monitors(_write_config(tmp_path, store=pg_url))
    assert file.store == pg_url
    run_monitors(file)
    _, checks = run_monitors(file)
    assert not checks[0].alert
    monkeypatch.setenv("QA_MODE", "broken")
    _, checks = run_monitors(file)
    assert checks[0].alert
    assert [r["alert"] for r in Store(pg_url).monitor_checks("qa")] == [False, True]




def test_a_suite_monitor_uses_the_suites_problems_and_scorer(tmp_path, monkeypatch):
    monkeypatch.setenv("BB_TEST_WEBHOOK", "")
    cfg = tmp_path / "suite.toml"
    cfg.write_text(f'''
store = "runs.sqlite"
python_path = ["{HERE}"]
[[monitor]]
name = "bbh-navigate"
model = "_qa_models:always_yes"
suite = "bayesbench.benchmarks:BigBenchHard"
suite_options = {{tasks = ["navigate"], n_problems_per_task = 30, n_shots = 0, source = "package"}}
items_per_run = 20
''')
    file = load_monitors(cfg)
    (o,), _ = run_monitors(file)
    assert o.kind == "baseline" and o.n == 24
    _, (c,) = run_monitors(file)
    assert c.estimate == 0.0 and not c.alert  # a constant model is unchanged
    store = Store(file.store)
    scores = store.scores(o.run_id)
    assert scores and all(r["problem_id"].startswith("bbh/navigate/") for r in scores)
    assert 0 < sum(r["score"] for r in scores) < len(scores)  # the suite's scorer: some Yes are right





def test_due_only_follows_each_monitors_schedule(tmp_path, monkeypatch):
    monkeypatch.setenv("BB_TEST_WEBHOOK", "")
    monkeypatch.delenv("QA_MODE", raising=False)
    file = load_monitors(_write_config(tmp_path, extra='schedule = "1h"'))
    (o,), _ = run_monitors(file, due_only=True)  # never ran: due
    assert o.kind == "baseline"
    assert run_monitors(file, due_only=True)[0] == []  # ran a moment ago: not due for an hour
    (o,), _ = run_monitors(file, due_only=True, now=time.time() + 3601)
    assert o.kind == "scheduled" and o.slot == 1


@pytest.mark.parametrize("rule", ["ebh", "bonferroni"])
def test_a_family_of_monitors_flags_only_the_regressed_one(tmp_path, monkeypatch, rule):
    monkeypatch.setenv("BB_TEST_WEBHOOK", "")
    monkeypatch.delenv("QA_MODE", raising=False)
    monkeypatch.delenv("QA_MODE_B", raising=False)
    cfg = tmp_path / "family.toml"
    table = '''
[[monitor]]
name = "{name}"
model = "_qa_models:{fn}"
dataset = "_qa_models:problems"
score = "_qa_models:exact"
metrics = ["score", "latency_s"]
items_per_run = 40
'''
    cfg.write_text(f'store = "runs.sqlite"\npython_path = ["{HERE}"]\nmultiplicity = "{rule}"\n'
                   + table.format(name="a", fn="answer") + table.format(name="b", fn="answer_b"))
    file = load_monitors(cfg)
    run_monitors(file)
    _, checks = run_monitors(file)
    assert len(checks) == 4 and not any(c.alert for c in checks)
    assert all(c.threshold_e == pytest.approx(4 / 0.05) for c in checks)  # K = 4 (monitor, metric) pairs
    monkeypatch.setenv("QA_MODE_B", "broken")
    _, checks = run_monitors(file)
    flagged = {(c.monitor, c.metric) for c in checks if c.alert}
    assert flagged == {("b", "score")}
    assert all(c.multiplicity == rule for c in checks)
