"""Agreement statistics against published worked examples and against statsmodels' implementations."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from bayesbench.builder._agreement import (
    agreement_report,
    agreement_weights,
    cohens_kappa,
    fleiss_kappa,
    krippendorff_alpha,
)
from bayesbench.errors import ConfigError, DatasetError, MissingDependencyError

ir = pytest.importorskip("statsmodels.stats.inter_rater")

N = None
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers, 12 units, missing
# values. Published: nominal 0.743, ordinal 0.815, interval 0.849. Stored here as units x observers.
K2011_OBSERVERS = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]
K2011 = [list(unit) for unit in zip(*K2011_OBSERVERS)]

# The Fleiss-kappa worked example (10 subjects, 14 raters, 5 categories; counts per category): kappa = 0.210,
# with P-bar = 0.378 and P-bar_e = 0.213.
FLEISS_COUNTS = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]

# The textbook Cohen's kappa example: 50 proposals, both "yes" 20, A yes / B no 5, A no / B yes 10, both "no"
# 15; p_o = 0.7, p_e = 0.5, kappa = 0.4.
COHEN_ROWS = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15


@pytest.mark.parametrize("lvl, published", [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)])
def test_krippendorff_2011_reference_data(lvl, published):
    res = krippendorff_alpha(K2011, level_of_measurement=lvl, n_boot=200, seed=1)
    assert round(res.estimate, 3) == published
    assert res.n_items == 11  # unit 12 has one value only: not pairable
    lo, hi = res.ci
    assert lo <= res.estimate <= hi <= 1.0
    d = res.to_dict()
    assert d["method"] == "krippendorff_alpha" and d["seed"] == 1 and d["level"] == 0.95 and d["n"] == 11
    assert d["options"]["level_of_measurement"] == lvl


def test_krippendorff_records_and_text_ordinal_categories():
    # the same data as annotation records with text labels on an ordered scale
    scale = ["very low", "low", "mid", "high", "very high"]
    records = [
        {"item_id": f"u{u}", "annotator": f"obs{o}", "label": scale[v - 1]}
        for o, row in enumerate(K2011_OBSERVERS) for u, v in enumerate(row) if v is not None
    ]
    res = krippendorff_alpha(records, level_of_measurement="ordinal", categories=scale, n_boot=0)
    assert round(res.estimate, 3) == 0.815 and math.isnan(res.ci[0]) and res.n_boot_valid == 0
    assert round(krippendorff_alpha(records, n_boot=0).estimate, 3) == 0.743
    with pytest.raises(ConfigError, match="numeric labels"):
        krippendorff_alpha(records, level_of_measurement="interval", n_boot=0)


def test_fleiss_worked_example_and_statsmodels():
    res = fleiss_kappa(FLEISS_COUNTS, counts=True, n_boot=300, seed=3)
    assert round(res.estimate, 3) == 0.210
    assert res.estimate == pytest.approx(ir.fleiss_kappa(np.array(FLEISS_COUNTS), method="fleiss"), abs=1e-12)
    assert res.ci[0] < res.estimate < res.ci[1]
    assert "fleiss_kappa" in res.summary() and "seed=3" in res.summary()


def test_fleiss_from_labels_matches_statsmodels_on_random_data():
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 4, size=80)
    labels = np.where(rng.random((80, 5)) < 0.6, truth[:, None], rng.integers(0, 4, size=(80, 5)))
    ours = fleiss_kappa(labels.tolist(), n_boot=0).estimate
    table, _ = ir.aggregate_raters(labels)
    assert ours == pytest.approx(ir.fleiss_kappa(table, method="fleiss"), abs=1e-12)


def test_cohen_textbook_example():
    res = cohens_kappa(COHEN_ROWS, n_boot=500, seed=0)
    assert res.estimate == pytest.approx(0.4, abs=1e-12)
    assert res.n_items == 50 and res.method == "cohen_kappa"
    assert 0.0 < res.ci[0] < 0.4 < res.ci[1] < 0.8
    # seeded: the same seed gives the same interval, another seed another one
    assert cohens_kappa(COHEN_ROWS, n_boot=500, seed=0).ci == res.ci
    assert cohens_kappa(COHEN_ROWS, n_boot=500, seed=1).ci != res.ci


@pytest.mark.parametrize("weights, wt", [(None, None), ("linear", "linear"), ("quadratic", "quadratic")])
def test_cohen_matches_statsmodels(weights, wt):
    rng = np.random.default_rng(11)
    a = rng.integers(1, 6, size=120)
    b = np.clip(a + rng.integers(-1, 2, size=120), 1, 5)
    ours = cohens_kappa(list(zip(a.tolist(), b.tolist())), weights=weights, n_boot=0).estimate
    table = np.zeros((5, 5))
    np.add.at(table, (a - 1, b - 1), 1)
    ref = ir.cohens_kappa(table, wt=wt, return_results=False) if wt else ir.cohens_kappa(table, return_results=False)
    assert ours == pytest.approx(float(ref), abs=1e-10)


def test_weight_matrices():
    assert agreement_weights(3, None).tolist() == np.eye(3).tolist()
    assert agreement_weights(3, "linear").tolist() == [[1, 0.5, 0], [0.5, 1, 0.5], [0, 0.5, 1]]
    assert agreement_weights(3, "quadratic")[0].tolist() == [1, 0.75, 0]
    with pytest.raises(ConfigError, match="`weights` must be"):
        agreement_weights(3, "cubic")


def test_cohen_with_more_annotators_and_missing():
    table = {
        "i1": {"ann": "a", "bob": "a", "cy": "b"},
        "i2": {"ann": "b", "bob": "b"},
        "i3": {"ann": "a", "bob": "b", "cy": "a"},
        "i4": {"ann": "b", "cy": "b"},
    }
    with pytest.raises(ConfigError, match="pass annotators="):
        cohens_kappa(table)
    res = cohens_kappa(table, annotators=("ann", "bob"), n_boot=0)
    assert res.n_items == 3  # i4 has no label from bob
    assert res.estimate == pytest.approx(_kappa_by_hand(["a", "b", "a"], ["a", "b", "b"]))


def _kappa_by_hand(x, y):
    cats = sorted(set(x) | set(y))
    n = len(x)
    po = sum(u == v for u, v in zip(x, y)) / n
    pe = sum((x.count(c) / n) * (y.count(c) / n) for c in cats)
    return (po - pe) / (1 - pe)


def test_bad_input_errors():
    with pytest.raises(DatasetError, match="same number"):
        fleiss_kappa(K2011, n_boot=0)
    with pytest.raises(ConfigError, match="`level_of_measurement`"):
        krippendorff_alpha(K2011, level_of_measurement="ratioo")
    with pytest.raises(ConfigError, match="`n_boot`"):
        cohens_kappa(COHEN_ROWS, n_boot=-1)
    with pytest.raises(ConfigError, match="`level`"):
        cohens_kappa(COHEN_ROWS, level=1.5)
    with pytest.raises(DatasetError, match="not in `categories`"):
        cohens_kappa(COHEN_ROWS, categories=["yes"])
    with pytest.raises(DatasetError, match="has no 'label'"):
        krippendorff_alpha([{"item_id": 1, "annotator": "a"}])
    with pytest.raises(ConfigError, match="`threshold`"):
        agreement_report(K2011, threshold=2)


def test_missing_krippendorff_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "krippendorff", None)
    with pytest.raises(MissingDependencyError, match=r'pip install "bayesbench\[builder\]"'):
        krippendorff_alpha(K2011)


def test_report_lists_disagreements_and_flags_items():
    rep = agreement_report(K2011, threshold=0.6, n_boot=100, seed=2)
    assert set(rep.statistics) == {"krippendorff_alpha"}  # missing labels: no Fleiss, 4 annotators: no Cohen
    by_id = {i.item_id: i for i in rep.items}
    # unit 6 (index 5): labels 1, 2, 3, 4 -> no pair agrees; unit 2 (index 1): 2, 2, 3, 2 -> 3 of 6 pairs agree
    assert by_id[5].agreement == 0.0 and by_id[5].flagged
    assert by_id[1].agreement == pytest.approx(0.5) and by_id[1].flagged and by_id[1].majority == 2
    assert by_id[11].agreement is None and not by_id[11].flagged  # one label only
    assert rep.flagged[0] == 5
    assert [i.item_id for i in rep.disagreements()][:1] == [5]
    d = rep.to_dict()
    assert d["flagged"] == rep.flagged and d["seed"] == 2 and d["n"] == 12
    assert "flagged for review" in rep.summary()


def test_report_two_annotators_has_cohen_and_fleiss():
    rep = agreement_report(COHEN_ROWS, n_boot=50)
    assert set(rep.statistics) == {"krippendorff_alpha", "fleiss_kappa", "cohen_kappa"}
    assert rep.statistics["cohen_kappa"].estimate == pytest.approx(0.4)


@pytest.mark.slow
def test_bootstrap_interval_coverage():
    """Seeded simulation: an item is easy with probability q (both raters give the true binary label), else both
    guess uniformly and independently; then p_o = q + (1-q)/2 and p_e = 1/2, so the population kappa is q. The 90 % percentile interval should cover q about 90 % of the time;
    with 200 replications the Monte-Carlo s.e. is 0.021, so we accept [0.83, 0.96]."""
    rng = np.random.default_rng(2026)
    q, n, reps, hits = 0.6, 150, 200, 0
    for r in range(reps):
        truth = rng.integers(0, 2, size=n)
        easy = rng.random(n) < q
        a = np.where(easy, truth, rng.integers(0, 2, size=n))
        b = np.where(easy, truth, rng.integers(0, 2, size=n))
        res = cohens_kappa(list(zip(a.tolist(), b.tolist())), n_boot=300, level=0.90, seed=r)
        hits += res.ci[0] <= q <= res.ci[1]
    assert 0.83 <= hits / reps <= 0.96
