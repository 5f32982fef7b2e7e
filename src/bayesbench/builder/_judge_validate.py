"""Is the judge as good as a person? Agreement with human labels, position and length bias, cost per item.

:func:`validate_judge` compares a judge's labels with the human labels of the same items:

* agreement: Cohen's kappa of the judge against the human majority (quadratic-weighted for ordinal/interval
  labels), Krippendorff's alpha among the humans and with the judge added as one more annotator (if the judge
  is as reliable as a person, alpha barely moves), and the judge's raw agreement with the majority;
* position bias (pairwise judges): among single-order verdicts that picked a side, the share where the
  first-shown answer won, with its exact (Clopper–Pearson) interval; 0.5 means no position preference;
* length bias: the Pearson correlation of the preference (+1 a, -1 b, 0 tie; for graders the score) with the
  length difference in characters (for graders the answer's length), with a bootstrap interval, next to the same
  correlation for the human majority's labels of the same answers (``length_bias_humans``): a raw correlation is
  confounded with quality (better answers may be longer), so the gap between the two is what the judge adds;
* cost per judged item, from the judge's executor price table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validate import finite_or_none as _f
from ..errors import ConfigError, DatasetError
from ._agreement import AgreementResult, _bootstrap, _check_boot, cohens_kappa, krippendorff_alpha
from ._annotation_ratings import Ratings, check_level
from ._consensus import majority_vote
from ._judge import JudgeVerdict, PairwiseVerdict


@dataclass(frozen=True)
class BiasEstimate:
    """A bias measure with its interval: ``method`` says which (``position_first_wins`` or ``length_corr``)."""

    method: str
    estimate: float
    ci: tuple[float, float]
    level: float
    n: int
    no_bias: float

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "estimate": _f(self.estimate), "ci": [_f(self.ci[0]), _f(self.ci[1])],
                "level": self.level, "n": self.n, "no_bias": self.no_bias}

    def summary(self) -> str:
        return (f"{self.method}: {self.estimate:.3f} ({self.level:.0%} CI [{self.ci[0]:.3f}, {self.ci[1]:.3f}], "
                f"n={self.n}; {self.no_bias:g} = no bias)")


@dataclass(frozen=True)
class JudgeValidation:
    """What :func:`validate_judge` found. ``agreement`` holds :class:`AgreementResult` objects by name."""

    judge: str
    n_items: int
    agreement: dict[str, AgreementResult]
    accuracy_vs_majority: float | None
    position_bias: BiasEstimate | None
    length_bias: BiasEstimate | None
    length_bias_humans: BiasEstimate | None
    cost_per_item_usd: float | None
    level: float
    seed: int
    level_of_measurement: str
    disagreements: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "judge_validation",
            "judge": self.judge,
            "n": self.n_items,
            "level": self.level,
            "seed": self.seed,
            "level_of_measurement": self.level_of_measurement,
            "agreement": {k: v.to_dict() for k, v in self.agreement.items()},
            "accuracy_vs_majority": self.accuracy_vs_majority,
            "position_bias": self.position_bias.to_dict() if self.position_bias else None,
            "length_bias": self.length_bias.to_dict() if self.length_bias else None,
            "length_bias_humans": self.length_bias_humans.to_dict() if self.length_bias_humans else None,
            "cost_per_item_usd": self.cost_per_item_usd,
            "disagreements": list(self.disagreements),
        }

    def summary(self) -> str:
        lines = [f"judge {self.judge!r} against human labels on {self.n_items} items "
                 f"({self.level_of_measurement}, seed={self.seed}):"]
        lines += [f"  {name}: {v.summary()}" for name, v in self.agreement.items()]
        if self.accuracy_vs_majority is not None:
            lines.append(f"  agreement with the human majority: {self.accuracy_vs_majority:.1%} "
                         f"({len(self.disagreements)} items differ)")
        for label, b in (("judge", self.position_bias), ("judge", self.length_bias),
                         ("humans", self.length_bias_humans)):
            if b is not None:
                lines.append(f"  {label}: {b.summary()}")
        lines.append("  cost per judged item: " + (f"${self.cost_per_item_usd:.5f}" if self.cost_per_item_usd is not None
                                                  else "unknown (no price for the judge in the executor)"))
        return "\n".join(lines)


def _judge_table(judge: Any) -> tuple[str, dict[str, Any], list[Any], float | None]:
    """(name, {item: label}, verdict objects, cost per item) from a judge, a verdict list or a mapping."""
    name, cost = "judge", None
    verdicts: list[Any] = []
    if hasattr(judge, "verdicts") and hasattr(judge, "scoring_info"):
        info = judge.scoring_info()
        name, cost = info.get("judge", name), info.get("cost_per_item_usd")
        verdicts = list(judge.verdicts)
    elif isinstance(judge, Mapping):
        return name, {str(k): v for k, v in judge.items()}, [], None
    elif isinstance(judge, Sequence) and not isinstance(judge, (str, bytes)):
        verdicts = list(judge)
    else:
        raise ConfigError(f"`judge` must be a JudgeScorer/PairwiseJudge, a list of verdicts or {{item: label}}, "
                          f"got {type(judge).__name__}")
    labels: dict[str, Any] = {}
    for v in verdicts:
        if isinstance(v, JudgeVerdict):
            labels[v.item_id] = v.label
        elif isinstance(v, PairwiseVerdict):
            labels[v.item_id] = v.winner
        else:
            raise ConfigError(f"verdicts must be JudgeVerdict or PairwiseVerdict objects, got {type(v).__name__}")
    if cost is None and verdicts:
        costs = [v.cost_usd for v in verdicts if v.cost_usd is not None]
        cost = sum(costs) / len(verdicts) if len(costs) == len(verdicts) else None
    return name, labels, verdicts, cost


def _corr(x: np.ndarray, y: np.ndarray) -> float:
    if x.size < 3 or np.std(x) == 0 or np.std(y) == 0:
        return math.nan
    return float(np.corrcoef(x, y)[0, 1])


def position_bias(verdicts: Sequence[PairwiseVerdict], *, level: float = 0.95) -> BiasEstimate | None:
    """Share of single-order verdicts (ties left out) where the first-shown answer won; exact interval."""
    from scipy.stats import binomtest

    first_wins = sum((v.first == "A") + (v.second == "A") for v in verdicts)
    sided = sum((v.first != "TIE") + (v.second != "TIE") for v in verdicts)
    if sided == 0:
        return None
    ci = binomtest(first_wins, sided).proportion_ci(confidence_level=level, method="exact")
    return BiasEstimate("position_first_wins", first_wins / sided, (float(ci.low), float(ci.high)), level, sided, 0.5)


def length_bias(verdicts: Sequence[Any], *, n_boot: int = 1000, level: float = 0.95, seed: int = 0,
                labels: Mapping[str, Any] | None = None, scores: Mapping[Any, float] | None = None) -> BiasEstimate | None:
    """Correlation of the preference with the length difference (pairwise) or of the score with the length.

    With ``labels`` ({item: label}, e.g. the human majority) the preference is read from those labels instead of
    the verdicts (pairwise labels a/b/tie; grader labels through ``scores``), over the same answers' lengths."""
    pair = [v for v in verdicts if isinstance(v, PairwiseVerdict)]
    graded = [v for v in verdicts if isinstance(v, JudgeVerdict)]
    if labels is not None:
        pair = [v for v in pair if v.item_id in labels]
        graded = [v for v in graded if v.item_id in labels and (scores or {}).get(labels[v.item_id]) is not None]
    if pair:
        winners = [labels[v.item_id] if labels is not None else v.winner for v in pair]
        pref = np.array([{"a": 1.0, "b": -1.0}.get(w, 0.0) for w in winners])
        diff = np.array([v.chars_a - v.chars_b for v in pair], dtype=float)
    else:
        pref = np.array([float(scores[labels[v.item_id]]) if labels is not None and scores is not None else v.score
                         for v in graded])
        diff = np.array([v.response_chars for v in graded], dtype=float)
    est = _corr(pref, diff)
    if not math.isfinite(est):
        return None
    ci, _ = _bootstrap(lambda idx: _corr(pref[idx], diff[idx]), pref.size, n_boot, level, seed)
    return BiasEstimate("length_corr", est, ci, level, int(pref.size), 0.0)


