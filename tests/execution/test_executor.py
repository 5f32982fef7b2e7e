"""The executor against a real local HTTP server (tests/fakeserver) with injected faults."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from bayesbench.errors import ConfigError
from bayesbench.execution import CallRecord, Executor, RetryPolicy
from tests.execution._clients import Answer, OpenAIChat
from tests.fakeserver import FakeServer

pytestmark = pytest.mark.timeout(60)

FAST = RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_max=0.05)


@pytest.fixture
def server():
    with FakeServer() as s:
        yield s


def run(coro):
    return asyncio.run(coro)


async def _one(ex: Executor, fn, prompt: str = "hello", model: str = "m") -> CallRecord:
    try:
        return await ex.call(model, fn, prompt, problem_id="p")
    finally:
        ex.close()


def test_success_records_provider_tokens_and_cost(server):
    ex = Executor(prices={"m": (2.0, 10.0)}, retry=FAST)
    rec = run(_one(ex, OpenAIChat(server.openai_base_url), "what is two plus two"))
    assert rec.ok and rec.response == "echo: what is two plus two"
    # the fake server counts words: 5 in, 6 out
    assert (rec.input_tokens, rec.output_tokens, rec.tokens_estimated) == (5, 6, False)
    assert rec.cost_usd == pytest.approx((5 * 2.0 + 6 * 10.0) / 1e6)
    assert rec.attempts == 1 and rec.prompt_hash is None  # hashed only when a store records the call


def test_tokens_are_estimated_and_flagged_for_plain_strings():
    ex = Executor(prices={"m": (1.0, 1.0)})
    rec = run(_one(ex, lambda p: "x" * 10, "a" * 40))
    assert rec.tokens_estimated and (rec.input_tokens, rec.output_tokens) == (10, 3)  # ceil(chars / 4)
    ex2 = Executor(token_counter=lambda s: len(s.split()))
    rec2 = run(_one(ex2, lambda p: "one two three", "four five"))
    assert (rec2.input_tokens, rec2.output_tokens) == (2, 3) and rec2.cost_usd is None  # no price, no cost


def test_retry_after_is_honoured(server):
    server.add_fault(status=429, retry_after=0.6)
    ex = Executor(retry=RetryPolicy(max_attempts=3, backoff_base=0.01))
    rec = run(_one(ex, OpenAIChat(server.openai_base_url)))
    times = [r.time for r in server.api_requests()]
    assert rec.ok and rec.attempts == 2 and rec.rate_limited == 1
    assert len(times) == 2
    # The model paused for the provider's Retry-After (the jittered backoff alone is <= 0.01 s); a
    # lower bound only: a loaded machine can make the retry later, never earlier.
    assert ex._state("m").pause_until > 0
    assert times[1] - times[0] >= 0.6


def test_retry_after_too_long_surfaces_the_error(server):
    server.add_fault(status=429, retry_after=500)
    ex = Executor(retry=RetryPolicy(max_attempts=3, max_retry_after=5))
    rec = run(_one(ex, OpenAIChat(server.openai_base_url)))
    assert not rec.ok and rec.response is None and rec.attempts == 1
    assert "max_retry_after" in rec.error and rec.error_status == 429


def test_server_error_is_retried_then_succeeds(server):
    server.add_fault(status=500, times=2)
    ex = Executor(retry=FAST)
    rec = run(_one(ex, OpenAIChat(server.openai_base_url)))
    assert rec.ok and rec.attempts == 3 and len(server.api_requests()) == 3


def test_bounded_attempts_then_error_is_surfaced(server):
    server.add_fault(status=503, times=10)
    ex = Executor(retry=FAST)
    rec = run(_one(ex, OpenAIChat(server.openai_base_url)))
    assert not rec.ok and rec.response is None
    assert rec.attempts == 3 and len(server.api_requests()) == 3 and rec.error_status == 503
    assert rec.error and rec.error_type


@pytest.mark.parametrize("status", [400, 401, 404])
def test_client_errors_are_not_retried(server, status):
    server.add_fault(status=status, times=3)
    ex = Executor(retry=FAST)
    rec = run(_one(ex, OpenAIChat(server.openai_base_url)))
    assert not rec.ok and rec.attempts == 1 and len(server.api_requests()) == 1 and rec.error_status == status


def test_timeout_then_retry_succeeds(server):
    server.hang_s = 5.0
    server.add_fault(hang=True)
    ex = Executor(timeout=0.4, retry=FAST)
    rec = run(_one(ex, OpenAIChat(server.openai_base_url)))
    assert rec.ok and rec.attempts == 2 and len(server.api_requests()) == 2


def test_timeout_on_every_attempt_is_an_error():
    async def slow(p):
        await asyncio.sleep(5)
        return "late"

    ex = Executor(timeout=0.1, retry=RetryPolicy(max_attempts=2, backoff_base=0.0))
    rec = run(_one(ex, slow))
    assert not rec.ok and rec.attempts == 2 and "timed out after 0.1 s" in rec.error


def test_malformed_body_is_retried(server):
    server.add_fault(malformed=True)
    ex = Executor(retry=FAST)
    rec = run(_one(ex, OpenAIChat(server.openai_base_url)))
    assert rec.ok and rec.attempts == 2 and rec.response.startswith("echo:")


def test_programming_error_and_none_answer():
    def buggy(p):
        raise TypeError("bad argument")

    ex = Executor(retry=FAST)
    rec = run(_one(ex, buggy))
    assert not rec.ok and rec.attempts == 1 and rec.error_type == "TypeError"
    ex = Executor(retry=FAST)
    rec = run(_one(ex, lambda p: None))  # never silently an empty answer
    assert not rec.ok and rec.response is None and "returned None" in rec.error and rec.attempts == 3


def test_sync_models_never_block_the_event_loop():
    """Each sync call blocks its thread until the event loop itself releases it: if a sync model ran
    on the loop, the loop could never release it (the call would fail at its deadline). Four run at
    once (a barrier of four) and never more (the limit)."""
    barrier = threading.Barrier(4, timeout=20)
    lock = threading.Lock()
    in_flight = peak = 0

    async def main():
        release = threading.Event()

        def sync_model(p):
            nonlocal in_flight, peak
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)
            try:
                barrier.wait()  # all four slots are busy at once
                if not release.wait(20):  # only the event loop sets it
                    raise RuntimeError("the event loop never ran")
                return "done " + p
            finally:
                with lock:
                    in_flight -= 1

        async def releaser():
            while True:
                await asyncio.sleep(0.01)
                if peak >= 4:  # the loop is running while four threads are blocked
                    release.set()

        ex = Executor(max_concurrency=4, timeout=30, inline=False)
        rel = asyncio.create_task(releaser())
        try:
            return await asyncio.gather(*(ex.call("s", sync_model, str(i)) for i in range(8)))
        finally:
            rel.cancel()
            ex.close()

    recs = run(main())
    assert [r.response for r in recs] == [f"done {i}" for i in range(8)] and all(r.attempts == 1 for r in recs)
    assert peak == 4


def test_global_and_per_model_concurrency_limits(server):
    server.latency_s = 0.05

    async def main(ex, models):
        fn = OpenAIChat(server.openai_base_url)  # an SDK client belongs to one event loop
        try:
            return await asyncio.gather(*(ex.call(m, fn, f"{m} {i}") for m in models for i in range(12)))
        finally:
            ex.close()

    recs = run(main(Executor(max_concurrency=16, model_concurrency=3), ["a"]))
    assert all(r.ok for r in recs) and server.max_seen_in_flight == 3
    server.reset()
    recs = run(main(Executor(max_concurrency=4, model_concurrency={"a": 3, "b": 3}), ["a", "b"]))
    assert all(r.ok for r in recs) and server.max_seen_in_flight == 4


def test_aimd_backs_off_on_429_and_recovers(server):
    """The provider allows 4 in flight; we start at 16. AIMD must back off (far fewer 429s than
    a fixed limit gets) and climb back once the provider's limit is lifted."""
    server.latency_s = 0.03
    server.max_in_flight = 4
    server.in_flight_retry_after = 0.02
    retry = RetryPolicy(max_attempts=50, backoff_base=0.01)

    async def batch(ex, n, tag):
        fn = OpenAIChat(server.openai_base_url)
        return await asyncio.gather(*(ex.call("m", fn, f"{tag} {i}") for i in range(n)))

    async def fixed_run():
        ex = Executor(max_concurrency=16, adaptive=False, retry=retry)
        try:
            return await batch(ex, 120, "fixed")
        finally:
            ex.close()

    recs = run(fixed_run())
    assert all(r.ok for r in recs)
    fixed_429 = sum(r.rate_limited for r in recs)
    server.reset()

    async def adaptive_run():
        ex = Executor(max_concurrency=16, adaptive=True, retry=retry)
        try:
            recs = await batch(ex, 120, "adaptive")
            state = ex._state("m").limit
            # the lowest limit reached: additive recovery may already have raised the current one
            backed_off = state.lowest
            decreases = state.decreases
            server.max_in_flight = None  # the provider lifts its limit
            await batch(ex, 200, "after")
            return recs, backed_off, decreases, ex.concurrency_limit("m")
        finally:
            ex.close()

    recs, backed_off, decreases, recovered = run(adaptive_run())
    adaptive_429 = sum(r.rate_limited for r in recs)
    assert all(r.ok for r in recs)
    assert decreases >= 2 and backed_off < 8
    assert adaptive_429 < 0.5 * fixed_429, (adaptive_429, fixed_429)
    assert recovered > backed_off + 3  # additive increase: about +1 per `limit` successes


