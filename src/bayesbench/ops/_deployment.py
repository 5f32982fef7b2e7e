"""Deployments side by side: accuracy with the engine's verdict, latency, throughput, cost and resources.

One real comparison run (two models: the sequential pair test; three or more: the ranking race) asks
every deployment the same problems through one executor, so the latency, tokens and price-table cost
of each come from the same calls that decided the verdict. Local hardware is priced by ``cost_models``
(hours of the run), remote APIs by ``prices``. With ``server_pids`` each local server process is
watched by its own :class:`ResourceMonitor`; with ``loadtest_concurrency`` each deployment also gets a
concurrency sweep, whose best throughput is the one reported.

This module is a front door (it builds runs with the engine); the engine never imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._validate import finite_or_none as _finite
from ..errors import ConfigError, missing_dependency

#: the keys every entry of ``DeploymentReport.to_dict()["models"]`` has first (what the plots read)
ENTRY_KEYS = ("model", "accuracy", "accuracy_low", "accuracy_high", "cost_per_1000", "latency_p50_s",
              "latency_p95_s", "throughput_rps")


@dataclass
class DeploymentReport:
    """Two or more deployments compared on one run. ``models`` holds one dict per deployment (the keys of
    :data:`ENTRY_KEYS` first, then calls, errors, the other latency figures, the cost breakdown and the
    resources); ``comparison`` is the engine's TaskResult (two models) or RankingResult (more);
    ``verdict`` says in words what the engine certified at ``confidence``."""

    models: list[dict[str, Any]]
    comparison: Any
    verdict: str
    confidence: float
    seed: int
    n_problems: int
    problems_used: int
    method: str
    resources: Any = None
    server_resources: dict[str, Any] = field(default_factory=dict)
    latency: Any = None
    loadtests: dict[str, Any] = field(default_factory=dict)

    def entry(self, model: str) -> dict[str, Any]:
        for e in self.models:
            if e["model"] == model:
                return e
        raise KeyError(f"no deployment named {model!r}; the deployments are {[e['model'] for e in self.models]}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "models": [dict(e) for e in self.models],
            "verdict": self.verdict,
            "confidence": self.confidence,
            "seed": self.seed,
            "n_problems": self.n_problems,
            "problems_used": self.problems_used,
            "method": self.method,
            "comparison": self.comparison.to_dict(),
            "resources": None if self.resources is None else self.resources.to_dict(),
            "server_resources": {m: r.to_dict() for m, r in self.server_resources.items()},
            "latency": None if self.latency is None else self.latency.to_dict(),
            "loadtests": {m: r.to_dict() for m, r in self.loadtests.items()},
        }

    def to_dataframe(self) -> Any:
        from ..engine._results import _dataframe

        return _dataframe([dict(e) for e in self.models], "DeploymentReport.to_dataframe()")

    def summary(self) -> str:
        def num(v: Any, fmt: str) -> str:
            return "-" if v is None else format(v, fmt)

        def usd(v: Any) -> str:  # tiny dollar figures keep their digits
            return "-" if v is None else "0" if v == 0 else f"{v:.2e}" if abs(v) < 0.001 else f"{v:.4f}"

        lines = [f"deployment comparison: {len(self.models)} deployments, {self.problems_used} of {self.n_problems} "
                 f"problems used, confidence {self.confidence:.0%}, seed {self.seed}",
                 f"verdict: {self.verdict}",
                 f"{'model':<16} {'accuracy':>8} {'interval':>15} {'p50 s':>7} {'p95 s':>7} {'req/s':>7} "
                 f"{'$/1000':>9} {'$/correct':>10} {'saved $':>9} {'peak RSS':>9}"]
        for e in self.models:
            interval = f"[{num(e['accuracy_low'], '.2f')}, {num(e['accuracy_high'], '.2f')}]"
            rss = e.get("peak_rss_bytes")
            lines.append(
                f"{e['model']:<16} {num(e['accuracy'], '.3f'):>8} {interval:>15} {num(e['latency_p50_s'], '.3f'):>7} "
                f"{num(e['latency_p95_s'], '.3f'):>7} {num(e['throughput_rps'], '.2f'):>7} "
                f"{usd(e['cost_per_1000']):>9} {usd(e.get('cost_per_correct')):>10} "
                f"{usd(e.get('saved_usd')):>9} {'-' if rss is None else f'{rss / 2**20:.0f}MiB':>9}")
        lines.append("cost: " + "; ".join(f"{e['model']} {e.get('cost_source') or 'not priced'}" for e in self.models)
                     + " (hardware = hourly price x the run's wall time [+ energy]; price_table = tokens x prices)")
        if self.resources is not None:
            lines.append("this process and its children, " + self.resources.summary())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, **kwargs: Any) -> Any:
        """Cost against accuracy, one point per deployment: ``bayesbench.plots.cost_accuracy`` (extra ``plots``)."""
        try:
            from ..plots import cost_accuracy
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("bayesbench"):
                raise missing_dependency("bayesbench.plots", "plots", "DeploymentReport.plot()") from None
            raise missing_dependency(exc.name or "matplotlib", "plots", "DeploymentReport.plot()") from None
        return cost_accuracy(self.to_dict()["models"], **kwargs)


def _accuracy_interval(mean: float | None, n: int, posterior: Any, level: float) -> tuple[float | None, float | None]:
    """The interval shown next to the accuracy (the sample mean): Wilson for 0/1 scores, which always contains the
    mean (the posterior's credible interval need not: all-correct gives [0.86, 0.99997] around 1.0), else the
    posterior's interval."""
    k = None if mean is None or not n else mean * n
    if k is not None and abs(k - round(k)) < 1e-9:
        from ..stats import wilson_interval

        iv = wilson_interval(int(round(k)), n, level=level)
        return iv.low, iv.high
    return _interval(posterior, level)


def _interval(posterior: Any, level: float) -> tuple[float | None, float | None]:
    try:
        lo, hi = posterior.credible_interval(level)
        return float(lo), float(hi)
    except Exception:  # a user posterior without intervals
        return None, None


def compare_deployments(
    models: Mapping[str, Any],
    *,
    dataset: Sequence[Any] | None = None,
    score_fn: Callable[..., Any] | None = None,
    benchmark: Any = None,
    cost_models: Mapping[str, Any] | None = None,
    prices: Mapping[str, tuple[float, float]] | None = None,
    confidence: float = 0.95,
    seed: int = 0,
    rule: str = "anytime",
    max_problems: int | None = None,
    max_concurrency: int = 4,
    on_error: str = "zero",
    server_pids: Mapping[str, int] | None = None,
    loadtest_concurrency: Sequence[int] | None = None,
    loadtest_requests: int | None = None,
    store: Any = None,
) -> DeploymentReport:
    """Compare deployments (``{label: model adapter or callable}``, two or more) in one real engine run.

    The problems: ``dataset`` with ``score_fn(problem, response)``, or a ``benchmark`` suite (e.g.
    ``MMLU(...)``, ``GSM8K(...)``: its problems, prompts and scoring). ``cost_models``: ``{label: CostModel}``
    for deployments on your own hardware; ``prices``: ``{label: (usd per 1M input tokens, per 1M output)}`` for
    APIs. ``confidence``, ``seed``, ``rule``, ``max_problems``, ``max_concurrency``, ``on_error``: the run's
    settings (docs/engine.md; on_error defaults to "zero" here: a failed call scores 0 and is counted).
    ``server_pids``: ``{label: pid}`` of local server processes to watch. ``loadtest_concurrency``: also sweep
    these levels per deployment (``loadtest_requests`` each) and report the best throughput. ``store``: record
    the run. Returns a :class:`DeploymentReport`.
    """
    from .. import BayesianBenchmark, BayesianRanker
    from ..execution import Executor
    from ._cost import check_cost_models
    from ._latency import latency_report
    from ._loadtest import loadtest_async
    from ._monitor import ResourceMonitor

    if not isinstance(models, Mapping) or len(models) < 2:
        raise ConfigError("`models` must be a dict {label: model} of at least 2 deployments, got "
                          f"{type(models).__name__} with {len(models) if isinstance(models, Mapping) else 0}")
    labels = [str(k) for k in models]
    costs = check_cost_models(cost_models or {})
    for what, given in (("cost_models", costs), ("prices", prices or {}), ("server_pids", server_pids or {})):
        unknown = sorted(set(given) - set(labels))
        if unknown:
            raise ConfigError(f"`{what}` names {unknown}, which are not deployments; the deployments are {labels}")
    fns: dict[str, Any]
    if benchmark is not None:
        if dataset is not None or score_fn is not None:
            raise ConfigError("give either `benchmark` or `dataset` with `score_fn`, not both")
        from ..benchmarks._compare import _prompt_caller

        problems = list(benchmark.problems())
        score = benchmark.score
        fns = {label: _prompt_caller(m, label) for label, m in models.items()}
        name = f"deployments on {benchmark.name}"
    else:
        if dataset is None or score_fn is None:
            raise ConfigError("`dataset` and `score_fn` are needed (or a `benchmark` suite such as MMLU(...))")
        problems, score, fns, name = list(dataset), score_fn, dict(models), "deployments"
    from ..engine._journal import open_store

    store = open_store(store)
    executor = Executor(max_concurrency=max_concurrency, prices=prices, seed=seed, store=store)
    options = dict(confidence=confidence, seed=seed, rule=rule, max_problems=max_problems,
                   max_concurrency=max_concurrency, on_error=on_error, cost_models=costs or None)
    watchers = {label: ResourceMonitor(pid=int(pid), children=True, gpu=False)
                for label, pid in (server_pids or {}).items()}
    for w in watchers.values():
        w.start()
    try:
        if len(labels) == 2:
            bench = BayesianBenchmark(store=store, executor=executor, **options)
            result = bench.compare(fns[labels[0]], fns[labels[1]], score, problems, name=name,
                                   model_a_name=labels[0], model_b_name=labels[1])
        else:
            ranker = BayesianRanker(store=store, executor=executor, **options)
            for label in labels:
                ranker.add_model(label, fns[label])
            result = ranker.rank(problems, score)
    finally:
        server = {label: w.stop() for label, w in watchers.items()}
        latency = latency_report(executor) if executor.calls_made else None
        executor.close()
    loadtests = {}
    if loadtest_concurrency is not None:
        from ..engine import run_sync

        for label in labels:
            sample = problems[: max(1, min(len(problems), 64))]
            loadtests[label] = run_sync(lambda label=label, sample=sample: loadtest_async(
                fns[label], concurrency=loadtest_concurrency, requests=loadtest_requests, prompts=sample, name=label))
    entries, verdict, used = _entries(result, labels, confidence, latency, server, loadtests, costs)
    return DeploymentReport(
        models=entries, comparison=result, verdict=verdict, confidence=float(confidence),
        seed=int(result.seed), n_problems=len(problems), problems_used=used,
        method=f"sequential pair test (rule={rule})" if len(labels) == 2 else f"ranking race (rule={rule})",
        resources=result.resources, server_resources=server, latency=latency, loadtests=loadtests,
    )


def _at_capacity(cost_model: Any, loadtest: Any) -> float | None:
    """Dollars per 1000 requests of hardware kept busy at its best load-test throughput (a dedicated server),
    as opposed to ``cost_per_1000`` (this run's wall time, shared with the other deployments, spread over it)."""
    if cost_model is None or loadtest is None or not loadtest.max_requests_per_s > 0:
        return None
    hardware, energy = cost_model.cost(3600.0)
    return 1000.0 * (hardware + (energy or 0.0)) / (3600.0 * loadtest.max_requests_per_s)


def _entries(result: Any, labels: list[str], confidence: float, latency: Any, server: dict[str, Any],
             loadtests: dict[str, Any], costs: dict[str, Any]) -> tuple[list[dict[str, Any]], str, int]:
    usage = (result.usage or {}).get("models", {})
    cost = ((result.usage or {}).get("cost") or {}).get("models", {})
    accuracy: dict[str, tuple[float | None, float | None, float | None]] = {}
    if hasattr(result, "mean_a"):  # a pair
        used = result.problems_tested
        for label, mean, post in ((labels[0], result.mean_a, result.posterior_a),
                                  (labels[1], result.mean_b, result.posterior_b)):
            accuracy[label] = (_finite(mean), *_accuracy_interval(_finite(mean), used, post, confidence))
        if result.winner_name is not None:
            verdict = f"{result.winner_name} is more accurate (certified at {confidence:.0%}, {result.stop_reason})"
        elif result.status == "EQUIVALENT":
            verdict = "equivalent within the margin"
        else:
            verdict = f"no difference certified ({result.stop_reason})"
    else:
        used = max((m.problems_tested for m in result.ranking), default=0)
        for m in result.ranking:
            accuracy[m.name] = (_finite(m.score), _finite(m.ci[0]), _finite(m.ci[1]))
        claims = ", ".join(f"{a} > {b}" for a, b in result.claims)
        verdict = f"certified at {confidence:.0%}: {claims or 'no order'}; ranking {' > '.join(result.order)}"
    entries = []
    for label in labels:
        u = usage.get(label, {})
        c = cost.get(label, {})
        lt = loadtests.get(label)
        acc, lo, hi = accuracy.get(label, (None, None, None))
        srv = server.get(label)
        lat = latency.models.get(label) if latency is not None else None
        entries.append({
            "model": label,
            "accuracy": acc,
            "accuracy_low": lo,
            "accuracy_high": hi,
            "cost_per_1000": c.get("per_1000_problems_usd"),
            "latency_p50_s": u.get("latency_p50_s"),
            "latency_p95_s": u.get("latency_p95_s"),
            "throughput_rps": lt.max_requests_per_s if lt is not None else u.get("throughput_per_s"),
            "throughput_source": "loadtest (best level)" if lt is not None else "the comparison run",
            "calls": u.get("calls"),
            "errors": u.get("errors"),
            "retries": u.get("retries"),
            "latency_p90_s": u.get("latency_p90_s"),
            "latency_p99_s": u.get("latency_p99_s"),
            "latency_mean_s": u.get("latency_mean_s"),
            "latency_sd_s": u.get("latency_sd_s"),
            "ttft_p50_s": u.get("ttft_p50_s"),
            "output_tokens_per_s": u.get("output_tokens_per_s"),
            "peak_requests_per_s": None if lat is None else lat.peak_requests_per_s,
            "cost_source": c.get("source"),
            "cost_total_usd": c.get("total_usd"),
            "cost_per_call": c.get("per_call_usd"),
            "cost_per_correct": c.get("per_correct_usd"),
            "cost_per_1000_at_capacity": _at_capacity(costs.get(label), lt),
            "saved_usd": c.get("saved_usd"),
            "energy_kwh": c.get("energy_kwh"),
            "peak_rss_bytes": None if srv is None else srv.peak_rss_bytes,
            "mean_cpu_percent": None if srv is None else srv.mean_process_cpu_percent,
            "knee_concurrency": None if lt is None else lt.knee_concurrency,
        })
    return entries, verdict, used
