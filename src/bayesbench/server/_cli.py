"""``bayesbench serve``: the dashboard and JSON API over a store.

    bayesbench serve [--store runs.sqlite] [--host 127.0.0.1] [--port 8765] [--token T] [--allow-remote]

Wiring: ``add_serve_parser(subparsers)`` adds the subcommand; ``run_serve(args)`` runs it (exit 0 when
stopped, 2 on bad input).
"""

from __future__ import annotations

import argparse
from typing import Any

from ._serve import DEFAULT_HOST, DEFAULT_PORT

__all__ = ["add_serve_parser", "run_serve"]


def add_serve_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("serve", help="a local dashboard over a results store",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("--store", default="bayesbench.sqlite",
                   help="SQLite file or database URL (default bayesbench.sqlite, the store's default)")
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks one)")
    p.add_argument("--token", default=None,
                   help="bearer token that POST /api/runs requires (default: env BAYESBENCH_TOKEN; none: no posting)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a non-loopback --host (needs a token)")
    p.add_argument("--annotate", metavar="ROUND.sqlite", default=None,
                   help="also serve this annotation round's labelling pages under /annotate (bayesbench build annotate)")
    p.add_argument("--log-level", default="warning", choices=("critical", "error", "warning", "info", "debug"),
                   help="uvicorn's log level (default warning)")
    return p


def run_serve(args: argparse.Namespace) -> int:
    from ._serve import serve

    print(f"bayesbench: serving {args.store} on http://{args.host}:{args.port}/ (Ctrl-C stops)", flush=True)
    serve(args.store, host=args.host, port=args.port, token=args.token, allow_remote=args.allow_remote,
          log_level=args.log_level, annotate=args.annotate)
    return 0
