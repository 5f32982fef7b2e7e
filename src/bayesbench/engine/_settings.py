"""Run settings: the one definition of every knob a run has, with its default, its help and where it applies.

The front doors (``BayesianBenchmark``, ``BayesianRanker``, ``@benchmark``, ``@suite``, ``compare``, ``rank``),
the CLI flags, the configuration the store records and the table in docs/engine.md all derive from the
fields of :class:`RunSettings`; nothing else spells the settings out (tests/test_settings.py checks it).
"""

from __future__ import annotations

import difflib
import inspect
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, TypedDict

from .._validate import finite_float, in_open_interval, one_of, positive_int
from ..errors import ConfigError, UnknownSettingError
from ..execution import DEFAULT_TIMEOUT_S
from ..stats._rules import RULES, default_posterior

if TYPE_CHECKING:
    from ..execution import RetryPolicy

RANK_RULES = tuple(r for r in RULES if r != "posterior")
ON_ERROR = ("raise", "zero")
GOALS = ("rank", "top1")
REDUCE = ("mean", "majority")  # and "pass@K" (check_reduce)
EXECUTIONS = ("local", "ray")
# The settings the original bayesbench took positionally, in its order: BayesianBenchmark(0.95, 0.85, 3, BetaPosterior).
POSITIONAL = ("confidence", "skip_threshold", "min_samples", "posterior_factory")


def _yes_no(text: str) -> bool:
    """A boolean flag's value: true/false (also yes/no, on/off, 1/0)."""
    value = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False,
             "0": False}.get(str(text).strip().lower())
    if value is None:
        raise ConfigError(f"expected true or false, got {text!r}")
    return value


def _setting(default: Any, help: str, *, flag: dict[str, Any] | None = None, live: bool = False,
             ranking: bool = False, recorded: bool = True) -> Any:
    """A RunSettings field. ``help`` is the one description (docstrings, --help, docs/engine.md);
    ``flag``: argparse options for its CLI flag (None: no flag); ``live``: only for runs that call models
    (not for replaying recorded scores); ``ranking``: only for rankings; ``recorded``: part of what makes two
    stored runs "the same run" for resuming."""
    return field(default=default, metadata={"help": help, "flag": flag, "live": live, "ranking": ranking,
                                            "recorded": recorded})


