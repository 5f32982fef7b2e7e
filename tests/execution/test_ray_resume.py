"""A run on Ray killed with SIGKILL resumes from its SQLite store without asking a committed call again, and
reaches the decision of an uninterrupted run."""

from __future__ import annotations

import json
import os
import runpy
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bayesbench.store import Store
from tests.execution._ray_cluster import ray_cluster  # noqa: F401 - the shared cluster fixture (used by name)

pytestmark = [pytest.mark.timeout(300), pytest.mark.usefixtures("ray_cluster")]

RESUME_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    from bayesbench import BayesianBenchmark

    db, log = sys.argv[1], sys.argv[2]  # (set by the test when it runs the script in-process)
    rng = np.random.default_rng(0)
    tables = {"a": rng.random(600) < 0.62, "b": rng.random(600) < 0.50}
    problems = [{"id": i, "question": f"q{i}", "answer": "right"} for i in range(600)]

    def make(name):
        table = tables[name]
        def model(problem):  # runs in a Ray worker: the log says which calls were really made
            with open(log, "a") as f:
                f.write(f"{name} {problem['id']}\\n")
            time.sleep(0.01)
            return "right" if table[problem["id"]] else "wrong"
        model.cache_key = name
        return model

    def run(execution):
        bench = BayesianBenchmark(seed=17, store=db, max_concurrency=4, batch_size=8, execution=execution)
        result = bench.compare(make("a"), make("b"), lambda p, r: float(r == p["answer"]), problems,
                               name="resumable")
        return {k: result.to_dict()[k] for k in ("winner", "problems_tested", "difference", "ci", "resumed", "run_id")}

    if __name__ == "__main__":
        print(json.dumps(run("ray")))
    """
)


def _script(tmp_path: Path) -> Path:
    script = tmp_path / "job.py"
    script.write_text(RESUME_SCRIPT)
    return script


def _reference(tmp_path: Path) -> dict:
    """The same run, uninterrupted and in-process (execution="local"), in its own store."""
    argv = sys.argv
    sys.argv = ["job.py", str(tmp_path / "ref.sqlite"), str(tmp_path / "ref.log")]
    try:
        return runpy.run_path(str(_script(tmp_path)), run_name="reference")["run"]("local")
    finally:
        sys.argv = argv


def _job(tmp_path: Path, db: Path, log: Path) -> subprocess.Popen:
    import ray

    script = _script(tmp_path)
    env = {**os.environ, "RAY_ADDRESS": ray.get_runtime_context().gcs_address}  # joins the test's cluster
    return subprocess.Popen([sys.executable, str(script), str(db), str(log)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_a_killed_run_on_ray_resumes_without_asking_a_committed_call_again(tmp_path):
    reference = _reference(tmp_path)
    assert reference["problems_tested"] > 50

    db, log = tmp_path / "run.sqlite", tmp_path / "run.log"
    first = _job(tmp_path, db, log)
    deadline = time.monotonic() + 120
    while len(_calls(log)) < reference["problems_tested"] and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    time.sleep(1.0)  # the killed driver's tasks still running may log a last call
    before = _calls(log)
    (run,) = Store(db).runs()
    assert run["status"] == "running"
    committed = {f"{c['model'][-1]} {c['problem_id']}" for c in Store(db).calls(run["id"]) if c["error"] is None}
    assert committed

    second = _job(tmp_path, db, log)
    out, err = second.communicate(timeout=240)
    assert second.returncode == 0, err
    resumed = json.loads(out)
    assert resumed["resumed"] is True and resumed["run_id"] == run["id"]
    for key in ("winner", "problems_tested", "difference", "ci"):
        assert resumed[key] == reference[key], key
    after = _calls(log)[len(before):]
    assert not committed & set(after), "committed calls were asked again after the resume"
    assert len(set(before) & set(after)) <= 8  # only calls in flight at the kill (2 models x 4) are asked again
