"""Daemon worker threads for sync model functions, with coalesced hand-back to the event loop.

Why not :class:`concurrent.futures.ThreadPoolExecutor`: its workers are joined at interpreter exit,
so one sync model that hangs keeps the process alive after the run has timed it out and returned.
These workers are daemon threads: a call abandoned at its deadline keeps running (threads cannot be
killed) but never blocks exit, and a fresh worker is started whenever none is idle, so abandoned
calls never delay the calls that follow.

Answers go back to the loop through one queue per loop. A worker wakes the loop only when no wake-up
is already pending, so a burst of fast calls costs one wake-up, not one per call.

A thread hand-off costs far more than an instant function (tens of µs on an idle machine, up to
milliseconds on a loaded one, where waking a thread means waiting for the OS scheduler). So the pool
also tells the executor which functions are *instant*: at least three in four of their last
:data:`INSTANT_AFTER` calls on threads returned in under :data:`INSTANT_S` (not all: threads
contending for the GIL stretch a few instant calls; a function that waits on I/O is never that fast). Those are called inline on the event loop. An inline call
that takes longer than :data:`DEMOTE_S` sends the function back to the threads, and it must then
prove itself four times longer before it is inlined again (so a function that is sometimes slow
soon stays on threads for good).
"""

from __future__ import annotations

import asyncio
import collections
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

_STOP = object()

#: A call that returns within this many seconds counts as instant.
INSTANT_S = 100e-6
#: Calls on threads observed before a function may be called inline (the first time).
INSTANT_AFTER = 32
#: An inline call slower than this sends its function back to the threads (well above the time
#: slice a loaded OS may take from us in the middle of an instant call).
DEMOTE_S = 20e-3


class _Returns:
    """Results of finished calls waiting for one event loop to pick them up."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.items: collections.deque[tuple[asyncio.Future[Any], bool, Any]] = collections.deque()
        self.lock = threading.Lock()
        self.scheduled = False

    def put(self, fut: asyncio.Future[Any], ok: bool, value: Any) -> None:
        self.items.append((fut, ok, value))
        with self.lock:
            if self.scheduled:
                return  # the pending wake-up will deliver this item too
            self.scheduled = True
        try:
            self.loop.call_soon_threadsafe(self.drain)
        except RuntimeError:  # the loop is closed: nobody is waiting for this answer any more
            pass

    def drain(self) -> None:
        with self.lock:
            self.scheduled = False
        while self.items:
            fut, ok, value = self.items.popleft()
            if fut.done():  # its deadline passed (or the caller was cancelled): a late answer is dropped
                continue
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)


class DaemonPool:
    """Run ``fn(*args)`` on daemon threads; :meth:`submit` returns an asyncio future of the result."""

    def __init__(self, name: str = "bayesbench") -> None:
        self.name = name
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # workers waiting for work that no submitted item has claimed yet
        self._threads: list[threading.Thread] = []
        self._returns: dict[asyncio.AbstractEventLoop, _Returns] = {}
        # fn -> [instant calls in this window, calls in this window, window length; inline when >= 0]
        self._instant: dict[Any, list[int]] = {}

    # ------------------------------------------------------------------ instant functions
    def is_instant(self, fn: Callable[..., Any]) -> bool:
        """True when ``fn`` has proven instant and may be called inline."""
        try:
            seen = self._instant.get(fn)
        except TypeError:  # an unhashable callable: always on a thread
            return False
        return seen is not None and seen[1] < 0

    def _observe(self, fn: Callable[..., Any], seconds: float) -> None:
        try:
            seen = self._instant.get(fn)
            if seen is None:
                seen = self._instant[fn] = [0, 0, INSTANT_AFTER]
        except TypeError:
            return
        if seen[1] < 0:  # already inline (a call that was on a thread when it was promoted)
            return
        seen[0] += seconds < INSTANT_S
        seen[1] += 1
        if seen[1] >= seen[2]:
            if 4 * seen[0] >= 3 * seen[1]:
                seen[1] = -1  # promoted
            else:
                seen[0] = seen[1] = 0  # start a new window

    def demote(self, fn: Callable[..., Any]) -> None:
        """Back to the threads (and four times longer to prove instant again)."""
        seen = self._instant.get(fn)
        if seen is not None:
            seen[0], seen[1], seen[2] = 0, 0, seen[2] * 4

    def call_inline(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        """Call a proven-instant ``fn`` here and now; a slow call sends it back to the threads."""
        t0 = time.perf_counter()
        try:
            return fn(*args)
        finally:
            if time.perf_counter() - t0 >= DEMOTE_S:
                self.demote(fn)

    @property
    def threads(self) -> int:
        """Worker threads started so far (alive or finished)."""
        return len(self._threads)

    def submit(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        returns = self._returns.get(loop)
        if returns is None:
            self._returns = {lp: r for lp, r in self._returns.items() if not lp.is_closed()}
            returns = self._returns[loop] = _Returns(loop)
        fut = loop.create_future()
        with self._lock:
            spawn = self._idle == 0
            if not spawn:
                self._idle -= 1  # claim an idle worker for this item
        if spawn:
            t = threading.Thread(target=self._work, name=f"{self.name}-{len(self._threads)}", daemon=True)
            self._threads.append(t)
            t.start()
        self._q.put((returns, fut, fn, args))
        return fut

    def _work(self) -> None:
        q = self._q
        while True:
            item = q.get()
            if item is _STOP:
                return
            returns, fut, fn, args = item
            t0 = time.perf_counter()
            try:
                ok, value = True, fn(*args)
            except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
                ok, value = False, exc
            self._observe(fn, time.perf_counter() - t0)
            # Idle *before* answering: the caller's next call may follow at once and should reuse
            # this worker rather than start another.
            with self._lock:
                self._idle += 1
            returns.put(fut, ok, value)
            del item, returns, fut, fn, args, value

    def close(self) -> None:
        """Let idle workers end. Busy (possibly hung) workers are daemons and never block exit."""
        with self._lock:
            idle, self._idle = self._idle, 0
        for _ in range(idle):
            self._q.put(_STOP)
        self._threads = [t for t in self._threads if t.is_alive()]
