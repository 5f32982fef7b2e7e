"""Monitor configuration: named monitors in a TOML file (stdlib ``tomllib``, no extra dependency).

    store = "runs.sqlite"          # the store of every monitor below (relative to this file)
    multiplicity = "ebh"            # across every (monitor, metric): "ebh", "bonferroni" or "none"
    python_path = ["."]             # folders (relative to this file) that hold the model/dataset modules

    [[monitor]]
    name = "nightly-qa"
    model = "my_models:answer"      # module:attribute, a callable prompt -> text (or an adapter)
    dataset = "my_models:problems"  # module:attribute, a list of {"id", "prompt", ...} or a function returning it
    score = "my_models:exact"       # module:attribute, (problem, response) -> score in score_range
    metrics = ["score", "latency_s"]
    margin = 0.02                   # alert when worse than the baseline by more than this (score units)
"""

from __future__ import annotations

import importlib
import math
import os
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10: the same parser from PyPI (a dependency there)
    import tomli as tomllib  # type: ignore[import-not-found, no-redef, unused-ignore]

__all__ = ["MonitorConfig", "MonitorFile", "load_monitors", "parse_duration", "redact_url"]

METRICS = ("score", "latency_s", "cost_usd")
MULTIPLICITY = ("ebh", "bonferroni", "none")


def parse_duration(text: str | float | int) -> float:
    """``"90s"``, ``"15m"``, ``"1h"``, ``"1d"`` or a number of seconds -> seconds (> 0)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        s = str(text).strip().lower()
        units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
        unit = next((u for u in ("ms", "s", "m", "h", "d") if s.endswith(u)), None)
        try:
            value = float(s[: -len(unit)] if unit else s) * (units[unit] if unit else 1.0)
        except ValueError:
            raise ConfigError(f"a duration must look like '30s', '15m', '1h', '1d' or a number of seconds, "
                              f"got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"a duration must be > 0, got {text!r}")
    return value


def redact_url(url: str | None) -> str | None:
    """A webhook URL safe to log or store: scheme and host only (the path and query carry its token)."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<redacted url>"
    return f"{parts.scheme}://{host}{port}/<redacted>"


