"""Concurrency and rate limiters for the executor (single event loop, no threads).

* :class:`AdaptiveLimit` — a per-model concurrency limit that adapts by AIMD, the rule TCP uses:
  on a rate-limit error the limit is multiplied by ``decrease`` (once per "generation" of
  requests, so a burst of 429s from requests sent under the same limit counts once); on each
  success it grows by ``1 / limit``, i.e. by about one slot per limit's worth of successes.
* :class:`TokenBucket` — requests-per-minute or tokens-per-minute. Tokens are taken before a
  call (an estimate) and the difference is charged after it, which may drive the level below
  zero: later callers then wait until the debt is repaid.
"""

from __future__ import annotations

import asyncio
import collections
import time


class AdaptiveLimit:
    """A semaphore whose capacity moves between ``minimum`` and ``maximum`` by AIMD."""

    def __init__(self, maximum: int, *, adaptive: bool = True, minimum: int = 1, decrease: float = 0.5) -> None:
        self.maximum = maximum
        self.minimum = max(1, min(minimum, maximum))
        self.adaptive = adaptive
        self.decrease = decrease
        self.limit = float(maximum)
        self.in_flight = 0
        self.decreases = 0
        self.lowest = float(maximum)  # the lowest limit AIMD backed off to (observability, tests)
        self._last_decrease = float("-inf")
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    @property
    def waiting(self) -> bool:
        """True when callers are queued for a slot."""
        return bool(self._waiters)

    @property
    def capacity(self) -> int:
        return max(self.minimum, int(self.limit))

    def reset_loop(self) -> None:
        """Forget waiters and in-flight counts of a previous (finished) event loop."""
        self._waiters.clear()
        self.in_flight = 0

    async def acquire(self) -> None:
        if self.in_flight < self.capacity and not self._waiters:
            self.in_flight += 1
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await fut  # FIFO; _wake() hands the slot over (counts it) before waking us
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # we were handed a slot but will not use it
            elif fut in self._waiters:
                self._waiters.remove(fut)
            raise

    def release(self) -> None:
        self.in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        # Hand-off: a slot is counted as taken when its waiter is woken, so two releases
        # before the waiter runs cannot wake more waiters than there are slots.
        while self._waiters and self.in_flight < self.capacity:
            fut = self._waiters.popleft()
            if not fut.done():
                self.in_flight += 1
                fut.set_result(None)

    def on_success(self) -> None:
        if self.adaptive and self.limit < self.maximum:
            self.limit = min(float(self.maximum), self.limit + 1.0 / self.limit)
            self._wake()

    def on_rate_limited(self, sent_at: float) -> None:
        """Back off multiplicatively, unless this request was sent before the last back-off."""
        if not self.adaptive or sent_at < self._last_decrease:
            return
        self.limit = max(float(self.minimum), self.limit * self.decrease)
        self.lowest = min(self.lowest, self.limit)
        self._last_decrease = time.monotonic()
        self.decreases += 1


class TokenBucket:
    """``rate_per_minute`` units refilled continuously, holding at most ``capacity`` units."""

    def __init__(self, rate_per_minute: float, *, capacity: float | None = None) -> None:
        self.rate = rate_per_minute / 60.0
        # Default burst: one second's worth (at least one unit), so a fresh run does not fire a
        # whole minute's budget at once and trip the provider's own shorter-window limiter.
        self.capacity = float(capacity) if capacity is not None else max(1.0, self.rate)
        self.level = self.capacity
        self._stamp = time.monotonic()
        self._lock: asyncio.Lock | None = None
        self.waited_s = 0.0

    def reset_loop(self) -> None:
        self._lock = None

    def _refill(self) -> None:
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self, amount: float = 1.0) -> None:
        amount = min(float(amount), self.capacity)  # a request bigger than the bucket still goes, alone
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # FIFO: one waiter at a time owns the refill
            while True:
                self._refill()
                if self.level >= amount:
                    self.level -= amount
                    return
                wait = (amount - self.level) / self.rate
                self.waited_s += wait
                await asyncio.sleep(wait)

    def charge(self, amount: float) -> None:
        """Take ``amount`` more units now (may go negative); used for tokens known after a call."""
        self._refill()
        self.level -= amount
