"""Model-generated candidates through the executor: the fake provider server and the real llama.cpp model."""

from __future__ import annotations

import json

import pytest

from bayesbench.adapters.openai_compat import openai_model
from bayesbench.builder import BuilderDataset, generate_candidates
from bayesbench.errors import ConfigError
from bayesbench.execution import Executor, RetryPolicy
from bayesbench.store import Store

TEMPLATE = "Write two short customer questions about {topic}, one per line."


def test_candidates_from_the_fake_server_are_synthetic_and_traceable(fake_server) -> None:
    def answer(request) -> str:
        topic = "refunds" if "refunds" in request.prompt else "shipping"
        return f"1. How long do {topic} take?\n2. Who pays for {topic}?\n"

    fake_server.answer = answer
    model = openai_model("gpt-4o-mini", base_url=fake_server.openai_base_url, api_key="sk-test")
    result = generate_candidates(model, ["refunds", "shipping"], template=TEMPLATE, domain="support")
    assert [c.input for c in result.cases] == ["How long do refunds take?", "Who pays for refunds?",
                                               "How long do shipping take?", "Who pays for shipping?"]
    assert all(c.synthetic and c.provenance.kind == "generated" and c.domain == "support" for c in result.cases)
    gen = result.cases[2].provenance.generator
    assert gen["model"] == "gpt-4o-mini" and gen["seed_index"] == 1 and len(gen["template_sha256"]) == 64
    assert result.calls == 2 and result.failed == 0 and fake_server.request_count == 2
    prompts = [r.prompt for r in fake_server.api_requests()]
    assert any("about refunds" in p for p in prompts)
    ds = BuilderDataset("gen", result.cases)
    assert ds.counts()["synthetic"] == 4


def test_json_parsing_cache_and_failures_are_counted(fake_server, tmp_path) -> None:
    fake_server.answer = lambda request: 'Here you go: [{"input": "Is 7 prime?", "expected": "yes"}, {"bad": 1}]'
    model = openai_model("gpt-4o-mini", base_url=fake_server.openai_base_url, api_key="sk-test")
    store = Store(tmp_path / "s.db")
    with Executor(store=store) as ex:
        first = generate_candidates(model, [{"topic": "primes"}], template="Make a quiz about {topic} as JSON.",
                                    parse="json", executor=ex)
    with Executor(store=store) as ex:
        again = generate_candidates(model, [{"topic": "primes"}], template="Make a quiz about {topic} as JSON.",
                                    parse="json", executor=ex)
    assert [(c.input, c.expected) for c in first.cases] == [("Is 7 prime?", "yes")]
    assert again.cases == first.cases and fake_server.request_count == 1  # the second run came from the cache
    fake_server.answer = "no candidates here"
    none = generate_candidates(model, ["x"], template="{topic}", parse="json")
    assert none.cases == [] and none.unparsable == 1
    fake_server.add_fault(status=500, times=10)
    failed = generate_candidates(model, ["x"], template="{topic} please",
                                 executor=Executor(retry=RetryPolicy(max_attempts=1)))
    assert failed.cases == [] and failed.failed == 1 and "500" in failed.errors[0]
    assert "sk-test" not in json.dumps(failed.to_dict())


def test_bad_arguments() -> None:
    fn = lambda prompt: "x"  # noqa: E731
    with pytest.raises(ConfigError, match="template field"):
        generate_candidates(fn, [{"subject": "a"}], template="about {topic}")
    with pytest.raises(ConfigError, match="seeds"):
        generate_candidates(fn, [], template="about {topic}")
    with pytest.raises(ConfigError, match="parse"):
        generate_candidates(fn, ["a"], template="about {topic}", parse="yaml")
    from bayesbench.builder import TestCase

    seen = []
    para = generate_candidates(lambda prompt: seen.append(prompt) or "Where's my order?",
                               [TestCase(input="Where is my order?", domain="shipping")],
                               template="Paraphrase this {domain} question: {input}")
    assert seen == ["Paraphrase this shipping question: Where is my order?"] and para.cases[0].synthetic
    capped = generate_candidates(lambda prompt: "a\nb\nc", ["x", "y", "z"], template="{topic}", max_candidates=4)
    assert len(capped.cases) == 4 and capped.calls == 2


def test_candidates_from_the_real_llama_cpp_model(llama_server) -> None:
    model = openai_model("smollm2-135m", base_url=llama_server, max_tokens=48, temperature=0.0, seed=0)
    result = generate_candidates(model, ["a lost parcel"], template="Write one short question a customer might "
                                 "ask about {topic}.", seed=0, max_candidates=3)
    assert result.failed == 0 and result.calls == 1 and result.cases
    assert all(c.synthetic and c.text.strip() for c in result.cases)
    assert result.cases[0].provenance.generator["model"] == "smollm2-135m"
