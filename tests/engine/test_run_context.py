"""A run owns its resources: models' async clients are closed on the run's loop, whatever happens
(item 12a), the executor is closed when the run built it, and costs are counted per run."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bayesbench import BayesianBenchmark, BayesianRanker, ModelError, RetryPolicy
from bayesbench.engine import RunSettings
from bayesbench.engine._run import RunContext
from bayesbench.execution import DEFAULT_TIMEOUT_S, Executor
from tests.fakeserver import FakeServer

from .conftest import exact, make_problems

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[2]


class Closable:
    """A sync model with an async ``aclose`` that records the loop it was closed on."""

    def __init__(self, answer: str = "right", fail_on: int | None = None) -> None:
        self.answer, self.fail_on = answer, fail_on
        self.closed_on: list[asyncio.AbstractEventLoop] = []

    def __call__(self, problem):
        if problem["id"] == self.fail_on:
            raise RuntimeError("down")
        return self.answer

    async def aclose(self) -> None:
        self.closed_on.append(asyncio.get_running_loop())


def test_models_are_closed_after_a_normal_run_an_error_and_a_ranking():
    a, b = Closable(), Closable("wrong")
    BayesianBenchmark(seed=0).compare(a, b, exact, make_problems(30))
    assert len(a.closed_on) == len(b.closed_on) == 1
    c, d = Closable(), Closable(fail_on=3)
    with pytest.raises(ModelError):
        BayesianBenchmark(seed=0, retry=RetryPolicy(max_attempts=1)).compare(c, d, exact, make_problems(30))
    assert len(c.closed_on) == len(d.closed_on) == 1
    ranker = BayesianRanker(seed=0)
    models = [Closable(), Closable("wrong"), Closable()]
    for i, m in enumerate(models):
        ranker.add_model(f"m{i}", m)
    ranker.evaluate(exact)
    ranker.rank(dataset=make_problems(30))
    assert [len(m.closed_on) for m in models] == [1, 1, 1]


def test_models_are_closed_when_the_run_is_cancelled():
    release = asyncio.Event()

    class Stuck(Closable):
        async def __call__(self, problem):
            await release.wait()
            return "right"

    stuck, model = Stuck(), Closable()

    async def main():
        task = asyncio.create_task(BayesianBenchmark(seed=0).compare_async(stuck, model, exact, make_problems(20)))
        while not stuck.closed_on and not task.done():
            await asyncio.sleep(0.01)
            if len(asyncio.all_tasks()) > 2:  # the run's calls are in flight: cancel it (Ctrl-C)
                task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return asyncio.get_running_loop()

    loop = asyncio.run(main())
    assert stuck.closed_on == [loop] and model.closed_on == [loop]  # each once, on the run's own loop


def test_the_run_context_counts_its_own_calls_and_dollars_and_closes_what_it_built():
    shared = Executor(prices={"m": (1e6, 0.0)})  # $1 per input token

    async def main():
        settings = RunSettings(seed=0)
        async with RunContext(kind="compare", name="x", problems=[1], settings=settings, functions={},
                              executor=shared) as ctx:
            await shared.call("m", lambda p: "abcd", "abcd")  # one estimated input token
            assert (ctx.calls, ctx.spent_usd) == (1, 1.0)
        async with RunContext(kind="compare", name="y", problems=[1], settings=settings.replace(max_cost_usd=1.5),
                              functions={}, executor=shared) as ctx2:
            assert (ctx2.calls, ctx2.spent_usd, ctx2.over_budget()) == (0, 0.0, False)  # earlier calls not counted
            await shared.call("m", lambda p: "abcd", "efgh")
            await shared.call("m", lambda p: "abcd", "ijkl")
            assert ctx2.calls == 2 and ctx2.over_budget()
        async with RunContext(kind="compare", name="z", problems=[1], settings=settings, functions={}) as own:
            built = own.executor
            assert built.timeout == DEFAULT_TIMEOUT_S  # the deadline is on by default
        return built

    built = asyncio.run(main())
    assert shared._pool is not None  # a caller's executor stays open
    assert built._pool is None
    shared.close()


SCRIPT = textwrap.dedent(
    """
    import gc, sys
    from bayesbench import BayesianBenchmark, ModelError, RetryPolicy
    from tests.execution._clients import OpenAIChat

    chat = OpenAIChat(sys.argv[1])  # an SDK client opened on the run's loop

    def flaky(problem):
        if problem == "question 5":
            raise PermissionError("refused")  # not retried: the run aborts
        return "x"

    problems = [f"question {i}" for i in range(40)]
    try:
        BayesianBenchmark(seed=0, batch_size=4, retry=RetryPolicy(max_attempts=1)).compare(
            chat, flaky, lambda p, r: 1.0, problems)
    except ModelError as err:
        print("aborted:", type(err).__name__, err.partial_result.problems_tested)
    del chat
    gc.collect()  # an unclosed client's sockets would be reported here, after its loop is gone
    """
)


def test_an_aborted_run_leaves_no_unclosed_client_behind():
    with FakeServer() as server:
        env = {"PYTHONPATH": f"{ROOT / 'src'}:{ROOT}", "PATH": "/usr/bin:/bin"}
        proc = subprocess.run([sys.executable, "-W", "always::ResourceWarning", "-c", SCRIPT, server.openai_base_url],
                              capture_output=True, text=True, timeout=90, cwd=ROOT, env=env, check=False)
        asked = len(server.api_requests())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("aborted: ModelError") and asked > 0
    for sign in ("Event loop is closed", "unclosed transport", "Traceback"):
        assert sign not in proc.stderr, proc.stderr