def validate_judge(
    judge: Any,
    human_labels: Any,
    *,
    level_of_measurement: str = "nominal",
    categories: Sequence[Any] | None = None,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> JudgeValidation:
    """Compare a judge with human annotators on the items both labelled.

    ``judge``: a :class:`JudgeScorer` / :class:`PairwiseJudge` (its ``verdicts``), a list of verdicts, or
    ``{item_id: label}``. Pairwise labels are ``"a"``, ``"b"``, ``"tie"``. ``human_labels``: anything
    :class:`~bayesbench.builder.Ratings` reads (annotation records, ``{item: {annotator: label}}``...).
    ``categories``: the label order (needed for ordinal labels that do not sort by themselves).
    """
    n_boot, level, seed = _check_boot(n_boot, level, seed)
    lvl = check_level(level_of_measurement)
    name, judge_labels, verdicts, cost = _judge_table(judge)
    humans = Ratings.from_any(human_labels, categories=categories)
    human_map = {str(i): labels for i, labels in humans.to_mapping().items() if labels}
    common = [i for i in human_map if i in judge_labels]
    if len(common) < 2:
        raise DatasetError(
            f"the judge and the humans share {len(common)} labelled item(s); validation needs at least 2 "
            "(item ids must match: the judge's verdicts carry the problem's `id`)"
        )
    cats = list(categories) if categories is not None else list(humans.categories)
    for lab in {judge_labels[i] for i in common}:
        if lab not in cats:
            cats.append(lab)
    joint = {i: dict(human_map[i]) for i in common}
    mv = majority_vote(joint, categories=cats, seed=seed)
    kw: dict[str, Any] = {"n_boot": n_boot, "level": level, "seed": seed}
    pairs = {i: {"human_majority": mv.labels[i], "judge": judge_labels[i]} for i in common}
    agreement = {"kappa_vs_majority": cohens_kappa(pairs, categories=cats,
                                                   weights=None if lvl == "nominal" else "quadratic", **kw)}
    if humans.n_annotators >= 2 and sum(len(v) >= 2 for v in joint.values()) >= 2:
        agreement["alpha_humans"] = krippendorff_alpha(joint, level_of_measurement=lvl, categories=cats, **kw)
        judge_key = "__judge__"
        with_judge = {i: {**joint[i], judge_key: judge_labels[i]} for i in common}
        agreement["alpha_with_judge"] = krippendorff_alpha(with_judge, level_of_measurement=lvl, categories=cats, **kw)
    differ = [{"item_id": i, "judge": judge_labels[i], "human_majority": mv.labels[i], "humans": joint[i]}
              for i in common if judge_labels[i] != mv.labels[i]]
    accuracy = 1.0 - len(differ) / len(common)
    mine = [v for v in verdicts if v.item_id in set(common)]
    pair_verdicts = [v for v in mine if isinstance(v, PairwiseVerdict)]
    return JudgeValidation(
        judge=name, n_items=len(common), agreement=agreement, accuracy_vs_majority=accuracy,
        position_bias=position_bias(pair_verdicts, level=level) if pair_verdicts else None,
        length_bias=length_bias(mine, **kw) if mine else None,
        length_bias_humans=length_bias(mine, labels=mv.labels, scores=getattr(judge, "scores", None), **kw)
        if mine else None,
        cost_per_item_usd=cost, level=level, seed=seed, level_of_measurement=lvl, disagreements=differ,
    )
