"""RayExecutor on a real local Ray cluster: the same results as in-process for the same seed, a killed
worker's or actor's call retried, and a killed run resumed without asking a committed call again."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from bayesbench import BayesianBenchmark, BayesianRanker
from bayesbench.engine._loop import shuffled_order
from bayesbench.errors import ConfigError
from bayesbench.execution import RayExecutor, RetryPolicy, ray_actor_model
from bayesbench.execution._keys import callable_identity
from bayesbench.models import openai_model
from tests.execution._ray_cluster import ray_cluster  # noqa: F401 - the shared cluster fixture (used by name)

pytestmark = [pytest.mark.timeout(300), pytest.mark.usefixtures("ray_cluster")]

N = 300
_rng = np.random.default_rng(11)
TABLES = {"strong": _rng.random(N) < 0.8, "middle": _rng.random(N) < 0.6, "weak": _rng.random(N) < 0.35}
PROBLEMS = [{"id": i, "question": f"q{i}", "answer": "right"} for i in range(N)]
FAST = RetryPolicy(max_attempts=3, backoff_base=0.01)


def answer(table: str, problem: dict) -> str:
    """A deterministic function model (module level: Ray workers import it by reference)."""
    return "right" if TABLES[table][problem["id"]] else "wrong"


def exact(problem: dict, response: str) -> float:
    return float(str(response) == problem["answer"])


def decision(result) -> dict:
    """What a run decided and from what: everything in to_dict() except timings and usage."""
    out = result.to_dict()
    for key in ("usage", "elapsed_s", "wall_time_s", "run_id"):
        out.pop(key, None)
    return json.loads(json.dumps(out, default=str))


def test_comparison_is_identical_to_the_in_process_run():
    a, b = functools.partial(answer, "strong"), functools.partial(answer, "weak")
    local = BayesianBenchmark(seed=5).compare(a, b, exact, PROBLEMS)
    on_ray = BayesianBenchmark(seed=5, execution="ray").compare(a, b, exact, PROBLEMS)
    assert on_ray.winner == "model_a" and on_ray.problems_tested < N  # it stopped early, on Ray
    assert decision(on_ray) == decision(local)
    # the shorthand executor="ray" builds the same executor
    short = BayesianBenchmark(seed=5, executor="ray").compare(a, b, exact, PROBLEMS)
    assert decision(short) == decision(local)


def where(problem: dict) -> int:
    return os.getpid()


def test_calls_run_in_ray_workers_and_model_errors_come_back_classified():
    async def main():
        with RayExecutor(max_concurrency=4, retry=FAST) as ex:
            pids = await asyncio.gather(*(ex.call("m", where, {"id": i}) for i in range(4)))
            bug = await ex.call("m", functools.partial(answer, "missing-table"), {"id": 0})  # KeyError in the worker
            unpicklable = await ex.call("m", _Unpicklable(), {"id": 0})
        return pids, bug, unpicklable

    pids, bug, unpicklable = asyncio.run(main())
    assert all(r.ok for r in pids) and os.getpid() not in {r.response for r in pids}
    # the model's own exception, not Ray's wrapper: a KeyError is a bug, not retried
    assert bug.error_type == "KeyError" and bug.attempts == 1 and bug.response is None
    assert unpicklable.error_type == "ConfigError" and "ray_actor_model" in unpicklable.error
    assert unpicklable.attempts == 1


class _Unpicklable:
    def __init__(self) -> None:
        self.lock = threading.Lock()

    def __call__(self, problem: dict) -> str:
        return "never sent"


def test_bad_settings_are_refused():
    with pytest.raises(ConfigError, match="execution"):
        BayesianBenchmark(execution="dask")
    with pytest.raises(ConfigError, match="num_cpus_per_call"):
        RayExecutor(num_cpus_per_call=-1)
    with pytest.raises(ConfigError, match="inline"):
        RayExecutor(inline=True)
    with pytest.raises(ConfigError, match="factory"):
        ray_actor_model("not a function")


def fake_answer(request) -> str:
    """The fake server's answers: each model is right on its own table's problems."""
    problem_id = int(request.prompt.split("q", 1)[1])
    return answer(request.body["model"], {"id": problem_id})


def test_ranking_over_the_fake_server_is_identical_to_the_in_process_run(fake_server):
    fake_server.answer = fake_answer
    names = ("strong", "middle", "weak")

    def ranker(models):
        r = BayesianRanker(seed=3, retry=FAST)
        for name in names:
            r.add_model(name, models[name])
        r.evaluate(exact)
        return r

    local_models = {n: openai_model(n, base_url=fake_server.openai_base_url, api_key="sk-x", max_tokens=4)
                    for n in names}
    local = ranker(local_models).rank(PROBLEMS)
    asked_locally = len(fake_server.api_requests())
    hosted = {n: ray_actor_model(functools.partial(openai_model, n, base_url=fake_server.openai_base_url,
                                                   api_key="sk-x", max_tokens=4), num_cpus=0.25, max_concurrency=4)
              for n in names}
    try:
        on_ray = ranker(hosted).rank(PROBLEMS)
        pids = {n: m.pid() for n, m in hosted.items()}
        keys = {n: callable_identity(m) for n, m in hosted.items()}
    finally:
        for m in hosted.values():
            m.shutdown()
    assert decision(on_ray) == decision(local)
    assert on_ray.ranking[0].name == "strong"
    assert len(fake_server.api_requests()) == 2 * asked_locally  # the same calls, each asked once
    assert len(set(pids.values())) == 3 and os.getpid() not in pids.values()  # one actor per model
    # the hosted adapter keys its answers exactly as the in-process one
    assert keys == {n: callable_identity(local_models[n]) for n in names}


SEED = 5
FIRST = shuffled_order(N, SEED)[0]  # the first problem the comparison asks


def hang_until_killed(marker_dir: str, problem: dict) -> None:
    """On the run's first problem: say where it runs, then hang until the test has killed that process."""
    d = Path(marker_dir)
    if problem["id"] == FIRST and not (d / "killed").exists():
        (d / "pid.tmp").write_text(str(os.getpid()))
        (d / "pid.tmp").rename(d / "pid")
        time.sleep(120)


