"""Consensus labels: majority vote and Dawid–Skene, which must recover known annotator confusion."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbench.builder._consensus import dawid_skene, majority_vote
from bayesbench.errors import ConfigError, DatasetError

CLASSES = ["neg", "neu", "pos"]


def _confusion(accuracy: float, k: int = 3, bias_to: int | None = None) -> np.ndarray:
    """Right with probability ``accuracy``; wrong labels spread evenly, or all onto ``bias_to``."""
    if bias_to is None:
        m = np.full((k, k), (1 - accuracy) / (k - 1))
    else:
        m = np.zeros((k, k))
        m[:, bias_to] = 1 - accuracy
    m[np.arange(k), np.arange(k)] += accuracy if bias_to is not None else accuracy - (1 - accuracy) / (k - 1)
    return m


def _simulate(seed: int, n_items: int = 900, per_item: int = 3):
    """Five annotators of known confusion; each item labelled by ``per_item`` of them (chosen at random)."""
    rng = np.random.default_rng(seed)
    truth = rng.choice(3, size=n_items, p=[0.5, 0.3, 0.2])
    confusions = {
        "expert": _confusion(0.95),
        "good": _confusion(0.85),
        "ok": _confusion(0.7),
        "noisy": _confusion(0.45),
        "biased": _confusion(0.5, bias_to=0),  # half the time says "neg" whatever the truth
    }
    names = list(confusions)
    records = []
    for i in range(n_items):
        for a in rng.choice(len(names), size=per_item, replace=False):
            name = names[a]
            label = rng.choice(3, p=confusions[name][truth[i]])
            records.append({"item_id": f"q{i}", "annotator": name, "label": CLASSES[label]})
    return truth, confusions, records


def test_dawid_skene_recovers_known_confusion():
    """Monte-Carlo tolerances: the rarest class row of an annotator holds ~2000*0.2*3/5 = 240 labels, so a cell's
    sampling s.e. is at most 0.032; against the population confusion we accept 0.10 (~3 s.e.). Against the
    empirical confusion (tallied with the known truth, which removes the sampling noise) EM itself must be
    within 0.08 on every cell; class priors within 0.03 (s.e. 0.011)."""
    truth, confusions, records = _simulate(seed=5, n_items=2000)
    ds = dawid_skene(records, categories=CLASSES, seed=5)
    assert ds.converged and ds.method == "dawid_skene"
    empirical = {a: np.zeros((3, 3)) for a in confusions}
    for r in records:
        empirical[r["annotator"]][truth[int(r["item_id"][1:])], CLASSES.index(r["label"])] += 1
    for name, true_m in confusions.items():
        est = np.array([[ds.annotator_confusion[name][c][d] for d in CLASSES] for c in CLASSES])
        emp = empirical[name] / empirical[name].sum(axis=1, keepdims=True)
        assert np.abs(est - true_m).max() < 0.10, name
        assert np.abs(est - emp).max() < 0.08, name
    assert ds.annotator_confusion["biased"]["pos"]["neg"] == pytest.approx(0.5, abs=0.08)
    for c, p in zip(CLASSES, [0.5, 0.3, 0.2]):
        assert ds.class_priors[c] == pytest.approx(p, abs=0.03)
    # better labels than the majority, and its confidence is calibrated (mean posterior ~ accuracy)
    mv = majority_vote(records, categories=CLASSES, seed=5)
    truth_of = {f"q{i}": CLASSES[t] for i, t in enumerate(truth)}
    acc_ds = np.mean([ds.labels[i] == truth_of[i] for i in truth_of])
    acc_mv = np.mean([mv.labels[i] == truth_of[i] for i in truth_of])
    assert acc_ds > acc_mv + 0.02
    mean_conf = np.mean([ds.confidence[i] for i in truth_of])
    assert mean_conf == pytest.approx(acc_ds, abs=0.03)
    # ranking of annotators by estimated accuracy matches the truth
    acc = ds.annotator_accuracy
    assert acc["expert"] > acc["good"] > acc["ok"] > acc["noisy"]
    # the least confident items are flagged; the flagged are wrong more often than the rest
    flagged = set(ds.flagged)
    assert flagged and all(ds.confidence[i] < ds.threshold for i in flagged)
    wrong_flagged = np.mean([ds.labels[i] != truth_of[i] for i in flagged])
    assert wrong_flagged > 1 - acc_ds


def test_dawid_skene_random_start_is_seeded_and_agrees():
    _, _, records = _simulate(seed=9, n_items=300)
    a = dawid_skene(records, categories=CLASSES, init="random", seed=1)
    b = dawid_skene(records, categories=CLASSES, init="random", seed=1)
    assert a.to_dict() == b.to_dict()
    m = dawid_skene(records, categories=CLASSES)
    same = np.mean([a.labels[i] == m.labels[i] for i in m.labels])
    assert same > 0.97  # EM from a random start finds the same solution (up to a few borderline items)


def test_majority_vote_ties_and_unlabelled():
    table = {"x": {"a": "pos", "b": "pos", "c": "neg"}, "y": {"a": "pos", "b": "neg"}, "z": {}}
    mv = majority_vote(table, categories=CLASSES)
    assert mv.labels == {"x": "pos", "y": "neg", "z": None}  # tie broken by category order: neg first
    assert mv.confidence["x"] == pytest.approx(2 / 3) and mv.confidence["y"] == 0.5
    assert mv.ties == ["y"] and mv.flagged[0] == "z"
    assert mv.posteriors["x"] == pytest.approx({"neg": 1 / 3, "neu": 0.0, "pos": 2 / 3})
    picks = {majority_vote(table, categories=CLASSES, tie_break="random", seed=s).labels["y"] for s in range(20)}
    assert picks == {"pos", "neg"}
    d = mv.to_dict()
    assert d["method"] == "majority_vote" and d["n"] == 3 and d["seed"] == 0
    assert "majority_vote" in mv.summary()


def test_consensus_errors():
    with pytest.raises(ConfigError, match="`tie_break`"):
        majority_vote([[1, 2]], tie_break="coin")
    with pytest.raises(ConfigError, match="`init`"):
        dawid_skene([[1, 2]], init="kmeans")
    with pytest.raises(ConfigError, match="`smoothing`"):
        dawid_skene([[1, 2]], smoothing=0)
    with pytest.raises(DatasetError, match="two distinct labels"):
        dawid_skene([[1, 1], [1, 1]])
    with pytest.raises(DatasetError, match="one entry per annotator"):
        majority_vote([[1, 2], [1]])
