"""The judge against the real llama.cpp server (SmolLM2-135M): whatever the tiny model replies, a score is only
ever a parsed verdict, only parsed verdicts are cached, and an unparseable reply surfaces as a ScoringError."""

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


def _judge_model(base_url: str, mode: str):
    # completion mode: the prompt ends with "VERDICT:", so the model's continuation is where the label goes
    return openai_model("smollm2-135m", base_url=base_url, mode=mode, max_tokens=6, temperature=0.0, seed=0)


async def _grade_all(judge, items):
    out = []
    for case, answer in items:
        try:
            out.append(await judge.grade(case.to_problem(), answer))
        except ScoringError as exc:
            out.append(exc)
    return out


def test_rubric_judge_on_smollm2(llama_server, tmp_path):
    items = [(CASES[0], "Paris"), (CASES[1], "5"), (CASES[2], "The sky is blue.")]
    path = tmp_path / "judge.sqlite"
    results = []
    for mode in ("completion", "chat"):
        ex = Executor(retry=RETRY, store=Store(path), timeout=120)
        judge = JudgeScorer(_judge_model(llama_server, mode), mode="reference", executor=ex)
        results.append((judge, asyncio.run(_grade_all(judge, items))))
        ex.close()
    store = Store(path)
    verdicts = [v for _, rs in results for v in rs if not isinstance(v, Exception)]
    errors = [v for _, rs in results for v in rs if isinstance(v, Exception)]
    assert len(verdicts) + len(errors) == 6
    for v in verdicts:  # a score is a parsed label, never a guess
        assert v.label in ("incorrect", "correct") and v.score == {"incorrect": 0.0, "correct": 1.0}[v.label]
        assert v.item_id in {"fr", "sum", "sky"} and v.attempts in (1, 2)
    for e in errors:
        assert "no usable verdict" in str(e)
    for judge, rs in results:
        info = judge.scoring_info()
        failed = sum(isinstance(r, Exception) for r in rs)
        assert info["failed_calls"] == failed and info["unparseable_replies"] >= 2 * failed
    assert store.cache_size() == len(verdicts)  # only parsed replies are cached

    # asked again with a fresh executor on the same store: every verdict comes from the cache unchanged
    ex = Executor(retry=RETRY, store=store, timeout=120)
    judge = JudgeScorer(_judge_model(llama_server, "completion"), mode="reference", executor=ex)
    again = asyncio.run(_grade_all(judge, items))
    ex.close()
    for old, new in zip(results[0][1], again):
        if not isinstance(old, Exception):
            assert new.cached and new.label == old.label


def test_pairwise_judge_on_smollm2(llama_server):
    judge = PairwiseJudge(_judge_model(llama_server, "completion"), executor=Executor(retry=RETRY, timeout=120))
    try:
        v = asyncio.run(judge.compare(CASES[0].to_problem(), "Paris", "Berlin"))
    except ScoringError as exc:
        assert "no usable verdict" in str(exc)
        assert judge.scoring_info()["unparseable_replies"] >= 2
        return
    assert v.first in ("A", "B", "TIE") and v.second in ("A", "B", "TIE")
    assert v.winner == ({"A": "a", "B": "b", "TIE": "tie"}[v.first] if v.consistent else "tie")
    assert judge.scoring_info()["judge_calls"] == 2
