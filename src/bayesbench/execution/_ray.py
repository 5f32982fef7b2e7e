"""Model calls on a Ray cluster: the attempt runs as a Ray task (or on a model hosted in a Ray actor)
while everything else about a call stays in this process (docs/scale.md).

:class:`RayExecutor` is an :class:`~bayesbench.execution.Executor` that changes one thing, *where an
attempt runs*. The cache lookup, the concurrency and rate limits, the retries with backoff, the
deadline, the error classification and the commit to the store all happen in the driver, before and
after the attempt, exactly as in-process: a cached or committed call never reaches Ray, and a resumed
run asks nothing twice. Ray's own retries (``max_retries`` of a task, ``max_restarts`` /
``max_task_retries`` of an actor) cover a worker or actor that dies; an exception the model raises
comes back unwrapped and goes through the one error classifier (``models/_errors.py``).

:func:`ray_actor_model` hosts one local model (llama.cpp, Hugging Face ...) per Ray actor with its own
CPUs/GPUs, so a model is loaded once per actor, not once per call. Its calls are ``async`` and await the
actor directly, so it works with any executor.

Ray is imported only here and only when used (extra ``[ray]``).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import ConfigError, missing_dependency
from ._executor import Executor
from ._keys import callable_identity

__all__ = ["RayActorModel", "RayExecutor", "ray_actor_model"]


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise missing_dependency("ray", "ray", "Running model calls on Ray") from exc
    return ray


_INIT_LOCK = threading.Lock()


def ensure_ray(address: str | None = None, init_options: Mapping[str, Any] | None = None) -> Any:
    """The ``ray`` module, connected: the running connection if there is one, else ``ray.init(address)``
    (``None``: the cluster named by ``RAY_ADDRESS``, else a new local one; ``"auto"``: the running
    cluster on this machine; ``"ray://host:10001"``: a remote one through Ray Client)."""
    ray = _ray()
    with _INIT_LOCK:
        if not ray.is_initialized():
            ray.init(address=address, **{"include_dashboard": False, **dict(init_options or {})})
    return ray


def _nonneg(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"`{name}` must be a number >= 0, got {value!r}")
    return float(value)


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < -1:
        raise ConfigError(f"`{name}` must be an integer >= 0 (or -1: no limit), got {value!r}")
    return value


async def _awaited(aw: Any) -> Any:
    return await aw


def _answer(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """Run one attempt where it lands (a Ray worker or actor): sync and async models alike."""
    result = fn(*args)
    if inspect.isawaitable(result):
        result = asyncio.run(_awaited(result))
    return result


async def await_ref(ref: Any, timeout: float | None, *, kill_on_timeout: bool = False) -> Any:
    """Await a Ray ``ObjectRef`` on this loop, within ``timeout`` seconds (then the task is cancelled).

    ``kill_on_timeout``: a task past its deadline is cancelled with ``force=True``, which ends its worker
    process (Ray starts another): Ray's polite cancel cannot interrupt a blocking call such as a sleep or a
    C extension, and the abandoned call would hold its CPU until it ended. An actor's call is cancelled
    politely (only if it has not started: killing the actor would unload its model).

    An exception the model raised comes back as itself (not Ray's wrapper), so the error classifier
    sees what the model said; a dead worker or actor surfaces as Ray's error (retryable)."""
    ray = _ray()
    fut = asyncio.wrap_future(ref.future())
    try:
        return await (asyncio.wait_for(fut, timeout) if timeout else fut)
    except asyncio.TimeoutError:
        try:
            ray.cancel(ref, force=kill_on_timeout)
        except Exception:  # already finished, or not cancellable: its late answer is ignored
            pass
        raise
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, BaseException):
            raise cause from None
        raise


_REMOTE: dict[str, Any] = {}


def _remote_answer() -> Any:
    remote = _REMOTE.get("task")
    if remote is None:
        remote = _REMOTE["task"] = _ray().remote(_answer)
    return remote


def _hosted(fn: Any) -> bool:
    """Is ``fn`` a model hosted in an actor (itself, a bound method of it, or a wrapper around it)?"""
    return any(isinstance(getattr(fn, attr, fn) if attr else fn, RayActorModel)
               for attr in ("", "__self__", "__bayesbench_model__"))