@dataclass(frozen=True)
class MonitorConfig:
    """One named monitor. Every field is a key of a ``[[monitor]]`` table (defaults in brackets).

    name: unique name. model / dataset / score: ``module:attribute`` import strings (see the module docstring);
    or, instead of model, openai_model: a model id on an OpenAI-compatible server at base_url (``.../v1``), its
    key read from the environment variable named by api_key_env (never the key itself);
    or, instead of dataset and score, suite: a bayesbench suite class (``"bayesbench.benchmarks:BigBenchHard"``)
    built with ``suite_options`` (its keyword arguments), whose ``problems()`` and ``score()`` are used.
    model_name: the model's name in the store [the ``model`` string]. metrics: of ``score``, ``latency_s``,
    ``cost_usd`` [``["score"]``]. alpha: lifetime false-alarm level of each metric [0.05]. margin: δ in score
    units [0.02]. score_range: a-priori bounds of one score [(0, 1)]. latency_bound_s / latency_margin_s: latency
    is capped at the bound (a stated bound makes the test valid) and alerts when slower by more than the margin
    [30, 0.5]. cost_bound_usd / cost_margin_usd: the same for cost per call [0.01, 0.001];
    price_per_million_tokens: ``[input_usd, output_usd]``, needed for cost_usd [None]. items_per_run [50],
    holdout_fraction [0.2], seed [0]: the rotation. schedule: the ``--every`` default ["1d"]. webhook_url_env:
    name of the environment variable holding the webhook URL (the URL itself is a secret: never in the file)
    [None]. account_baseline_noise: widen the margin by a Hoeffding bound on the baseline run's own sampling noise
    (an unconditional guarantee for stochastic models; see docs/monitoring.md) [False]. max_concurrency [8],
    timeout_s [120]: how calls are made. max_error_fraction: a run with more failed calls fails [0.2].
    """

    name: str
    model: str = ""
    openai_model: str = ""
    base_url: str = ""
    api_key_env: str = ""
    dataset: str = ""
    score: str = ""
    suite: str = ""
    suite_options: dict[str, Any] = field(default_factory=dict)
    model_name: str = ""
    metrics: tuple[str, ...] = ("score",)
    alpha: float = 0.05
    margin: float = 0.02
    score_range: tuple[float, float] = (0.0, 1.0)
    latency_bound_s: float = 30.0
    latency_margin_s: float = 0.5
    cost_bound_usd: float = 0.01
    cost_margin_usd: float = 0.001
    price_per_million_tokens: tuple[float, float] | None = None
    items_per_run: int = 50
    holdout_fraction: float = 0.2
    seed: int = 0
    schedule: str = "1d"
    webhook_url_env: str | None = None
    account_baseline_noise: bool = False
    max_concurrency: int = 8
    timeout_s: float = 120.0
    max_error_fraction: float = 0.2

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"monitor `name` must be a non-empty string, got {self.name!r}")
        for key in ("model", "openai_model", "base_url", "api_key_env"):
            if not isinstance(getattr(self, key), str):
                raise ConfigError(f"monitor {self.name!r}: `{key}` must be a string, got {getattr(self, key)!r}")
        if bool(self.model) == bool(self.openai_model):
            raise ConfigError(f"monitor {self.name!r}: give either `model` ('module:attribute') or `openai_model` "
                              "(a model id on an OpenAI-compatible server, with `base_url`)")
        if "://" in self.api_key_env:
            raise ConfigError(f"monitor {self.name!r}: `api_key_env` is the NAME of an environment variable "
                              "holding the key (e.g. 'OPENAI_API_KEY'), never the key itself")
        if bool(self.suite) == bool(self.dataset or self.score) or not (self.suite or (self.dataset and self.score)):
            raise ConfigError(f"monitor {self.name!r}: give either `suite` (a bayesbench suite class, e.g. "
                              "'bayesbench.benchmarks:BigBenchHard', with `suite_options`) or both `dataset` and "
                              "`score`")
        if not isinstance(self.suite_options, dict):
            raise ConfigError(f"monitor {self.name!r}: `suite_options` must be a table, got {self.suite_options!r}")
        for key in ("model", "dataset", "score", "suite"):
            if getattr(self, key) and ":" not in getattr(self, key):
                raise ConfigError(f"monitor {self.name!r}: `{key}` must be an import string 'module:attribute', "
                                  f"got {getattr(self, key)!r}")
        if not self.model_name:
            object.__setattr__(self, "model_name", self.model or self.openai_model)
        mets = tuple(self.metrics)
        bad = [m for m in mets if m not in METRICS]
        if bad or not mets or len(set(mets)) != len(mets):
            raise ConfigError(f"monitor {self.name!r}: `metrics` must be distinct names from {list(METRICS)}, "
                              f"got {list(mets)!r}")
        object.__setattr__(self, "metrics", mets)
        if not (isinstance(self.alpha, (int, float)) and 0 < self.alpha < 0.5):
            raise ConfigError(f"monitor {self.name!r}: `alpha` must be in (0, 0.5), got {self.alpha!r}")
        try:
            lo, hi = (float(v) for v in self.score_range)
        except (TypeError, ValueError):
            raise ConfigError(f"monitor {self.name!r}: `score_range` must be [lo, hi], got {self.score_range!r}") \
                from None
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ConfigError(f"monitor {self.name!r}: `score_range` must have lo < hi, got {self.score_range!r}")
        object.__setattr__(self, "score_range", (lo, hi))
        for key, scale in (("margin", hi - lo), ("latency_margin_s", self.latency_bound_s),
                           ("cost_margin_usd", self.cost_bound_usd)):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0 <= v < scale):
                raise ConfigError(f"monitor {self.name!r}: `{key}` must be in [0, {scale:g}) (its metric's range), "
                                  f"got {v!r}")
        for key in ("latency_bound_s", "cost_bound_usd", "timeout_s"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v > 0):
                raise ConfigError(f"monitor {self.name!r}: `{key}` must be a number > 0, got {v!r}")
        if not (isinstance(self.max_error_fraction, (int, float)) and 0 <= self.max_error_fraction < 1):
            raise ConfigError(f"monitor {self.name!r}: `max_error_fraction` must be in [0, 1), "
                              f"got {self.max_error_fraction!r}")
        parse_duration(self.schedule)
        pr = self.price_per_million_tokens
        if pr is not None:
            try:
                p_in, p_out = (float(x) for x in pr)
            except (TypeError, ValueError):
                raise ConfigError(f"monitor {self.name!r}: `price_per_million_tokens` must be [input_usd, "
                                  f"output_usd], got {pr!r}") from None
            if not (p_in >= 0 and p_out >= 0 and math.isfinite(p_in + p_out)):
                raise ConfigError(f"monitor {self.name!r}: `price_per_million_tokens` must be >= 0, got {pr!r}")
            object.__setattr__(self, "price_per_million_tokens", (p_in, p_out))
        if "cost_usd" in self.metrics and pr is None:
            raise ConfigError(f"monitor {self.name!r}: the cost_usd metric needs `price_per_million_tokens = "
                              "[input_usd, output_usd]` (the cost of a call comes from its tokens)")
        if self.webhook_url_env is not None and (not isinstance(self.webhook_url_env, str) or "://" in
                                                 self.webhook_url_env):
            raise ConfigError(f"monitor {self.name!r}: `webhook_url_env` is the NAME of an environment variable "
                              "holding the URL (e.g. 'BB_WEBHOOK_URL'), never the URL itself")

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> MonitorConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(f"unknown monitor key(s) {unknown}; allowed: {sorted(known)}")
        if "webhook_url" in raw:
            raise ConfigError("put the webhook URL in an environment variable and name it with webhook_url_env")
        kw = dict(raw)
        for key in ("metrics", "score_range", "price_per_million_tokens"):
            if key in kw and isinstance(kw[key], list):
                kw[key] = tuple(kw[key])
        try:
            return cls(**kw)
        except TypeError as exc:
            raise ConfigError(f"monitor {raw.get('name', '?')!r}: {exc}") from None

    def webhook_url(self) -> str | None:
        """The webhook URL from its environment variable (None when unset)."""
        return os.environ.get(self.webhook_url_env) or None if self.webhook_url_env else None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["metrics"] = list(self.metrics)
        d["score_range"] = list(self.score_range)
        if self.price_per_million_tokens is not None:
            d["price_per_million_tokens"] = list(self.price_per_million_tokens)
        return d

    def resolve(self, which: str) -> Any:
        """Import ``model``, ``dataset``, ``score`` or ``suite`` (``model`` builds the OpenAI-compatible adapter
        when ``openai_model`` is set)."""
        if which == "model" and self.openai_model:
            from ..adapters.openai_compat import openai_model

            key = os.environ.get(self.api_key_env) if self.api_key_env else None
            return openai_model(self.openai_model, base_url=self.base_url or None, api_key=key,
                                timeout=self.timeout_s)
        spec = getattr(self, which)
        module, _, attr = spec.partition(":")
        try:
            obj: Any = importlib.import_module(module)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"monitor {self.name!r}: cannot import {which} {spec!r}: {exc}; check the module is "
                              "on python_path and the attribute exists") from None
        return obj