@dataclass(frozen=True)
class RunSettings:
    """Everything that decides how a run asks, stops and reports. See docs/engine.md (the table there is
    checked against these fields)."""

    confidence: float = _setting(
        0.95, "1 - alpha of every decision; a declared winner is wrong with probability <= alpha/2, "
        "for every stopping time (except rule='posterior')", flag={"type": float})
    skip_threshold: float = _setting(
        0.85, "level of the equivalence ('non-discriminating') stop; used only with equivalence_margin "
        "(and as the skip window of rule='posterior')", flag={"type": float})
    min_samples: int = _setting(3, "no decision is looked at before this many problems", flag={"type": int})
    posterior_factory: Callable[[], Any] | None = _setting(
        None, "makes the reported posteriors, e.g. BetaPosterior or lambda: NormalPosterior(mu_0=0.3); "
        "None: Beta(1/2, 1/2) per model (also the prior of rule='posterior')", recorded=False)
    rule: str = _setting(
        "anytime", "decision rule: anytime (anytime-valid), full_benchmark (what would the full run say?), "
        "posterior (the original rule, not error-controlled; pairs only) or fixed (one test on all problems)",
        flag={"choices": RULES})
    equivalence_margin: float | None = _setting(
        None, "stop as equivalent once the difference is certified inside +-margin (None: never)",
        flag={"type": float})
    seed: int | None = _setting(
        None, "seed of the problem shuffle (None: drawn at random and recorded in the result)", flag={"type": int})
    batch_size: int = _setting(8, "problems per engine update; an early stop overshoots by at most one batch",
                               flag={"type": int})
    max_concurrency: int = _setting(8, "model calls in flight at once", flag={"type": int}, live=True,
                                    recorded=False)
    max_problems: int | None = _setting(
        None, "budget: at most this many problems per task (None: all); hitting it ends the task undecided",
        flag={"type": int})
    max_cost_usd: float | None = _setting(
        None, "budget: end a task undecided once its calls cost this many dollars (executor price table)",
        flag={"type": float}, live=True, recorded=False)
    on_error: str = _setting(
        "raise", "after the retries: raise (stop with the results so far) or zero (score the lowest score)",
        flag={"choices": ON_ERROR}, live=True)
    retry: RetryPolicy | None = _setting(None, "retry policy of model calls (None: the executor's default)",
                                         live=True, recorded=False)
    timeout: float | None = _setting(DEFAULT_TIMEOUT_S, "per-call wall-clock deadline in seconds (None: no deadline)",
                                     flag={"type": float}, live=True, recorded=False)
    execution: str = _setting(
        "local", "where model calls run: local (threads in this process) or ray (Ray tasks on the cluster "
        "RAY_ADDRESS names, else a new local one; needs bayesbench[ray]); the store, cache, limits and "
        "retries stay in this process either way", flag={"choices": EXECUTIONS}, live=True, recorded=False)
    score_range: tuple[float, float] = _setting(
        (0.0, 1.0), "a-priori (low, high) bounds of the scores, never observed min/max",
        flag={"type": float, "nargs": 2, "metavar": ("LOW", "HIGH")})
    goal: str = _setting("rank", "ranking goal: rank (the full order) or top1 (only the best model)",
                         flag={"choices": GOALS}, ranking=True)
    history: Any = _setting(
        None, "an ItemBank (or a bayesbench.history.HistoryMixture) of recorded results: the betting grid is "
        "tuned on it before the run (history_mixture), so decisions stay anytime-valid; recorded as the "
        "bank's digest and the grid", flag={"metavar": "BANK.csv", "type": str})
    n_runs: int = _setting(
        1, "repeated runs (epochs): ask every problem this many times, each a real call (the cache key holds the "
        "run index); useful with temperature > 0. The engine decides on each problem's reduced score (`reduce`); "
        "results keep every run's scores and split between-run from item-sampling variance",
        flag={"type": int}, live=True)
    reduce: str = _setting(
        "mean", "how one problem's n_runs scores become the score the engine sees: mean, majority (the score of "
        "the most common answer) or pass@K (0/1 scores; K <= n_runs, pass@k: K = n_runs)",
        flag={"type": str}, live=True)
    monitor_resources: bool = _setting(
        True, "sample CPU, memory and GPU use in a background thread during the run (result.resources, the store)",
        flag={"type": _yes_no, "metavar": "true|false"}, live=True, recorded=False)
    cost_models: Mapping[str, Any] | None = _setting(
        None, "{model name: bayesbench.ops.CostModel(hourly_usd=..., watts=..., usd_per_kwh=...)}: what a local "
        "model's hardware costs per hour of the run (and its energy); models not in it are priced by the "
        "executor's price table", live=True, recorded=False)

    def __post_init__(self) -> None:
        in_open_interval("confidence", self.confidence, 0.5, 1.0)
        in_open_interval("skip_threshold", self.skip_threshold, 0.5, 1.0)
        positive_int("min_samples", self.min_samples)
        positive_int("batch_size", self.batch_size)
        positive_int("max_concurrency", self.max_concurrency)
        positive_int("max_problems", self.max_problems, allow_none=True)
        if self.max_cost_usd is not None and finite_float("max_cost_usd", self.max_cost_usd) <= 0:
            raise ConfigError(f"`max_cost_usd` must be a positive number of dollars or None, got {self.max_cost_usd!r}")
        one_of("rule", self.rule, RULES)
        one_of("on_error", self.on_error, ON_ERROR)
        one_of("goal", self.goal, GOALS)
        one_of("execution", self.execution, EXECUTIONS)
        if self.equivalence_margin is not None:
            in_open_interval("equivalence_margin", self.equivalence_margin, 0.0, 1.0)
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0):
            raise ConfigError(f"`seed` must be a non-negative integer or None, got {self.seed!r}")
        if self.timeout is not None and finite_float("timeout", self.timeout) <= 0:
            raise ConfigError(f"`timeout` must be a positive number of seconds or None, got {self.timeout!r}")
        if self.posterior_factory is not None and not callable(self.posterior_factory):
            raise ConfigError(
                "`posterior_factory` must be a callable that returns a new posterior, e.g. BetaPosterior or "
                f"lambda: NormalPosterior(mu_0=0.3), got {self.posterior_factory!r}"
            )
        lo_hi = self.score_range
        if (
            not isinstance(lo_hi, (tuple, list))
            or len(lo_hi) != 2
            or finite_float("score_range[0]", lo_hi[0]) >= finite_float("score_range[1]", lo_hi[1])
        ):
            raise ConfigError(f"`score_range` must be a pair (low, high) with low < high, got {lo_hi!r}")
        object.__setattr__(self, "score_range", (float(lo_hi[0]), float(lo_hi[1])))
        positive_int("n_runs", self.n_runs)
        check_reduce(self.reduce, self.n_runs)
        if not isinstance(self.monitor_resources, bool):
            raise ConfigError(f"`monitor_resources` must be True or False, got {self.monitor_resources!r}")
        if self.cost_models is not None:
            from ..ops._cost import check_cost_models

            object.__setattr__(self, "cost_models", check_cost_models(self.cost_models))
        if self.history is not None:
            from ..history._mixture import resolve_history

            # the grid is fixed here, before any problem is asked (what keeps the mixture an e-process)
            object.__setattr__(self, "_history", resolve_history(self.history))

    @property
    def alpha(self) -> float:
        return 1.0 - self.confidence

    @property
    def posteriors(self) -> Callable[[], Any]:
        """The posterior factory every run uses: the user's, else Beta(1/2, 1/2) (resolved here only)."""
        return default_posterior if self.posterior_factory is None else self.posterior_factory

    def with_seed(self) -> RunSettings:
        """A copy whose seed is fixed (drawn now and recorded if the user gave none)."""
        if self.seed is not None:
            return self
        return replace(self, seed=secrets.randbits(31))

    def replace(self, **changes: Any) -> RunSettings:
        check_names("RunSettings.replace", changes, names())
        return replace(self, **changes)

    def recorded(self) -> dict[str, Any]:
        """The settings that make two stored runs 'the same run' (the seed only if the user fixed it)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.metadata["recorded"]:
                value = getattr(self, f.name)
                out[f.name] = list(value) if isinstance(value, tuple) else value
        out["history"] = None if self.history is None else self._history.record()
        out["seed"] = self.seed if self.seed is not None else "auto"
        return out

    @classmethod
    def build(cls, door: str, args: Sequence[Any] = (), options: Mapping[str, Any] | None = None, *,
              ranking: bool = False, live: bool = True, defaults: Mapping[str, Any] | None = None) -> RunSettings:
        """Settings from a front door's call: ``args`` are the original positional settings (POSITIONAL),
        ``options`` the keywords; a keyword that is no setting of this door is refused, naming the close match."""
        options = dict(options or {})
        if len(args) > len(POSITIONAL):
            raise UnknownSettingError(
                f"{door}() takes at most {len(POSITIONAL)} positional settings ({', '.join(POSITIONAL)}), "
                f"got {len(args)}; pass the others by keyword"
            )
        for key, value in zip(POSITIONAL, args):
            if key in options:
                raise UnknownSettingError(f"{door}() got two values for `{key}` (by position and by keyword)")
            options[key] = value
        check_names(door, options, names(ranking=ranking, live=live))
        return cls(**{**(defaults or {}), **options})


def names(*, ranking: bool = True, live: bool = True) -> tuple[str, ...]:
    """The settings of a front door: rankings or pairs, calling models (live) or replaying recorded scores."""
    return tuple(f.name for f in fields(RunSettings)
                 if (live or not f.metadata["live"]) and (ranking or not f.metadata["ranking"]))


def check_names(door: str, given: Mapping[str, Any], allowed: Sequence[str]) -> None:
    for key in given:
        if key in allowed:
            continue
        if key in names():
            where = "rankings only" if key not in names(ranking=False) else "runs that call models, not replays"
            raise ConfigError(f"`{key}` does not apply to {door}(): it is a setting for {where}")
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        raise UnknownSettingError(f"{door}() got an unknown setting `{key}`. {hint}Its settings are: "
                                  + ", ".join(allowed))


def help_text(name: str) -> str:
    """The one description of a setting (for --help and docs)."""
    return RunSettings.__dataclass_fields__[name].metadata["help"]


def default(name: str) -> Any:
    return RunSettings.__dataclass_fields__[name].default


def with_settings_signature(*, ranking: bool, live: bool, positional: bool = True,
                            defaults: Mapping[str, Any] | None = None) -> Callable[[Callable[..., Any]], Any]:
    """Give a front door written as ``f(own args, *args, own keywords, **options)`` its real signature, so
    help(), IDEs and inspect show every setting with its default."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        own = inspect.signature(fn)
        P = inspect.Parameter
        head = [p for p in own.parameters.values() if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)]
        tail = [p for p in own.parameters.values() if p.kind is P.KEYWORD_ONLY]
        settings = []
        for f in fields(RunSettings):
            if f.name not in names(ranking=ranking, live=live):
                continue
            kind = P.POSITIONAL_OR_KEYWORD if positional and f.name in POSITIONAL else P.KEYWORD_ONLY
            settings.append(P(f.name, kind, default=(defaults or {}).get(f.name, f.default), annotation=f.type))
        settings.sort(key=lambda p: p.kind)  # positional ones first, in POSITIONAL order (the field order)
        fn.__signature__ = own.replace(parameters=[*head, *settings, *tail])  # type: ignore[attr-defined]
        return fn

    return decorate


