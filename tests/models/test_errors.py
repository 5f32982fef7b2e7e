"""classify_error: unit cases, and every fault of the fake server through the real SDKs."""

import asyncio
import email.utils
import time

import httpx
import pytest

from bayesbench.errors import ConfigError, DatasetError
from bayesbench.models import ErrorInfo, ModelCallError, anthropic_model, classify_error, hf_model, openai_model
from tests.fakeserver import Fault


def make(provider, server, **kw):
    if provider == "openai":
        return openai_model("fake-model", base_url=server.openai_base_url, **kw)
    if provider == "anthropic":
        return anthropic_model("fake-claude", base_url=server.url, **kw)
    return hf_model("fake-model", base_url=server.url, **kw)


def fail(model, problem="q"):
    with pytest.raises(Exception) as info:
        model(problem)
    return info.value, classify_error(info.value)


FAULTS = [
    # (fault, retryable, rate_limited, retry_after_s, status, kind)
    (Fault(status=429, retry_after=2), True, True, 2.0, 429, "rate_limit"),
    (Fault(status=429, retry_after_ms=1500), True, True, 1.5, 429, "rate_limit"),
    (Fault(status=529), True, True, None, 529, "rate_limit"),
    (Fault(status=500), True, False, None, 500, "server"),
    (Fault(status=503, retry_after="0.25"), True, False, 0.25, 503, "server"),
    (Fault(status=400), False, False, None, 400, "client"),
    (Fault(status=401), False, False, None, 401, "client"),
    (Fault(status=404), False, False, None, 404, "client"),
    (Fault(malformed=True), True, False, None, None, "malformed"),
    (Fault(drop=True), True, False, None, None, "connection"),
]


@pytest.mark.parametrize("provider", ["openai", "anthropic", "huggingface"])
@pytest.mark.parametrize("fault,retryable,rate_limited,retry_after,status,kind", FAULTS,
                         ids=[f"{f.status or ''}{'malformed' if f.malformed else ''}{'drop' if f.drop else ''}-{k}" for f, *_, k in FAULTS])
def test_server_faults_are_classified(fake_server, provider, fault, retryable, rate_limited, retry_after, status, kind):
    model = make(provider, fake_server)
    fake_server.add_fault(fault)
    exc, info = fail(model)
    assert info == ErrorInfo(retryable=retryable, rate_limited=rate_limited, retry_after_s=retry_after, status=status, kind=kind), (
        f"{type(exc).__name__}: {exc}")
    assert model("q").startswith("echo:")  # the fault was one request only; the adapter did not retry
    assert len(fake_server.api_requests()) == 2


@pytest.mark.parametrize("provider", ["openai", "anthropic", "huggingface"])
def test_hang_becomes_a_retryable_timeout(fake_server, provider):
    model = make(provider, fake_server, timeout=0.3)
    fake_server.add_fault(hang=True)
    exc, info = fail(model)
    assert info.retryable and info.kind == "timeout" and info.status is None, f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_adapters_do_not_retry_and_async_is_classified_the_same(fake_server, provider):
    model = make(provider, fake_server)
    fake_server.add_fault(status=503, times=2)
    with pytest.raises(Exception) as info:
        asyncio.run(model.acall("q"))
    assert classify_error(info.value).status == 503
    assert len(fake_server.api_requests()) == 1  # max_retries=0: exactly one request per call


def test_slow_response_still_succeeds(fake_server):
    fake_server.add_fault(delay_s=0.2)
    model = openai_model("fake-model", base_url=fake_server.openai_base_url, timeout=5)
    assert model("slow") == "echo: slow"


def test_retry_after_http_date():
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    request = httpx.Request("POST", "http://127.0.0.1/x")
    response = httpx.Response(429, headers={"Retry-After": when}, request=request)
    info = classify_error(httpx.HTTPStatusError("429", request=request, response=response))
    assert info.rate_limited and info.retry_after_s is not None and 25 <= info.retry_after_s <= 31


def test_x_should_retry_header_wins():
    request = httpx.Request("POST", "http://127.0.0.1/x")
    response = httpx.Response(500, headers={"x-should-retry": "false"}, request=request)
    assert not classify_error(httpx.HTTPStatusError("500", request=request, response=response)).retryable
    response = httpx.Response(400, headers={"x-should-retry": "true"}, request=request)
    assert classify_error(httpx.HTTPStatusError("400", request=request, response=response)).retryable