@dataclass(frozen=True)
class MonitorFile:
    """A loaded config file: its monitors, store and family-wide multiplicity rule."""

    path: Path
    monitors: tuple[MonitorConfig, ...]
    store: str
    multiplicity: str = "ebh"
    python_path: tuple[str, ...] = ()

    def get(self, name: str) -> MonitorConfig:
        for m in self.monitors:
            if m.name == name:
                return m
        raise ConfigError(f"no monitor named {name!r} in {self.path}; known: {[m.name for m in self.monitors]}")

    def activate(self) -> None:
        """Put ``python_path`` on ``sys.path`` so the import strings resolve."""
        for p in self.python_path:
            if p not in sys.path:
                sys.path.insert(0, p)


def load_monitors(path: str | os.PathLike[str], *, store: str | None = None) -> MonitorFile:
    """Read a monitor config file (TOML). ``store`` overrides the file's ``store``."""
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"monitor config {str(p)!r} does not exist; pass the path of a TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"monitor config {str(p)!r} is not valid TOML: {exc}") from None
    allowed = {"store", "multiplicity", "python_path", "monitor"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(f"unknown top-level key(s) {unknown} in {p}; allowed: {sorted(allowed)}")
    tables = raw.get("monitor")
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"{p} has no [[monitor]] table; add at least one (see docs/monitoring.md)")
    mons = tuple(MonitorConfig.from_dict(t) for t in tables)
    names = [m.name for m in mons]
    if len(set(names)) != len(names):
        raise ConfigError(f"monitor names must be unique in {p}, got {names}")
    mult = raw.get("multiplicity", "ebh")
    if mult not in MULTIPLICITY:
        raise ConfigError(f"`multiplicity` must be one of {list(MULTIPLICITY)}, got {mult!r}")
    base = p.resolve().parent
    if store is not None:  # from the command line: relative to the working directory
        st = store if "://" in str(store) else str(Path(store).resolve())
    else:  # from the file: relative to the file
        st = str(raw.get("store", "bayesbench.sqlite"))
        if "://" not in st:
            st = str((base / st).resolve())
    pp = raw.get("python_path", [])
    if not isinstance(pp, list) or not all(isinstance(x, str) for x in pp):
        raise ConfigError(f"`python_path` must be a list of folders, got {pp!r}")
    return MonitorFile(path=p, monitors=mons, store=str(st), multiplicity=mult,
                       python_path=tuple(str((base / x).resolve()) for x in pp))
