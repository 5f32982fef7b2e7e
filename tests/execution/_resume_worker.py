"""A benchmark-like run in its own process, for the kill-and-resume test.

``python -m tests.execution._resume_worker DB BASE_URL N`` asks the fake server N prompts through
an Executor backed by the store at DB, resuming the unfinished run with the same name and config
if there is one, and prints ``live=<calls made> cached=<calls served from the store>``.
"""

from __future__ import annotations

import asyncio
import sys

from bayesbench.execution import Executor
from bayesbench.store import Store
from tests.execution._clients import OpenAIChat


async def main(db: str, base_url: str, n: int) -> None:
    store = Store(db)
    config = {"models": ["fake"], "n": n, "api_key": "sk-must-not-be-stored"}
    run_id = store.find_resumable_run("kill-test", config)
    if run_id is None:
        run_id = store.start_run("kill-test", config, seed=7, order=[str(i) for i in range(n)])
    ex = Executor(max_concurrency=4, store=store, run_id=run_id)
    fn = OpenAIChat(base_url)
    recs = await asyncio.gather(*(ex.call("fake", fn, f"prompt {i}", problem_id=str(i)) for i in range(n)))
    ex.close()
    assert all(r.ok for r in recs), [r.error for r in recs if not r.ok]
    store.finish_run(run_id, {"calls": len(recs)})
    live = sum(not r.cached for r in recs)
    print(f"run={run_id} live={live} cached={len(recs) - live}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
