"""API keys never appear in reprs, logs, pickles or error messages."""

import asyncio
import logging
import pickle
import sqlite3
import traceback

import pytest

from bayesbench.errors import ConfigError
from bayesbench.models import ModelCallError, anthropic_model, as_callable, classify_error, hf_model, openai_model
from tests.fakeserver import Fault, key_fragment

KEY = "sk-test-SUPERSECRET-0123456789abcdef"


def build(provider, server, **kw):
    if provider == "openai":
        return openai_model("fake-model", base_url=server.openai_base_url, **kw)
    if provider == "anthropic":
        return anthropic_model("fake-claude", base_url=server.url, **kw)
    return hf_model("fake-model", base_url=server.url, **kw)


ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "huggingface": "HF_TOKEN"}


@pytest.mark.parametrize("provider", list(ENV))
def test_key_from_env_is_used_and_never_shown(fake_server, monkeypatch, provider):
    monkeypatch.setenv(ENV[provider], KEY)
    fake_server.required_api_key = KEY
    model = build(provider, fake_server)
    assert model("hi") == "echo: hi"  # the server accepted the key from the environment
    for text in (repr(model), str(model), f"{model}", repr(vars(model))):
        assert KEY not in text and KEY[:8] not in text
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(model)


@pytest.mark.parametrize("provider", list(ENV))
def test_rejected_key_is_redacted_from_errors_and_logs(fake_server, caplog, provider):
    fake_server.required_api_key = "the-right-key"
    model = build(provider, fake_server, api_key=KEY)
    with pytest.raises(ModelCallError) as info:
        model("hi")
    exc = info.value
    # The fake server echoed the wrong key in its 401 body, as real providers partly do.
    assert KEY in str(fake_server.api_requests()[-1].headers)
    formatted = "".join(traceback.format_exception(exc))
    assert KEY not in formatted and KEY[:8] not in formatted and "***" in str(exc)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").exception("call failed", exc_info=exc)
    assert KEY not in caplog.text
    info2 = classify_error(exc)
    assert info2.status == 401 and not info2.retryable


def test_openai_without_key_or_base_url_says_how_to_fix(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        openai_model("gpt-4o-mini")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        anthropic_model("claude-3-5-haiku-latest")


def test_openai_base_url_from_env_needs_no_key(fake_server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_server.openai_base_url)
    assert openai_model("fake-model")("hi") == "echo: hi"


# -- every identifying fragment of the key is redacted (defect 5) ------------------------------

FRAGMENTS = ["whole", "no_prefix", "tail", "middle"]


def leaked(text, key=KEY):
    """Any run of 8 consecutive characters of the key in ``text``."""
    return [key[i : i + 8] for i in range(len(key) - 7) if key[i : i + 8] in str(text)]


def test_the_redaction_rule():
    from bayesbench.models._secret import Secret

    secret = Secret(KEY)
    for i in range(len(KEY)):
        for j in range(i + 8, len(KEY) + 1):
            text = f"error: {KEY[i:j]} (see docs)"
            out = secret.redact(text)
            assert not leaked(out) and out.startswith("error: ") and out.endswith(" (see docs)"), (i, j, out)
    assert secret.redact("nothing here") == "nothing here"
    assert secret.redact(KEY + " and " + KEY[-9:]) == "*** and ***"
    assert Secret("abcdefghij").redact("ABCDEFGHIJ") == "ABCDEFGHIJ"  # case-sensitive: a different string
    assert Secret("short").redact("a short key") == "a *** key"  # shorter than 8: only whole


def _executor_run(db, model, prompt):
    from bayesbench.execution import Executor, RetryPolicy
    from bayesbench.store import Store

    async def main():
        ex = Executor(store=Store(db), retry=RetryPolicy(max_attempts=2, backoff_base=0.0))
        try:
            return await ex.call("m", as_callable(model), prompt)
        finally:
            ex.close()
            await model.aclose()

    return asyncio.run(main())


def _store_text(db):
    with sqlite3.connect(db) as conn:
        rows = list(conn.execute("SELECT * FROM calls")) + list(conn.execute("SELECT * FROM responses"))
    return repr(rows)


@pytest.mark.parametrize("provider", list(ENV))
@pytest.mark.parametrize("how", FRAGMENTS)
@pytest.mark.parametrize("status", [401, 503])
def test_key_fragments_in_error_bodies_never_escape(fake_server, caplog, tmp_path, provider, how, status):
    model = build(provider, fake_server, api_key=KEY)
    fake_server.add_fault(Fault(status=status, echo_key=how), times=3)
    with caplog.at_level(logging.DEBUG):  # the SDKs' own debug logs too
        with pytest.raises(ModelCallError) as info:
            model("hi")
    exc = info.value
    texts = [str(exc), repr(exc), repr(exc.args), "".join(traceback.format_exception(exc)), caplog.text]
    assert exc.__cause__ is None and exc.__context__ is None  # nothing reachable holds the SDK error
    assert not any(leaked(t) for t in texts), [leaked(t) for t in texts]
    assert "***" in str(exc) and classify_error(exc).status == status
    assert classify_error(exc).retryable == (status == 503)

    db = tmp_path / "bb.sqlite"
    record = _executor_run(db, model, "hi")
    assert not record.ok and record.attempts == (2 if status == 503 else 1)
    assert not leaked(record.error) and "***" in record.error
    assert not leaked(_store_text(db))


@pytest.mark.parametrize("how", FRAGMENTS)
def test_the_fake_server_really_echoes_the_fragment(fake_server, how):
    import httpx

    fake_server.add_fault(Fault(status=401, echo_key=how))
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    r = httpx.post(fake_server.openai_base_url + "/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"})
    assert r.status_code == 401 and key_fragment(KEY, how) in r.text and len(key_fragment(KEY, how)) >= 10
    fake_server.add_fault(Fault(echo_key=how))
    r = httpx.post(fake_server.openai_base_url + "/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"})
    assert key_fragment(KEY, how) in r.json()["choices"][0]["message"]["content"]


@pytest.mark.parametrize("provider", list(ENV))
@pytest.mark.parametrize("how", FRAGMENTS)
def test_an_answer_quoting_the_key_is_redacted_before_it_is_returned_or_cached(fake_server, tmp_path, provider, how):
    model = build(provider, fake_server, api_key=KEY)
    fake_server.add_fault(echo_key=how)
    answer = model("hi")
    assert answer.startswith("echo: hi (your key is ") and "***" in answer and not leaked(answer)
    assert answer.output_tokens is not None  # the metadata survives redaction

    db = tmp_path / "bb.sqlite"
    fake_server.add_fault(echo_key=how)
    record = _executor_run(db, model, "hi")
    assert record.ok and "***" in str(record.response) and not leaked(record.response)
    text = _store_text(db)
    assert "your key is ***" in text and not leaked(text)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_streamed_answers_are_redacted_too(fake_server, provider):
    model = build(provider, fake_server, api_key=KEY, stream=True)
    fake_server.add_fault(echo_key="tail")
    answer = model("hi")
    assert "***" in answer and not leaked(answer)


def test_key_in_the_answers_metadata_is_redacted(fake_server):
    # A provider that reports the key as the model name (a misconfigured proxy) is caught too.
    fake_server.answer = "fine"
    model = openai_model("fake-model", base_url=fake_server.openai_base_url, api_key=KEY)
    original = model._parse

    def echo_model_name(response):
        response.model = "proxy/" + KEY[3:]
        return original(response)

    model._parse = echo_model_name
    answer = model("hi")
    assert answer == "fine" and answer.model == "proxy/***" and answer.output_tokens == 1
