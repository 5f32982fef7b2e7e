"""A response that is not a complete answer is a failed call: retried, counted, never cached.

Every fault is served by the real fake provider server to the real openai / anthropic /
huggingface_hub SDKs; the retry and cache behaviour runs through the real Executor and a real
SQLite store.
"""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from bayesbench import BayesianBenchmark, ModelError
from bayesbench.execution import Executor, RetryPolicy
from bayesbench.models import (
    IncompleteResponse,
    MalformedResponse,
    anthropic_model,
    as_callable,
    classify_error,
    hf_model,
    openai_model,
)
from bayesbench.store import Store
from tests.fakeserver import Fault

pytestmark = pytest.mark.timeout(120)

BUILD = {
    "openai-chat": lambda s: openai_model("fake-model", base_url=s.openai_base_url),
    "openai-completion": lambda s: openai_model("fake-model", base_url=s.openai_base_url, mode="completion"),
    "openai-stream": lambda s: openai_model("fake-model", base_url=s.openai_base_url, stream=True),
    "openai-completion-stream": lambda s: openai_model("fake-model", base_url=s.openai_base_url, mode="completion",
                                                       stream=True),
    "anthropic": lambda s: anthropic_model("fake-claude", base_url=s.url),
    "anthropic-stream": lambda s: anthropic_model("fake-claude", base_url=s.url, stream=True),
    "huggingface": lambda s: hf_model("fake-model", base_url=s.url),
}
STREAMS = [n for n in BUILD if n.endswith("stream")]
PLAIN = [n for n in BUILD if not n.endswith("stream")]

# (adapter, fault, the error kind): every way a 200 can fail to be an answer.
CASES = (
    [(n, Fault(empty=True), "incomplete") for n in BUILD]
    + [(n, Fault(null_content=True), "incomplete") for n in PLAIN]
    + [(n, Fault(truncate_after=1), "incomplete") for n in STREAMS]
    + [(n, Fault(html=True), "malformed") for n in BUILD]
    + [(n, Fault(malformed=True), "malformed") for n in BUILD]
)


def _id(case):
    name, fault, _ = case
    what = next(k for k in ("empty", "null_content", "truncate_after", "html", "malformed") if getattr(fault, k))
    return f"{name}-{what}"


@pytest.mark.parametrize("name,fault,kind", CASES, ids=[_id(c) for c in CASES])
def test_a_non_answer_raises_a_retryable_error(fake_server, name, fault, kind):
    fake_server.answer = "thirty two"
    model = BUILD[name](fake_server)
    fake_server.add_fault(fault)
    with pytest.raises(MalformedResponse) as info:
        model("q")
    exc = info.value
    assert isinstance(exc, ModelError)
    assert (kind == "incomplete") == isinstance(exc, IncompleteResponse), f"{type(exc).__name__}: {exc}"
    error = classify_error(exc)
    assert error.retryable and error.kind == kind and error.status is None, error
    assert "response" in str(exc) and model.provider in str(exc)
    assert model("q") == "thirty two"  # the fault was one request; a healthy answer is still read


@pytest.mark.parametrize("name", STREAMS)
def test_async_streams_are_checked_too(fake_server, name):
    fake_server.answer = "3 2"
    model = BUILD[name](fake_server)
    fake_server.add_fault(truncate_after=1)

    async def main():
        with pytest.raises(IncompleteResponse, match="end"):
            await model.acall("q")
        return await model.acall("q")

    assert asyncio.run(main()) == "3 2"


def test_html_page_names_what_was_received(fake_server):
    # Defect 7: was "'str' object has no attribute 'choices'" and no retry.
    fake_server.add_fault(html=True)
    with pytest.raises(MalformedResponse, match="not an OpenAI chat completion") as info:
        openai_model("fake-model", base_url=fake_server.openai_base_url)("q")
    assert "<!DOCTYPE html>" in str(info.value) and "'str' object" not in str(info.value)


def test_an_empty_answer_the_model_really_gave_is_an_answer(fake_server):
    # Completeness is about the protocol, not the text: "" with finish_reason "stop" is real.
    fake_server.answer = ""
    assert openai_model("fake-model", base_url=fake_server.openai_base_url)("q") == ""
    assert openai_model("fake-model", base_url=fake_server.openai_base_url, stream=True)("q") == ""
    assert anthropic_model("fake-claude", base_url=fake_server.url, stream=True)("q") == ""


