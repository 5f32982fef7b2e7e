"""Resident memory growth per 10 000 model calls of one executor.

    python perf/memory_per_call.py [--calls 60000]

An executor makes ``--calls`` calls of an instant sync model (a short text answer, as an adapter
returns) after a 10 000-call warm-up; RSS (``/proc/self/statm``) is read before and after and the
growth is reported per 10 000 calls. The in-run baseline is the same executor while the caller also
keeps every ``CallRecord`` in a list: what the executor itself did before it kept running totals
instead (``Executor.records`` held every record). Run it against an older checkout with
``PYTHONPATH=/path/to/old/src`` to measure that code directly.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import subprocess
import sys
from pathlib import Path

if not os.environ.get("PYTHONPATH"):  # measure this checkout unless told otherwise
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bayesbench.execution import Executor  # noqa: E402


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def answer(prompt: str) -> str:
    return "the answer to " + prompt


async def calls(ex: Executor, n: int, keep: list | None, offset: int) -> None:
    for start in range(0, n, 64):
        recs = await asyncio.gather(*(ex.call("m", answer, f"question {offset + start + i}", problem_id=str(i))
                                      for i in range(min(64, n - start))))
        if keep is not None:
            keep.extend(recs)


def growth_per_10k(n: int, keep_records: bool) -> float:
    ex = Executor()
    keep: list | None = [] if keep_records else None

    async def main() -> float:
        await calls(ex, 10_000, keep, 0)  # warm-up: pools, sketches switch to buckets, allocator arenas
        gc.collect()
        before = rss_bytes()
        await calls(ex, n, keep, 10_000)
        gc.collect()
        return (rss_bytes() - before) / n * 10_000

    try:
        return asyncio.run(main())
    finally:
        ex.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=60_000)
    ap.add_argument("--one", choices=("kept", "lean"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:  # one measurement in a fresh process: freed memory of another must not hide growth
        print(growth_per_10k(args.calls, keep_records=args.one == "kept"))
        return
    out = {}
    for mode in ("kept", "lean"):
        proc = subprocess.run([sys.executable, __file__, "--calls", str(args.calls), "--one", mode],
                              capture_output=True, text=True, check=True)
        out[mode] = float(proc.stdout.split()[-1])
    print(f"RSS growth per 10 000 calls over {args.calls} calls (after a 10 000-call warm-up), one process each")
    print(f"{'executor':<56} {'KiB / 10k calls':>16} {'bytes / call':>13}")
    for name, g in (("baseline: every CallRecord also kept (the old records list)", out["kept"]),
                    ("this executor", out["lean"])):
        print(f"{name:<56} {g / 1024:>16.1f} {g / 10_000:>13.1f}")


if __name__ == "__main__":
    main()
