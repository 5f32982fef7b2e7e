"""The `bayesbench monitor` CLI as cron and CI use it: real subprocesses on a real SQLite store, exit codes,
the --every loop, and a killed run resumed with its answers from the cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from bayesbench.monitor import load_monitors, run_monitors
from bayesbench.store import Store

from .test_monitor import SRC, _write_config

pytestmark = pytest.mark.timeout(300)


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    full = dict(os.environ, PYTHONPATH=f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", **env)
    return subprocess.run([sys.executable, "-m", "bayesbench.cli", "monitor", *args], capture_output=True,
                          text=True, env=full, timeout=120)


def test_cli_run_every_and_check_exit_codes(tmp_path):
    cfg = str(_write_config(tmp_path))
    env = {"QA_MODE": "", "BB_TEST_WEBHOOK": ""}
    r = _cli("run", cfg, "--every", "0.05s", "--times", "3", env=env)
    assert r.returncode == 0, r.stderr
    assert "baseline run (pinned)" in r.stdout and "slot 2" in r.stdout
    r = _cli("check", cfg, env=env)
    assert r.returncode == 0 and "[ok] qa / score" in r.stdout, r.stderr
    r = _cli("run", cfg, env={"QA_MODE": "broken", "BB_TEST_WEBHOOK": ""})
    assert r.returncode == 0 and "[ALERT]" in r.stdout, r.stderr
    r = _cli("check", cfg, "--json", env=env)
    assert r.returncode == 4, r.stderr
    assert json.loads(r.stdout)["checks"][0]["alert"] is True
    r = _cli("exposures", cfg, "--json", env=env)
    assert r.returncode == 0 and json.loads(r.stdout)[0]["holdout_exposed"] == []
    r = _cli("check", str(tmp_path / "missing.toml"), env=env)
    assert r.returncode == 2 and "does not exist" in r.stderr


def test_a_killed_run_is_resumed_with_its_answers_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BB_TEST_WEBHOOK", "")
    monkeypatch.delenv("QA_MODE", raising=False)
    monkeypatch.delenv("QA_SLEEP_S", raising=False)
    cfg = _write_config(tmp_path, extra="max_concurrency = 4")
    file = load_monitors(cfg)
    run_monitors(file)  # the baseline
    env = dict(os.environ, PYTHONPATH=f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", QA_SLEEP_S="0.25")
    proc = subprocess.Popen([sys.executable, "-m", "bayesbench.cli", "monitor", "run", str(cfg)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = Store(file.store)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # kill it once some answers are committed, before it is done
            running = [r for r in store.runs() if r["status"] == "running"]
            if running and len(store.calls(running[0]["id"])) >= 4:
                break
            time.sleep(0.05)
        proc.kill()
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    (killed,) = [r for r in store.runs() if r["status"] == "running"]
    answered_before = len(store.calls(killed["id"]))
    assert 4 <= answered_before < 40
    (outcome,), (check,) = run_monitors(file)
    assert outcome.resumed and outcome.run_id == killed["id"] and outcome.slot == 1 and check.n == 40
    calls = store.calls(killed["id"])
    assert sum(c["cached"] for c in calls) == answered_before  # nothing paid twice
    assert sum(not c["cached"] for c in calls) == 40