def _run(store_path, model, prompts, *, attempts=3):
    async def main():
        ex = Executor(store=Store(store_path), retry=RetryPolicy(max_attempts=attempts, backoff_base=0.0))
        try:
            fn = as_callable(model)
            return [await ex.call("m", fn, p, problem_id=str(i)) for i, p in enumerate(prompts)]
        finally:
            ex.close()
            await model.aclose()

    return asyncio.run(main())


def _cached_texts(store_path):
    with sqlite3.connect(store_path) as conn:
        return [row[0] for row in conn.execute("SELECT response FROM responses")]


@pytest.mark.parametrize("name,fault,kind", CASES, ids=[_id(c) for c in CASES])
def test_retried_then_counted_as_an_error_and_never_cached(fake_server, tmp_path, name, fault, kind):
    fake_server.answer = "thirty two"
    db = tmp_path / "bb.sqlite"
    model = BUILD[name](fake_server)

    # One bad answer, then a good one: the retry gets the real answer.
    fake_server.add_fault(fault)
    (rec,) = _run(db, model, ["first"])
    assert rec.ok and rec.attempts == 2 and str(rec.response) == "thirty two"

    # Bad every time: counted as an error after max_attempts, nothing cached.
    fake_server.add_fault(fault, times=3)
    (rec,) = _run(db, model, ["second"])
    assert not rec.ok and rec.attempts == 3 and rec.response is None
    assert "response" in rec.error and rec.error_type in ("MalformedResponse", "IncompleteResponse")
    assert _cached_texts(db) == ["thirty two"]
    rows = Store(db).calls()
    assert [r["error"] is None for r in rows] == [True, False]

    # A re-run against the healthy server with the same store gets the real answer.
    before = len(fake_server.api_requests())
    (rec,) = _run(db, model, ["second"])
    assert rec.ok and not rec.cached and str(rec.response) == "thirty two"
    assert len(fake_server.api_requests()) == before + 1
    assert sorted(_cached_texts(db)) == ["thirty two", "thirty two"]


def test_a_truncated_stream_cannot_flip_a_verdict(fake_server, tmp_path):
    """Model A answers every question right ("3 2"); B only the even ones. The first stream of
    each of A's answers is cut after its first chunk ("3").

    Before the fix A's cut answers were scored (0 every time) and cached, and B was declared the
    winner. Now each cut stream is a failed call, retried, A's real answers are scored and A wins.
    """
    n = 60
    problems = [{"question": f"q{i}", "answer": "3 2"} for i in range(n)]

    def answer(request):
        i = int(request.prompt.removeprefix("q"))
        return "3 2" if request.body["model"] == "model-a" or i % 2 == 0 else "wrong"

    cut: set[str] = set()

    def cut_first_stream_of_a(request):
        if request.body["model"] == "model-a" and request.prompt not in cut:
            cut.add(request.prompt)
            return Fault(truncate_after=1)
        return None

    fake_server.answer = answer
    fake_server.fault_policy = cut_first_stream_of_a
    a = openai_model("model-a", base_url=fake_server.openai_base_url, stream=True)
    b = openai_model("model-b", base_url=fake_server.openai_base_url, stream=True)
    db = tmp_path / "bb.sqlite"
    bench = BayesianBenchmark(seed=1, batch_size=4, max_concurrency=2, store=str(db),
                              retry=RetryPolicy(max_attempts=3, backoff_base=0.0))

    def exact(problem, response):
        return float(response.strip() == problem["answer"])

    result = bench.compare(a, b, exact, problems, model_a_name="A", model_b_name="B")
    assert result.winner == "model_a" and result.errors == 0, result
    assert cut and result.mean_a == 1.0
    assert set(_cached_texts(db)) <= {"3 2", "wrong"}  # never the fragment "3"
    a_calls = [r for r in Store(db).calls() if r["model"] == "A"]
    assert len(a_calls) >= result.problems_tested and all(r["error"] is None for r in a_calls)
