"""Daemon worker threads for sync model functions, with coalesced hand-back to the event loop.

Why not :class:`concurrent.futures.ThreadPoolExecutor`: its workers are joined at interpreter exit,
so one sync model that hangs keeps the process alive after the run has timed it out and returned.
These workers are daemon threads: a call abandoned at its deadline keeps running (threads cannot be
killed) but never blocks exit, and a fresh worker is started whenever none is idle, so abandoned
calls never delay the calls that follow.

Answers go back to the loop through one queue per loop. A worker wakes the loop only when no wake-up
is already pending, so a burst of fast calls costs one wake-up, not one per call.
"""

from __future__ import annotations

import asyncio
import collections
import queue
import threading
from typing import Any, Callable

_STOP = object()


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
            try:
                ok, value = True, fn(*args)
            except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
                ok, value = False, exc
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
