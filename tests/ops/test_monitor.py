"""The resource monitor against a real child process that burns a known amount of CPU and memory, the "no GPU
data" paths (NVML is mocked: there is no GPU here), and the monitor around every engine run and in the store."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
import types

import pytest

from bayesbench import BayesianBenchmark, BayesianRanker
from bayesbench.errors import ConfigError
from bayesbench.ops import ResourceMonitor, ResourceReport
from bayesbench.ops._monitor import SAMPLE_KEYS
from bayesbench.store import Store

MB = 2**20
# The child allocates ALLOC bytes (written, so resident), then burns CPU until its own CPU clock says BURN s.
ALLOC = 200 * MB
BURN = 1.5
CHILD = f"""
import resource, time
block = bytearray(b"\\x01") * {ALLOC}
start = time.process_time()
while time.process_time() - start < {BURN}:
    pass
time.sleep(0.6)  # hold the memory while the monitor samples it
u = resource.getrusage(resource.RUSAGE_SELF)
print(u.ru_utime + u.ru_stime)
"""


@pytest.mark.parametrize("children_from", ["proc children files", "psutil scan"])
def test_cpu_and_memory_of_a_child_that_burns_a_known_amount(children_from):
    monitor = ResourceMonitor(interval_s=0.1).start()
    if children_from == "psutil scan":  # the fallback for kernels without /proc/PID/task/TID/children
        monitor._fast_children = False
    time.sleep(0.3)
    child = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60, check=True)
    time.sleep(0.3)
    report = monitor.stop()
    child_cpu = float(child.stdout)  # what the child itself used (its allocation and start-up included)
    assert child_cpu >= BURN
    # The monitor integrates the CPU of this process and its children: the child's own figure plus the little
    # this process did meanwhile (sleeping, the sampling thread). Tolerance: 15 % + 0.3 s.
    assert child_cpu - 0.15 * child_cpu <= report.cpu_seconds <= child_cpu * 1.15 + 0.3, (report.cpu_seconds, child_cpu)
    # one busy thread is at most one core (100 %) per sample, give or take the sampling jitter
    burning = [s["process_cpu_percent"] for s in report.samples[1:]]
    assert max(burning) <= 150  # one core (100 %), with room for a busy machine's read lag; two cores would be 200
    assert report.mean_process_cpu_percent == pytest.approx(100 * report.cpu_seconds / report.duration_s)
    # memory: the peak is the baseline plus the child's 200 MB block (+ a Python interpreter's ~10-40 MB)
    baseline = report.samples[0]["rss_bytes"]
    grown = report.peak_rss_bytes - baseline
    assert 0.97 * ALLOC <= grown <= ALLOC + 60 * MB, grown / MB
    # and after the child ended it is back near the baseline
    assert report.samples[-1]["rss_bytes"] - baseline < 30 * MB
    assert report.duration_s >= 2.0 and report.n >= 15


def test_report_shape_is_what_the_plots_render():
    with ResourceMonitor(interval_s=0.05) as m:
        time.sleep(0.2)
    d = m.report.to_dict()
    assert list(d) == ["interval_s", "samples", "peak_rss_bytes", "mean_process_cpu_percent", "gpu"]
    assert all(list(s) == list(SAMPLE_KEYS) for s in d["samples"])
    assert SAMPLE_KEYS == ("t_s", "process_cpu_percent", "system_cpu_percent", "rss_bytes", "gpu_util_percent",
                           "gpu_memory_bytes")
    ts = [s["t_s"] for s in d["samples"]]
    assert ts == sorted(ts) and ts[0] == 0.0 and len(ts) >= 3
    assert all(0 <= s["system_cpu_percent"] <= 100 and s["rss_bytes"] > 0 for s in d["samples"])
    json.dumps(d)
    back = ResourceReport.from_dict(d)
    assert back.to_dict()["peak_rss_bytes"] == d["peak_rss_bytes"]
    assert back.mean_process_cpu_percent == pytest.approx(d["mean_process_cpu_percent"], rel=0.2, abs=2)
    assert "no GPU data" in m.report.summary() or "GPU util" in m.report.summary()


def test_samples_stay_bounded_on_long_runs():
    m = ResourceMonitor(interval_s=0.005, max_samples=16).start()
    time.sleep(0.5)
    report = m.stop()
    assert report.n <= 17 and report.interval_s > 0.005
    assert report.samples[0]["t_s"] == 0.0 and report.samples[-1]["t_s"] == pytest.approx(report.duration_s)


@pytest.mark.parametrize("bad", [{"interval_s": 0}, {"interval_s": -1}, {"max_samples": 2}, {"pid": 2**30}])
def test_bad_monitor_settings_are_refused(bad):
    with pytest.raises(ConfigError):
        ResourceMonitor(**bad).start()


def test_stop_before_start_is_a_clear_error():
    with pytest.raises(ConfigError, match="never started"):
        ResourceMonitor().stop()


# ----------------------------------------------------------------------------- GPU: absent / failing / mocked
NO_PYNVML = """
import sys, json, time
sys.modules["pynvml"] = None  # the package is not installed: importing it raises ImportError
from bayesbench.ops import ResourceMonitor
with ResourceMonitor(interval_s=0.05) as m:
    time.sleep(0.12)
