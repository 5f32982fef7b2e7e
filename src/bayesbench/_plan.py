"""Planning a run before it starts, and reading one after: ``bayesbench.plan(...)`` / ``bayesbench plan``.

Before a run: how many problems, model calls and dollars until a decision at a given gap, for the
sequential engine (expected and 90th percentile, from the engine's own operating characteristics,
simulated with the very test classes a run uses, seeded and cached on disk) and for a fixed-n test
(exact McNemar power and sample size); for a pair or for a ranking of k models. After a run:
``plan.detectable_gap(result)`` answers "what gap could this run have detected?".
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._validate import finite_float, positive_int
from .engine._loop import batch_boundaries
from .engine._settings import RunSettings, check_names, engine_config
from .errors import ConfigError

__all__ = ["Plan", "DetectableGap", "plan", "detectable_gap", "plan_cache_dir"]

#: The settings that change a plan (the rest, e.g. timeouts and concurrency, do not change what is asked).
#: (No score_range: a plan simulates correct/incorrect scores.)
PLAN_SETTINGS = ("confidence", "skip_threshold", "min_samples", "rule", "equivalence_margin", "batch_size",
                 "max_problems", "goal", "n_runs", "reduce")
SIMULATOR_VERSION = 1  # bump when the simulation changes: old cache entries are then never read
DEFAULT_HORIZON = 10_000


def plan_cache_dir() -> Path:
    """Where simulated operating characteristics are cached: ``$BAYESBENCH_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/bayesbench``, else ``~/.cache/bayesbench`` (a ``plan`` folder inside)."""
    root = os.environ.get("BAYESBENCH_CACHE_DIR")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = str(Path(xdg) / "bayesbench") if xdg else str(Path.home() / ".cache" / "bayesbench")
    return Path(root) / "plan"


@dataclass
class Plan:
    """What a run will cost before it starts.

    ``sequential``: the engine's simulated operating characteristics: expected / median / 90th-percentile
    problems until it stops (``problems`` counts problems fed to the test; ``calls`` include the look-ahead
    overshoot of at most one batch and ``n_runs`` repeats), ``p_decision`` (a verdict before the horizon),
    ``p_correct`` / ``p_wrong`` (the right / wrong model declared; for rankings: every claim correct and the
    order complete / some claim wrong), with their dollar cost at ``price_per_call``.
    ``fixed``: the fixed-n alternative: problems for ``power`` with the exact McNemar test (for rankings, at
    the smallest adjacent gap with a Bonferroni split over the pairs), its calls and dollars, and the power at
    the horizon when ``n_problems`` is given. ``seed`` / ``n_sims`` say how the simulation was drawn;
    ``cached`` whether it was read from ``cache_path``.
    """

    kind: str
    scenario: dict[str, Any]
    settings: dict[str, Any]
    horizon: int
    sequential: dict[str, Any]
    fixed: dict[str, Any]
    price_per_call: float | None
    n_sims: int
    seed: int
    cached: bool
    cache_path: str | None = field(default=None, repr=False)
    method: str = "simulated sequential engine; exact McNemar power for the fixed-n test"

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("kind", "method", "scenario", "settings", "horizon", "sequential",
                                              "fixed", "price_per_call", "n_sims", "seed", "cached", "cache_path")}

    def summary(self) -> str:
        s, f = self.sequential, self.fixed
        what = (f"A={self.scenario['accuracy_a']:.3f} vs B={self.scenario['accuracy_b']:.3f} (gap "
                f"{self.scenario['gap']:+.3f}, discordance {self.scenario['discordance']:.3f})" if self.kind == "pair"
                else "ranking of " + ", ".join(f"{m}={p:.3f}" for m, p in self.scenario["accuracies"].items()))
        money = self.price_per_call is not None

        def cost(calls: float) -> str:
            return f", ${calls * self.price_per_call:,.2f}" if money else ""  # type: ignore[operator]

        lines = [
            f"plan for {what}; confidence {self.settings['confidence']:.0%}, rule={self.settings['rule']}, "
            f"batch {self.settings['batch_size']}, {self.settings['n_runs']} run(s) per problem, horizon "
            f"{self.horizon} problems",
            f"  sequential: expected {s['expected_problems']:.0f} problems (median {s['p50_problems']:.0f}, 90th "
            f"percentile {s['p90_problems']:.0f}); expected {s['expected_calls']:.0f} calls{cost(s['expected_calls'])}, "
            f"90th percentile {s['p90_calls']:.0f}{cost(s['p90_calls'])}",
            f"    P(decision within the horizon)={s['p_decision']:.3f}, P(correct)={s['p_correct']:.3f}, "
            f"P(wrong)={s['p_wrong']:.4f} ({self.n_sims} simulated runs, seed {self.seed}"
            + (", cached)" if self.cached else ")"),
        ]
        if f.get("problems") is not None:
            lines.append(f"  fixed-n ({f['method']}): {f['problems']} problems for power {f['power']:.2f}, "
                         f"{f['calls']} calls{cost(f['calls'])}"
                         + (f"; power at the horizon {f['power_at_horizon']:.3f}" if f.get("power_at_horizon")
                            is not None else "")
                         + (f"; unpaired (two different problem samples): {f['two_proportion_problems']} per model"
                            if f.get("two_proportion_problems") else ""))
        else:
            lines.append(f"  fixed-n ({f['method']}): {f.get('note', 'not available')}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# ----------------------------------------------------------------------------- scenario
def _proportion(name: str, value: Any) -> float:
    v = finite_float(name, value)
    if not 0.0 <= v <= 1.0:
        raise ConfigError(f"`{name}` must be an accuracy in [0, 1], got {value!r}")
    return v


def _pair_scenario(accuracy_a: Any, accuracy_b: Any, gap: Any, base_rate: Any, discordance: Any) -> dict[str, float]:
    from .stats import paired_cells

    if gap is not None or base_rate is not None:
        if accuracy_a is not None or accuracy_b is not None:
            raise ConfigError("give either accuracy_a and accuracy_b, or gap and base_rate (not both)")
        if gap is None:
            raise ConfigError("`gap` is missing: base_rate is B's accuracy, gap is A's minus B's (e.g. gap=0.05)")
        pb = _proportion("base_rate", 0.6 if base_rate is None else base_rate)
        pa = _proportion("accuracy_a (base_rate + gap)", pb + finite_float("gap", gap))
    else:
        if accuracy_a is None or accuracy_b is None:
            raise ConfigError("describe the pair: accuracy_a=0.65, accuracy_b=0.6 (or gap=0.05, base_rate=0.6)")
        pa, pb = _proportion("accuracy_a", accuracy_a), _proportion("accuracy_b", accuracy_b)
    p10, p01 = paired_cells(pa, pb, None if discordance is None else finite_float("discordance", discordance))
    return {"accuracy_a": pa, "accuracy_b": pb, "gap": pa - pb, "discordance": p10 + p01, "p10": p10, "p01": p01,
            "independent_errors": discordance is None}


def _accuracies(accuracies: Any) -> dict[str, float]:
    if isinstance(accuracies, Mapping):
        items = [(str(k), v) for k, v in accuracies.items()]
    elif isinstance(accuracies, Sequence) and not isinstance(accuracies, str):
        items = [(f"model_{i + 1}", v) for i, v in enumerate(accuracies)]
    else:
        raise ConfigError(f"`accuracies` must map model names to accuracies, e.g. {{'a': 0.7, 'b': 0.6}}, "
                          f"got {accuracies!r}")
    if len(items) < 2:
        raise ConfigError(f"a ranking plan needs at least 2 models, got {len(items)}")
    return {name: _proportion(f"accuracies[{name!r}]", v) for name, v in items}


# ----------------------------------------------------------------------------- simulation
def _cache_file(payload: dict[str, Any]) -> Path:
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]
    return plan_cache_dir() / f"{payload['kind']}-{digest}.json"


def _load(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None  # absent or corrupt: simulate again


def _save(path: Path, data: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(path)  # atomic: a concurrent reader sees the old file or the new one
    except OSError:
        pass  # a read-only cache dir only costs the next plan its simulation


def _dispatched(bounds: list[tuple[int, int]], stop: int) -> int:
    """Problems dispatched when the test stops after ``stop`` fed problems: the look-ahead batch is in flight."""
    for i, (_, end) in enumerate(bounds):
        if end == stop:
            return bounds[i + 1][1] if i + 1 < len(bounds) else end
    return stop


def simulate_pair(settings: RunSettings, scen: dict[str, float], horizon: int, n_sims: int,
                  seed: int) -> dict[str, list[Any]]:
    """Run the pair test a run would build on ``n_sims`` simulated banks of 0/1 scores; per simulation the
    problems fed at the stop, the problems dispatched, and the status."""
    from .stats import make_pair_test

    rng = np.random.default_rng(seed)
    cfg = engine_config(settings, horizon)
    bounds = batch_boundaries(horizon, settings.batch_size, settings.min_samples)
    p10, p01 = scen["p10"], scen["p01"]
    p11 = scen["accuracy_b"] - p01
    stops, sent, status = [], [], []
    for _ in range(n_sims):
        test = make_pair_test(settings.rule, cfg, confidence=settings.confidence,
                              skip_threshold=settings.skip_threshold, min_samples=settings.min_samples,
                              posterior_factory=settings.posteriors, seed=0)
        if hasattr(test, "_lazy_cs"):
            test._lazy_cs = True  # the decision never reads the confidence sequence: skip solving it
        u = rng.random(horizon)
        a = (u < p10 + p11).astype(float)
        b = ((u >= p10) & (u < p10 + p11 + p01)).astype(float)
        stop, verdict = horizon, None
        for start, end in bounds:
            decision = test.update(a[start:end], b[start:end])
            if decision.status != "CONTINUE":
                stop, verdict = end, decision.status
                break
        if verdict is None:
            verdict = test.close().status
        stops.append(stop)
        sent.append(_dispatched(bounds, stop))
        status.append(verdict)
    return {"stops": stops, "dispatched": sent, "status": status}


def simulate_ranking(settings: RunSettings, acc: dict[str, float], horizon: int, n_sims: int,
                     seed: int) -> dict[str, list[Any]]:
    """Run the ranking race a run would build on simulated 0/1 scores (models err independently); per
    simulation the problems fed, the calls made (look-ahead included) and whether the claims were right."""
    import dataclasses

    from .stats import RankingRace

    rng = np.random.default_rng(seed)
    names = list(acc)
    p = np.array([acc[m] for m in names])
    cfg = engine_config(settings, horizon)
    cfg = dataclasses.replace(cfg, bank_size=None) if cfg.target != "full_benchmark" else cfg
    fixed = settings.rule == "fixed"
    bounds = batch_boundaries(horizon, settings.batch_size, settings.min_samples)
    order = sorted(names, key=lambda m: -acc[m])
    stops, calls, status = [], [], []
    for _ in range(n_sims):
        race = RankingRace(names, cfg, goal=settings.goal, rule="fixed" if fixed else "anytime")  # type: ignore[arg-type]
        scores = (rng.random((horizon, len(names))) < p).astype(float)
        stop, fed = horizon, 0
        sizes = [end - start for start, end in bounds]
        width = [len(names)]  # models asked per dispatched batch: batch j goes out while batch j-1 is awaited,
        for start, end in bounds:  # so it asks the models still active after batch j-2 was fed
            active = names if fixed else race.active_models()
            race.update({m: scores[start:end, names.index(m)] for m in active})
            fed += 1
            width.append(len(names) if fixed else len(race.active_models()))
            if not fixed and race.done():
                stop = end
                break
        if not race.done():
            race.close()
        n_batches = min(fed + 1, len(bounds))  # the look-ahead batch was in flight at the stop
        used = sum(sizes[j] * (len(names) if j < 2 else width[j - 1]) for j in range(n_batches))
        claims = set(race.claims())
        wrong = any(acc[a] <= acc[b] for a, b in claims)
        strict = [(a, b) for i, a in enumerate(order) for b in order[i + 1:] if acc[a] > acc[b]]
        if settings.goal == "top1":  # only "the best beats every model it is better than" is asked for
            strict = [(a, b) for a, b in strict if a == order[0]]
        complete = all(c in claims for c in strict)
        stops.append(stop)
        calls.append(used)
        status.append("wrong" if wrong else "correct" if complete else "incomplete")
    return {"stops": stops, "dispatched": calls, "status": status}


# ----------------------------------------------------------------------------- the front door
def _quantile(values: Sequence[float], q: float) -> float:
    return float(np.quantile(np.asarray(values, dtype=float), q))


def _plan_settings(options: Mapping[str, Any], ranking: bool) -> RunSettings:
    allowed = PLAN_SETTINGS if ranking else tuple(n for n in PLAN_SETTINGS if n != "goal")
    for key in options:
        if key in RunSettings.__dataclass_fields__ and key not in allowed:
            raise ConfigError(f"`{key}` does not change a plan (it changes how calls are made or reported, not how "
                              f"many problems the decision needs); the settings a plan takes: {', '.join(allowed)}")
    check_names("plan", options, allowed)
    return RunSettings(**({"min_samples": 5} if ranking else {}), **options)  # the ranker's default min_samples


def _simulated(kind: str, settings: RunSettings, scenario: dict[str, Any], horizon: int, n_sims: int, seed: int,
               cache: bool) -> tuple[dict[str, list[Any]], bool, str | None]:
    payload = {"kind": kind, "version": SIMULATOR_VERSION, "horizon": horizon, "n_sims": n_sims, "seed": seed,
               "scenario": {k: (round(v, 12) if isinstance(v, float) else v) for k, v in scenario.items()},
               "settings": {k: v for k, v in settings.recorded().items()
                            if k in PLAN_SETTINGS and k not in ("n_runs", "reduce", "max_problems")}}
    path = _cache_file(payload) if cache else None
    if path is not None:
        hit = _load(path)
        if hit is not None and hit.get("payload") == json.loads(json.dumps(payload)):
            return hit["sims"], True, str(path)
    if kind == "pair":
        sims = simulate_pair(settings, scenario, horizon, n_sims, seed)
    else:
        sims = simulate_ranking(settings, scenario["accuracies"], horizon, n_sims, seed)
    if path is not None:
        _save(path, {"payload": payload, "sims": sims})
    return sims, False, None if path is None else str(path)


def plan(
    accuracy_a: float | None = None,
    accuracy_b: float | None = None,
    *,
    gap: float | None = None,
    base_rate: float | None = None,
    discordance: float | None = None,
    accuracies: Mapping[str, float] | Sequence[float] | None = None,
    n_problems: int | None = None,
    price_per_call: float | None = None,
    power: float = 0.8,
    n_sims: int = 400,
    seed: int = 0,
    cache: bool = True,
    **settings: Any,
) -> Plan:
    """How many problems, calls and dollars until a decision, before the run.

    Describe a pair by ``accuracy_a`` / ``accuracy_b`` (or ``gap`` = A − B with ``base_rate`` = B's
    accuracy), with ``discordance`` = P(the two models disagree) (None: they err independently; models of
    one family often agree more, which makes the decision cheaper), or a ranking by ``accuracies`` (a dict
    name -> accuracy; models err independently). ``n_problems``: the bank size (the run stops undecided
    there; None: a horizon of 10 000 problems). ``price_per_call``: dollars per model call (None: no
    dollar figures). ``power``: for the fixed-n sample size. ``n_sims`` simulated runs with ``seed``,
    cached on disk (:func:`plan_cache_dir`) keyed by every input, so the same plan is instant the second time.
    ``settings``: the run settings that change the plan (confidence, rule, batch_size, min_samples,
    equivalence_margin, skip_threshold, max_problems, n_runs, reduce, goal), as a run takes them.

    Simulated scores are 0/1 (correct or not); ``n_runs`` > 1 multiplies the calls (the engine sees one
    reduced score per problem, assumed to keep the given accuracies).
    """
    positive_int("n_sims", n_sims, minimum=20)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"`seed` must be a non-negative integer, got {seed!r}")
    if price_per_call is not None and finite_float("price_per_call", price_per_call) < 0:
        raise ConfigError(f"`price_per_call` must be a number of dollars >= 0 or None, got {price_per_call!r}")
    if isinstance(power, bool) or not isinstance(power, (int, float)) or not 0 < power < 1:
        raise ConfigError(f"`power` must be in (0, 1), e.g. 0.8, got {power!r}")
    positive_int("n_problems", n_problems, allow_none=True)
    ranking = accuracies is not None
    if ranking and any(v is not None for v in (accuracy_a, accuracy_b, gap, base_rate, discordance)):
        raise ConfigError("give either accuracies= (a ranking) or a pair (accuracy_a/accuracy_b or gap/base_rate)")
    run = _plan_settings(settings, ranking)
    horizon = n_problems if n_problems is not None else DEFAULT_HORIZON
    if run.max_problems is not None:
        horizon = min(horizon, run.max_problems)
    if ranking:
        from .engine._settings import check_ranking

        scenario: dict[str, Any] = {"accuracies": _accuracies(accuracies)}
        check_ranking(run, len(scenario["accuracies"]))
    else:
        scenario = _pair_scenario(accuracy_a, accuracy_b, gap, base_rate, discordance)
    kind = "ranking" if ranking else "pair"
    sims, cached, path = _simulated(kind, run, scenario, horizon, n_sims, seed, cache)
    per_call = 1 if ranking else 2  # ranking sims count model calls already; a pair asks both models
    stops = sims["stops"]
    calls = [d * per_call * run.n_runs for d in sims["dispatched"]]
    status = sims["status"]
    if ranking:
        p_correct = status.count("correct") / n_sims
        p_wrong = status.count("wrong") / n_sims
        p_decision = sum(1 for s in stops if s < horizon) / n_sims
    else:
        truth = "A" if scenario["gap"] > 0 else "B" if scenario["gap"] < 0 else None
        decided = [s for s in status if s in ("A", "B", "EQUIVALENT")]
        p_decision = len(decided) / n_sims
        p_correct = sum(1 for s in status if s == truth) / n_sims
        p_wrong = sum(1 for s in status if s in ("A", "B") and s != truth) / n_sims
    sequential = {
        "expected_problems": float(np.mean(stops)), "p50_problems": _quantile(stops, 0.5),
        "p90_problems": _quantile(stops, 0.9), "expected_calls": float(np.mean(calls)),
        "p90_calls": _quantile(calls, 0.9), "p_decision": p_decision, "p_correct": p_correct, "p_wrong": p_wrong,
        "mc_se_expected_problems": float(np.std(stops, ddof=1) / math.sqrt(n_sims)),
    }
    if price_per_call is not None:
        sequential["expected_cost_usd"] = sequential["expected_calls"] * float(price_per_call)
        sequential["p90_cost_usd"] = sequential["p90_calls"] * float(price_per_call)
    fixed = _fixed_plan(run, scenario, ranking, power, n_problems, price_per_call)
    shown = {k: getattr(run, k) for k in PLAN_SETTINGS}
    return Plan(kind=kind, scenario=scenario, settings=shown, horizon=horizon, sequential=sequential, fixed=fixed,
                price_per_call=None if price_per_call is None else float(price_per_call), n_sims=n_sims, seed=seed,
                cached=cached, cache_path=path)


def _fixed_plan(run: RunSettings, scenario: dict[str, Any], ranking: bool, power: float, n_problems: int | None,
                price: float | None) -> dict[str, Any]:
    from .stats import mcnemar_power, mcnemar_sample_size

    alpha = run.alpha
    if ranking:
        acc = sorted(scenario["accuracies"].values(), reverse=True)
        k = len(acc)
        pairs = k * (k - 1) // 2
        gaps = [(acc[i], acc[i + 1]) for i in range(k - 1) if acc[i] > acc[i + 1]]
        models, alpha = k, alpha / pairs
        method = f"exact McNemar on the closest adjacent pair, alpha/{pairs} (Bonferroni)"
        if not gaps:
            return {"method": method, "problems": None, "note": "all accuracies are equal: nothing to detect"}
        pa, pb = min(gaps, key=lambda g: g[0] - g[1])
        d = None
    else:
        models, method = 2, "exact McNemar"
        pa, pb = scenario["accuracy_a"], scenario["accuracy_b"]
        d = None if scenario["independent_errors"] else scenario["discordance"]
        if pa == pb:
            return {"method": method, "problems": None, "note": "the accuracies are equal: nothing to detect"}
    try:
        need = mcnemar_sample_size(pa, pb, discordance=d, alpha=alpha, power=power).n
    except ConfigError as err:
        return {"method": method, "problems": None, "note": str(err)}
    out: dict[str, Any] = {"method": method, "power": power, "problems": need,
                           "calls": need * models * run.n_runs}
    if not ranking:  # the same gap measured on two different problem samples (no pairing): n per model
        from .stats import two_proportion_sample_size

        out["two_proportion_problems"] = two_proportion_sample_size(pa, pb, alpha=alpha, power=power).n
    if price is not None:
        out["cost_usd"] = out["calls"] * float(price)
    if n_problems is not None:
        out["power_at_horizon"] = mcnemar_power(n_problems, pa, pb, discordance=d, alpha=alpha).power
    return out


# ----------------------------------------------------------------------------- after a run
@dataclass
class DetectableGap:
    """The smallest accuracy gap a run of ``n`` problems detects with probability ``power``: with the
    fixed-n exact McNemar test (``fixed_gap``) and with the sequential engine deciding within the ``n``
    problems (``sequential_gap``, simulated). ``base_rate`` is the weaker side's observed mean; the
    discordance is ``discordance`` if given, else the independent-errors value at each gap (``assumed``)."""

    n: int
    base_rate: float
    power: float
    confidence: float
    fixed_gap: float
    sequential_gap: float | None
    discordance: float | None
    observed_gap: float
    method: str = "exact McNemar power (fixed); simulated sequential engine (sequential)"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def summary(self) -> str:
        d = "independent errors assumed" if self.discordance is None else f"discordance {self.discordance:.3f}"
        seq = "" if self.sequential_gap is None else (
            f"; the sequential engine, deciding within those problems: {self.sequential_gap:.3f}")
        return (f"with {self.n} problems at base rate {self.base_rate:.3f} ({d}), a gap of {self.fixed_gap:.3f} "
                f"is detected with power {self.power:.0%} by a fixed-n McNemar test at {self.confidence:.0%}{seq}; "
                f"observed gap {self.observed_gap:+.3f}")

    def __str__(self) -> str:
        return self.summary()


def detectable_gap(result: Any = None, *, n: int | None = None, base_rate: float | None = None,
                   discordance: float | None = None, power: float = 0.8, confidence: float | None = None,
                   sequential: bool = True, n_sims: int = 200, seed: int = 0, cache: bool = True,
                   **settings: Any) -> DetectableGap:
    """What gap could this run have detected? From a :class:`~bayesbench.TaskResult` (its problems used,
    the weaker model's mean as base rate, its confidence and rule) or from ``n`` and ``base_rate``. With
    ``sequential`` the engine is simulated too (a bisection over the gap, ``n_sims`` runs each, cached)."""
    observed = 0.0
    if result is not None:
        n = n if n is not None else int(result.problems_tested)
        if base_rate is None:
            base_rate = float(min(result.mean_a, result.mean_b))
        observed = float(result.mean_a - result.mean_b)
        confidence = confidence if confidence is not None else float(result.confidence)
        settings.setdefault("rule", result.rule if result.rule in ("anytime", "fixed", "full_benchmark") else "anytime")
    if n is None or base_rate is None:
        raise ConfigError("give a TaskResult, or n= (problems) and base_rate= (the weaker model's accuracy)")
    n = positive_int("n", n)
    base = _proportion("base_rate", base_rate)
    conf = 0.95 if confidence is None else confidence
    run = _plan_settings({"confidence": conf, **settings}, ranking=False)
    from .stats import mcnemar_detectable_gap

    fixed_gap = mcnemar_detectable_gap(n, base, discordance=discordance, alpha=run.alpha, power=power)
    seq_gap = None
    if sequential and not math.isnan(fixed_gap):
        lo_g, hi_g = 0.0, 1.0 - base
        for _ in range(10):  # ~0.1 % of the range: finer than the Monte-Carlo error
            mid = (lo_g + hi_g) / 2
            d = None if discordance is None else min(max(discordance, mid), min(2 * base + mid, 2 - 2 * base - mid))
            scen = _pair_scenario(base + mid, base, None, None, d)
            sims, _, _ = _simulated("pair", run, scen, n, n_sims, seed, cache)
            hit = sum(1 for s in sims["status"] if s == "A") / n_sims
            lo_g, hi_g = (mid, hi_g) if hit < power else (lo_g, mid)
        seq_gap = hi_g
    return DetectableGap(n=n, base_rate=base, power=float(power), confidence=conf, fixed_gap=fixed_gap,
                         sequential_gap=seq_gap, discordance=discordance, observed_gap=observed)


plan.detectable_gap = detectable_gap  # type: ignore[attr-defined]  # `bayesbench.plan.detectable_gap(result)`
