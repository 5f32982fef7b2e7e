"""``bayesbench loadtest`` (latency against concurrency) and ``bayesbench deploy`` (deployments side by side)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from ..errors import ConfigError


def _model(name: str, base_url: str | None, api_key_env: str | None, max_tokens: int, stream: bool) -> Any:
    from ..models import openai_model

    key = None
    if api_key_env:
        key = os.environ.get(api_key_env)
        if not key:
            raise ConfigError(f"--api-key-env {api_key_env}: that environment variable is not set; export it first")
    return openai_model(name, base_url=base_url, api_key=key, max_tokens=max_tokens, stream=stream)


def add_loadtest_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("loadtest", help="latency and throughput of a model server at several concurrency levels",
                              description="Send the same requests at each concurrency level to an OpenAI-compatible "
                              "server and report latency percentiles, throughput and where the server saturates.")
    p.add_argument("model", help="the model name the server knows (e.g. smollm2-135m, gpt-4o-mini)")
    p.add_argument("--base-url", help="API root including /v1, e.g. http://127.0.0.1:8080/v1 (default: OpenAI, or "
                   "OPENAI_BASE_URL)")
    p.add_argument("--api-key-env", metavar="VAR", help="environment variable holding the API key (default "
                   "OPENAI_API_KEY; a local server needs none)")
    p.add_argument("--concurrency", default="1,8,32", help="levels, increasing (default 1,8,32)")
    p.add_argument("--requests", type=int, default=None, help="requests per level (default 4 x concurrency, >= 8)")
    p.add_argument("--max-tokens", type=int, default=32, help="max_tokens of each request (default 32)")
    p.add_argument("--stream", action="store_true", help="stream the answers (measures time to first token)")
    p.add_argument("--prompt", default=None, help="the prompt to send (default: 64 short questions, cycled)")
    p.add_argument("--timeout", type=float, default=60.0, help="per-request deadline in seconds (default 60)")
    p.add_argument("--saturation-gain", type=float, default=0.1,
                   help="a level whose throughput grows by less than this fraction is saturated (default 0.1)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=run_loadtest)
    return p


def run_loadtest(args: argparse.Namespace) -> int:
    from ._loadtest import _check_levels, loadtest

    _check_levels(args.concurrency)  # bad levels are refused before any connection is made
    model = _model(args.model, args.base_url, args.api_key_env, args.max_tokens, args.stream)
    prompts = None if args.prompt is None else [{"question": args.prompt}]
    report = loadtest(model, concurrency=args.concurrency, requests=args.requests, prompts=prompts, name=args.model,
                      timeout=args.timeout, saturation_gain=args.saturation_gain)
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(report.summary())
    return 0


def _pairs(values: list[str] | None, flag: str, parse: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values or []:
        label, sep, rest = item.partition("=")
        if not sep or not label or not rest:
            raise ConfigError(f"{flag} must look like LABEL=VALUE, got {item!r}")
        try:
            out[label] = parse(rest)
        except (TypeError, ValueError):
            raise ConfigError(f"{flag} {item!r}: the value after '=' is not valid") from None
    return out


def _model_at_url(text: str) -> tuple[str, str]:
    name, sep, url = text.rpartition("@")
    if not sep or not name or "://" not in url:
        raise ValueError(text)
    return name, url


def _two_prices(text: str) -> tuple[float, float]:
    first, sep, second = text.partition(",")
    if not sep:
        raise ValueError(text)
    return float(first), float(second)


def add_deploy_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("deploy", help="compare deployments side by side: accuracy, latency, throughput, cost",
                              description="Run one engine comparison of two or more OpenAI-compatible deployments on a "
                              "benchmark suite and report accuracy (with the engine's verdict), latency, throughput, "
                              "cost per 1000 problems and per correct answer, and resources.")
    p.add_argument("--model", action="append", required=True, metavar="LABEL=MODEL@BASE_URL",
                   help="a deployment: its label, the model name its server knows and the API root "
                   "(e.g. local=smollm2-135m@http://127.0.0.1:8080/v1); repeat for each (at least 2)")
    p.add_argument("--benchmark", choices=("mmlu", "gsm8k"), default="mmlu", help="the suite (default mmlu, 0-shot)")
    p.add_argument("--per-task", type=int, default=1, help="MMLU problems per subject (default 1)")
    p.add_argument("--problems", type=int, default=None, help="at most this many problems (default: all)")
    p.add_argument("--hourly", action="append", metavar="LABEL=USD",
                   help="hardware $/hour of a local deployment (repeat per label)")
    p.add_argument("--watts", action="append", metavar="LABEL=W", help="power draw of a local deployment "
                   "(with --usd-per-kwh)")
    p.add_argument("--usd-per-kwh", type=float, default=None, help="electricity price for --watts")
    p.add_argument("--price", action="append", metavar="LABEL=IN,OUT",
                   help="API price in $ per 1M input and output tokens (repeat per label)")
    p.add_argument("--completion", action="append", metavar="LABEL", default=[],
                   help="send plain completions to this deployment (a base model) instead of chat")
    p.add_argument("--max-tokens", type=int, default=None, help="max_tokens per answer (default 8 mmlu, 256 gsm8k)")
    p.add_argument("--confidence", type=float, default=0.95, help="level of the verdict (default 0.95)")
    p.add_argument("--seed", type=int, default=0, help="seed of the problem order (default 0)")
    p.add_argument("--max-concurrency", type=int, default=4, help="calls in flight (default 4)")
    p.add_argument("--json", action="store_true", help="print DeploymentReport.to_dict() as JSON")
    p.set_defaults(run=run_deploy)
    return p


def run_deploy(args: argparse.Namespace) -> int:
    from ..benchmarks import GSM8K, MMLU
    from ..models import openai_model
    from ._cost import CostModel
    from ._deployment import compare_deployments

    specs = _pairs(args.model, "--model", _model_at_url)
    if len(specs) < 2:
        raise ConfigError(f"--model must be given at least twice (two deployments), got {len(specs)}")
    hourly = _pairs(args.hourly, "--hourly", float)
    watts = _pairs(args.watts, "--watts", float)
    prices = _pairs(args.price, "--price", _two_prices)
    if watts and args.usd_per_kwh is None:
        raise ConfigError("--watts needs --usd-per-kwh (the price of electricity)")
    costs = {label: CostModel(hourly_usd=hourly.get(label, 0.0), watts=watts.get(label),
                              usd_per_kwh=args.usd_per_kwh if label in watts else None)
             for label in set(hourly) | set(watts)}
    if args.benchmark == "mmlu":
        bench: Any = MMLU(n_shots=0, n_problems_per_task=args.per_task, seed=args.seed,
                          confinement_instructions="Answer with only the letter (A, B, C, or D).")
        max_tokens = args.max_tokens or 8
    else:
        bench = GSM8K(n_shots=0, seed=args.seed)
        max_tokens = args.max_tokens or 256
    models = {label: openai_model(name, base_url=url, max_tokens=max_tokens,
                                  mode="completion" if label in args.completion else "chat")
              for label, (name, url) in specs.items()}
    report = compare_deployments(models, benchmark=bench, cost_models=costs, prices=prices or None,
                                 confidence=args.confidence, seed=args.seed, max_problems=args.problems,
                                 max_concurrency=args.max_concurrency)
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(report.summary())
    return 0


def add_usage_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("usage", help="latency, throughput and resource use of a stored run",
                              description="Per-model latency percentiles, time to first token, tokens/s, requests/s "
                              "(over the run and in windows), errors and retries, and the CPU/memory/GPU samples "
                              "of a run recorded in a store.")
    p.add_argument("run_id", help="the run's id (result.run_id, or the newest run with 'latest')")
    p.add_argument("--store", required=True, help="the SQLite file (or database URL) the run was recorded in")
    p.add_argument("--window", type=float, default=10.0, help="width of the requests/s windows in seconds (default 10)")
    p.add_argument("--json", action="store_true", help="print {latency, resources} as JSON")
    p.set_defaults(run=run_usage)
    return p


def run_usage(args: argparse.Namespace) -> int:
    from ..store import Store
    from ._latency import latency_report
    from ._monitor import ResourceReport

    store = Store(args.store)
    run_id = args.run_id
    if run_id == "latest":
        runs = store.runs()
        if not runs:
            raise ConfigError(f"the store {args.store!r} has no runs yet")
        run_id = runs[0]["id"]
    if store.get_run(run_id) is None:
        known = ", ".join(r["id"] for r in store.runs()[:5]) or "none"
        raise ConfigError(f"no run {run_id!r} in {args.store!r}; the newest runs are: {known}")
    latency = latency_report(store, run_id=run_id, window_s=args.window)
    resources = store.resources(run_id)
    if args.json:
        json.dump({"run_id": run_id, "latency": latency.to_dict(), "resources": resources}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(f"run {run_id}")
        print(latency.summary())
        print(ResourceReport.from_dict(resources).summary() if resources else "resources: not recorded")
    return 0