d = m.report.to_dict()
print(json.dumps([d["gpu"], [s["gpu_util_percent"] for s in d["samples"]], [s["gpu_memory_bytes"] for s in d["samples"]]]))
"""


NO_PSUTIL = """
import sys
sys.modules["psutil"] = None  # a broken install
from bayesbench import BayesianBenchmark
from bayesbench.errors import MissingDependencyError
from bayesbench.ops import ResourceMonitor
try:
    ResourceMonitor().start()
except MissingDependencyError as err:
    print("ERR", err)
import warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    r = BayesianBenchmark(seed=0).compare(lambda p: "a", lambda p: "b", lambda p, x: float(x == "a"), list(range(20)))
print("RUN", r.resources, r.winner, any("not monitored" in str(w.message) for w in caught))
"""


def test_without_psutil_runs_go_on_unmonitored_and_the_monitor_says_how_to_install_it():
    import os

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", NO_PSUTIL], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert 'pip install "psutil==7.2.2"' in out.stdout
    assert "RUN None model_a True" in out.stdout


def test_without_nvidia_ml_py_there_is_no_gpu_data_and_no_error(tmp_path):
    import os

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", NO_PYNVML], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    gpu, util, mem = json.loads(out.stdout)
    assert gpu is None and set(util) == {None} and set(mem) == {None} and len(util) >= 2


def _fake_pynvml(*, fail_init: bool = False, fail_after: int | None = None) -> types.ModuleType:
    """NVML cannot run here (no GPU): a stand-in with NVML's names, one 8 GiB device at 40 % and 1 GiB used."""
    nv = types.ModuleType("pynvml")
    calls = {"n": 0}

    class NVMLError(Exception):
        pass

    def init():
        if fail_init:
            raise NVMLError("Driver Not Loaded")

    def util(handle):
        calls["n"] += 1
        if fail_after is not None and calls["n"] > fail_after:
            raise NVMLError("GPU is lost")
        return types.SimpleNamespace(gpu=40, memory=10)

    nv.NVMLError = NVMLError
    nv.nvmlInit = init
    nv.nvmlShutdown = lambda: None
    nv.nvmlDeviceGetCount = lambda: 1
    nv.nvmlDeviceGetHandleByIndex = lambda i: ("gpu", i)
    nv.nvmlDeviceGetName = lambda h: b"Fake GPU"
    nv.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(total=8 * 2**30, used=2**30)
    nv.nvmlDeviceGetUtilizationRates = util
    return nv


