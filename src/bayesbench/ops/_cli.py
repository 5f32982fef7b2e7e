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
