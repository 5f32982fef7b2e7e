"""``bayesbench plan``: problems, calls and dollars until a decision, before a run.

    bayesbench plan (--accuracy-a A --accuracy-b B | --gap G [--base-rate B] | --accuracies a=0.8,b=0.7,...)
        [--discordance D] [--n-problems N] [--price-per-call USD] [--power 0.8] [--n-sims 400] [--seed 0]
        [--no-cache] [--json] [run settings: --confidence, --rule, --batch-size, --min-samples, --n-runs, ...]

Wiring: ``add_plan_parser(subparsers)`` adds the subcommand; ``run_plan(args)`` prints the plan and returns 0.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import fields
from typing import Any

from .errors import ConfigError

__all__ = ["add_plan_parser", "run_plan"]


def _accuracies(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise ConfigError(f"--accuracies must look like a=0.8,b=0.7,c=0.6, got {text!r}") from None
    return out


def add_plan_parser(subparsers: Any) -> argparse.ArgumentParser:
    from ._plan import PLAN_SETTINGS
    from .engine._settings import RunSettings

    p = subparsers.add_parser("plan", help="problems, calls and dollars until a decision, before a run",
                              description="Problems, calls and dollars until a decision, before a run: the sequential "
                              "engine simulated (expected and 90th percentile) and the fixed-n alternative "
                              "(docs/planning.md).")
    p.add_argument("--accuracy-a", type=float, help="expected accuracy of model A")
    p.add_argument("--accuracy-b", type=float, help="expected accuracy of model B")
    p.add_argument("--gap", type=float, help="expected accuracy gap A - B (with --base-rate)")
    p.add_argument("--base-rate", type=float, help="expected accuracy of B with --gap (default 0.6)")
    p.add_argument("--discordance", type=float, help="P(the two models disagree) (default: independent errors)")
    p.add_argument("--accuracies", type=_accuracies, help="a ranking: name=accuracy,... (e.g. a=0.8,b=0.7,c=0.6)")
    p.add_argument("--n-problems", type=int, help="bank size: the run stops undecided there (default: 10000)")
    p.add_argument("--price-per-call", type=float, help="dollars per model call (default: no dollar figures)")
    p.add_argument("--power", type=float, default=0.8, help="power of the fixed-n sample size (default 0.8)")
    p.add_argument("--n-sims", type=int, default=400, help="simulated runs (default 400)")
    p.add_argument("--seed", type=int, default=0, help="seed of the simulation (default 0)")
    p.add_argument("--no-cache", action="store_true", help="simulate again instead of reading the disk cache")
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    group = p.add_argument_group("run settings (as the run will use them)")
    for f in fields(RunSettings):
        options = f.metadata["flag"]
        if f.name in PLAN_SETTINGS and options is not None:
            group.add_argument("--" + f.name.replace("_", "-"), dest=f.name, default=None, help=f.metadata["help"],
                               **options)
    return p


def run_plan(args: argparse.Namespace) -> int:
    from ._plan import PLAN_SETTINGS, plan

    settings = {n: getattr(args, n) for n in PLAN_SETTINGS if getattr(args, n, None) is not None}
    result = plan(args.accuracy_a, args.accuracy_b, gap=args.gap, base_rate=args.base_rate,
                  discordance=args.discordance, accuracies=args.accuracies, n_problems=args.n_problems,
                  price_per_call=args.price_per_call, power=args.power, n_sims=args.n_sims, seed=args.seed,
                  cache=not args.no_cache, **settings)
    print(json.dumps(result.to_dict(), indent=2) if args.json else result.summary())
    return 0
