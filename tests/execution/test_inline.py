"""Proven-instant sync functions are called inline on the event loop; anything else stays on threads."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from bayesbench.execution import Executor
from bayesbench.execution._threads import DEMOTE_S, INSTANT_AFTER
from bayesbench.store import Store

pytestmark = pytest.mark.timeout(120)


def _where(n: int, ex: Executor, fn) -> list[bool]:
    """Run n calls one after another; for each, True when it ran on the event loop's thread."""

    async def main():
        loop_thread = threading.current_thread()
        out = []
        for i in range(n):
            rec = await ex.call("m", fn, i)
            assert rec.ok, rec.error
            out.append(rec.response == loop_thread.name)
        return out

    try:
        return asyncio.run(main())
    finally:
        ex.close()


def test_an_instant_function_moves_inline_after_proving_itself():
    def instant(p):
        return threading.current_thread().name

    where = _where(8 * INSTANT_AFTER, Executor(), instant)
    first_inline = where.index(True)
    # at the end of a proving window: the first, unless a loaded machine stretched its calls
    assert first_inline >= INSTANT_AFTER and first_inline % INSTANT_AFTER == 0
    assert all(where[first_inline:])  # and then every call is inline
    assert not any(_where(2 * INSTANT_AFTER, Executor(inline=False), instant))


def test_an_inline_function_that_turns_slow_goes_back_to_threads():
    calls = 0

    def turns_slow(p):
        nonlocal calls
        calls += 1
        if calls == 3 * INSTANT_AFTER:
            time.sleep(2 * DEMOTE_S)  # one slow call while inline
        return threading.current_thread().name

    where = _where(3 * INSTANT_AFTER + 2 * INSTANT_AFTER, Executor(), turns_slow)
    assert where[3 * INSTANT_AFTER - 1]  # the slow call itself ran inline (it was proven instant)
    # then back to threads, for at least four windows' worth of calls before another promotion
    assert not any(where[3 * INSTANT_AFTER:])


def test_with_a_store_every_call_is_still_recorded_and_cached(tmp_path):
    """Inline or not, a call is committed to the store before ``call`` returns."""
    store = Store(tmp_path / "bb.sqlite")
    run_id = store.start_run("r", {}, 0, [])

    def instant(p):
        return threading.current_thread().name

    where = _where(3 * INSTANT_AFTER, Executor(store=store, run_id=run_id), instant)
    assert any(where)  # it did go inline (taking its slots first: the store commit yields)
    calls = store.calls(run_id)
    assert len(calls) == 3 * INSTANT_AFTER and not any(c["cached"] for c in calls)
    assert store.cache_size() == 3 * INSTANT_AFTER
