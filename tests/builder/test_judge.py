"""The LLM judge against the fake provider server (scripted verdicts, malformed replies) and in the engine."""

from __future__ import annotations

import asyncio
import re

import pytest

from bayesbench import BayesianBenchmark
from bayesbench.builder import Guidelines, TestCase
from bayesbench.builder._judge import JudgeScorer, PairwiseJudge
from bayesbench.builder._judge_prompts import parse_verdict
from bayesbench.errors import ConfigError, ScoringError
from bayesbench.execution import Executor, RetryPolicy
from bayesbench.models import MalformedResponse, openai_model
from bayesbench.store import Store

pytest.importorskip("openai")

FAST = RetryPolicy(max_attempts=3, backoff_base=0.0, jitter=False)
GUIDE = Guidelines(task="Judge whether the answer names the right capital city.",
                   criteria=["names exactly one city", "the city is the capital"],
                   rubric={"wrong": "not the capital", "partial": "the capital, with wrong extras", "right": "the capital"},
                   scale="ordinal", edge_cases=["a former capital is wrong"])
CASES = [TestCase(input=f"What is the capital of {c}?", references=(a,), id=f"cap-{c.lower()}")
         for c, a in [("France", "Paris"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Japan", "Tokyo")]]
CAPITALS = {"Paris", "Rome", "Madrid", "Tokyo"}


def graded(request) -> str:
    """A scripted judge: reads the answer under 'Answer to grade:' and replies with a verdict line."""
    answer = request.prompt.split("Answer to grade:\n", 1)[1].split("\n", 1)[0].strip()
    if answer in CAPITALS:
        return "The answer names the capital.\nVERDICT: right"
    if any(c in answer for c in CAPITALS):
        return "VERDICT: **partial**"
    return "verdict: WRONG"


def judge_model(server):
    return openai_model("fake-model", base_url=server.openai_base_url)


def test_parse_verdict_is_strict():
    labels = ["wrong", "partial", "right"]
    assert parse_verdict("VERDICT: right", labels) == "right"
    assert parse_verdict("reasoning...\nVerdict = **Partial**.", labels) == "partial"
    assert parse_verdict(" right, because it is Paris", labels) == "right"  # a reply continuing 'VERDICT:'
    for bad in ["", "I think it is fine", "VERDICT: excellent", "VERDICT: right\nVERDICT: wrong", "VERDICT: maybe"]:
        with pytest.raises(MalformedResponse):
            parse_verdict(bad, labels)


def test_rubric_judge_scores_through_the_fake_server(fake_server):
    fake_server.answer = graded
    judge = JudgeScorer(judge_model(fake_server), guidelines=GUIDE, executor=Executor(retry=FAST))
    problem = CASES[0].to_problem()
    scores = [asyncio.run(judge(problem, r)) for r in ("Paris", "Paris, and also Lyon", "Lyon")]
    assert scores == [1.0, 0.5, 0.0]
    sent = fake_server.api_requests()[0].prompt
    for text in ("names exactly one city", "a former capital is wrong", "- partial: the capital, with wrong extras",
                 "What is the capital of France?"):
        assert text in sent
    assert "Reference answer" not in sent  # rubric mode does not show references
    info = judge.scoring_info()
    assert info["kind"] == "llm_judge" and info["judged"] == 3 and info["judge_calls"] == 3
    assert info["unparseable_replies"] == 0 and info["labels"] == {"wrong": 0.0, "partial": 0.5, "right": 1.0}


def test_reference_judge_shows_references(fake_server):
    fake_server.answer = lambda req: "VERDICT: correct" if "- Rome" in req.prompt and "Rome" in req.prompt.split(
        "Answer to grade:")[1] else "VERDICT: incorrect"
    judge = JudgeScorer(judge_model(fake_server), mode="reference", executor=Executor(retry=FAST))
    p = CASES[1].to_problem()
    assert asyncio.run(judge(p, "It is Rome.")) == 1.0
    assert asyncio.run(judge(p, "Milan")) == 0.0
    assert "Reference answer(s):\n- Rome" in fake_server.api_requests()[0].prompt
    with pytest.raises(ScoringError, match="needs reference answers"):
        asyncio.run(judge({"input": "no refs here"}, "x"))


def test_malformed_reply_is_retried_and_never_cached(fake_server, tmp_path):
    store = Store(tmp_path / "judge.sqlite")
    replies = iter(["Sure! The answer looks good to me.", "VERDICT: right"])
    fake_server.answer = lambda req: next(replies)
    judge = JudgeScorer(judge_model(fake_server), guidelines=GUIDE, executor=Executor(retry=FAST, store=store))
    verdict = asyncio.run(judge.grade(CASES[0].to_problem(), "Paris"))
    assert verdict.score == 1.0 and verdict.attempts == 2 and not verdict.cached
    assert judge.scoring_info()["unparseable_replies"] == 1
    judge.executor.close()
    # only the parseable reply is in the cache
    assert store.cache_size() == 1

    fake_server.answer = "I refuse to answer in that format."
    before = fake_server.request_count
    with pytest.raises(ScoringError, match="no usable verdict.*names none of the allowed labels"):
        asyncio.run(judge.grade(CASES[1].to_problem(), "Rome"))
    assert fake_server.request_count - before == FAST.max_attempts  # retried, then an error, not a score
    assert store.cache_size() == 1  # the malformed reply was not cached
    assert judge.scoring_info()["failed_calls"] == 1 and len(judge.verdicts) == 1


def test_cached_verdicts_are_reused_without_calls(fake_server, tmp_path):
    fake_server.answer = graded
    path = tmp_path / "cache.sqlite"
    for round_ in range(2):
        ex = Executor(retry=FAST, store=Store(path))
        judge = JudgeScorer(judge_model(fake_server), guidelines=GUIDE, executor=ex)
        assert asyncio.run(judge(CASES[0].to_problem(), "Paris")) == 1.0
        ex.close()
        assert judge.verdicts[0].cached is (round_ == 1)
    assert len(fake_server.api_requests()) == 1
    # a different template is a different judge: no stale cache hit
    ex = Executor(retry=FAST, store=Store(path))
    other = JudgeScorer(judge_model(fake_server), guidelines=GUIDE, executor=ex,
                        template="Grade strictly.\n" + judge.template)
    asyncio.run(other(CASES[0].to_problem(), "Paris"))
    ex.close()
    assert len(fake_server.api_requests()) == 2


def pair_policy(prefer: str):
    """'first': always the first-shown answer (pure position bias); 'capital': the answer naming a capital."""
    def answer(req) -> str:
        if prefer == "first":
            return "VERDICT: A"
        a = req.prompt.split("[Answer A]\n", 1)[1].split("\n", 1)[0]
        b = req.prompt.split("[Answer B]\n", 1)[1].split("\n", 1)[0]
        ga, gb = a.strip() in CAPITALS, b.strip() in CAPITALS
        return "VERDICT: TIE" if ga == gb else ("VERDICT: A" if ga else "VERDICT: B")
    return answer


def test_pairwise_swaps_positions(fake_server):
    judge = PairwiseJudge(judge_model(fake_server), guidelines=GUIDE, executor=Executor(retry=FAST))
    p = CASES[0].to_problem()
    fake_server.answer = pair_policy("capital")
    v = asyncio.run(judge.compare(p, "Lyon", "Paris"))
    assert (v.first, v.second, v.winner, v.consistent, v.scores) == ("B", "A", "b", True, (0.0, 1.0))
    prompts = [r.prompt for r in fake_server.api_requests()]
    assert any("[Answer A]\nLyon" in x for x in prompts) and any("[Answer A]\nParis" in x for x in prompts)
    fake_server.answer = pair_policy("first")
    v = asyncio.run(judge.compare(p, "Lyon", "Paris"))
    assert v.winner == "tie" and not v.consistent and v.scores == (0.5, 0.5)
    assert judge.scoring_info()["ties_from_disagreement"] == 1


def test_engine_reports_judge_scores(fake_server):
    fake_server.answer = graded
    ex = Executor(retry=FAST, prices={"judge:fake-model": (1.0, 2.0)})
    judge = JudgeScorer(judge_model(fake_server), guidelines=GUIDE, executor=ex)
    cases = CASES * 6
    cases = [c.replace(id=f"{c.id}-{i}") for i, c in enumerate(cases)]
    answers = {c.id: c.references[0] for c in cases}

    def good(problem):
        return answers[problem["id"]]

    def bad(problem):
        return "Lyon"

    result = BayesianBenchmark(seed=1, batch_size=4).compare(good, bad, judge, [c.to_problem() for c in cases],
                                                             name="capitals")
    assert result.winner == "model_a"
    d = result.to_dict()
    assert d["scored_by"]["kind"] == "llm_judge" and d["scored_by"]["judge"] == "judge:fake-model"
    assert d["scored_by"]["judged"] >= 2 * result.problems_tested
    assert d["scored_by"]["cost_per_item_usd"] > 0
    assert re.search(r"scores by LLM judge 'judge:fake-model' \(rubric\): \d+ items judged", result.summary())
    assert result.mean_a == 1.0 and result.mean_b == 0.0


def test_engine_pairwise_task(fake_server):
    fake_server.answer = pair_policy("capital")
    judge = PairwiseJudge(judge_model(fake_server), executor=Executor(retry=FAST))
    cases = [c.replace(id=f"{c.id}-{i}") for i, c in enumerate(CASES * 5)]
    answers = {c.id: c.references[0] for c in cases}

    def good(problem):
        return answers[problem["id"]]

    def bad(problem):
        return "Lyon"

    bench = BayesianBenchmark(seed=2, batch_size=4)
    bench.add_task("pairwise", judge.task(good, bad, name_a="good", name_b="bad"), [c.to_problem() for c in cases])
    res = bench.run()["pairwise"]
    assert res.winner == "model_a"
    assert res.to_dict()["scored_by"]["mode"] == "pairwise"
    assert "both orders asked" in res.summary()
    assert all(v.consistent and v.winner == "a" for v in judge.verdicts)


def test_judge_config_errors(fake_server):
    m = judge_model(fake_server)
    with pytest.raises(ConfigError, match="`mode`"):
        JudgeScorer(m, mode="vibes")
    with pytest.raises(ConfigError, match="needs labels"):
        JudgeScorer(m)
    with pytest.raises(ConfigError, match="single words"):
        JudgeScorer(m, rubric={"very good": "", "bad": ""})
    with pytest.raises(ConfigError, match=r"`scores\['b'\]`"):
        JudgeScorer(m, rubric={"a": "", "b": ""}, scores={"a": 0.0, "b": 2.0})
    with pytest.raises(ConfigError, match="`model`"):
        JudgeScorer(42, rubric={"a": "", "b": ""})


def test_fractional_judge_scores_on_the_continuous_path(fake_server):
    """Partial credit (0.5) with NormalPosterior: the engine's continuous path takes the judge's scores."""
    from bayesbench import BayesianRanker, NormalPosterior

    fake_server.answer = graded
    judge = JudgeScorer(judge_model(fake_server), guidelines=GUIDE, executor=Executor(retry=FAST))
    cases = [c.replace(id=f"{c.id}-{i}") for i, c in enumerate(CASES * 15)]
    answers = {c.id: c.references[0] for c in cases}

    def partial(problem):
        return f"{answers[problem['id']]}, and also Lyon"

    def bad(problem):
        return "Lyon"

    problems = [c.to_problem() for c in cases]
    res = BayesianBenchmark(seed=3, batch_size=4, posterior_factory=NormalPosterior).compare(
        partial, bad, judge, problems, name="partial")
    assert res.winner == "model_a" and res.mean_a == 0.5 and res.mean_b == 0.0 and res.problems_tested < 60
    assert res.to_dict()["posterior_a"]["type"] == "NormalPosterior"
    # a ranking with a judge reports it too
    ranker = BayesianRanker(seed=3, batch_size=4)
    ranker.add_model("partial", partial).add_model("bad", bad)
    ranking = ranker.rank(problems, score_fn=judge)
    assert ranking.order[0] == "partial" and ranking.to_dict()["scored_by"]["kind"] == "llm_judge"
    assert "scores by LLM judge" in ranking.summary()


def test_every_kind_of_judge_model():
    """A sync function, an async function and a BaseLLM all work as judges (each through the executor)."""
    from bayesbench.models import BaseLLM

    def sync_judge(prompt: str) -> str:
        return "VERDICT: right" if "Answer to grade:\nParis" in prompt else "VERDICT: wrong"

    async def async_judge(prompt: str) -> str:
        await asyncio.sleep(0)
        return sync_judge(prompt)

    class Local(BaseLLM):
        def generate(self, prompt: str) -> str:
            return sync_judge(prompt)

    problem = CASES[0].to_problem()
    for model in (sync_judge, async_judge, Local()):
        judge = JudgeScorer(model, guidelines=GUIDE)
        assert asyncio.run(judge(problem, "Paris")) == 1.0
        assert asyncio.run(judge(problem, "Lyon")) == 0.0
        assert judge.scoring_info()["judge_calls"] == 2 and judge.executor.calls_made == 2
    assert JudgeScorer(sync_judge, guidelines=GUIDE).name == "judge:sync_judge"
    assert JudgeScorer(Local(), guidelines=GUIDE).name == "judge:Local"
