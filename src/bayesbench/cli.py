"""The ``bayesbench`` command: run a benchmark file, replay recorded scores, or run the demo.

Exit codes (stable, for scripts): 0 the run finished (whatever the verdict); 1 an unexpected internal
error; 2 bad input (usage, configuration, dataset, scores); 3 a model failed after its retries; 130
interrupted.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import runpy
import sys
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from ._version import __version__
from .errors import BayesbenchError, ConfigError, DatasetError, ModelError

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_MODEL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_ALERT = 4  # `bayesbench monitor check`: a monitor is in alert (a CI job gates on it)
COMMANDS_EPILOG = """commands:
  bayesbench FILE.py [flags]        run a benchmark file (same as `bayesbench run FILE.py`)
  bayesbench replay MATRIX.csv      replay recorded scores: what would early stopping have used?
  bayesbench demo                   two small local LLMs head to head on HellaSwag
  bayesbench estimate --bank B.csv  estimate a new model's score from recorded results and a few questions
  bayesbench monitor run|check CFG  scheduled evaluations with anytime-valid regression alerts (docs/monitoring.md)
  bayesbench build collect DIR ...  build a dataset: collect, generate, dedup, anonymize, export, info
  bayesbench plan --gap 0.1         problems, calls and dollars until a decision, before a run
  bayesbench loadtest MODEL --base-url URL --concurrency 1,8,32   latency vs load: where a server saturates
  bayesbench deploy --model A=MODEL@URL --model B=MODEL@URL       deployments side by side (accuracy, speed, cost)
  bayesbench usage RUN_ID --store FILE  latency, throughput and resource use of a stored run
  bayesbench plot RUN_ID --store F  draw a stored run: stopping path, ranking or latency (PNG/SVG)
  bayesbench serve --store S.sqlite a local dashboard over a results store (http://127.0.0.1:8765)
  bayesbench COMMAND --help         the flags of a command

exit codes: 0 finished (whatever the verdict), 1 internal error, 2 bad input, 3 a model failed after its
retries, 4 a monitor is in alert (`monitor check`), 130 interrupted"""


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _add_setting_flags(p: argparse.ArgumentParser, *, ranking: bool, live: bool,
                       defaults: dict[str, Any] | None = None) -> None:
    """One flag per run setting that applies here, generated from RunSettings' fields (their help and default)."""
    from .engine._settings import RunSettings, names

    group = p.add_argument_group("run settings")
    allowed = names(ranking=ranking, live=live)
    for f in fields(RunSettings):
        options = f.metadata["flag"]
        if options is None or f.name not in allowed:
            continue
        value = (defaults or {}).get(f.name, f.default)
        shown = "" if value is None else " (default " + (
            " ".join(map(str, value)) if isinstance(value, tuple) else str(value)) + ")"
        group.add_argument(flag(f.name), dest=f.name, default=None, help=f"{f.metadata['help']}{shown}", **options)
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout (progress off)")


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    from .engine._settings import names

    out = {n: getattr(args, n) for n in names() if getattr(args, n, None) is not None}
    if "score_range" in out:
        out["score_range"] = tuple(out["score_range"])
    return out


def _apply_flags(configure: Any, overrides: dict[str, Any]) -> None:
    """Apply flag values; an invalid one is reported under its flag, the way the user typed it."""
    for name, value in overrides.items():
        try:
            configure(**{name: value})
        except ConfigError as exc:
            raise ConfigError(f"{flag(name)}: {exc}") from None


def _warn_unused_skip_threshold(overrides: dict[str, Any], settings: Any) -> None:
    if "skip_threshold" in overrides and settings.equivalence_margin is None and settings.rule != "posterior":
        print("bayesbench: warning: --skip-threshold has no effect without --equivalence-margin (the equivalence "
              "stop is off); add e.g. --equivalence-margin 0.05", file=sys.stderr)


def _run_parser(prog: str = "bayesbench run") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Compare and rank LLMs, stopping as soon as the evidence is enough.\n\n"
        "Runs a Python file that defines bench = BayesianBenchmark(...) with tasks, a @suite class,\n"
        "or @benchmark functions; the flags below override the settings the file gives.",
        epilog=COMMANDS_EPILOG if prog == "bayesbench" else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", help="a Python file defining the benchmark")
    p.add_argument("--version", action="version", version=f"bayesbench {__version__}")
    _add_setting_flags(p, ranking=False, live=True)
    p.add_argument("--store", help="SQLite file (or database URL) to record the run in; an interrupted run "
                   "started again with the same file resumes without repeating finished calls")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    return p


def _replay_parser() -> argparse.ArgumentParser:
    from ._oneliners import REPLAY_DEFAULTS

    p = argparse.ArgumentParser(
        prog="bayesbench replay",
        description="Replay recorded scores (a models x problems CSV, or lm-eval / Inspect logs) "
        "through the engine: what would early stopping have used and concluded vs the full run?",
    )
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="a scores CSV (one row per model: model,<problem 1>,...; .csv or .csv.gz), or harness logs: "
                   "lm-eval --log_samples output directories, Inspect .eval/.json logs or directories of them "
                   "(models are paired on the items all of them scored)")
    p.add_argument("--metric", help="lm-eval logs: the per-sample field to score (default: acc, else exact_match...)")
    p.add_argument("--scorer", help="Inspect logs: the scorer to use (default: the first)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--models", help="comma-separated model names to compare (2) or rank (3+)")
    group.add_argument("--random-models", type=int, help="pick this many models at random (seeded by --pick-seed)")
    p.add_argument("--pick-seed", type=int, default=0, help="seed for --random-models (default 0)")
    _add_setting_flags(p, ranking=True, live=False, defaults=REPLAY_DEFAULTS)
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