def killable(marker_dir: str, table: str, problem: dict) -> str:
    hang_until_killed(marker_dir, problem)
    return answer(table, problem)


class KillableModel:
    """A model hosted in an actor that hangs once, on the first problem, until its actor is killed."""

    def __init__(self, marker_dir: str, table: str) -> None:
        self.marker_dir, self.table = marker_dir, table

    def __call__(self, problem: dict) -> str:
        return killable(self.marker_dir, self.table, problem)


def kill_when_hanging(d: Path) -> threading.Thread:
    """From the test: SIGKILL the process the hanging call runs in, as soon as it has said which one."""

    def run() -> None:
        deadline = time.monotonic() + 120
        while not (d / "pid").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        (d / "killed").write_text("")  # the retried call answers
        os.kill(int((d / "pid").read_text()), signal.SIGKILL)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("task_retries", [3, 0], ids=["ray-retries", "executor-retries"])
def test_a_killed_worker_call_is_retried_and_the_run_stays_correct(tmp_path, task_retries):
    reference = BayesianBenchmark(seed=SEED).compare(functools.partial(answer, "strong"),
                                                     functools.partial(answer, "weak"), exact, PROBLEMS)
    killer = kill_when_hanging(tmp_path)
    executor = RayExecutor(max_concurrency=8, retry=FAST, task_retries=task_retries)
    result = BayesianBenchmark(seed=SEED, executor=executor).compare(
        functools.partial(killable, str(tmp_path), "strong"), functools.partial(answer, "weak"), exact, PROBLEMS)
    killer.join(timeout=5)
    executor.close()
    assert (tmp_path / "killed").exists()
    assert decision(result) == decision(reference)
    assert result.errors == 0
    retries = result.usage["models"]["model_a"]["retries"]
    # Ray re-ran the task itself (the executor saw one attempt), or the executor retried Ray's WorkerCrashedError
    assert retries == (0 if task_retries else 1)


def test_a_killed_actor_is_restarted_and_its_call_retried(tmp_path):
    reference = BayesianBenchmark(seed=SEED).compare(functools.partial(answer, "strong"),
                                                     functools.partial(answer, "weak"), exact, PROBLEMS)
    hosted = ray_actor_model(functools.partial(KillableModel, str(tmp_path), "strong"), num_cpus=0.25)
    first_pid = hosted.start().pid()
    killer = kill_when_hanging(tmp_path)
    try:
        result = BayesianBenchmark(seed=SEED, execution="ray").compare(hosted, functools.partial(answer, "weak"),
                                                                       exact, PROBLEMS)
        killer.join(timeout=5)
        assert int((tmp_path / "pid").read_text()) == first_pid  # the hanging call ran in the actor
        assert hosted.pid() != first_pid  # Ray restarted the actor (the model was built again)
    finally:
        hosted.shutdown()
    assert decision(result) == decision(reference)
    assert result.errors == 0
