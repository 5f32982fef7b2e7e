"""The ``bayesbench`` command.

    bayesbench my_benchmark.py [--confidence 0.99 --min-samples 10 --skip-threshold 0.90 ...]
    bayesbench replay MATRIX.csv [--models a,b | --random-models K] [--rule ...] [--json]
    bayesbench demo [...]
    bayesbench --version

Exit codes (stable, for scripts): 0 the run finished (whatever the verdict); 1 an unexpected
internal error; 2 bad input (usage, configuration, dataset, scores); 3 a model failed after its
retries; 130 interrupted.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import runpy
import sys
from pathlib import Path
from typing import Any, Sequence

from ._version import __version__
from .errors import BayesbenchError, ConfigError, DatasetError, ModelError

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_MODEL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
SUBCOMMANDS = ("replay", "demo", "run")


def _add_engine_flags(p: argparse.ArgumentParser, *, ranking: bool = False) -> None:
    p.add_argument("--confidence", type=float, help="1 - alpha of every decision (default 0.95)")
    p.add_argument("--min-samples", type=int, help="problems before any decision is looked at")
    p.add_argument("--skip-threshold", type=float, help="level of the equivalence stop (needs --equivalence-margin)")
    p.add_argument("--equivalence-margin", type=float, help="stop as equivalent inside +-margin")
    p.add_argument("--rule", choices=("anytime", "full_benchmark", "fixed") + (() if ranking else ("posterior",)),
                   help="decision rule (default anytime)")
    p.add_argument("--seed", type=int, help="seed of the problem shuffle (recorded in the result)")
    p.add_argument("--max-problems", type=int, help="budget: at most this many problems per task")
    p.add_argument("--max-cost-usd", type=float, help="budget: stop a task once its calls cost this much")
    p.add_argument("--batch-size", type=int, help="problems per engine update")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout (progress off)")


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    names = ("confidence", "min_samples", "skip_threshold", "equivalence_margin", "rule", "seed", "max_problems",
             "max_cost_usd", "batch_size")
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}


def _run_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bayesbench", description="Run a benchmark file that defines `bench = "
                                "BayesianBenchmark(...)`, a @suite class, or @benchmark tasks.")
    p.add_argument("file", help="a Python file defining the benchmark")
    _add_engine_flags(p)
    p.add_argument("--store", help="SQLite file (or database URL) to record the run in; an interrupted run "
                   "started again with the same file resumes without repeating finished calls")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    return p


def _replay_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bayesbench replay",
        description="Replay recorded scores (a models x problems CSV, first column = model name; .csv or .csv.gz) "
        "through the engine: what would early stopping have used and concluded vs the full run?",
    )
    p.add_argument("matrix", help="CSV file: one row per model, first column the model name, one column per problem")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--models", help="comma-separated model names to compare (2) or rank (3+)")
    group.add_argument("--random-models", type=int, help="pick this many models at random (seeded by --pick-seed)")
    p.add_argument("--pick-seed", type=int, default=0, help="seed for --random-models (default 0)")
    p.add_argument("--goal", choices=("rank", "top1"), default="rank", help="ranking goal (3+ models)")
    _add_engine_flags(p, ranking=False)
    return p


def _emit_json(payload: dict[str, Any]) -> None:
    json.dump(payload, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def _collect_runnables(namespace: dict[str, Any]) -> list[tuple[str, Any]]:
    from ._comparison import BayesianBenchmark, BenchmarkTask

    found: list[tuple[str, Any]] = []
    if isinstance(namespace.get("bench"), BayesianBenchmark):
        return [("bench", namespace["bench"])]
    for name, obj in namespace.items():
        if name.startswith("_"):
            continue
        if isinstance(obj, BayesianBenchmark) or isinstance(obj, BenchmarkTask):
            found.append((name, obj))
        elif isinstance(obj, type) and isinstance(getattr(obj, "bench", None), BayesianBenchmark):
            found.append((name, obj.bench))
    return found


def _cmd_run(argv: Sequence[str]) -> int:
    args = _run_parser().parse_args(argv)
    path = Path(args.file)
    if not path.is_file():
        raise ConfigError(f"benchmark file {str(path)!r} does not exist; pass the path of a .py file")
    sys.path.insert(0, str(path.resolve().parent))
    namespace = runpy.run_path(str(path), run_name="__bayesbench__")
    runnables = _collect_runnables(namespace)
    if not runnables:
        raise ConfigError(
            f"{path} defines nothing to run: expose `bench = BayesianBenchmark(...)` with tasks, a @suite class, "
            "or @benchmark(...) functions"
        )
    overrides = _overrides(args)
    verbose = not (args.json or args.quiet)
    outputs: dict[str, Any] = {}
    for name, obj in runnables:
        bench = getattr(obj, "bench", obj)
        if overrides:
            bench.configure(**overrides)
        if args.store:
            bench.store = args.store
        result = obj.run(verbose=verbose)
        outputs[name] = result
        if not args.json:
            print(result.summary())
    if args.json:
        _emit_json({name: r.to_dict() for name, r in outputs.items()})
    return EXIT_OK


def read_matrix(path: str) -> dict[str, list[float]]:
    """Read a models x problems score matrix (first column: model name)."""
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"score matrix {path!r} does not exist")
    opener = gzip.open if p.suffix == ".gz" else open
    matrix: dict[str, list[float]] = {}
    with opener(p, "rt", newline="") as f:  # type: ignore[operator]
        reader = csv.reader(f)
        header = next(reader, None)
        if not header or len(header) < 2:
            raise DatasetError(f"{path}: expected a header row 'model,<problem 1>,<problem 2>,...'")
        for line_no, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                raise DatasetError(f"{path} line {line_no}: {len(row)} fields, the header has {len(header)}")
            try:
                matrix[row[0]] = [float(x) for x in row[1:]]
            except ValueError:
                raise DatasetError(f"{path} line {line_no}: scores must be numbers (model {row[0]!r})") from None
    if len(matrix) < 2:
        raise DatasetError(f"{path}: need at least 2 models (rows), found {len(matrix)}")
    return matrix


def _pick_models(matrix: dict[str, list[float]], args: argparse.Namespace) -> list[str]:
    if args.models:
        names = [m.strip() for m in args.models.split(",") if m.strip()]
        unknown = [m for m in names if m not in matrix]
        if unknown:
            import difflib

            hints = [f"{u!r} (did you mean {', '.join(repr(x) for x in difflib.get_close_matches(u, matrix, 3))}?)"
                     if difflib.get_close_matches(u, matrix, 1) else repr(u) for u in unknown]
            raise ConfigError(f"unknown model(s) in --models: {', '.join(hints)}")
        return names
    if args.random_models:
        if not 2 <= args.random_models <= len(matrix):
            raise ConfigError(f"`--random-models` must be between 2 and {len(matrix)}, got {args.random_models}")
        return random.Random(args.pick_seed).sample(sorted(matrix), args.random_models)
    if len(matrix) > 8:
        raise ConfigError(
            f"the matrix has {len(matrix)} models; choose some with --models a,b,... or --random-models K"
        )
    return list(matrix)


def _cmd_replay(argv: Sequence[str]) -> int:
    from . import compare, rank
    from .stats import fixed_n_paired_test

    args = _replay_parser().parse_args(argv)
    matrix = read_matrix(args.matrix)
    names = _pick_models(matrix, args)
    opts = _overrides(args)
    if opts.pop("max_cost_usd", None) is not None:
        raise ConfigError("`--max-cost-usd` does not apply to replay: recorded scores cost nothing to replay")
    opts.setdefault("seed", 0)
    if len(names) == 2:
        a, b = matrix[names[0]], matrix[names[1]]
        result = compare(a, b, names=(names[0], names[1]), **opts)
        full = fixed_n_paired_test(a, b, alpha=1 - result.confidence)
        full_mean_a, full_mean_b = sum(a) / len(a), sum(b) / len(b)
        full_winner = names[0] if full_mean_a > full_mean_b else names[1] if full_mean_b > full_mean_a else None
        payload = {
            "early_stopping": result.to_dict(),
            "full_run": {"problems": len(a), "calls": 2 * len(a), "mean_a": full_mean_a, "mean_b": full_mean_b,
                         "leader": full_winner, "fixed_n_test": _as_plain(full)},
        }
        if args.json:
            _emit_json(payload)
        else:
            print(result.summary())
            print(f"Full run: {len(a)} problems, {2 * len(a)} calls; {names[0]}={full_mean_a:.3f} "
                  f"{names[1]}={full_mean_b:.3f}; leader: {full_winner or 'tie'}")
            print(f"Early stopping used {result.problems_tested} of {len(a)} problems "
                  f"({result.efficiency:.0%} saved).")
        return EXIT_OK
    opts.pop("skip_threshold", None)
    result = rank({m: matrix[m] for m in names}, goal=args.goal, **opts)
    full_order = sorted(names, key=lambda m: -sum(matrix[m]) / len(matrix[m]))
    if args.json:
        _emit_json({"early_stopping": result.to_dict(), "full_run": {
            "order_by_mean": full_order, "calls": len(names) * result.total_problems}})
    else:
        print(result.summary())
        print("Full run order by mean: " + " > ".join(full_order))
    return EXIT_OK


def _as_plain(obj: Any) -> Any:
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if hasattr(obj, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(obj)
    return obj


def _cmd_demo(argv: Sequence[str]) -> int:
    try:
        from .demo import main as demo_main
    except ImportError as exc:  # pragma: no cover - present once the benchmarks layer ships it
        raise ConfigError(f"the demo is not available in this build: {exc}") from None
    return int(demo_main(list(argv)) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return EXIT_OK if argv else EXIT_INPUT
    if argv[0] == "--version":
        print(f"bayesbench {__version__}")
        return EXIT_OK
    command, rest = (argv[0], argv[1:]) if argv[0] in SUBCOMMANDS else ("run", argv)
    handlers = {"run": _cmd_run, "replay": _cmd_replay, "demo": _cmd_demo}
    try:
        return handlers[command](rest)
    except KeyboardInterrupt:
        print("bayesbench: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ModelError as exc:
        print(f"bayesbench: model error: {exc}", file=sys.stderr)
        return EXIT_MODEL
    except BayesbenchError as exc:
        print(f"bayesbench: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except SystemExit as exc:  # argparse
        return EXIT_INPUT if exc.code not in (0, None) else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
