"""RayExecutor on a real local Ray cluster: the same results as in-process for the same seed (a comparison over
function models, a ranking over the fake provider server with actor-hosted adapters), errors classified, and a
cached call never sent to Ray."""

from __future__ import annotations

import asyncio
import functools
import os
import threading

import pytest

from bayesbench import BayesianBenchmark, BayesianRanker
from bayesbench.errors import ConfigError
from bayesbench.execution import RayExecutor, ray_actor_model
from bayesbench.execution._keys import callable_identity
from bayesbench.models import openai_model
from tests.execution._ray_cluster import ray_cluster  # noqa: F401 - the shared cluster fixture (used by name)
from tests.execution._ray_models import FAST, PROBLEMS, N, answer, decision, exact

pytestmark = [pytest.mark.timeout(300), pytest.mark.usefixtures("ray_cluster")]


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



def logged(log: str, table: str, problem: dict) -> str:
    """A function model that leaves a line in ``log`` for every call it really makes (in a Ray worker)."""
    with open(log, "a") as f:
        f.write(f"{table} {problem['id']}\n")
    return answer(table, problem)


def test_a_cached_call_never_reaches_ray(tmp_path):
    log = tmp_path / "calls.log"
    a, b = functools.partial(logged, str(log), "strong"), functools.partial(logged, str(log), "weak")
    db = tmp_path / "bb.sqlite"
    first = BayesianBenchmark(seed=5, store=str(db), execution="ray").compare(a, b, exact, PROBLEMS)
    made = log.read_text().splitlines()
    assert len(made) == first.model_calls and len(set(made)) == len(made)
    second = BayesianBenchmark(seed=5, store=str(db), execution="ray").compare(a, b, exact, PROBLEMS)
    assert log.read_text().splitlines() == made  # every answer came from the store, no task was sent
    assert decision(second) == decision(first)


def test_the_drivers_concurrency_limit_holds_across_the_cluster(fake_server):
    fake_server.latency_s = 0.1
    hosted = ray_actor_model(functools.partial(openai_model, "m", base_url=fake_server.openai_base_url,
                                               api_key="sk-x", max_tokens=4), num_cpus=0.25, max_concurrency=16)

    async def main():
        with RayExecutor(max_concurrency=3) as ex:
            return await asyncio.gather(*(ex.call("m", hosted, {"question": f"q{i}"}) for i in range(18)))

    try:
        records = asyncio.run(main())
    finally:
        hosted.shutdown()
    assert all(r.ok for r in records) and len(fake_server.api_requests()) == 18
    assert fake_server.max_seen_in_flight == 3  # the actor could take 16 at once; the driver sends 3


def test_ranking_over_function_models_is_identical_to_the_in_process_run():
    def ranker(execution):
        r = BayesianRanker(seed=3, execution=execution)
        for name in ("strong", "middle", "weak"):
            r.add_model(name, functools.partial(answer, name))
        r.evaluate(exact)
        return r

    local, on_ray = ranker("local").rank(PROBLEMS), ranker("ray").rank(PROBLEMS)
    assert decision(on_ray) == decision(local)
    assert [m.name for m in on_ray.ranking] == ["strong", "middle", "weak"]


def ask_over_http(base_url: str, model: str, problem: dict) -> str:
    """A picklable function model: one chat completion with httpx, made in the Ray worker."""
    import httpx

    r = httpx.post(f"{base_url}/chat/completions", timeout=20, headers={"Authorization": "Bearer sk-x"},
                   json={"model": model, "messages": [{"role": "user", "content": problem["question"]}]})
    r.raise_for_status()  # a 4xx/5xx reaches the classifier as httpx's error, with its status
    return r.json()["choices"][0]["message"]["content"]


def test_comparison_over_the_fake_server_from_ray_tasks_is_identical(fake_server):
    fake_server.answer = fake_answer
    a = functools.partial(ask_over_http, fake_server.openai_base_url, "strong")
    b = functools.partial(ask_over_http, fake_server.openai_base_url, "middle")
    local = BayesianBenchmark(seed=7).compare(a, b, exact, PROBLEMS)
    asked = len(fake_server.api_requests())
    fake_server.add_fault(status=503, times=2)  # two transient failures on Ray: retried by the executor
    on_ray = BayesianBenchmark(seed=7, execution="ray", retry=FAST).compare(a, b, exact, PROBLEMS)
    assert decision(on_ray) == decision(local)
    assert len(fake_server.api_requests()) == 2 * asked + 2
    assert on_ray.usage["models"]["model_a"]["retries"] + on_ray.usage["models"]["model_b"]["retries"] == 2
