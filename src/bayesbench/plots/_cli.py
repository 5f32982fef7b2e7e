"""``bayesbench plot RUN_ID --store FILE [--out F.png|F.svg] [--kind auto|path|ranking|latency]``.

Draws a run recorded in a store: a two-model run's stopping path (rebuilt by replaying its recorded scores
through the engine), a ranking run's ranking, or any run's per-call latencies. Prints the file written.

Wiring: ``add_plot_parser(subparsers)`` adds the subcommand; ``run_plot(args)`` runs it and returns the exit
code (0 written, 2 bad input: unknown run, missing store, wrong kind, missing matplotlib).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import BayesbenchError

__all__ = ["add_plot_parser", "run_plot"]

EXIT_OK, EXIT_INPUT = 0, 2


def add_plot_parser(subparsers: Any) -> argparse.ArgumentParser:
    from ._stored import KINDS

    p = subparsers.add_parser("plot", help="draw a run recorded in a store (stopping path, ranking, latency)",
                              description=__doc__.split("\n\n")[1])
    p.add_argument("run_id", metavar="RUN_ID", help="the run's id (`result.run_id`; `bayesbench.store.Store(FILE).runs()` lists them)")
    p.add_argument("--store", required=True, metavar="FILE", help="the SQLite file (or database URL) of the run")
    p.add_argument("--out", metavar="F.png|F.svg", default=None,
                   help="file to write, format by extension (default: bayesbench-<RUN_ID>.png here)")
    p.add_argument("--kind", choices=KINDS, default="auto",
                   help="path (stopping path), ranking, latency, or auto: path or ranking by the run (default)")
    return p


def run_plot(args: argparse.Namespace) -> int:
    from ._stored import stored_run

    out = args.out or f"bayesbench-{args.run_id[:12]}.png"
    try:
        stored_run(args.store, args.run_id, kind=args.kind, path=out)
    except BayesbenchError as exc:
        print(f"bayesbench: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    print(out)
    return EXIT_OK
