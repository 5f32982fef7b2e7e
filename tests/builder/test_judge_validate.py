"""Judge validation against human labels: agreement, position bias, length bias and cost, with a scripted judge
on the fake provider server."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbench.builder._agreement import cohens_kappa, krippendorff_alpha
from bayesbench.builder._judge import JudgeScorer, PairwiseJudge
from bayesbench.builder._judge_validate import validate_judge
from bayesbench.errors import DatasetError
from bayesbench.execution import Executor, RetryPolicy
from bayesbench.models import openai_model

pytest.importorskip("openai")

FAST = RetryPolicy(max_attempts=2, backoff_base=0.0, jitter=False)
LABELS = ["bad", "ok", "good"]


def _humans(n: int, seed: int = 0):
    """Three annotators; the truth is LABELS[i % 3]; annotator 'c' is off by one on every fifth item."""
    truth = {f"it{i}": LABELS[i % 3] for i in range(n)}
    records = []
    for i, (item, lab) in enumerate(truth.items()):
        for a in ("a", "b", "c"):
            given = lab if (a != "c" or i % 5) else LABELS[(LABELS.index(lab) + 1) % 3]
            records.append({"item_id": item, "annotator": a, "label": given})
    return truth, records


def test_validate_grader_against_humans(fake_server):
    truth, records = _humans(30)
    wrong = {"it4", "it11", "it17"}  # the judge errs on these

    def policy(req):
        item = req.prompt.split("Answer to grade:\n", 1)[1].split("\n", 1)[0].strip()
        lab = truth[item]
        if item in wrong:
            lab = LABELS[(LABELS.index(lab) + 2) % 3]
        return f"VERDICT: {lab}"

    fake_server.answer = policy
    ex = Executor(retry=FAST, prices={"judge:fake-model": (0.5, 1.5)})
    judge = JudgeScorer(openai_model("fake-model", base_url=fake_server.openai_base_url),
                        rubric={k: "" for k in LABELS}, executor=ex)
    judge.grade_many([(item, {"id": item, "input": f"question {item}"}, item) for item in truth])
    val = validate_judge(judge, records, level_of_measurement="ordinal", categories=LABELS, n_boot=200, seed=4)
    assert val.n_items == 30 and val.judge == "judge:fake-model"
    assert {d["item_id"] for d in val.disagreements} == wrong
    assert val.accuracy_vs_majority == pytest.approx(27 / 30)
    # the kappa is exactly Cohen's kappa of (majority, judge), quadratic-weighted for ordinal labels
    judge_labels = {v.item_id: v.label for v in judge.verdicts}
    pairs = [(truth[i], judge_labels[i]) for i in truth]
    ref = cohens_kappa(pairs, categories=LABELS, weights="quadratic", n_boot=0).estimate
    assert val.agreement["kappa_vs_majority"].estimate == pytest.approx(ref)
    # alpha with the judge as a fourth annotator is alpha over the humans' records plus the judge's labels
    with_judge = records + [{"item_id": i, "annotator": "judge", "label": judge_labels[i]} for i in truth]
    ref_alpha = krippendorff_alpha(with_judge, level_of_measurement="ordinal", categories=LABELS, n_boot=0).estimate
    assert val.agreement["alpha_with_judge"].estimate == pytest.approx(ref_alpha)
    assert val.agreement["alpha_humans"].n_annotators == 3 and val.agreement["alpha_with_judge"].n_annotators == 4
    assert val.cost_per_item_usd is not None and val.cost_per_item_usd > 0
    assert val.position_bias is None and val.length_bias is not None and val.length_bias_humans is not None
    d = val.to_dict()
    assert d["method"] == "judge_validation" and d["seed"] == 4 and d["n"] == 30
    assert "agreement with the human majority: 90.0%" in val.summary()


def test_position_and_length_bias_of_pairwise_judges(fake_server):
    rng = np.random.default_rng(3)
    items = []
    human = {}
    for i in range(24):
        a, b = "x" * int(2 * rng.integers(3, 30)), "y" * int(2 * rng.integers(3, 30) + 1)  # never equally long
        items.append((f"p{i}", {"id": f"p{i}", "input": f"q{i}"}, a, b))
        human[f"p{i}"] = {"h1": "a" if len(a) > len(b) else "b", "h2": "a" if len(a) > len(b) else "b"}
    model = openai_model("fake-model", base_url=fake_server.openai_base_url)

    fake_server.answer = "VERDICT: A"  # pure position bias: always the first shown
    biased = PairwiseJudge(model, executor=Executor(retry=FAST))
    biased.compare_many(items)
    v = validate_judge(biased, human, n_boot=100)
    assert v.position_bias.estimate == 1.0 and v.position_bias.ci[0] > 0.9  # 48 single-order verdicts
    assert all(x.winner == "tie" for x in biased.verdicts)  # swapping turns every verdict into a tie

    def longer(req):
        a = req.prompt.split("[Answer A]\n", 1)[1].split("\n", 1)[0]
        b = req.prompt.split("[Answer B]\n", 1)[1].split("\n", 1)[0]
        return "VERDICT: A" if len(a) > len(b) else "VERDICT: B"

    fake_server.answer = longer  # no position bias, pure length bias
    verbose = PairwiseJudge(model, executor=Executor(retry=FAST))
    verbose.compare_many(items)
    v = validate_judge(verbose, human, n_boot=200, seed=1)
    assert v.position_bias.ci[0] < 0.5 < v.position_bias.ci[1]
    assert v.length_bias.estimate > 0.7 and v.length_bias.ci[0] > 0.3
    assert v.accuracy_vs_majority == 1.0  # these humans like long answers too
    assert v.length_bias_humans.estimate == pytest.approx(v.length_bias.estimate)  # so the judge adds no bias
    assert "humans: length_corr" in v.summary()


def test_validation_needs_shared_items():
    with pytest.raises(DatasetError, match="share 0 labelled item"):
        validate_judge({"x": "a"}, {"y": {"h": "a"}})