def test_requests_per_minute_bucket():
    """20/s with a burst of 20: the k-th call (0-based) cannot start before (k + 1 - 20) / 20 s after
    the run began. Lower bounds only: a loaded machine makes calls later, never earlier."""
    starts: list[float] = []

    async def model(p):
        starts.append(time.monotonic())
        return p

    async def main():
        ex = Executor(max_concurrency=32, requests_per_minute=1200)  # 20/s, burst 20
        t0 = time.monotonic()
        try:
            recs = await asyncio.gather(*(ex.call("m", model, str(i)) for i in range(50)))
            return recs, t0
        finally:
            ex.close()

    recs, t0 = run(main())
    assert all(r.ok for r in recs) and len(starts) == 50
    for k, t in enumerate(sorted(starts)):
        assert t - t0 >= (k + 1 - 20) / 20 - 1e-3, (k, t - t0)


def test_tokens_per_minute_charges_tokens_known_after_the_call():
    starts: list[float] = []

    async def chatty(p):
        starts.append(time.monotonic())
        return Answer("long answer", 10, 290)  # 300 tokens, only known afterwards

    async def main():
        ex = Executor(tokens_per_minute=6000)  # 100 tokens/s, bucket of 100
        try:
            await ex.call("m", chatty, "a")
            await ex.call("m", chatty, "b")
        finally:
            ex.close()

    run(main())
    # after the first call the bucket owes ~200 tokens; the next needs its estimate on top: >= 2 s
    assert starts[1] - starts[0] >= 1.9