def test_a_failing_nvml_gives_no_gpu_data(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", _fake_pynvml(fail_init=True))
    with ResourceMonitor(interval_s=0.05) as m:
        time.sleep(0.1)
    assert m.report.gpu is None and all(s["gpu_util_percent"] is None for s in m.report.samples)


def test_the_real_nvml_here_fails_cleanly():
    pytest.importorskip("pynvml")  # nvidia-ml-py is in the dev extra; this machine has no GPU driver
    with ResourceMonitor(interval_s=0.05) as m:
        time.sleep(0.1)
    report = m.report
    assert report.gpu is None or report.gpu["devices"]  # a machine with a GPU reports it, one without says nothing


def test_gpu_figures_when_nvml_answers_and_when_it_fails_mid_run(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", _fake_pynvml())
    with ResourceMonitor(interval_s=0.05) as m:
        time.sleep(0.15)
    gpu = m.report.gpu
    assert gpu["devices"] == [{"index": 0, "name": "Fake GPU", "memory_total_bytes": 8 * 2**30}]
    assert gpu["peak_util_percent"] == 40 and gpu["peak_memory_bytes"] == 2**30 and gpu["error"] is None
    assert all(s["gpu_util_percent"] == 40 for s in m.report.samples)
    monkeypatch.setitem(sys.modules, "pynvml", _fake_pynvml(fail_after=2))
    with ResourceMonitor(interval_s=0.05) as m:
        time.sleep(0.2)
    util = [s["gpu_util_percent"] for s in m.report.samples]
    assert util[:2] == [40, 40] and set(util[2:]) == {None}  # the run went on without GPU data
    assert m.report.gpu["peak_util_percent"] == 40 and "GPU is lost" in m.report.gpu["error"]


# ----------------------------------------------------------------------------- around every run, in the store
def _busy(problem):
    t = time.process_time()
    while time.process_time() - t < 0.002:
        pass
    return "right" if problem % 3 else "wrong"


def _score(problem, response):
    return float(response == "right")


def test_every_run_is_monitored_and_recorded(tmp_path):
    store = Store(tmp_path / "bb.sqlite")
    bench = BayesianBenchmark(seed=1, store=store)
    result = bench.compare(_busy, lambda p: "wrong", _score, list(range(60)))
    report = result.resources
    assert isinstance(report, ResourceReport) and report.n >= 2 and report.peak_rss_bytes > 0
    assert result.to_dict()["resources"] == report.to_dict()
    assert store.resources(result.run_id) == json.loads(json.dumps(report.to_dict()))
    assert "resources" not in store.get_run(result.run_id)["summary"]  # stored once, in its own table
    off = BayesianBenchmark(seed=2, store=store, monitor_resources=False).compare(_busy, lambda p: "x", _score,
                                                                                  list(range(30)))
    assert off.resources is None and off.to_dict()["resources"] is None and store.resources(off.run_id) is None


def test_suites_and_rankings_carry_resources():
    bench = BayesianBenchmark(seed=3)

    @bench.task(dataset=list(range(40)))
    def first(p):
        return float(p % 2), 0.0

    @bench.task(dataset=list(range(40)))
    def second(p):
        return 1.0, float(p % 3 == 0)

    report = bench.run()
    merged = report.resources
    assert isinstance(merged, ResourceReport)
    assert merged.n == sum(r.resources.n for r in report.task_results)
    assert merged.duration_s == pytest.approx(sum(r.resources.duration_s for r in report.task_results))
    ranker = BayesianRanker(seed=4)
    for k in range(3):
        ranker.add_model(f"m{k}", lambda p, k=k: "right" if p % (k + 2) else "wrong")
    ranking = ranker.rank(list(range(40)), _score)
    assert isinstance(ranking.resources, ResourceReport) and ranking.to_dict()["resources"]["samples"]


def test_a_version_3_store_is_migrated_and_keeps_its_data(tmp_path):
    path = tmp_path / "v3.sqlite"
    store = Store(path)
    rid = store.start_run("old", {"x": 1}, 1, ["a"])
    store.close()
    con = sqlite3.connect(path)  # make it a file written by the previous bayesbench (schema 3, no resources)
    con.execute("DROP TABLE resources")
    con.execute("UPDATE schema_version SET version = 3")
    con.commit()
    con.close()
    store = Store(path)
    assert store.schema_version == 4 and store.get_run(rid)["name"] == "old"
    assert store.resources(rid) is None
    with ResourceMonitor(interval_s=0.05) as m:
        time.sleep(0.06)
    store.record_resources(rid, m.report.to_dict())
    store.record_resources(rid, m.report.to_dict())  # again: replaced, not duplicated
    assert store.resources(rid)["peak_rss_bytes"] == m.report.peak_rss_bytes
    con = sqlite3.connect(path)
    assert con.execute("SELECT COUNT(*) FROM resources").fetchone()[0] == 1


def test_a_suite_evaluation_carries_resources():
    from bayesbench.benchmarks import BigBenchHard

    suite = BigBenchHard(tasks=["navigate"], n_problems_per_task=6, n_shots=0)  # the vendored BBH files
    result = suite.evaluate(lambda prompt: "Yes", model_name="yes-man")
    assert isinstance(result.resources, ResourceReport) and result.resources.n >= 2
    assert result.to_dict()["resources"]["peak_rss_bytes"] == result.resources.peak_rss_bytes
    off = suite.evaluate(lambda prompt: "Yes", model_name="yes-man", monitor_resources=False)
    assert off.resources is None and off.to_dict()["resources"] is None


def test_watching_another_process_that_ends_keeps_its_samples():
    child = subprocess.Popen([sys.executable, "-c", "import time; b = bytearray(b'x') * (50 * 2**20); time.sleep(0.8)"])
    m = ResourceMonitor(pid=child.pid, interval_s=0.1).start()
    child.wait(timeout=30)
    time.sleep(0.3)
    report = m.stop()  # no error although the process is gone
    assert report.pid == child.pid and report.n >= 2
    assert report.peak_rss_bytes > 40 * MB
