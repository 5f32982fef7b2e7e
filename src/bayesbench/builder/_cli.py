"""``bayesbench build``: collect, generate, dedup, anonymize, export and inspect a built dataset.

    bayesbench build collect DIR --from FILE [--from FILE ...] [--kind log|expert] [--field input=query ...]
                                 [--hf SOURCE [--split train] [--data-files F]] [--domain D] [--tag T] [--name N]
    bayesbench build generate DIR --model NAME --base-url URL --template TEXT --topic T [--topic T ...]
    bayesbench build dedup DIR [--threshold 0.8] [--exact-only]
    bayesbench build anonymize DIR [--engine auto|regex|presidio] [--salt-file FILE]
    bayesbench build export DIR --format jsonl|hf|inspect|lm-eval --out PATH [--allow-raw]
    bayesbench build info DIR [--json]

DIR is a dataset folder (``cases.jsonl`` + ``manifest.json``). ``collect`` creates it (or adds to it);
``generate``, ``dedup`` and ``anonymize`` change it in place, each as one changelog entry (``--out DIR2``
writes the result elsewhere). ``export`` refuses logged queries that were not anonymised unless ``--allow-raw``.

Wiring: ``add_build_parser(subparsers)`` adds the subcommand; ``run_build(args)`` runs it and returns the exit
code (0 done, 2 bad input, 3 a model failed).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DatasetError
from ._annotation_cli import ANNOTATION_COMMANDS, add_annotation_commands, run_annotation

EXIT_OK, EXIT_INPUT, EXIT_MODEL = 0, 2, 3
FORMATS = ("jsonl", "hf", "inspect", "lm-eval")


def _fields(pairs: list[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"`--field` must be CASE_FIELD=SOURCE_FIELD (e.g. input=query), got {pair!r}")
        k, v = pair.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def add_build_parser(subparsers: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "build", help="build a benchmark dataset from logs, expert files and models",
        description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="build_command",
                           metavar="{collect,generate,dedup,anonymize,export,info,annotate,agreement}")
    sub.required = True

    c = sub.add_parser("collect", help="collect test cases from files or a Hugging Face dataset into DIR")
    c.add_argument("dir", help="the dataset folder to create or add to")
    c.add_argument("--from", dest="sources", action="append", default=[], metavar="FILE",
                   help="a .jsonl/.json/.csv/.tsv file (repeat for several)")
    c.add_argument("--kind", choices=("log", "expert"), default="log", help="provenance of --from files (default log)")
    c.add_argument("--hf", metavar="SOURCE", help="a Hugging Face dataset: a save_to_disk folder, a hub name, or a "
                   "builder name (json, csv, parquet) with --data-files")
    c.add_argument("--split", default="train", help="the --hf split (default train)")
    c.add_argument("--data-files", help="files for an --hf builder name")
    c.add_argument("--limit", type=int, help="read at most this many --hf rows")
    c.add_argument("--field", action="append", metavar="CASE=SOURCE",
                   help="field mapping, e.g. --field input=query --field expected=answer")
    c.add_argument("--domain", help="domain of every collected case")
    c.add_argument("--tag", action="append", default=[], help="tag every collected case (repeatable)")
    c.add_argument("--name", help="dataset name (default: the folder name)")
    c.add_argument("--separator", default="|", help="splits text references/tags in CSV cells (default |)")
    c.add_argument("--guidelines", metavar="JSON", help="annotation guidelines to store with the dataset: a JSON "
                   "object with task, criteria, rubric, scale, examples, edge_cases")

    g = sub.add_parser("generate", help="add model-generated (synthetic) candidates to DIR")
    g.add_argument("dir")
    g.add_argument("--model", required=True, help="the model name the server knows")
    g.add_argument("--base-url", required=True, help="an OpenAI-compatible API root, e.g. http://127.0.0.1:8080/v1 "
                   "(the key, if any, comes from OPENAI_API_KEY)")
    g.add_argument("--template", required=True, help="prompt with {topic}, e.g. 'Write 3 questions about {topic}'")
    g.add_argument("--topic", action="append", required=True, help="a seed topic (repeatable)")
    g.add_argument("--samples", type=int, default=1, help="calls per topic (default 1)")
    g.add_argument("--parse", choices=("lines", "json"), default="lines", help="how to read candidates (default lines)")
    g.add_argument("--max", type=int, dest="max_candidates", help="stop after this many candidates")
    g.add_argument("--max-tokens", type=int, default=256, help="tokens per answer (default 256)")
    g.add_argument("--temperature", type=float, default=0.0, help="sampling temperature (default 0)")
    g.add_argument("--seed", type=int, default=0, help="seed sent to the server and recorded (default 0)")
    g.add_argument("--domain", help="domain of every candidate")
    g.add_argument("--out", help="write the result to this folder instead of DIR")

    d = sub.add_parser("dedup", help="remove exact and near-duplicate inputs")
    d.add_argument("dir")
    d.add_argument("--threshold", type=float, default=0.8, help="Jaccard similarity of near duplicates (default 0.8)")
    d.add_argument("--exact-only", action="store_true", help="only exact duplicates (no datasketch needed)")
    d.add_argument("--seed", type=int, default=1, help="MinHash seed (default 1)")
    d.add_argument("--out", help="write the result to this folder instead of DIR")
    d.add_argument("--json", action="store_true", help="print the report as JSON")

    a = sub.add_parser("anonymize", help="replace personal data by consistent pseudonyms")
    a.add_argument("dir")
    a.add_argument("--engine", choices=("auto", "regex", "presidio"), default="auto",
                   help="auto (default): Presidio when bayesbench[pii] is installed, else the regex fallback")
    a.add_argument("--salt-file", help="file holding the secret salt (created with a random one if missing; keep it "
                   "outside the dataset). Default: $BAYESBENCH_PII_SALT, else a random salt for this run only")
    a.add_argument("--out", help="write the result to this folder instead of DIR")
    a.add_argument("--json", action="store_true", help="print the report as JSON")

    e = sub.add_parser("export", help="export to JSONL, Hugging Face datasets, Inspect or lm-eval")
    e.add_argument("dir")
    e.add_argument("--format", required=True, choices=FORMATS)
    e.add_argument("--out", required=True, help="the output file (jsonl, inspect) or folder (hf, lm-eval)")
    e.add_argument("--task", help="lm-eval task name (default: the dataset name)")
    e.add_argument("--prompt", default="{{input}}", help="lm-eval doc_to_text (default {{input}})")
    e.add_argument("--allow-raw", action="store_true", help="export logged queries that were not anonymised")

    i = sub.add_parser("info", help="show a dataset's counts, version and changelog")
    i.add_argument("dir")
    i.add_argument("--json", action="store_true", help="print the manifest as JSON")
    add_annotation_commands(sub)  # annotate create|serve|progress|export|import, agreement
    p.set_defaults(run=run_build)
    return p


def _load(path: str) -> Any:
    from ._dataset import BuilderDataset

    return BuilderDataset.load(path)


def _salt(path: str | None) -> str | None:
    if path is None:
        if not os.environ.get("BAYESBENCH_PII_SALT"):
            print("bayesbench build: note: no --salt-file or BAYESBENCH_PII_SALT; using a random salt, so cases "
                  "anonymised in a later run get other pseudonyms", file=sys.stderr)
        return None
    p = Path(path)
    if not p.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(secrets.token_hex(32) + "\n", encoding="utf-8")
        os.chmod(p, 0o600)
        print(f"bayesbench build: created a new salt in {p}; keep it private and outside the dataset",
              file=sys.stderr)
    salt = p.read_text(encoding="utf-8").strip()
    if len(salt) < 16:
        raise ConfigError(f"the salt in {p} is shorter than 16 characters; delete the file to create a new one")
    return salt


def _guidelines(path: str) -> Any:
    from ._schema import Guidelines

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"guidelines file {path!r} does not exist")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: the guidelines must be one JSON object, got {type(data).__name__}")
    return Guidelines.from_dict(data)


def _collect(args: argparse.Namespace) -> int:
    from ._collect import collect_expert, collect_hf, collect_logs
    from ._dataset import MANIFEST_FILE, BuilderDataset

    if not args.sources and not args.hf and not args.guidelines:
        raise ConfigError("`collect` needs at least one --from FILE or --hf SOURCE (or --guidelines JSON)")
    folder = Path(args.dir)
    ds = _load(args.dir) if (folder / MANIFEST_FILE).exists() else BuilderDataset(args.name or folder.name)
    fields = _fields(args.field)
    common = {"fields": fields, "domain": args.domain, "tags": args.tag, "list_separator": args.separator}
    for src in args.sources:
        collect = collect_logs if args.kind == "log" else collect_expert
        cases = collect(src, **common)
        ds.add(cases, detail=f"collected {len(cases)} {args.kind} case(s) from {src}")
        print(f"collected {len(cases)} case(s) from {src}")
    if args.hf:
        cases = collect_hf(args.hf, split=args.split, data_files=args.data_files, limit=args.limit, **common)
        ds.add(cases, detail=f"collected {len(cases)} case(s) from Hugging Face dataset {args.hf} ({args.split})")
        print(f"collected {len(cases)} case(s) from {args.hf}")
    if args.guidelines:
        ds.set_guidelines(_guidelines(args.guidelines), reason=f"guidelines from {args.guidelines}")
    ds.save(folder)
    print(ds.summary())
    return EXIT_OK


def _generate(args: argparse.Namespace) -> int:
    from ..models import openai_model
    from ._generate import generate_candidates

    ds = _load(args.dir)
    model = openai_model(args.model, base_url=args.base_url, api_key=os.environ.get("OPENAI_API_KEY") or "none",
                         max_tokens=args.max_tokens, temperature=args.temperature, seed=args.seed)
    result = generate_candidates(model, args.topic, template=args.template, samples_per_seed=args.samples,
                                 parse=args.parse, domain=args.domain, max_candidates=args.max_candidates,
                                 seed=args.seed)
    for err in result.errors:
        print(f"bayesbench build: generation call failed: {err}", file=sys.stderr)
    if result.calls and result.failed == result.calls:
        print("bayesbench build: every generation call failed; nothing added", file=sys.stderr)
        return EXIT_MODEL
    ds.add(result.cases, action="generate", detail=result.summary(), counts=result.to_dict())
    ds.save(args.out or args.dir)
    print(result.summary())
    return EXIT_OK


def _dedup(args: argparse.Namespace) -> int:
    from ._dedup import deduplicate

    result = deduplicate(_load(args.dir), near=not args.exact_only, threshold=args.threshold, seed=args.seed)
    result.dataset.save(args.out or args.dir)
    if args.json:
        json.dump(result.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(result.summary())
        for dup in result.removed[:20]:
            print(f"  removed {dup.id} ({dup.kind}, similarity {dup.similarity:.2f}) duplicate of {dup.duplicate_of}")
        if len(result.removed) > 20:
            print(f"  ... and {len(result.removed) - 20} more (--json lists all)")
    return EXIT_OK


def _anonymize(args: argparse.Namespace) -> int:
    from ._anonymize import anonymize

    if args.salt_file and Path(args.salt_file).resolve().is_relative_to(Path(args.out or args.dir).resolve()):
        raise ConfigError("`--salt-file` must be outside the dataset folder: the salt must not travel with the data")
    result = anonymize(_load(args.dir), engine=args.engine, salt=_salt(args.salt_file))
    result.dataset.save(args.out or args.dir)
    if args.json:
        json.dump(result.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(result.summary())
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    import warnings

    from . import _export as ex

    ds = _load(args.dir)
    if not ex.is_anonymized(ds) and not args.allow_raw:
        raise DatasetError(f"dataset {ds.name!r} holds logged user queries that were not anonymised; run "
                           f"`bayesbench build anonymize {args.dir}` first, or pass --allow-raw to export them as "
                           "they are")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ex.RawDataWarning)  # the user chose --allow-raw
        if args.format == "jsonl":
            out = ex.export_jsonl(ds, args.out)
        elif args.format == "hf":
            out = ex.save_hf(ds, args.out)
        elif args.format == "inspect":
            out = ex.export_inspect_jsonl(ds, args.out)
        else:
            out = ex.export_lm_eval(ds, args.out, task=args.task, prompt=args.prompt)
    print(f"exported {len(ds)} case(s) of {ds.name!r} ({ds.version}) as {args.format}: {out}")
    return EXIT_OK


def _info(args: argparse.Namespace) -> int:
    ds = _load(args.dir)
    if args.json:
        json.dump(ds.to_dict(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return EXIT_OK
    print(ds.summary())
    if ds.changelog:
        print("Changelog:")
        for e in ds.changelog:
            print(f"  {e.at}  {e.action:<13} {e.n_before:>5} -> {e.n_after:<5} {e.version_after}  {e.detail}")
    return EXIT_OK


def run_build(args: argparse.Namespace) -> int:
    if args.build_command in ANNOTATION_COMMANDS:
        return run_annotation(args)
    handlers = {"collect": _collect, "generate": _generate, "dedup": _dedup, "anonymize": _anonymize,
                "export": _export, "info": _info}
    return handlers[args.build_command](args)
