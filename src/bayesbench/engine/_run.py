"""What one run owns, in one place: its settings (seed fixed), journal, executor, models and costs.

Every run (a comparison, a task, a ranking) enters one :class:`RunContext`::

    async with RunContext(kind=..., name=..., problems=..., settings=..., functions=..., store=...,
                          executor=...) as ctx:
        ... ctx.executor.call(...) ... ctx.journal ... ctx.calls ... ctx.spent_usd ...

On the way out, whatever happened (a normal end, an error, a cancellation), the models' async
clients are closed on the loop they were opened on (``await model.aclose()`` where a model has it),
and the executor is closed if the run built it. Costs and call counts are differences of the
executor's running totals since the run began, so a shared executor's earlier calls never count.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._journal import RunJournal, open_store, run_config
from ._settings import RunSettings


def _closers(functions: Sequence[Any]) -> list[Callable[[], Any]]:
    """``aclose`` of every distinct model (seen through ``as_callable`` wrappers) that has one."""
    out: list[Callable[[], Any]] = []
    seen: set[int] = set()
    for fn in functions:
        for obj in (fn, getattr(fn, "__bayesbench_model__", None), getattr(fn, "__self__", None)):
            if obj is None or id(obj) in seen:
                continue
            seen.add(id(obj))
            aclose = getattr(obj, "aclose", None)
            if callable(aclose):
                out.append(aclose)
    return out


class RunContext:
    """An async context manager owning one run's resources (see the module docstring).

    Attributes after entering: ``settings`` (seed fixed: drawn, or the resumed run's), ``journal``
    (a :class:`RunJournal` or None without a store), ``executor``, ``run_id``, ``resumed``.
    """

    def __init__(
        self,
        *,
        kind: str,
        name: str,
        problems: Sequence[Any],
        settings: RunSettings,
        functions: Mapping[str, Callable[..., Any]],
        store: Any = None,
        executor: Any = None,
        models: Sequence[Any] = (),
    ) -> None:
        from ..execution import Executor

        if isinstance(executor, str):  # executor="ray": shorthand of the setting execution="ray"
            settings = settings.replace(execution=executor)
            executor = None
        store = open_store(store)
        if executor is not None and store is None:
            store = getattr(executor, "store", None)
        self.journal: RunJournal | None = None
        if store is not None:
            config = run_config(kind, settings, problems, functions)
            from ._loop import shuffled_order

            self.journal = RunJournal.open(
                store, name, config, settings.seed, lambda seed: shuffled_order(len(problems), seed)
            )
            settings = settings.replace(seed=self.journal.seed)
        else:
            settings = settings.with_seed()
        self.settings = settings
        self._own_executor = executor is None
        if executor is None:
            kind_of_executor: type[Executor] = Executor
            if settings.execution == "ray":
                from ..execution._ray import RayExecutor

                kind_of_executor = RayExecutor
            executor = kind_of_executor(max_concurrency=settings.max_concurrency, retry=settings.retry,
                                        timeout=settings.timeout, seed=settings.seed or 0, store=store)
        if self.journal is not None:
            executor.run_id = self.journal.run_id
        self.executor = executor
        self._closers = _closers([*functions.values(), *models])
        self._calls_at_start = self._calls_now()
        self._spent_at_start = self._spent_now()
        self._monitor: Any = None
        self._resources: Any = None
        if settings.monitor_resources:
            from ..errors import MissingDependencyError
            from ..ops._monitor import ResourceMonitor

            try:
                self._monitor = ResourceMonitor().start()
            except MissingDependencyError as err:  # psutil missing from a broken install: run, unmonitored
                warnings.warn(f"{err}; this run is not monitored (pass monitor_resources=False to silence this)",
                              RuntimeWarning, stacklevel=2)

    @property
    def run_id(self) -> str | None:
        return self.journal.run_id if self.journal is not None else None

    @property
    def resumed(self) -> bool:
        return bool(self.journal is not None and self.journal.resumed)

    def _calls_now(self) -> int:
        return int(getattr(self.executor, "calls_made", 0))

    def _spent_now(self) -> float:
        return float(getattr(self.executor, "spent_usd", 0.0))

    @property
    def calls(self) -> int:
        """Executor calls finished since this run began (cache hits included)."""
        return self._calls_now() - self._calls_at_start

    @property
    def spent_usd(self) -> float:
        """Dollars of live (non-cached) calls since this run began, per the executor's price table."""
        return self._spent_now() - self._spent_at_start

    def over_budget(self) -> bool:
        budget = self.settings.max_cost_usd
        return budget is not None and self.spent_usd >= budget

    def usage(self) -> Any:
        """The executor's :class:`UsageReport`, or None before any call."""
        if not self._calls_now() or not hasattr(self.executor, "usage_summary"):
            return None
        return self.executor.usage_summary()

    def resources(self) -> Any:
        """The run's :class:`~bayesbench.ops.ResourceReport` (the monitor stops here), or None when
        ``monitor_resources`` is off."""
        if self._monitor is not None and self._resources is None:
            self._resources = self._monitor.stop()
        return self._resources

    def _record_resources(self) -> None:
        report = self.resources()
        if report is None or self.journal is None or not hasattr(self.journal.store, "record_resources"):
            return
        try:
            self.journal.store.record_resources(self.run_id, report.to_dict())
        except Exception as err:  # the run's result matters more than its resource record
            warnings.warn(f"bayesbench could not record the run's resource use: {err}", RuntimeWarning, stacklevel=2)

    async def __aenter__(self) -> RunContext:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the models' async clients (on this loop), then the executor if the run built it."""
        self._record_resources()
        try:
            for aclose in self._closers:
                try:
                    value = aclose()
                    if inspect.isawaitable(value):
                        await value
                except Exception as err:  # a failing close must not hide the run's result or error
                    warnings.warn(f"bayesbench could not close a model: {err}", RuntimeWarning, stacklevel=2)
        finally:
            if self._own_executor:
                self.executor.close()