def test_model_call_error_fields():
    assert classify_error(ModelCallError("slow down", status=429, retry_after_s=3.0)) == ErrorInfo(
        retryable=True, rate_limited=True, retry_after_s=3.0, status=429, kind="rate_limit")
    assert not classify_error(ModelCallError("bad", status=400)).retryable
    assert classify_error(ModelCallError("flaky")).retryable
    assert not classify_error(ModelCallError("never", retryable=False)).retryable


def test_plain_exceptions():
    assert classify_error(TimeoutError()).kind == "timeout"
    assert classify_error(asyncio.TimeoutError()).retryable
    assert classify_error(ConnectionResetError()).kind == "connection"
    assert classify_error(httpx.ConnectError("refused")).kind == "connection"
    assert classify_error(httpx.ReadTimeout("slow")).kind == "timeout"
    assert classify_error(RuntimeError("flaky client")) == ErrorInfo(retryable=True, kind="unknown")
    assert classify_error(TypeError("bug")) == ErrorInfo(retryable=False, kind="bug")
    assert classify_error(DatasetError("no question")).retryable is False
    assert classify_error(ConfigError("bad")).kind == "input"


def test_classification_follows_the_cause_chain():
    try:
        try:
            raise ModelCallError("rate", status=429, retry_after_s=1.0)
        except ModelCallError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert classify_error(outer).retry_after_s == 1.0


def test_classify_never_raises_on_hostile_objects():
    class Hostile(Exception):
        @property
        def response(self):
            raise RuntimeError("boom")

    assert isinstance(classify_error(Hostile()), ErrorInfo)


# -- the one classifier's table (shape: execution and models used to disagree) ----------------

RETRYABLE = {408: "timeout", 409: "client", 425: "client", 429: "rate_limit", 500: "server", 502: "server",
             503: "server", 504: "server", 520: "server", 521: "server", 522: "server", 523: "server",
             524: "server", 529: "rate_limit"}


def _status_error(status, headers=None):
    request = httpx.Request("POST", "http://127.0.0.1/x")
    response = httpx.Response(status, headers=headers or {}, request=request)
    return httpx.HTTPStatusError(str(status), request=request, response=response)


@pytest.mark.parametrize("status", range(400, 600))
def test_status_table(status):
    info = classify_error(_status_error(status))
    if status in RETRYABLE:
        assert info.retryable and info.kind == RETRYABLE[status], info
    else:
        # 501 Not Implemented, 505 ... 511 and 4xx client errors: the same request cannot succeed.
        assert not info.retryable and info.kind == ("server" if status >= 500 else "client"), info
    assert info.rate_limited == (status in (429, 529)) and info.status == status
    assert classify_error(ModelCallError("x", status=status)) == ErrorInfo(
        retryable=info.retryable, rate_limited=info.rate_limited, status=status, kind=info.kind)


def test_the_executor_uses_the_one_classifier():
    import importlib

    import bayesbench.execution._executor as executor
    from bayesbench.models import _errors

    assert executor.ErrorInfo is ErrorInfo and executor.default_classifier() is classify_error
    assert executor.classify_with is _errors.classify_with
    with pytest.raises(ImportError):
        importlib.import_module("bayesbench.execution._errors")


def test_classify_with_normalises_user_classifiers():
    from bayesbench.models._errors import classify_with

    class Loose:
        retryable, rate_limited, retry_after_s, status = 0, 1, 2, True  # wrong types everywhere

    info = classify_with(lambda e: Loose(), RuntimeError())
    assert info == ErrorInfo(retryable=False, rate_limited=True, retry_after_s=2.0, status=None, kind="unknown")

    def broken(exc):
        raise RuntimeError("classifier bug")

    assert classify_with(broken, TimeoutError()) == ErrorInfo(retryable=True, kind="timeout")


def test_rate_limit_without_status_and_retry_after_attribute():
    class RateLimitExceeded(Exception):
        retry_after = 1.5

    assert classify_error(RateLimitExceeded()) == ErrorInfo(retryable=True, rate_limited=True, retry_after_s=1.5,
                                                            kind="rate_limit")


@pytest.mark.parametrize("provider", ["openai", "anthropic", "huggingface"])
def test_every_adapter_error_is_one_model_call_error(fake_server, provider):
    # The SDK's own exception is not reachable from what the adapter raises (it holds the
    # request headers, with the key); its class name stays in the message.
    model = make(provider, fake_server)
    fake_server.add_fault(status=429, retry_after=1)
    exc, info = fail(model)
    assert type(exc) is ModelCallError and exc.__cause__ is None and exc.__context__ is None
    assert info == ErrorInfo(retryable=True, rate_limited=True, retry_after_s=1.0, status=429, kind="rate_limit")
    assert "429" in str(exc) and f"{model.provider} call to {model.model!r} failed" in str(exc)
