"""The fake provider server itself: concurrency without a global lock, in-flight limits, fault rate."""

import asyncio
import concurrent.futures

import httpx

from bayesbench.models import classify_error, openai_model
from tests.fakeserver import FakeServer, Fault


def post(url, body, timeout=10.0):
    return httpx.post(url + "/chat/completions", json=body, timeout=timeout)


BODY = {"model": "fake-model", "messages": [{"role": "user", "content": "hi"}]}


def test_128_concurrent_requests_sleep_in_parallel():
    async def fire(url):
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            return await asyncio.gather(*(client.post(url + "/chat/completions", json=BODY) for _ in range(128)))

    with FakeServer(latency_s=1.0) as server:
        responses = asyncio.run(fire(server.openai_base_url))
        assert all(r.status_code == 200 for r in responses)
        # With a lock around the sleep, at most one request would ever be in flight.
        assert server.max_seen_in_flight >= 64 and server.request_count == 128


def test_max_in_flight_answers_429_with_retry_after():
    with FakeServer(latency_s=0.3, max_in_flight=4, in_flight_retry_after=0.5) as server:
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            responses = list(pool.map(lambda _: post(server.openai_base_url, BODY), range(16)))
        codes = [r.status_code for r in responses]
        assert codes.count(200) >= 4 and codes.count(429) >= 1 and server.max_seen_in_flight <= 4
        limited = next(r for r in responses if r.status_code == 429)
        assert limited.headers["retry-after"] == "0.5"


def test_models_route_answer_policies_and_fault_paths():
    with FakeServer(answer={"hi": "hello", "*": "?"}) as server:
        listing = httpx.get(server.openai_base_url + "/models", timeout=5).json()
        assert [m["id"] for m in listing["data"]] == ["fake-model", "fake-claude"]
        assert post(server.openai_base_url, BODY).json()["choices"][0]["message"]["content"] == "hello"
        server.answer = lambda request: request.prompt.upper()
        assert post(server.openai_base_url, BODY).json()["choices"][0]["message"]["content"] == "HI"
        server.add_fault(Fault(status=500, path="/messages"))  # only Anthropic requests
        assert post(server.openai_base_url, BODY).status_code == 200
        r = httpx.post(server.url + "/v1/messages", json={"model": "m", "max_tokens": 5, "messages": BODY["messages"]}, timeout=5)
        assert r.status_code == 500 and r.json()["type"] == "error"


def test_seeded_fault_rate_is_reproducible():
    def run(seed):
        with FakeServer() as server:
            server.set_fault_rate(0.3, status=503, seed=seed)
            model = openai_model("fake-model", base_url=server.openai_base_url)
            outcomes = []
            for i in range(40):
                try:
                    model(f"q{i}")
                    outcomes.append(True)
                except Exception as exc:
                    assert classify_error(exc).status == 503
                    outcomes.append(False)
            return outcomes

    first = run(1)
    assert first == run(1) and 4 <= first.count(False) <= 22  # Binomial(40, 0.3): mean 12, sd 2.9


def test_runs_as_its_own_process():
    import pathlib
    import subprocess
    import sys

    root = pathlib.Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakeserver", "--answer", "fixed"], cwd=root,
                            stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("READY http://127.0.0.1:"), line
        model = openai_model("fake-model", base_url=line.split()[1] + "/v1")
        assert model("anything") == "fixed"
    finally:
        proc.stdin.close()
        proc.wait(timeout=20)
    assert proc.returncode == 0
