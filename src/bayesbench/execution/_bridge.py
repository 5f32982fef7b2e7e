"""Talk to the (synchronous) store from the event loop without blocking it.

One background thread owns all store traffic of an executor. Writes that arrive while it is busy
are grouped into one transaction ("group commit"): at high concurrency that turns hundreds of
small commits into a few, and every caller is still answered only after *its* rows are committed.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from dataclasses import dataclass
from typing import Any

_MAX_GROUP = 512


@dataclass
class _Op:
    kind: str  # "get" | "write"
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    key: str | None = None
    calls: tuple[tuple[str | None, Any], ...] = ()
    cached: tuple[tuple[str, str, dict[str, Any]], ...] = ()


def _resolve_all(items: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for fut, value, exc in items:
        if fut.done():
            continue
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(value)


class StoreBridge:
    def __init__(self, store: Any) -> None:
        self.store = store
        self._q: queue.SimpleQueue[_Op | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.commits = 0
        self.failed_writes = 0
        self._pending: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any, BaseException | None]]] = {}

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="bayesbench-store", daemon=True)
                self._thread.start()

    def _submit(self, op: _Op) -> asyncio.Future[Any]:
        self._start()
        self._q.put(op)
        return op.future

    async def get(self, key: str) -> tuple[str, dict[str, Any]] | None:
        loop = asyncio.get_running_loop()
        return await self._submit(_Op("get", loop, loop.create_future(), key=key))

    async def write(
        self,
        *,
        calls: tuple[tuple[str | None, Any], ...] = (),
        cached: tuple[tuple[str, str, dict[str, Any]], ...] = (),
    ) -> None:
        loop = asyncio.get_running_loop()
        # shield: a cancelled caller (Ctrl-C) must not abandon a write the thread is already doing
        await asyncio.shield(self._submit(_Op("write", loop, loop.create_future(), calls=calls, cached=cached)))

    def write_nowait(self, *, calls: tuple[tuple[str | None, Any], ...]) -> None:
        """Queue rows without waiting for the commit (for records that cost nothing to redo)."""
        self._start()
        self._q.put(_Op("write", None, None, calls=calls))  # type: ignore[arg-type]

    def _answer(self, op: _Op, value: Any = None, exc: BaseException | None = None) -> None:
        if op.future is None:  # fire-and-forget write
            if exc is not None:
                self.failed_writes += 1
            return
        self._pending.setdefault(op.loop, []).append((op.future, value, exc))

    def _flush_answers(self) -> None:
        """Resolve a whole batch's futures with one wake-up of each waiting event loop."""
        pending, self._pending = self._pending, {}
        for loop, items in pending.items():
            try:
                loop.call_soon_threadsafe(_resolve_all, items)
            except RuntimeError:  # the loop is closed; nobody is waiting any more
                pass

    def _run(self) -> None:
        while True:
            first = self._q.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < _MAX_GROUP:
                try:
                    nxt = self._q.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            writes = [op for op in batch if op.kind == "write"]
            if writes:
                try:
                    self.store.write_batch(
                        calls=[c for op in writes for c in op.calls],
                        cached=[c for op in writes for c in op.cached],
                    )
                    self.commits += 1
                    for op in writes:
                        self._answer(op)
                except Exception:
                    # one bad row must not fail its neighbours: retry each write on its own
                    for op in writes:
                        try:
                            self.store.write_batch(calls=list(op.calls), cached=list(op.cached))
                            self.commits += 1
                            self._answer(op)
                        except Exception as exc:
                            self._answer(op, exc=exc)
            gets = [op for op in batch if op.kind == "get"]
            if gets:  # one query answers every lookup that queued up meanwhile
                try:
                    found = self.store.get_cached_many([op.key for op in gets])
                except Exception as exc:
                    for op in gets:
                        self._answer(op, exc=exc)
                else:
                    for op in gets:
                        self._answer(op, found.get(op.key))
            self._flush_answers()
            if stop:
                return

    def close(self, timeout: float = 10.0) -> None:
        """Finish queued work, then stop the thread."""
        with self._lock:
            t = self._thread
            self._thread = None
        if t is not None and t.is_alive():
            self._q.put(None)
            t.join(timeout)
