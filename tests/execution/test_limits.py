"""AIMD concurrency limit and token buckets, on a real event loop."""

from __future__ import annotations

import asyncio
import time

import pytest

from bayesbench.execution._limits import AdaptiveLimit, TokenBucket

pytestmark = pytest.mark.timeout(30)


def test_aimd_arithmetic_and_one_decrease_per_generation():
    lim = AdaptiveLimit(16)
    sent_before = time.monotonic()
    lim.on_rate_limited(sent_before)
    assert lim.limit == 8 and lim.capacity == 8
    lim.on_rate_limited(sent_before)  # sent under the old limit: the same congestion event
    assert lim.limit == 8 and lim.decreases == 1
    lim.on_rate_limited(time.monotonic())  # a request sent after the back-off
    assert lim.limit == 4
    for _ in range(4):  # additive increase: +1/limit per success, i.e. about +1 per window
        lim.on_success()
    assert 4.9 < lim.limit < 5.0
    for _ in range(1000):
        lim.on_success()
    assert lim.limit == 16  # capped at the maximum
    for _ in range(20):
        lim.on_rate_limited(time.monotonic() + 1)
    assert lim.limit == 1 and lim.capacity == 1  # floored at the minimum


def test_non_adaptive_limit_stays_put():
    lim = AdaptiveLimit(5, adaptive=False)
    lim.on_rate_limited(time.monotonic())
    lim.on_success()
    assert lim.limit == 5


def test_hand_off_is_fifo_bounded_and_cancel_safe():
    async def main():
        lim = AdaptiveLimit(2, adaptive=False)
        order: list[int] = []
        peak = 0

        async def worker(i: int) -> None:
            nonlocal peak
            await lim.acquire()
            try:
                order.append(i)
                peak = max(peak, lim.in_flight)
                await asyncio.sleep(0.01)
            finally:
                lim.release()

        tasks = [asyncio.create_task(worker(i)) for i in range(10)]
        await asyncio.sleep(0)
        tasks[5].cancel()  # a queued waiter gives up
        await asyncio.gather(*tasks, return_exceptions=True)
        return order, peak, lim.in_flight, len(lim._waiters)

    order, peak, in_flight, waiting = asyncio.run(main())
    assert order == [0, 1, 2, 3, 4, 6, 7, 8, 9]  # first come, first served, minus the cancelled one
    assert peak == 2 and in_flight == 0 and waiting == 0


def test_shrinking_limit_applies_to_the_next_acquire():
    async def main():
        lim = AdaptiveLimit(4)
        for _ in range(4):
            await lim.acquire()
        lim.on_rate_limited(time.monotonic())  # 4 -> 2 while 4 are in flight
        waiter = asyncio.create_task(lim.acquire())
        for _ in range(2):
            lim.release()
            await asyncio.sleep(0)
        blocked = not waiter.done()  # 2 still in flight = the new limit
        lim.release()
        await asyncio.wait_for(waiter, 1)
        return blocked, lim.in_flight

    blocked, in_flight = asyncio.run(main())
    assert blocked and in_flight == 2


def test_token_bucket_rate_and_debt():
    async def main():
        bucket = TokenBucket(600)  # 10 per second, burst 10
        t0 = time.monotonic()
        for _ in range(20):
            await bucket.acquire(1)
        took = time.monotonic() - t0
        bucket.charge(10)  # tokens only known after a call: the level goes negative
        t1 = time.monotonic()
        await bucket.acquire(1)
        return took, time.monotonic() - t1

    took, debt_wait = asyncio.run(main())
    assert 0.9 <= took < 1.6  # 10 at once, 10 more at 10/s
    assert 0.9 <= debt_wait < 1.6  # ~10 units of debt + 1 at 10/s; not more than the debt implies


def test_token_bucket_oversized_request_still_goes():
    async def main():
        bucket = TokenBucket(60)  # 1 per second, burst 1
        t0 = time.monotonic()
        await bucket.acquire(50)  # capped at the bucket size: runs alone instead of never
        return time.monotonic() - t0

    assert asyncio.run(main()) < 0.1
