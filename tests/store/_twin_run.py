"""One process of the "two identical runs at once" test.

``python -m tests.store._twin_run DB GO_FILE FAIL_AT [BARRIER_DIR TWINS]``: waits for GO_FILE (if
not "-"), then runs the same seeded comparison with a store at DB and prints
``run_id resumed problems_tested``. With FAIL_AT >= 0 the first model fails on that problem (the run
stays unfinished, so the next identical runs resume it: the same run id, the same batches decided
again). With a BARRIER_DIR, the first live model call waits until TWINS processes have reached it,
so every twin has opened (resumed) the run before any of them can finish it.
"""

from __future__ import annotations

import os
import sys
import time

from bayesbench import BayesianBenchmark, RetryPolicy

FAIL_AT = int(sys.argv[3]) if len(sys.argv) > 3 else -1
BARRIER = sys.argv[4] if len(sys.argv) > 4 else None
TWINS = int(sys.argv[5]) if len(sys.argv) > 5 else 1
_passed = False


def _barrier() -> None:
    global _passed
    if BARRIER is None or _passed:
        return
    open(os.path.join(BARRIER, f"ready-{os.getpid()}"), "w").close()
    deadline = time.monotonic() + 60
    while len(os.listdir(BARRIER)) < TWINS and time.monotonic() < deadline:
        time.sleep(0.005)
    _passed = True


def model_a(problem: int) -> int:
    _barrier()
    if problem == FAIL_AT:
        raise RuntimeError("provider down")
    return problem % 3 != 0


def model_b(problem: int) -> int:
    return problem % 2 == 0


def score(problem: int, response: int) -> float:
    return float(response)


def main(db: str, go: str) -> None:
    if go != "-":
        deadline = time.monotonic() + 60
        while not os.path.exists(go) and time.monotonic() < deadline:
            time.sleep(0.002)
    bench = BayesianBenchmark(seed=11, rule="fixed", batch_size=4, store=db, retry=RetryPolicy(max_attempts=1))
    try:
        result = bench.compare(model_a, model_b, score, list(range(60)), name="twin")
    except Exception as err:  # noqa: BLE001 - any failure carries its partial result
        result = err.partial_result  # type: ignore[attr-defined]
    print(result.run_id, result.resumed, result.problems_tested)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
