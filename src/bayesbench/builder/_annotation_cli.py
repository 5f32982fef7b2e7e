"""``bayesbench build annotate ...`` and ``bayesbench build agreement``: annotation rounds from the command line.

    bayesbench build annotate create DIR --out ROUND.sqlite --annotator A --annotator B [--overlap 2]
                                     [--labels bad,ok,good] [--seed 0]
    bayesbench build annotate serve ROUND.sqlite [--port 8765] [--host 127.0.0.1]
    bayesbench build annotate progress ROUND.sqlite [--json]
    bayesbench build annotate export ROUND.sqlite --out LABELS.jsonl|LABELS.csv
    bayesbench build annotate import ROUND.sqlite --from LABELS.jsonl|LABELS.csv
    bayesbench build agreement ROUND.sqlite|LABELS.jsonl|LABELS.csv [--scale nominal|ordinal|interval]
                               [--labels ...] [--threshold 0.5] [--boot 1000] [--seed 0]
                               [--consensus majority|dawid-skene] [--json]

DIR is a dataset folder written by ``bayesbench build collect`` (its guidelines are shown to annotators, and its
rubric gives the labels unless ``--labels`` does). Wiring into ``bayesbench build``: ``add_annotation_commands(sub)``
on the build subparsers, and ``run_annotation(args)`` for ``args.build_command in ANNOTATION_COMMANDS``. Also
runnable alone: ``python -m bayesbench.builder._annotation_cli annotate progress ROUND.sqlite``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import BayesbenchError, ConfigError

EXIT_OK, EXIT_INPUT = 0, 2
ANNOTATION_COMMANDS = ("annotate", "agreement")
SCALES = ("nominal", "ordinal", "interval")


def _labels(text: str | None) -> list[str] | None:
    return [x.strip() for x in text.split(",") if x.strip()] if text else None


def add_annotation_commands(sub: Any) -> None:
    """Add ``annotate`` (create / serve / progress / export / import) and ``agreement`` to ``sub``."""
    a = sub.add_parser("annotate", help="annotation rounds: create, serve the page, progress, export, import")
    asub = a.add_subparsers(dest="annotate_command", metavar="{create,serve,progress,export,import}")
    asub.required = True
    c = asub.add_parser("create", help="a new annotation round (one SQLite file) over a dataset folder")
    c.add_argument("dir", help="the dataset folder (bayesbench build collect)")
    c.add_argument("--out", required=True, help="the round's file to create, e.g. round1.sqlite")
    c.add_argument("--annotator", action="append", required=True, help="an annotator's name (repeat for each)")
    c.add_argument("--overlap", type=int, default=2, help="annotators per item (default 2)")
    c.add_argument("--labels", help="comma-separated labels (default: the guidelines' rubric)")
    c.add_argument("--seed", type=int, default=0, help="seed of the assignment (default 0)")
    s = asub.add_parser("serve", help="serve the annotation page on 127.0.0.1")
    s.add_argument("project")
    s.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)")
    s.add_argument("--port", type=int, default=8765)
    p = asub.add_parser("progress", help="labels done per annotator")
    p.add_argument("project")
    p.add_argument("--json", action="store_true")
    e = asub.add_parser("export", help="write every label to JSONL or CSV")
    e.add_argument("project")
    e.add_argument("--out", required=True)
    i = asub.add_parser("import", help="read labels made elsewhere (JSONL or CSV)")
    i.add_argument("project")
    i.add_argument("--from", dest="source", required=True)

    g = sub.add_parser("agreement", help="inter-annotator agreement, consensus and items to review")
    g.add_argument("labels_file", help="a round's .sqlite, or exported labels (.jsonl / .csv)")
    g.add_argument("--scale", choices=SCALES, help="level of measurement (default: the round's guidelines, else nominal)")
    g.add_argument("--labels", help="comma-separated labels in order (ordinal scales)")
    g.add_argument("--threshold", type=float, default=0.5, help="flag items whose agreement is below this (default 0.5)")
    g.add_argument("--boot", type=int, default=1000, help="bootstrap resamples (default 1000)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--consensus", choices=("majority", "dawid-skene"), default="majority")
    g.add_argument("--json", action="store_true")


def _records(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if path.suffix == ".csv":
        with open(path, encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))
    raise ConfigError(f"labels file must be a .sqlite round or .jsonl / .csv labels, got {str(path)!r}")


def _agreement(args: argparse.Namespace) -> int:
    from ._agreement import agreement_report
    from ._annotate import AnnotationProject
    from ._consensus import dawid_skene, majority_vote

    path = Path(args.labels_file)
    scale, cats = args.scale, _labels(args.labels)
    if path.suffix in (".sqlite", ".db"):
        with AnnotationProject.open(path) as proj:
            records = proj.records()
            cats = cats or proj.labels
            scale = scale or (proj.guidelines.scale if proj.guidelines else None)
    else:
        records = _records(path)
    if not records:
        raise ConfigError(f"{path} holds no labels yet")
    scale = scale or "nominal"
    report = agreement_report(records, level_of_measurement=scale, categories=cats, threshold=args.threshold,
                              n_boot=args.boot, seed=args.seed)
    consensus = (dawid_skene if args.consensus == "dawid-skene" else majority_vote)(records, categories=cats,
                                                                                   seed=args.seed)
    if args.json:
        print(json.dumps({"agreement": report.to_dict(), "consensus": consensus.to_dict()}, default=str))
    else:
        print(report.summary())
        print(consensus.summary())
    return EXIT_OK


def run_annotation(args: argparse.Namespace) -> int:
    """Run ``annotate ...`` or ``agreement``; bad input is exit 2 with the message on stderr."""
    from ._annotate import AnnotationProject

    try:
        if args.build_command == "agreement":
            return _agreement(args)
        cmd = args.annotate_command
        if cmd == "create":
            from ._dataset import BuilderDataset

            ds = BuilderDataset.load(args.dir)
            with AnnotationProject.create(args.out, ds, annotators=args.annotator, overlap=args.overlap,
                                          labels=_labels(args.labels), seed=args.seed, name=ds.name) as proj:
                print(proj.summary())
        elif cmd == "serve":
            from ._annotate_app import serve_annotation

            print(f"annotation page on http://{args.host}:{args.port}/ (Ctrl-C to stop)", flush=True)
            serve_annotation(args.project, host=args.host, port=args.port)
        elif cmd == "progress":
            with AnnotationProject.open(args.project) as proj:
                print(json.dumps(proj.to_dict()["progress"]) if args.json else proj.summary())
        elif cmd == "export":
            with AnnotationProject.open(args.project) as proj:
                out = proj.export(args.out)
                print(f"wrote {len(proj.records())} labels to {out}")
        elif cmd == "import":
            with AnnotationProject.open(args.project) as proj:
                print(f"imported {proj.import_labels(args.source)} labels into {args.project}")
        return EXIT_OK
    except BayesbenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bayesbench build")
    sub = parser.add_subparsers(dest="build_command")
    sub.required = True
    add_annotation_commands(sub)
    return run_annotation(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
