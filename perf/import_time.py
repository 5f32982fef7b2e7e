"""How long `import bayesbench` and `bayesbench --version` take, against `python -c pass` in the same run.

    python perf/import_time.py [--repeat 7] [--baseline-src DIR]

Each command runs in a fresh interpreter ``--repeat`` times; the table shows the median wall time and the
ratio to the bare interpreter. ``--baseline-src`` (e.g. an older checkout's src/) adds the same rows for it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def median_s(code: str, src: Path | None, repeat: int) -> float:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--baseline-src", type=Path, default=None, help="an older src/ to compare against")
    args = p.parse_args()
    base = median_s("pass", None, args.repeat)
    rows = [("python -c pass", base)]
    trees = [("", SRC)] + ([(" (baseline)", args.baseline_src)] if args.baseline_src else [])
    for label, src in trees:
        rows.append((f"import bayesbench{label}", median_s("import bayesbench", src, args.repeat)))
        rows.append((f"bayesbench --version{label}",
                     median_s("from bayesbench.cli import main; main(['--version'])", src, args.repeat)))
    print(f"{'command':<36} {'median s':>9} {'x python':>9}")
    for name, t in rows:
        print(f"{name:<36} {t:>9.3f} {t / base:>9.1f}")


if __name__ == "__main__":
    main()
