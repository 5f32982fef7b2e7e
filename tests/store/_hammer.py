"""One of two processes writing to the same store file at once (the concurrency test).

``python -m tests.store._hammer DB TAG N GO_FILE``: waits for GO_FILE, then writes N call
records, N shared and N own cache entries and N score rows, one short transaction each.
"""

from __future__ import annotations

import os
import sys
import time

from bayesbench.execution import CallRecord
from bayesbench.store import Store


def main(db: str, tag: str, n: int, go: str) -> None:
    store = Store(db)
    run_id = store.start_run(f"hammer-{tag}", {"tag": tag}, 0, [])
    deadline = time.monotonic() + 30
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.005)
    for i in range(n):
        store.record_call(run_id, CallRecord(model=tag, problem_id=str(i), response="r", latency_s=0.01, attempts=1))
        store.put_cached(f"shared-{i}", f"from {tag}", {"model": "m"})
        store.put_cached(f"{tag}-{i}", "own", {"model": tag})
        store.record_scores(run_id, str(i), {tag: float(i % 2)})
    store.finish_run(run_id, {"n": n})
    print(run_id)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
