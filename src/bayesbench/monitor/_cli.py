"""``bayesbench monitor``: scheduled evaluations and regression checks from a TOML config.

    bayesbench monitor run CONFIG [--store S] [--monitor NAME ...] [--every 1h [--times N]] [--due-only]
                                  [--fail-on-alert] [--json]
    bayesbench monitor check CONFIG [--store S] [--json]              exit 0: no alert, 4: an alert
    bayesbench monitor exposures CONFIG [--store S] [--monitor NAME] [--json]
    bayesbench monitor baseline CONFIG --monitor NAME --run RUN_ID [--store S]

``run`` performs one scheduled evaluation of each monitor (the first one is the baseline, then pinned) and
checks it (``--due-only``: only the monitors whose ``schedule`` says they are due); ``--every`` repeats it on a plain sleep loop (one process, the store holds all state; a failed
iteration is logged and the loop goes on). ``check`` checks what the store holds and gates a CI job.

Wiring: ``add_monitor_parser(subparsers)`` adds the subcommand; ``run_monitor(args)`` returns the exit code.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from typing import Any

from ..errors import BayesbenchError
from ._config import load_monitors, parse_duration

__all__ = ["EXIT_ALERT", "add_monitor_parser", "run_monitor"]

EXIT_OK, EXIT_ALERT = 0, 4


def add_monitor_parser(subparsers: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = subparsers.add_parser("monitor", help="watch models over time with anytime-valid regression alerts",
                              description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="monitor_command", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("config", metavar="CONFIG", help="the monitors' TOML file (docs/monitoring.md)")
        q.add_argument("--store", default=None, help="store path or URL (default: the file's `store`)")
        q.add_argument("--json", action="store_true", help="print JSON instead of text")

    r = sub.add_parser("run", help="one scheduled evaluation per monitor, then a check")
    common(r)
    r.add_argument("--monitor", action="append", default=None, metavar="NAME", help="only this monitor (repeat)")
    r.add_argument("--every", default=None, metavar="DURATION", help="repeat every DURATION (30s, 15m, 1h, 1d)")
    r.add_argument("--times", type=int, default=None, metavar="N", help="with --every: stop after N runs")
    r.add_argument("--due-only", action="store_true",
                   help="only monitors whose last run is older than their `schedule` (cron every few minutes)")
    r.add_argument("--fail-on-alert", action="store_true", help="exit 4 when a monitor is in alert")
    c = sub.add_parser("check", help="check the stored runs; exit 4 when a monitor is in alert")
    common(c)
    e = sub.add_parser("exposures", help="how often each item was shown to each monitored model")
    common(e)
    e.add_argument("--monitor", action="append", default=None, metavar="NAME", help="only this monitor (repeat)")
    b = sub.add_parser("baseline", help="pin another finished run as a monitor's baseline")
    common(b)
    b.add_argument("--monitor", required=True, metavar="NAME")
    b.add_argument("--run", required=True, metavar="RUN_ID")
    return p


def _print_checks(checks: list[Any], as_json: bool, outcomes: list[Any] = ()) -> None:  # type: ignore[assignment]
    if as_json:
        print(json.dumps({"runs": [o.to_dict() for o in outcomes], "checks": [c.to_dict() for c in checks]},
                         default=str))
        return
    for o in outcomes:
        print(o.summary())
    for c in checks:
        print(c.summary())
    if not checks:
        print("no scheduled run to check yet (the first run is the baseline)")


def _run_once(args: argparse.Namespace) -> int:
    from ._monitor import run_monitors

    file = load_monitors(args.config, store=args.store)
    outcomes, checks = run_monitors(file, only=args.monitor, due_only=args.due_only)
    _print_checks(checks, args.json, outcomes)
    return EXIT_ALERT if args.fail_on_alert and any(c.alert for c in checks) else EXIT_OK


def run_monitor(args: argparse.Namespace) -> int:
    """Run ``bayesbench monitor ...``; returns the exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s", stream=sys.stderr)
    cmd = args.monitor_command
    if cmd == "run":
        if args.every is None:
            if args.times is not None:
                raise BayesbenchError("`--times` needs `--every`")
            return _run_once(args)
        every = parse_duration(args.every)
        start = time.monotonic()
        k = 0
        code = EXIT_OK
        while args.times is None or k < args.times:
            try:
                code = _run_once(args)
            except BayesbenchError as exc:  # one bad iteration (endpoint down...) must not end the loop
                logging.getLogger("bayesbench.monitor").error("bayesbench monitor: run failed: %s", exc)
            sys.stdout.flush()
            k += 1
            if args.times is not None and k >= args.times:
                break
            time.sleep(max(0.0, start + k * every - time.monotonic()))
        return code
    from ._monitor import Monitor, check_monitors

    file = load_monitors(args.config, store=args.store)
    if cmd == "check":
        checks = check_monitors(file)
        _print_checks(checks, args.json)
        return EXIT_ALERT if any(c.alert for c in checks) else EXIT_OK
    from ..store import Store

    file.activate()
    store = Store(file.store)
    if cmd == "baseline":
        Monitor(file.get(args.monitor), store).pin_baseline(args.run)
        print(f"monitor {args.monitor!r}: baseline pinned to run {args.run}")
        return EXIT_OK
    reports = [Monitor(cfg, store).exposures() for cfg in file.monitors if not args.monitor or cfg.name in args.monitor]
    if args.json:
        print(json.dumps([r.to_dict() for r in reports]))
    else:
        for r in reports:
            print(r.summary())
    return EXIT_OK
