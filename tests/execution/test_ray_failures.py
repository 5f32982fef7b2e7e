"""Failures on a real local Ray cluster: a killed worker's or actor's call is retried (by Ray, or by the
executor through the one error classifier) and the run's result is still the in-process one; an actor that
stays dead gives an error, never an answer or a cache entry."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from bayesbench import BayesianBenchmark
from bayesbench.engine._loop import shuffled_order
from bayesbench.execution import RayExecutor, RetryPolicy, ray_actor_model
from bayesbench.store import Store
from tests.execution._ray_cluster import ray_cluster  # noqa: F401 - the shared cluster fixture (used by name)
from tests.execution._ray_models import FAST, PROBLEMS, N, answer, decision, exact

pytestmark = [pytest.mark.timeout(300), pytest.mark.usefixtures("ray_cluster")]

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


class Dies:
    """A hosted model whose every call kills its own actor process."""

    def __call__(self, problem: dict) -> str:
        os.kill(os.getpid(), signal.SIGKILL)
        return "never"


def test_an_actor_that_stays_dead_is_an_error_not_an_answer(tmp_path):
    store = Store(tmp_path / "bb.sqlite")
    hosted = ray_actor_model(Dies, num_cpus=0.25, max_restarts=0, max_task_retries=0)

    async def main():
        with RayExecutor(store=store, retry=FAST) as ex:
            return await ex.call("dies", hosted, {"id": 1})

    record = asyncio.run(main())
    assert record.response is None and record.attempts == FAST.max_attempts  # Ray's error is retryable
    assert "Actor" in record.error_type  # ActorDiedError / ActorUnavailableError, classified, then retried
    assert record.cache_key and store.get_cached(record.cache_key) is None  # nothing cached


def sleeps(seconds: float, problem: dict) -> str:
    time.sleep(seconds)
    return "late"


def test_a_call_past_its_deadline_is_a_timeout_and_its_task_is_cancelled():
    import ray

    async def main():
        with RayExecutor(timeout=1.0, retry=RetryPolicy(max_attempts=1)) as ex:
            t0 = time.monotonic()
            record = await ex.call("slow", functools.partial(sleeps, 60.0), {"id": 0})
            return record, time.monotonic() - t0

    free_before = ray.available_resources().get("CPU", 0)
    record, elapsed = asyncio.run(main())
    assert record.response is None and "timed out" in record.error and elapsed < 10
    deadline = time.monotonic() + 30  # Ray frees the cancelled task's CPU long before the 60 s sleep ends
    while ray.available_resources().get("CPU", 0) < free_before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ray.available_resources().get("CPU", 0) >= free_before
