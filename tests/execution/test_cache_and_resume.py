"""The response cache and crash-safe resume, with a real store file, server and subprocess."""

from __future__ import annotations

import asyncio
import collections
import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bayesbench.execution import Executor, RetryPolicy
from bayesbench.store import Store
from tests.execution._clients import OpenAIChat
from tests.fakeserver import FakeServer

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server():
    with FakeServer() as s:
        yield s


def _run_all(store: Store, base_url: str, prompts: list[str], *, model: str = "fake", params=None):
    async def main():
        ex = Executor(max_concurrency=8, store=store, retry=RetryPolicy(backoff_base=0.01))
        fn = OpenAIChat(base_url)
        try:
            return await asyncio.gather(
                *(ex.call(model, fn, p, problem_id=str(i), params=params) for i, p in enumerate(prompts))
            )
        finally:
            ex.close()

    return asyncio.run(main())


def test_second_identical_run_makes_zero_calls(server, tmp_path):
    store = Store(tmp_path / "bb.sqlite")
    prompts = [f"question {i}" for i in range(30)]
    first = _run_all(store, server.openai_base_url, prompts)
    assert len(server.api_requests()) == 30 and not any(r.cached for r in first)
    second = _run_all(Store(tmp_path / "bb.sqlite"), server.openai_base_url, prompts)  # a new process would reopen
    assert len(server.api_requests()) == 30  # not one more request
    assert all(r.cached and r.attempts == 0 and r.cost_usd == 0.0 for r in second)
    assert [str(r.response) for r in second] == [str(r.response) for r in first]
    # the cached answer keeps the provider's token metadata
    assert [(r.response.input_tokens, r.response.output_tokens) for r in second] == [
        (r.input_tokens, r.output_tokens) for r in first
    ]
    assert [(r.input_tokens, r.output_tokens, r.tokens_estimated) for r in second] == [
        (r.input_tokens, r.output_tokens, False) for r in first
    ]
    rows = store.calls()
    assert len(rows) == 60 and sum(r["cached"] for r in rows) == 30


def test_key_changes_with_model_endpoint_prompt_and_params(server, tmp_path):
    store = Store(tmp_path / "bb.sqlite")
    _run_all(store, server.openai_base_url, ["q"])
    _run_all(store, server.openai_base_url, ["q"], model="other-name")
    _run_all(store, server.openai_base_url, ["q "])
    _run_all(store, server.openai_base_url, ["q"], params={"temperature": 0.7, "sample": 1})
    _run_all(store, server.openai_base_url, ["q"], params={"sample": 1, "temperature": 0.7})  # same params
    assert len(server.api_requests()) == 4
    with FakeServer() as other:  # another endpoint (its cache_key names the base URL)
        _run_all(store, other.openai_base_url, ["q"])
        assert len(other.api_requests()) == 1


def test_plain_functions_are_keyed_by_module_and_qualname(tmp_path):
    store = Store(tmp_path / "bb.sqlite")
    counts = collections.Counter()

    def upper(p):
        counts["upper"] += 1
        return p.upper()

    def lower(p):
        counts["lower"] += 1
        return p.lower()

    async def main():
        ex = Executor(store=store)
        try:
            for fn in (upper, lower, upper, lower, functools.partial(upper), functools.partial(upper)):
                rec = await ex.call("m", fn, "MiXed")
                assert rec.ok
        finally:
            ex.close()

    asyncio.run(main())
    assert counts == {"upper": 2, "lower": 1}  # upper, lower, then the partial once


def test_errors_are_not_cached_and_json_answers_are(server, tmp_path):
    store = Store(tmp_path / "bb.sqlite")
    server.add_fault(status=400)
    first = _run_all(store, server.openai_base_url, ["q"])
    assert not first[0].ok and store.cache_size() == 0
    second = _run_all(store, server.openai_base_url, ["q"])
    assert second[0].ok and not second[0].cached and store.cache_size() == 1

    calls = []

    def structured(p):
        calls.append(p)
        return {"label": p, "scores": [1, 2]}

    async def main():
        ex = Executor(store=store)
        try:
            return [await ex.call("m", structured, "x") for _ in range(2)]
        finally:
            ex.close()

    a, b = asyncio.run(main())
    assert len(calls) == 1 and b.cached and b.response == {"label": "x", "scores": [1, 2]} == a.response


def test_unstable_arguments_are_not_cached(tmp_path):
    store = Store(tmp_path / "bb.sqlite")

    class Opaque:  # repr has a memory address: no stable key, so no caching rather than a wrong hit
        pass

    n = []

    async def main():
        ex = Executor(store=store)
        try:
            for _ in range(2):
                rec = await ex.call("m", lambda o: (n.append(1), "answer")[1], Opaque())
                assert rec.ok and not rec.cached and rec.cache_key is None
        finally:
            ex.close()

    asyncio.run(main())
    assert len(n) == 2


def test_api_keys_never_reach_the_store_file(server, tmp_path):
    path = tmp_path / "bb.sqlite"
    store = Store(path)
    run_id = store.start_run("r", {"model": "fake", "api_key": "sk-SECRET-123", "headers": {"Authorization": "Bearer sk-SECRET-123"}}, 1, ["0"])
    async def main():
        ex = Executor(store=store, run_id=run_id)
        try:
            return await ex.call("fake", OpenAIChat(server.openai_base_url, api_key="sk-SECRET-123"), "hi")
        finally:
            ex.close()

    assert asyncio.run(main()).ok
    store.finish_run(run_id, {"api_key": "sk-SECRET-123"})
    store.close()
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("bb.sqlite"))
    assert b"sk-SECRET-123" not in data
    assert b"<redacted>" in data


def test_killed_run_resumes_without_repeating_finished_calls(server, tmp_path):
    """SIGKILL a real subprocess mid-run; the re-run makes no repeated call for any call the
    store had committed, and finishes the same run."""
    server.latency_s = 0.05
    db = str(tmp_path / "bb.sqlite")
    n = 120
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "tests.execution._resume_worker", db, server.openai_base_url, str(n)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        committed = 0
        while time.monotonic() < deadline and proc.poll() is None:
            if os.path.exists(db):
                try:
                    committed = len(Store(db).calls())
                except Exception:
                    committed = 0
            if committed >= 30:
                break
            time.sleep(0.02)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == -signal.SIGKILL

    store = Store(db)
    done_before = {r["problem_id"] for r in store.calls() if r["error"] is None}
    assert 30 <= len(done_before) < n
    sent_before = len(server.api_requests())

    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr[-2000:]
    stats = dict(kv.split("=") for kv in out.stdout.split())
    assert int(stats["cached"]) == len(done_before)
    assert int(stats["live"]) == n - len(done_before)

    # (a request cut off by the kill may have arrived without its body: it has no prompt)
    per_prompt = collections.Counter(r.prompt for r in server.api_requests() if r.prompt)
    for pid in done_before:  # every committed call was asked exactly once, ever
        assert per_prompt[f"prompt {pid}"] == 1, pid
    assert set(per_prompt) == {f"prompt {i}" for i in range(n)}
    # only calls in flight at the kill (at most max_concurrency=4) were asked twice
    assert len(server.api_requests()) - n <= 4 and sent_before - len(done_before) <= 4
    runs = store.runs()
    assert len(runs) == 1 and runs[0]["status"] == "finished" and runs[0]["id"] == stats["run"]
    assert runs[0]["config"]["api_key"] == "<redacted>"