class RayExecutor(Executor):
    """An :class:`Executor` whose attempts run as Ray tasks across a cluster.

    Takes every parameter of :class:`Executor` (``max_concurrency``, ``retry``, ``timeout``, ``store``,
    rate limits, prices ...: all applied in the driver), except ``inline`` (every attempt goes to Ray),
    plus:

    address:
        The cluster, used only if Ray is not connected yet: ``None`` (default) is ``RAY_ADDRESS`` or a
        new local cluster, ``"auto"`` the running one on this machine, ``"ray://host:10001"`` a remote one.
    num_cpus_per_call, num_gpus_per_call:
        Resources one call's task reserves (default 1 CPU, 0 GPUs). Use a fraction (e.g. 0.25) for a
        call that mostly waits on the network, so more run at once per CPU.
    task_retries:
        How often Ray re-runs a call whose worker died (Ray's ``max_retries``; default 3). An exception
        the model raises is not retried by Ray: it goes to this executor's ``retry`` policy.
    init_options:
        Extra keyword arguments of ``ray.init`` (e.g. ``{"num_cpus": 4}``), when this executor starts Ray.

    A task still running at its deadline (``timeout``) is cancelled and its worker process ended (Ray
    starts another), so an abandoned call never holds its CPU. A model hosted in an actor
    (:func:`ray_actor_model`) is called on its actor, not in a task. The
    model function is sent to the cluster once (``ray.put``) and must be picklable; a model holding an
    open client or a loaded model should be hosted with :func:`ray_actor_model` instead.
    """

    def __init__(
        self,
        *,
        address: str | None = None,
        num_cpus_per_call: float = 1.0,
        num_gpus_per_call: float = 0.0,
        task_retries: int = 3,
        init_options: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        if options.pop("inline", False):
            raise ConfigError("`inline` does not apply to RayExecutor: every attempt runs on the Ray cluster")
        if address is not None and not isinstance(address, str):
            raise ConfigError(f'`address` must be None, "auto" or a "ray://host:port" string, got {address!r}')
        super().__init__(inline=False, **options)
        self.address = address
        self.num_cpus_per_call = _nonneg("num_cpus_per_call", num_cpus_per_call)
        self.num_gpus_per_call = _nonneg("num_gpus_per_call", num_gpus_per_call)
        self.task_retries = _count("task_retries", task_retries)
        self.init_options = dict(init_options or {})
        self._task: Any = None
        self._shipped: dict[Any, Any] = {}  # model function -> its ObjectRef on the cluster

    def _remote(self) -> Any:
        if self._task is None:
            ensure_ray(self.address, self.init_options)
            self._task = _remote_answer().options(
                num_cpus=self.num_cpus_per_call,
                num_gpus=self.num_gpus_per_call,
                max_retries=self.task_retries,
                retry_exceptions=False,  # the model's own errors belong to the executor's retry policy
            )
        return self._task

    def _ship(self, fn: Callable[..., Any]) -> Any:
        """``fn`` on the cluster, put once per function (not pickled again for every call)."""
        try:
            ref = self._shipped.get(fn)
        except TypeError:  # unhashable: sent with each call
            return fn
        if ref is None:
            ray = _ray()
            try:
                ref = ray.put(fn)
            except Exception as exc:
                name = getattr(fn, "__qualname__", type(fn).__name__)
                raise ConfigError(
                    f"model function {name!r} cannot be sent to Ray workers ({exc}); build it inside the "
                    "worker instead: ray_actor_model(factory) hosts a model that holds a client or a loaded model"
                ) from None
            self._shipped[fn] = ref
        return ref

    async def _invoke_once(self, fn: Callable[..., Any], args: tuple[Any, ...], pool: Any) -> Any:
        if _hosted(fn):  # already remote: its async call awaits its actor
            return await super()._invoke_once(fn, args, pool)
        task = self._remote()
        return await await_ref(task.remote(self._ship(fn), args), self.timeout, kill_on_timeout=True)

    def close(self) -> None:
        """Drop the shipped functions (Ray frees them), then close as :class:`Executor` does. Ray stays
        connected: the caller who started it shuts it down (``ray.shutdown()``)."""
        self._shipped.clear()
        super().close()


class _ModelHost:
    """The actor body: builds the model once, then answers calls (and method calls) on it."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self.model = factory()

    def call(self, args: tuple[Any, ...]) -> Any:
        return _answer(self.model, args)

    def method(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return _answer(lambda *a: getattr(self.model, name)(*a, **kwargs), args)

    def identity(self) -> str:
        # the model's own cache_key when it has one (so the executor keys it exactly as in-process)
        ident = callable_identity(self.model)
        return ident[len("key:"):] if ident.startswith("key:") else ident

    def pid(self) -> int:
        return os.getpid()


class RayActorModel:
    """A model built by ``factory()`` inside its own Ray actor; calling it awaits the actor.

    Build it with :func:`ray_actor_model`. The actor starts at the first call (or :meth:`start`); it is
    restarted by Ray if it dies (``max_restarts``), and the calls it was running are re-sent
    (``max_task_retries``). ``cache_key`` is the hosted model's own (asked from the actor once), so
    cached answers are shared with the same model run in-process.
    """

    def __init__(
        self,
        factory: Callable[[], Any],
        *,
        num_cpus: float,
        num_gpus: float,
        max_concurrency: int,
        max_restarts: int,
        max_task_retries: int,
        timeout: float | None,
        address: str | None,
        cache_key: str | None,
    ) -> None:
        if not callable(factory):
            raise ConfigError(f"`factory` must be a zero-argument function that builds the model, got {factory!r}")
        self.factory = factory
        self.num_cpus = _nonneg("num_cpus", num_cpus)
        self.num_gpus = _nonneg("num_gpus", num_gpus)
        if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise ConfigError(f"`max_concurrency` must be an integer >= 1, got {max_concurrency!r}")
        self.max_concurrency = max_concurrency
        self.max_restarts = _count("max_restarts", max_restarts)
        self.max_task_retries = _count("max_task_retries", max_task_retries)
        if timeout is not None and _nonneg("timeout", timeout) == 0:
            raise ConfigError(f"`timeout` must be a number > 0 or None, got {timeout!r}")
        self.timeout = timeout
        self.address = address
        self._cache_key = cache_key
        self._actor: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        name = getattr(self.factory, "__qualname__", None) or repr(self.factory)
        return f"RayActorModel({name}, num_cpus={self.num_cpus:g}, num_gpus={self.num_gpus:g})"

    @property
    def actor(self) -> Any:
        """The Ray actor handle (started on first use)."""
        with self._lock:
            if self._actor is None:
                ray = ensure_ray(self.address)
                host = ray.remote(_ModelHost).options(
                    num_cpus=self.num_cpus,
                    num_gpus=self.num_gpus,
                    max_concurrency=self.max_concurrency,
                    max_restarts=self.max_restarts,
                    max_task_retries=self.max_task_retries,
                )
                self._actor = host.remote(self.factory)
            return self._actor

    def __getstate__(self) -> dict[str, Any]:
        # the actor handle travels (Ray handles pickle), the lock does not
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def start(self) -> RayActorModel:
        """Start the actor and wait until its model is loaded (a factory error is raised here)."""
        _ray().get(self.actor.pid.remote())
        return self

    @property
    def cache_key(self) -> str:
        """The hosted model's cache identity (blocks once, the first time, while the model loads)."""
        if self._cache_key is None:
            self._cache_key = str(_ray().get(self.actor.identity.remote()))
        return self._cache_key

    def pid(self) -> int:
        """The process id of the actor (for monitoring, and for tests that kill it)."""
        return int(_ray().get(self.actor.pid.remote()))

    async def __call__(self, *args: Any) -> Any:
        return await await_ref(self.actor.call.remote(args), self.timeout)

    async def call_method(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call another method of the hosted model, e.g. ``await m.call_method("loglikelihood", ctx, conts)``."""
        return await await_ref(self.actor.method.remote(name, args, kwargs), self.timeout)

    def shutdown(self) -> None:
        """Stop the actor (its model is freed); a later call starts a new one."""
        with self._lock:
            actor, self._actor = self._actor, None
        if actor is not None:
            _ray().kill(actor, no_restart=True)


def ray_actor_model(
    factory: Callable[[], Any],
    *,
    num_cpus: float = 1.0,
    num_gpus: float = 0.0,
    max_concurrency: int = 1,
    max_restarts: int = 3,
    max_task_retries: int = 3,
    timeout: float | None = None,
    address: str | None = None,
    cache_key: str | None = None,
) -> RayActorModel:
    """Host the model ``factory()`` builds in one Ray actor with its own resources.

    Args:
        factory: a picklable zero-argument function that builds the model in the actor, e.g.
            ``functools.partial(llamacpp_model, "model.gguf", max_tokens=64)``. Runs once per actor
            (and again if Ray restarts the actor).
        num_cpus, num_gpus: what the actor reserves (1 CPU, 0 GPUs). ``num_gpus=1``: one GPU per model.
        max_concurrency: calls the actor runs at once (1: a llama.cpp model is not thread-safe; the
            executor's limits still bound the calls in flight).
        max_restarts, max_task_retries: Ray restarts a dead actor up to ``max_restarts`` times and re-sends
            its unfinished calls up to ``max_task_retries`` times (3 and 3; -1: without limit).
        timeout: a deadline for one call awaited outside an executor (None; the executor's applies anyway).
        address: the cluster if Ray is not connected yet (see :class:`RayExecutor`).
        cache_key: the model's cache identity; None (default) asks the hosted model for its own.
    """
    return RayActorModel(factory, num_cpus=num_cpus, num_gpus=num_gpus, max_concurrency=max_concurrency,
                         max_restarts=max_restarts, max_task_retries=max_task_retries, timeout=timeout,
                         address=address, cache_key=cache_key)