def test_concurrency_state_survives_a_new_event_loop():
    ex = Executor(max_concurrency=2)

    async def main():
        return await asyncio.gather(*(ex.call("m", lambda p: p + "!", str(i)) for i in range(5)))

    for _ in range(2):  # two asyncio.run() calls on one executor, as a sync wrapper does
        recs = run(main())
        assert [r.response for r in recs] == [f"{i}!" for i in range(5)]
    ex.close()


def test_configuration_is_validated():
    with pytest.raises(ConfigError, match="`max_concurrency` must be an integer >= 1, got 0"):
        Executor(max_concurrency=0)
    with pytest.raises(ConfigError, match=r"`prices\['m'\]` must be a pair"):
        Executor(prices={"m": 3.0})
    with pytest.raises(ConfigError, match="`requests_per_minute` must be a number > 0"):
        Executor(requests_per_minute=-1)
    with pytest.raises(ConfigError, match="`timeout` must be a number > 0 or None"):
        Executor(timeout=0)
    with pytest.raises(ConfigError, match="`max_attempts` must be an integer >= 1"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ConfigError, match="`params` must be JSON-serialisable"):
        run(Executor().call("m", lambda p: p, "x", params={"obj": object()}))


def test_run_in_thread_safe_from_other_threads(server):
    """Two threads each running their own loop and executor do not interfere."""
    results: list[list[CallRecord]] = []

    def worker(tag):
        ex = Executor(max_concurrency=4)
        fn = OpenAIChat(server.openai_base_url)

        async def main():
            return await asyncio.gather(*(ex.call("m", fn, f"{tag}{i}") for i in range(10)))

        results.append(run(main()))
        ex.close()

    threads = [threading.Thread(target=worker, args=(t,)) for t in "xy"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 2 and all(r.ok for rs in results for r in rs)
    assert len(server.api_requests()) == 20


def test_a_throttled_model_does_not_hold_global_slots():
    """"slow" may start one call per 10 s; while three of its calls wait on that bucket, all six calls
    of "free" go through the two global slots. Checked by counts, not by clock."""

    async def fast(p):
        await asyncio.sleep(0)
        return p

    async def main():
        ex = Executor(max_concurrency=2, requests_per_minute={"slow": 6})  # "slow": burst 1, then 1 per 10 s
        done = {"slow": 0, "free": 0}

        async def one(model, i):
            rec = await ex.call(model, fast, f"{model}{i}")
            done[model] += 1
            return rec

        slow = [asyncio.create_task(one("slow", i)) for i in range(4)]
        while done["slow"] < 1:  # the burst call went through; the other three now wait on the bucket
            await asyncio.sleep(0.005)
        free = await asyncio.gather(*(one("free", i) for i in range(6)))
        slow_done_then = done["slow"]
        for t in slow:
            t.cancel()
        await asyncio.gather(*slow, return_exceptions=True)
        ex.close()
        return free, slow_done_then

    free, slow_done_then = run(main())
    assert all(r.ok for r in free) and len(free) == 6
    assert slow_done_then == 1  # free did not wait for the throttled model's next token (10 s away)


def test_a_broken_store_degrades_to_no_cache(tmp_path):
    from bayesbench.store import Store

    store = Store(tmp_path / "bb.sqlite")
    store.close()
    for p in tmp_path.iterdir():
        p.unlink()
    (tmp_path / "bb.sqlite").mkdir()  # the file is now a directory: every query fails

    async def main():
        ex = Executor(store=store)
        try:
            return await ex.call("m", lambda p: p + "!", "x")
        finally:
            ex.close()

    with pytest.warns(RuntimeWarning, match="could not use the store"):
        rec = run(main())
    assert rec.ok and rec.response == "x!" and "store_error" in rec.extra