def settings_table() -> str:
    """The Markdown table of the settings in docs/engine.md (tests/test_settings.py checks the doc holds it)."""
    rows = ["| setting | default | CLI flag | where | meaning |", "|---|---|---|---|---|"]
    for f in fields(RunSettings):
        where = "rankings" if f.metadata["ranking"] else "runs that call models" if f.metadata["live"] else "all"
        cli = f"`--{f.name.replace('_', '-')}`" if f.metadata["flag"] is not None else "—"
        rows.append(f"| `{f.name}` | `{f.default!r}` | {cli} | {where} | {f.metadata['help']} |")
    return "\n".join(rows)


class RunOptions(TypedDict, total=False):
    """The settings as keyword arguments (``**options: Unpack[RunOptions]``), for type checkers; its keys
    and types are checked against RunSettings' fields by tests/test_settings.py."""

    confidence: float
    skip_threshold: float
    min_samples: int
    posterior_factory: Callable[[], Any] | None
    rule: str
    equivalence_margin: float | None
    seed: int | None
    batch_size: int
    max_concurrency: int
    max_problems: int | None
    max_cost_usd: float | None
    on_error: str
    retry: RetryPolicy | None
    timeout: float | None
    execution: str
    score_range: tuple[float, float]
    goal: str
    history: Any
    n_runs: int
    reduce: str
    monitor_resources: bool
    cost_models: Mapping[str, Any] | None


