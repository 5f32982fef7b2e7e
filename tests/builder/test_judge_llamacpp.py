"""The judge against the real llama.cpp server (SmolLM2-135M).

A 135M model cannot follow the default instruction template: its replies name no label, and the judge must turn
that into a ScoringError (retried, never cached, never a score). With a few-shot completion template and a
newline stop it does reply with a label: those verdicts are scores, cached, and served again from the cache.
"""

from __future__ import annotations

import asyncio

import pytest

from bayesbench.builder import TestCase
from bayesbench.builder._judge import JudgeScorer, PairwiseJudge
from bayesbench.errors import ScoringError
from bayesbench.execution import Executor, RetryPolicy
from bayesbench.models import openai_model
from bayesbench.store import Store

pytestmark = pytest.mark.llamacpp
pytest.importorskip("openai")

RETRY = RetryPolicy(max_attempts=2, backoff_base=0.0, jitter=False)
CASES = [TestCase(input="What is the capital of France?", references=("Paris",), id="fr"),
         TestCase(input="What is 2 + 2?", references=("4",), id="sum"),
         TestCase(input="What colour is the sky on a clear day?", references=("blue",), id="sky")]
ITEMS = [(CASES[0], "Paris"), (CASES[1], "5"), (CASES[2], "The sky is blue."), (CASES[0], "Berlin")]
FEW_SHOT = """Question: What is 1 + 1?
Reference answer(s):
- 2
Answer: 2
Verdict: correct

Question: What is the capital of Spain?
Reference answer(s):
- Madrid
Answer: Paris
Verdict: incorrect

Question: {question}
{reference_block}Answer: {response}
Verdict:"""
FEW_SHOT_PAIR = """Question: What is 1 + 1?
[Answer A]
3

[Answer B]
2
VERDICT: B

Question: {question}
[Answer A]
{first}

[Answer B]
{second}
VERDICT:"""


def _model(base_url: str, mode: str = "completion"):
    return openai_model("smollm2-135m", base_url=base_url, mode=mode, max_tokens=4, temperature=0.0, seed=0,
                        stop=["\n"])


async def _grade_all(judge, items):
    out = []
    for case, answer in items:
        try:
            out.append(await judge.grade(case.to_problem(), answer))
        except ScoringError as exc:
            out.append(exc)
    return out


def test_default_template_replies_are_not_scores(llama_server, tmp_path):
    store = Store(tmp_path / "judge.sqlite")
    ex = Executor(retry=RETRY, store=store, timeout=120)
    judge = JudgeScorer(_model(llama_server, "chat"), mode="reference", executor=ex)
    results = asyncio.run(_grade_all(judge, ITEMS[:2]))
    ex.close()
    info = judge.scoring_info()
    for r in results:  # each is either a parsed label or an error saying why there is no score
        if isinstance(r, Exception):
            assert "no usable verdict" in str(r) and "names none of the allowed labels" in str(r)
        else:
            assert r.label in ("incorrect", "correct")
    failed = sum(isinstance(r, Exception) for r in results)
    assert info["failed_calls"] == failed and info["unparseable_replies"] >= RETRY.max_attempts * failed
    assert store.cache_size() == len(results) - failed  # nothing unparseable was cached


def test_few_shot_judge_scores_and_caches(llama_server, tmp_path):
    path = tmp_path / "judge.sqlite"
    ex = Executor(retry=RETRY, store=Store(path), timeout=120)
    judge = JudgeScorer(_model(llama_server), mode="reference", executor=ex, template=FEW_SHOT)
    first = asyncio.run(_grade_all(judge, ITEMS))
    ex.close()
    verdicts = [v for v in first if not isinstance(v, Exception)]
    assert len(verdicts) >= 3, first  # the few-shot template gets labels out of the tiny model
    for v in verdicts:
        assert v.score == {"incorrect": 0.0, "correct": 1.0}[v.label] and not v.cached
    assert Store(path).cache_size() == len(verdicts)
    ex = Executor(retry=RETRY, store=Store(path), timeout=120)
    again = JudgeScorer(_model(llama_server), mode="reference", executor=ex, template=FEW_SHOT)
    second = asyncio.run(_grade_all(again, ITEMS))
    ex.close()
    for old, new in zip(first, second):
        if not isinstance(old, Exception):
            assert new.cached and new.label == old.label and new.cost_usd == 0.0


def test_pairwise_judge_on_smollm2(llama_server):
    judge = PairwiseJudge(_model(llama_server), executor=Executor(retry=RETRY, timeout=120), template=FEW_SHOT_PAIR)
    try:
        v = asyncio.run(judge.compare(CASES[0].to_problem(), "Paris", "Berlin"))
    except ScoringError as exc:
        assert "no usable verdict" in str(exc) and judge.scoring_info()["unparseable_replies"] >= RETRY.max_attempts
        return
    assert v.first in ("A", "B", "TIE") and v.second in ("A", "B", "TIE")
    assert v.winner == ({"A": "a", "B": "b", "TIE": "tie"}[v.first] if v.consistent else "tie")
    assert judge.scoring_info()["judge_calls"] == 2
