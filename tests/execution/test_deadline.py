"""A timeout is a wall-clock deadline per attempt, on by default, for every kind of model (defect 6)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from bayesbench.execution import DEFAULT_TIMEOUT_S, Executor, RetryPolicy
from tests.execution._clients import Answer, OpenAIChat
from tests.fakeserver import FakeServer

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]
THREE = RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_max=0.02)


def _call(ex: Executor, fn, prompt: str = "hello"):
    async def main():
        try:
            return await ex.call("m", fn, prompt, problem_id="p")
        finally:
            ex.close()

    return asyncio.run(main())


def test_the_deadline_is_on_by_default():
    assert DEFAULT_TIMEOUT_S == 120.0
    assert Executor().timeout == DEFAULT_TIMEOUT_S


def _warm_then_trickle(server: FakeServer, fn, trickles: int):
    """One normal call first (the SDK's import and client set-up are not what is tested), then the
    same call against ``trickles`` trickling answers."""

    async def main():
        ex = Executor(timeout=1, retry=THREE)
        try:
            warm = await ex.call("m", fn, "warm up")
            assert warm.ok, warm.error
            server.reset()
            server.add_fault(trickle_s=0.3, times=trickles)
            return await ex.call("m", fn, "hello")
        finally:
            ex.close()

    return asyncio.run(main())


def test_a_trickling_server_cannot_hold_an_async_call_past_its_deadline():
    """One byte every 0.3 s keeps the SDK's per-read timeout (20 s here) from ever firing."""
    with FakeServer() as server:
        rec = _warm_then_trickle(server, OpenAIChat(server.openai_base_url, timeout=20.0), trickles=3)
        assert not rec.ok and rec.response is None
        assert rec.attempts == 3 and len(server.api_requests()) == 3
        assert rec.error == "timed out after 1 s" and rec.error_type == "TimeoutError"


def test_a_trickling_server_cannot_hold_a_sync_call_past_its_deadline():
    import openai

    with FakeServer() as server:
        client = openai.OpenAI(base_url=server.openai_base_url, api_key="sk-test", max_retries=0, timeout=20.0)

        def sync_model(prompt):
            r = client.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": prompt}])
            return Answer(r.choices[0].message.content, None, None)

        rec = _warm_then_trickle(server, sync_model, trickles=2)
        # two attempts hit the trickle and time out; the third gets the normal answer
        assert rec.ok and rec.attempts == 3 and rec.response == "echo: hello"
        assert len(server.api_requests()) == 3


def test_plain_callables_get_the_deadline_too():
    release = threading.Event()

    def stuck_sync(p):
        release.wait(60)
        return "late"

    async def stuck_async(p):
        await asyncio.sleep(60)
        return "late"

    try:
        for fn in (stuck_sync, stuck_async):
            rec = _call(Executor(timeout=0.2, retry=RetryPolicy(max_attempts=2, backoff_base=0.0)), fn)
            assert not rec.ok and rec.attempts == 2 and rec.error == "timed out after 0.2 s", fn
    finally:
        release.set()


def test_an_abandoned_sync_call_does_not_delay_the_next_calls():
    """A hung sync call keeps its thread; the next calls get fresh workers, not a queue behind it."""
    release = threading.Event()
    started: list[str] = []

    def model(p):
        started.append(p)
        if p == "hang":
            release.wait(60)
        return p + "!"

    async def main():
        ex = Executor(max_concurrency=1, timeout=0.3, retry=RetryPolicy(max_attempts=1))
        try:
            first = await ex.call("m", model, "hang")
            rest = [await ex.call("m", model, f"q{i}") for i in range(3)]
            return first, rest, ex._pool.threads
        finally:
            ex.close()

    try:
        first, rest, threads = asyncio.run(main())
    finally:
        release.set()
    assert not first.ok and "timed out" in first.error
    assert [r.response for r in rest] == ["q0!", "q1!", "q2!"] and all(r.attempts == 1 for r in rest)
    assert threads == 2  # the hung worker, and one more that served the three calls in turn


SCRIPT = textwrap.dedent(
    """
    import threading
    from bayesbench import BayesianBenchmark, ModelError, RetryPolicy

    def hangs_forever(problem):
        threading.Event().wait()  # never returns, never raises

    bench = BayesianBenchmark(seed=0, timeout=1, retry=RetryPolicy(max_attempts=1))
    try:
        bench.compare(hangs_forever, lambda p: "x", lambda p, r: 1.0, [1, 2, 3, 4])
    except ModelError as err:
        print("ERROR:", err)
    """
)


def _python(code: str, timeout: float) -> tuple[subprocess.CompletedProcess, float]:
    env = {"PYTHONPATH": f"{ROOT / 'src'}:{ROOT}", "PATH": "/usr/bin:/bin"}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env, check=False,
                          cwd=ROOT)
    return proc, time.perf_counter() - t0


def test_a_hung_sync_model_does_not_keep_the_process_from_exiting():
    _, startup = _python("import bayesbench, bayesbench.engine", timeout=60)
    proc, elapsed = _python(SCRIPT, timeout=90)  # on the old code this never exits
    assert proc.returncode == 0, proc.stderr
    assert "ERROR:" in proc.stdout and "timed out after 1 s" in proc.stdout
    # generous: start-up plus five deadlines (the run needs one)
    assert elapsed < startup + 5 * 1.0, (elapsed, startup)