def check_reduce(reduce: Any, n_runs: int) -> None:
    """``reduce`` is mean, majority or pass@K with 1 <= K <= n_runs (pass@k: K = n_runs)."""
    if reduce in REDUCE:
        return
    k = reduce[len("pass@"):] if isinstance(reduce, str) and reduce.startswith("pass@") else None
    if k == "k" or (k is not None and k.isdigit() and 1 <= int(k) <= n_runs):
        return
    raise ConfigError(f"`reduce` must be 'mean', 'majority' or 'pass@K' with 1 <= K <= n_runs ({n_runs}); "
                      f"'pass@k' means K = n_runs, got {reduce!r}")


def pass_k(reduce: str, n_runs: int) -> int | None:
    """K of a ``pass@K`` reduction (None for mean / majority)."""
    if not reduce.startswith("pass@"):
        return None
    k = reduce[len("pass@"):]
    return n_runs if k == "k" else int(k)


def engine_config(settings: RunSettings, bank: int) -> Any:
    """The decision engine's configuration for a run over a bank of ``bank`` problems."""
    from ..stats import EngineConfig

    bank_mode = settings.rule == "full_benchmark"
    return EngineConfig(
        alpha=settings.alpha,
        delta=settings.equivalence_margin,
        target="full_benchmark" if bank_mode else "generalization",
        bank_size=bank if bank_mode else None,
        score_range=(float(settings.score_range[0]), float(settings.score_range[1])),
        # skip_threshold keeps its meaning "stop non-discriminating tasks": the equivalence stop's level
        equivalence_alpha=1.0 - settings.skip_threshold,
        **({} if settings.history is None else {"lambdas": settings._history.lambdas}),
    )


def check_ranking(settings: RunSettings, n_models: int) -> None:
    """Ranking needs two models and one of the ranking rules."""
    if n_models < 2:
        raise ConfigError(f"ranking needs at least 2 models, got {n_models}; add them with ranker.add_model(name, fn)")
    if settings.rule not in RANK_RULES:
        raise ConfigError(
            f"`rule` for ranking must be one of {', '.join(repr(r) for r in RANK_RULES)}, got {settings.rule!r} "
            "(the original posterior rule is available for two-model comparisons only)"
        )
