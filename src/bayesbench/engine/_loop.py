"""The one sequential loop: shuffled order, look-ahead dispatch, feeding in dispatch order, stopping.

Problems are dispatched in the seeded shuffled order while at most two batches are open (the one
being completed and the next), so calls stay in flight across batch boundaries and an early stop
overshoots by at most one batch. Scores reach the decision engine only as whole batches, in
dispatch order, never in completion order (statistics.md §7.2): a model that is slow exactly when it
is wrong cannot bias the test.

When one evaluation fails, the problems already in flight are let finish (each call is bounded by
its deadline), and every one that succeeded is handed back, in dispatch order, on the
:class:`LoopAborted` (``leftover``), so the caller can build a partial result that loses nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._progress import Progress

# evaluate(problem_index_in_dataset) -> whatever the caller's feeder understands
Evaluate = Callable[[int], Awaitable[Any]]
# feed(list of evaluate() results for one batch, in dispatch order) -> True when the run must stop
Feed = Callable[[list[Any]], bool]


def shuffled_order(n: int, seed: int) -> list[int]:
    """The seeded random permutation of ``range(n)`` every run uses (recorded with its seed)."""
    return [int(i) for i in np.random.default_rng(seed).permutation(n)]


@dataclass
class LoopOutcome:
    fed: int = 0
    dispatched: int = 0
    stopped_early: bool = False


class LoopAborted(Exception):
    """Raised out of :func:`run_loop` when an evaluation (or ``feed``) failed.

    ``leftover`` holds the results of the dispatched problems that succeeded but were not fed, in
    dispatch order (empty when ``feed`` itself failed, since its state is then unknown).
    """

    def __init__(self, error: BaseException, outcome: LoopOutcome, leftover: list[Any] | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.outcome = outcome
        self.leftover = leftover or []


async def run_loop(
    order: Sequence[int],
    evaluate: Evaluate,
    feed: Feed,
    *,
    batch_size: int,
    first_batch: int,
    limit: int,
    progress: Progress | None = None,
    status: Callable[[], str] = lambda: "",
) -> LoopOutcome:
    """Evaluate problems ``order[0:limit]`` batch by batch until ``feed`` says stop.

    ``first_batch`` (>= batch_size) lets the caller honour ``min_samples`` without ever looking at a
    decision before that many problems were fed.
    """
    outcome = LoopOutcome()
    tasks: dict[int, asyncio.Task[Any]] = {}
    boundaries = batch_boundaries(limit, batch_size, first_batch)
    finished = False
    try:
        for b_index, (start, end) in enumerate(boundaries):
            # keep the current batch and the next one in flight
            ahead = boundaries[b_index + 1][1] if b_index + 1 < len(boundaries) else end
            while outcome.dispatched < ahead:
                pos = outcome.dispatched
                tasks[pos] = asyncio.ensure_future(evaluate(order[pos]))
                outcome.dispatched += 1
            batch = []
            for pos in range(start, end):
                try:
                    batch.append(await tasks[pos])
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    # Let what is in flight finish (deadline-bounded), then hand back every success.
                    await asyncio.gather(*tasks.values(), return_exceptions=True)
                    leftover = batch + [
                        t.result() for p, t in sorted(tasks.items())
                        if p > pos and not t.cancelled() and t.exception() is None
                    ]
                    tasks.clear()
                    raise LoopAborted(exc, outcome, leftover) from exc
                del tasks[pos]
            try:
                stop = feed(batch)
            except Exception as exc:
                raise LoopAborted(exc, outcome) from exc
            outcome.fed = end
            if progress is not None:
                progress.update(end, status())
            if stop:
                outcome.stopped_early = end < limit
                break
        finished = True
    finally:
        if tasks:
            if not finished:
                for task in tasks.values():
                    task.cancel()
            # After a normal stop the look-ahead batch is let finish: its calls are the overshoot
            # (at most one batch), and finishing them records and caches what they cost, so an
            # identical re-run is answered from the cache without a single model call.
            await asyncio.gather(*tasks.values(), return_exceptions=True)
    return outcome


def batch_boundaries(limit: int, batch_size: int, first_batch: int) -> list[tuple[int, int]]:
    """``[(start, end), ...]`` of the batches over positions ``0..limit``; the first holds at least
    ``first_batch`` problems (``min_samples``)."""
    bounds = []
    start = 0
    end = min(limit, max(first_batch, batch_size))
    while start < limit:
        bounds.append((start, end))
        start, end = end, min(limit, end + batch_size)
    return bounds


def run_sync(coro_factory: Callable[[], Awaitable[Any]]) -> Any:
    """Run a coroutine from sync code, also when an event loop is already running (notebooks)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro_factory())  # type: ignore[arg-type]
    # Inside a running loop (e.g. Jupyter): run in a private loop on a worker thread.
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(coro_factory())).result()  # type: ignore[arg-type]
