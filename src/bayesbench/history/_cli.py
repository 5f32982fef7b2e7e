"""``bayesbench estimate``: a new model's bank-wide mean from a few questions and a recorded bank.

    bayesbench estimate --bank BANK.csv [--bank MORE.csv ...]
        (--holdout MODEL | --scores NEW.csv | --score-fn module:function)
        [--budget 100] [--confidence 0.95] [--ci asymptotic|anytime] [--target-width W] [--seed 0]
        [--method active|uniform|irt] [--place] [--fit FIT.npz] [--save-fit FIT.npz] [--json] [--quiet]

The new model is one of: ``--holdout MODEL`` (a bank model, left out of the fit and answered from its
recorded row: a replay with a known truth), ``--scores NEW.csv`` (rows ``item,score`` already computed),
or ``--score-fn module:function`` (``function(item_id) -> score in [0, 1]``, e.g. one that calls a model).
Progress (stderr): a rich bar with the interval when stderr is a terminal, plain lines when piped.

Wiring: ``add_estimate_parser(subparsers)`` adds the subcommand; ``run_estimate(args)`` runs it and returns
the exit code (0 done, 2 bad input, 3 the score function failed).
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from ..errors import BayesbenchError, ConfigError, DatasetError, ModelError

__all__ = ["add_estimate_parser", "main", "run_estimate"]

EXIT_OK, EXIT_INPUT, EXIT_MODEL = 0, 2, 3


def add_estimate_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "estimate",
        help="estimate a new model's mean from a recorded bank and a few questions",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument(
        "--bank",
        action="append",
        required=True,
        metavar="CSV",
        help="bank file `model,<item ids...>` (repeat to join several on the model id)",
    )
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--holdout", metavar="MODEL", help="replay a bank model (left out of the fit)")
    who.add_argument("--scores", metavar="CSV", help="the new model's scores as rows item,score")
    who.add_argument("--score-fn", metavar="MODULE:FUNCTION", help="function(item_id) -> score in [0, 1]")
    p.add_argument("--budget", type=int, default=100, help="questions to draw (default 100)")
    p.add_argument("--confidence", type=float, default=0.95, help="interval level (default 0.95)")
    p.add_argument(
        "--ci",
        choices=("asymptotic", "anytime"),
        default=None,
        help="interval (default asymptotic; anytime when --target-width is given)",
    )
    p.add_argument("--target-width", type=float, default=None, help="stop once the anytime interval is this narrow")
    p.add_argument("--seed", type=int, default=0, help="seed of the draws (default 0)")
    p.add_argument("--method", choices=("active", "uniform", "irt"), default="active")
    p.add_argument("--place", action="store_true", help="also say which recorded models it is certainly above/below")
    p.add_argument("--fit", metavar="NPZ", help="use a saved fit instead of fitting the bank")
    p.add_argument("--save-fit", metavar="NPZ", help="save the fit for later runs")
    p.add_argument("--ranks", default=None, help="ranks to cross-validate, e.g. 8,16 (default 16,32)")
    p.add_argument("--penalties", default=None, help="penalties to cross-validate, e.g. 10,30")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(run=run_estimate)
    return p


def _numbers(text: str | None, kind: type, flag: str) -> tuple[Any, ...] | None:
    if text is None:
        return None
    try:
        return tuple(kind(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ConfigError(f"`{flag}` must be comma-separated numbers, got {text!r}") from None


def _read_scores(path: str) -> dict[str, float]:
    out: dict[str, float] = {}
    try:
        with open(path, newline="") as fh:
            for n, row in enumerate(csv.reader(fh), start=1):
                if not row or (n == 1 and row[0].strip().lower() in ("item", "item_id", "id")):
                    continue
                if len(row) != 2:
                    raise DatasetError(f"{path} line {n}: expected `item,score`, got {row!r}")
                try:
                    out[row[0]] = float(row[1])
                except ValueError:
                    raise DatasetError(f"{path} line {n}: score {row[1]!r} is not a number") from None
    except OSError as exc:
        raise DatasetError(f"cannot read --scores file: {exc}") from None
    return out


def _load_function(spec: str) -> Callable[[str], Any]:
    mod, sep, name = spec.partition(":")
    if not sep or not mod or not name:
        raise ConfigError(f"`--score-fn` must be MODULE:FUNCTION (or path/to/file.py:FUNCTION), got {spec!r}")
    if mod.endswith(".py"):
        import runpy

        ns = runpy.run_path(mod)
        fn = ns.get(name)
    else:
        fn = getattr(importlib.import_module(mod), name, None)
    if not callable(fn):
        raise ConfigError(f"`--score-fn` {spec!r}: no function {name!r} in {mod!r}")
    return fn


class _Display:
    """Shows the interval narrowing: rich on a terminal, one plain line per ``every`` draws otherwise."""

    def __init__(self, budget: int, enabled: bool, stream: TextIO) -> None:
        self.stream, self.enabled, self.budget = stream, enabled, budget
        self.every = max(1, budget // 20)
        self._rich: Any = None
        if enabled and getattr(stream, "isatty", lambda: False)():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
            )

            self._rich = Progress(
                TextColumn("[bold]estimate"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"),
                console=Console(file=stream),
            )
            self._rich.start()
            self._task = self._rich.add_task("estimate", total=budget, status="")

    @staticmethod
    def _status(e: Any) -> str:
        return f"mean {e.mean:.3f}  [{e.ci[0]:.3f}, {e.ci[1]:.3f}]  width {e.width:.3f}"

    def __call__(self, e: Any) -> None:
        if not self.enabled:
            return
        if self._rich is not None:
            self._rich.update(self._task, completed=e.n, status=self._status(e))
        elif e.n % self.every == 0 or e.n == 1:
            print(f"n={e.n}/{self.budget} {self._status(e)}", file=self.stream, flush=True)

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
            self._rich = None


def run_estimate(args: argparse.Namespace) -> int:
    """Run ``bayesbench estimate`` from parsed arguments; returns the exit code (errors are printed)."""
    try:
        return _run(args)
    except ModelError as exc:
        print(f"bayesbench: model error: {exc}", file=sys.stderr)
        return EXIT_MODEL
    except BayesbenchError as exc:
        print(f"bayesbench: error: {exc}", file=sys.stderr)
        partial = getattr(exc, "partial", None)
        if partial is not None:  # what was measured before the failure is not lost
            print(f"bayesbench: before the error: {partial.summary()}", file=sys.stderr)
        return EXIT_INPUT


def _run(args: argparse.Namespace) -> int:
    from ._bank import ItemBank
    from ._factor import load_fit

    bank = ItemBank.from_csv(*args.bank)
    truth = None
    if args.holdout is not None:
        row = bank.row(args.holdout)
        truth = float(bank.mean(args.holdout))
        bank = bank.filter(models=lambda m: m != args.holdout)
    if args.fit:
        fit = load_fit(args.fit)
        if tuple(fit.items) != tuple(bank.items):
            raise DatasetError(
                f"the fit {args.fit} was made on other items than the bank ({len(fit.items)} vs "
                f"{bank.n_items}); refit without --fit"
            )
    else:
        kw: dict[str, Any] = {}
        if (r := _numbers(args.ranks, int, "--ranks")) is not None:
            kw["ranks"] = r
        if (pn := _numbers(args.penalties, float, "--penalties")) is not None:
            kw["penalties"] = pn
        if not args.quiet and not args.json:
            print(f"fitting the factor model on {bank!r} ...", file=sys.stderr, flush=True)
        fit = bank.fit(seed=args.seed, **kw)
    if args.save_fit:
        fit.save(args.save_fit)
    if args.holdout is not None:

        def score_item(j: int) -> float:
            return float(row[j])
    elif args.scores is not None:
        recorded = _read_scores(args.scores)

        def score_item(j: int) -> float:
            item = fit.items[j]
            if item not in recorded:
                raise DatasetError(f"--scores {args.scores} has no score for item {item!r}, which the estimator drew")
            return recorded[item]
    else:
        fn = _load_function(args.score_fn)

        def score_item(j: int) -> float:
            return fn(fit.items[j])

    ci = args.ci or ("anytime" if args.target_width is not None else "asymptotic")
    display = _Display(args.budget, enabled=not args.quiet and not args.json, stream=sys.stderr)
    try:
        if args.method == "active":
            common: dict[str, Any] = {
                "budget": args.budget,
                "confidence": args.confidence,
                "seed": args.seed,
                "ci": ci,
                "target_width": args.target_width,
                "on_step": display,
            }
            if args.place:
                placement = fit.place(score_item, **common)
                est = placement.estimate
            else:
                placement, est = None, fit.estimate(score_item, **common)
        else:
            if args.place:
                raise ConfigError("--place needs --method active")
            placement = None
            if args.method == "uniform":
                est = fit.estimate_uniform(
                    score_item,
                    budget=args.budget,
                    confidence=args.confidence,
                    seed=args.seed,
                    ci="anytime" if ci == "anytime" else "wilson",
                    target_width=args.target_width,
                )
            else:
                est = fit.estimate_irt(score_item, budget=args.budget, confidence=args.confidence, seed=args.seed)
    finally:
        display.close()
    if args.json:
        payload: dict[str, Any] = {
            "estimate": est.to_dict(),
            "fit": {
                "rank": fit.rank,
                "penalty": fit.penalty,
                "heldout_accuracy": fit.heldout_accuracy,
                "heldout_log_loss": fit.heldout_log_loss,
            },
        }
        if truth is not None:
            payload["true_mean"] = truth
        if placement is not None:
            payload["placement"] = placement.to_dict()
        print(json.dumps(payload, indent=2, default=float))
    else:
        print(est.summary())
        if truth is not None:
            print(f"recorded mean of {args.holdout}: {truth:.3f} (error {est.mean - truth:+.3f})")
        if placement is not None:
            print(placement.summary())
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry: ``python -m bayesbench.history._cli estimate ...``."""
    parser = argparse.ArgumentParser(prog="bayesbench")
    sub = parser.add_subparsers(dest="command", required=True)
    add_estimate_parser(sub)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_INPUT if exc.code not in (0, None) else EXIT_OK
    return int(args.run(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