def _cmd_run(argv: Sequence[str], prog: str = "bayesbench run") -> int:
    args = _run_parser(prog).parse_args(argv)
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
        _apply_flags(bench.configure, overrides)
        _warn_unused_skip_threshold(overrides, bench.settings)
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


def _is_log_path(path: str) -> bool:
    from .integrations._logs import is_log_path

    return is_log_path(path)


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
    from .engine._settings import RunSettings
    from .stats import fixed_n_paired_test

    args = _replay_parser().parse_args(argv)
    if len(args.paths) == 1 and not _is_log_path(args.paths[0]):
        matrix = read_matrix(args.paths[0])
        names = _pick_models(matrix, args)
    else:
        from .integrations._logs import common_scores, load_logs

        bank = load_logs(*args.paths, metric=args.metric, scorer=args.scorer)
        names = _pick_models(dict.fromkeys(bank.models), args)
        matrix, items = common_scores(bank, names)
        print(f"Read {bank.n_models} model(s) from the logs; {len(items)} item(s) scored by all of "
              f"{', '.join(names)}.", file=sys.stderr)
    opts = _overrides(args)
    ranking = len(names) > 2
    if not ranking:
        opts.pop("goal", None)  # a ranking setting; two models are compared
    _apply_flags(lambda **kw: RunSettings.build("replay", (), kw, ranking=ranking, live=False), opts)
    _warn_unused_skip_threshold(opts, RunSettings.build("replay", (), opts, ranking=ranking, live=False))
    if not ranking:
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
    result = rank({m: matrix[m] for m in names}, **opts)
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


#: Subcommands whose parser and handler live with their package: name -> (module, add_parser, run). Each module's
#: ``add_<name>_parser(subparsers)`` adds the subcommand; ``run_<name>(args)`` runs it and returns the exit code.
DELEGATED = {
    "estimate": ("bayesbench.history._cli", "add_estimate_parser", "run_estimate"),
    "monitor": ("bayesbench.monitor._cli", "add_monitor_parser", "run_monitor"),
    "build": ("bayesbench.builder._cli", "add_build_parser", "run_build"),
    "plan": ("bayesbench._plan_cli", "add_plan_parser", "run_plan"),
    "loadtest": ("bayesbench.ops._cli", "add_loadtest_parser", "run_loadtest"),
    "deploy": ("bayesbench.ops._cli", "add_deploy_parser", "run_deploy"),
    "usage": ("bayesbench.ops._cli", "add_usage_parser", "run_usage"),
    "plot": ("bayesbench.plots._cli", "add_plot_parser", "run_plot"),
    "serve": ("bayesbench.server._cli", "add_serve_parser", "run_serve"),
}
SUBCOMMANDS = ("replay", "demo", "run", *DELEGATED)


def _delegate(command: str, argv: Sequence[str]) -> int:
    import importlib

    module, add, run = DELEGATED[command]
    mod = importlib.import_module(module)  # imported on use: `bayesbench --help` stays fast
    parser = argparse.ArgumentParser(prog="bayesbench")
    getattr(mod, add)(parser.add_subparsers(dest="command"))
    return int(getattr(mod, run)(parser.parse_args([command, *argv])))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--version":  # answered before anything heavy is imported
        print(f"bayesbench {__version__}")
        return EXIT_OK
    if not argv or argv[0] in ("-h", "--help"):
        (sys.stdout if argv else sys.stderr).write(_run_parser("bayesbench").format_help())
        return EXIT_OK if argv else EXIT_INPUT
    command, rest = (argv[0], argv[1:]) if argv[0] in SUBCOMMANDS else ("run", argv)
    handlers: dict[str, Any] = {"run": _cmd_run, "replay": _cmd_replay, "demo": _cmd_demo}
    handlers.update({name: (lambda rest, name=name: _delegate(name, rest)) for name in DELEGATED})
    try:
        if command == "run" and argv[0] != "run":
            return _cmd_run(rest, prog="bayesbench")
        return handlers[command](rest)
    except KeyboardInterrupt:
        print("bayesbench: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ModelError as exc:
        print(f"bayesbench: model error: {exc}", file=sys.stderr)
        partial = getattr(exc, "partial_result", None)
        if partial is not None:
            print(f"bayesbench: results so far:\n{partial.summary()}", file=sys.stderr)
        return EXIT_MODEL
    except BayesbenchError as exc:
        print(f"bayesbench: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except SystemExit as exc:  # argparse
        return EXIT_INPUT if exc.code not in (0, None) else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
