"""API keys never appear in reprs, logs, pickles or error messages."""

import logging
import pickle
import traceback

import pytest

from bayesbench.errors import ConfigError
from bayesbench.models import ModelCallError, anthropic_model, classify_error, hf_model, openai_model

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
