"""Implementation of :class:`FakeServer`; see the package docstring for the API."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Union

AnswerPolicy = Union[str, Callable[["Request"], str], dict]  # noqa: UP007 -- a runtime alias; X | "Fwd" is not valid at runtime

MODELS = ("fake-model", "fake-claude")


@dataclass
class Fault:
    """One scripted misbehaviour, consumed by one request.

    ``status``: answer with this HTTP status and a provider-shaped error body. ``retry_after``:
    ``Retry-After`` header value (seconds, sent as text, so an HTTP date also works).
    ``retry_after_ms``: ``retry-after-ms`` header. ``delay_s``: sleep before answering.
    ``hang``: never answer (until the client gives up or the server stops). ``malformed``: 200
    with a body that is not JSON. ``drop``: close the connection without any response.
    ``headers``: extra response headers. ``body``: raw body text overriding the default.
    ``path``: only requests whose path ends with this are affected (None: any API request).

    Answers that are not complete answers (each a 200 the SDKs accept):

    ``empty``: no answer at all (OpenAI ``"choices": []``, and a stream of only such chunks before
    ``[DONE]``; Anthropic ``"content": []``, and a stream with no content block).
    ``null_content``: the choice is there but its text is null (OpenAI ``message.content`` /
    ``text``, Anthropic a text block whose ``text`` is null).
    ``truncate_after``: a streamed answer stops after this many content chunks and the
    connection closes cleanly: no ``finish_reason`` and no ``[DONE]`` (OpenAI), no
    ``message_delta`` / ``message_stop`` (Anthropic). Non-streamed requests are not affected.
    ``html``: 200 with an HTML page (a proxy's or captive portal's), ``Content-Type: text/html``.

    ``echo_key``: echo (part of) the request's API key, as a careless provider or a model quoting
    its context would: ``"whole"``, ``"no_prefix"`` (without ``sk-``), ``"tail"`` (last 12
    characters), ``"middle"`` (10 characters from the middle). With ``status`` it goes in the error
    message; without, in the 200 answer text.

    ``trickle_s``: answer normally, but send the body one byte every ``trickle_s`` seconds (a
    server that is never silent long enough for a per-read timeout to fire).
    """

    status: int | None = None
    retry_after: str | float | None = None
    retry_after_ms: float | None = None
    delay_s: float = 0.0
    hang: bool = False
    malformed: bool = False
    drop: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    path: str | None = None
    empty: bool = False
    null_content: bool = False
    truncate_after: int | None = None
    html: bool = False
    echo_key: str | None = None
    trickle_s: float = 0.0


#: A 200 page that is not an API answer (what a misconfigured proxy returns).
HTML_PAGE = "<!DOCTYPE html><html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>"


def key_fragment(key: str, how: str) -> str:
    """The part of ``key`` a fault with ``echo_key=how`` echoes."""
    if how == "whole":
        return key
    if how == "no_prefix":
        return key[3:] if key.startswith("sk-") else key[2:]
    if how == "tail":
        return key[-12:]
    if how == "middle":
        mid = len(key) // 2
        return key[mid - 5 : mid + 5]
    raise ValueError(f"`echo_key` must be 'whole', 'no_prefix', 'tail' or 'middle', got {how!r}")


@dataclass
class Request:
    """What the server received: method, path, headers (lower-case keys), parsed JSON body, and
    the prompt text it extracted (all message contents / the completion prompt, joined by \\n)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    prompt: str
    time: float


def _words(text: str) -> int:
    return len(text.split())


def _extract_prompt(path: str, body: Any) -> tuple[str, str]:
    """(all prompt text, last user text) of an OpenAI or Anthropic request body."""
    if not isinstance(body, dict):
        return "", ""
    if "messages" in body:
        texts, last_user = [], ""
        system = body.get("system")
        if isinstance(system, str):
            texts.append(system)
        elif isinstance(system, list):
            texts.extend(b.get("text", "") for b in system if isinstance(b, dict))
        for message in body.get("messages") or []:
            content = message.get("content", "")
            if isinstance(content, list):
                content = "".join(b.get("text", "") for b in content if isinstance(b, dict))
            texts.append(str(content))
            if message.get("role") == "user":
                last_user = str(content)
        return "\n".join(texts), last_user
    prompt = body.get("prompt", "")
    if isinstance(prompt, list):
        prompt = "\n".join(map(str, prompt))
    return str(prompt), str(prompt)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so SDK connection pools are exercised
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass

    # -- plumbing ---------------------------------------------------------------------
    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self._send_raw(status, data, "application/json", headers)

    def _send_raw(self, status: int, data: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        trickle = getattr(self, "trickle_s", 0.0)
        if not trickle:
            self.wfile.write(data)
            return
        fake = self.server.fake
        try:
            for i in range(len(data)):
                self.wfile.write(data[i:i + 1])
                self.wfile.flush()
                if fake._stop.wait(trickle):
                    return
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (its deadline)
            self.close_connection = True

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw.decode("utf-8", "replace")

    # -- dispatch ---------------------------------------------------------------------
    def do_GET(self) -> None:
        fake = self.server.fake
        fake._record(Request("GET", self.path, {k.lower(): v for k, v in self.headers.items()}, None, "", time.time()))
        if self.path.rstrip("/").endswith("/models"):
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "fakeserver"} for m in fake.models]
            self._send_json(200, {"object": "list", "data": data})
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:
        fake = self.server.fake
        self.trickle_s = 0.0  # a trickle fault applies to one request, not the kept-alive connection
        body = self._read_body()
        prompt, last_user = _extract_prompt(self.path, body)
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = Request("POST", self.path, headers, body, prompt, time.time())
        fake._record(request)
        path = self.path.split("?")[0].rstrip("/")
        anthropic = path.endswith("/messages")
        if not (anthropic or path.endswith("/chat/completions") or path.endswith("/completions")):
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        if fake.required_api_key is not None:
            given = _given_key(headers)
            if given != fake.required_api_key:
                # Real providers echo (part of) the wrong key back: adapters must redact it.
                self._error(401, f"Incorrect API key provided: {given}", anthropic, {})
                return
        if not fake._enter():
            self._error(429, "too many requests in flight", anthropic, {"Retry-After": str(fake.in_flight_retry_after)})
            return
        try:
            policy = fake.fault_policy
            fault = policy(request) if policy is not None else None
            if fault is None:
                fault = fake._take_fault(path)
            if fault is not None and self._apply_fault(fault, anthropic, headers):
                return
            if fake.latency_s > 0:
                fake._stop.wait(fake.latency_s)  # no lock held: requests sleep concurrently
            answer = fake._answer(request, last_user)
            if fault is not None and fault.echo_key:
                answer = f"{answer} (your key is {key_fragment(_given_key(headers), fault.echo_key)})"
            stream = isinstance(body, dict) and bool(body.get("stream"))
            fault = fault or Fault()
            if anthropic:
                self._anthropic(body, prompt, answer, stream, fault)
            else:
                self._openai(path, body, prompt, answer, stream, fault)
        finally:
            fake._leave()

    def _error(self, status: int, message: str, anthropic: bool, headers: dict[str, str], body: str | None = None) -> None:
        if body is not None:
            self._send_raw(status, body.encode(), "application/json", headers)
        elif anthropic:
            kind = {429: "rate_limit_error", 529: "overloaded_error", 401: "authentication_error"}.get(status, "api_error")
            self._send_json(status, {"type": "error", "error": {"type": kind, "message": message}}, headers)
        else:
            self._send_json(status, {"error": {"message": message, "type": "fake_error", "code": status}}, headers)

    def _apply_fault(self, fault: Fault, anthropic: bool, request_headers: dict[str, str]) -> bool:
        """Apply a fault; True when the response is complete (nothing more to send)."""
        fake = self.server.fake
        self.trickle_s = fault.trickle_s
        if fault.delay_s > 0:
            fake._stop.wait(fault.delay_s)
        if fault.hang:
            fake._stop.wait(fake.hang_s)  # bounded: the server's stop() ends it too
            self.close_connection = True
            return True
        if fault.drop:
            self.close_connection = True
            return True
        if fault.malformed:
            self._send_raw(200, (fault.body or '{"id": "broken", "choices": [').encode(), "application/json", fault.headers)
            return True
        if fault.html:
            self._send_raw(200, (fault.body or HTML_PAGE).encode(), "text/html; charset=utf-8", fault.headers)
            return True
        if fault.status is not None:
            headers = dict(fault.headers)
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            if fault.retry_after_ms is not None:
                headers["retry-after-ms"] = str(fault.retry_after_ms)
            message = f"injected fault {fault.status}"
            if fault.echo_key:
                message += f": the key {key_fragment(_given_key(request_headers), fault.echo_key)} was rejected"
            self._error(fault.status, message, anthropic, headers, fault.body)
            return True
        return False  # only a delay: answer normally

    # -- OpenAI ---------------------------------------------------------------------------
    def _openai(self, path: str, body: dict, prompt: str, answer: str, stream: bool, fault: Fault) -> None:
        fake = self.server.fake
        chat = path.endswith("/chat/completions")
        model = body.get("model", "fake-model")
        usage = {"prompt_tokens": _words(prompt), "completion_tokens": _words(answer), "total_tokens": _words(prompt) + _words(answer)}
        text = None if fault.null_content else answer
        if not stream:
            if chat:
                choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop", "logprobs": None}
                payload = {"id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": model, "choices": [choice], "usage": usage}
            else:
                choice = {"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}
                payload = {"id": "cmpl-fake", "object": "text_completion", "created": 0, "model": model, "choices": [choice], "usage": usage}
            if fault.empty:
                payload["choices"] = []
            self._send_json(200, payload)
            return
        self._start_sse()
        obj = "chat.completion.chunk" if chat else "text_completion"
        pieces = fake._pieces(answer)
        if chat and not fault.empty:
            self._sse(None, {"id": "c", "object": obj, "created": 0, "model": model,
                             "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]})
        if fault.empty:
            pieces = []
        for i, piece in enumerate(pieces):
            if fault.truncate_after is not None and i >= fault.truncate_after:
                return  # the connection closes cleanly: no finish_reason, no [DONE]
            if i:
                fake._stop.wait(fake.stream_chunk_delay_s)
            content = None if fault.null_content else piece
            if chat:
                choice = {"index": 0, "delta": {"content": content}, "finish_reason": None}
            else:
                choice = {"index": 0, "text": content, "finish_reason": None, "logprobs": None}
            self._sse(None, {"id": "c", "object": obj, "created": 0, "model": model, "choices": [choice]})
        final = {"index": 0, "delta": {}, "finish_reason": "stop"} if chat else {"index": 0, "text": "", "finish_reason": "stop", "logprobs": None}
        if not fault.empty:  # an empty stream: only `"choices": []` chunks, then [DONE]
            self._sse(None, {"id": "c", "object": obj, "created": 0, "model": model, "choices": [final]})
        if (body.get("stream_options") or {}).get("include_usage"):
            self._sse(None, {"id": "c", "object": obj, "created": 0, "model": model, "choices": [], "usage": usage})
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    # -- Anthropic ------------------------------------------------------------------------
    def _anthropic(self, body: dict, prompt: str, answer: str, stream: bool, fault: Fault) -> None:
        fake = self.server.fake
        model = body.get("model", "fake-claude")
        n_in, n_out = _words(prompt), _words(answer)
        blocks = [] if fault.empty else [{"type": "text", "text": None if fault.null_content else answer}]
        message = {"id": "msg_fake", "type": "message", "role": "assistant", "model": model,
                   "content": blocks, "stop_reason": "end_turn", "stop_sequence": None,
                   "usage": {"input_tokens": n_in, "output_tokens": n_out}}
        if not stream:
            self._send_json(200, message)
            return
        self._start_sse()
        start = dict(message, content=[], stop_reason=None, usage={"input_tokens": n_in, "output_tokens": 1})
        self._sse("message_start", {"type": "message_start", "message": start})
        if not fault.empty:
            self._sse("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
        self._sse("ping", {"type": "ping"})
        for i, piece in enumerate([] if fault.empty else fake._pieces(answer)):
            if fault.truncate_after is not None and i >= fault.truncate_after:
                return  # the connection closes cleanly: no message_delta, no message_stop
            if i:
                fake._stop.wait(fake.stream_chunk_delay_s)
            self._sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}})
        if not fault.empty:
            self._sse("content_block_stop", {"type": "content_block_stop", "index": 0})
        self._sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": n_out}})
        self._sse("message_stop", {"type": "message_stop"})

    def _start_sse(self) -> None:
        # No Content-Length: the body ends when the connection closes.
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def _sse(self, event: str | None, data: Any) -> None:
        chunk = (f"event: {event}\n" if event else "") + f"data: {json.dumps(data)}\n\n"
        self.wfile.write(chunk.encode())
        self.wfile.flush()


def _given_key(headers: dict[str, str]) -> str:
    return headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # listen backlog: 128+ concurrent clients connect at once
    fake: FakeServer


class FakeServer:
    """A real HTTP server on 127.0.0.1 speaking the OpenAI and Anthropic protocols.

    See the package docstring for the full API. Use as a context manager or call
    :meth:`start` / :meth:`stop`.
    """

    def __init__(
        self,
        *,
        answer: AnswerPolicy = "echo",
        latency_s: float = 0.0,
        stream_chunk_delay_s: float = 0.0,
        max_in_flight: int | None = None,
        in_flight_retry_after: float = 0.1,
        required_api_key: str | None = None,
        hang_s: float = 30.0,
        models: tuple[str, ...] = MODELS,
    ) -> None:
        self.answer = answer
        self.latency_s = latency_s
        self.stream_chunk_delay_s = stream_chunk_delay_s
        self.max_in_flight = max_in_flight
        self.in_flight_retry_after = in_flight_retry_after
        self.required_api_key = required_api_key
        self.hang_s = hang_s
        self.models = models
        #: ``f(Request) -> Fault | None``, asked first for every API request (a fault per request
        #: chosen by content, e.g. "cut the first stream of each question for model A").
        self.fault_policy: Callable[[Request], Fault | None] | None = None
        self.requests: list[Request] = []
        self.in_flight = 0
        self.max_seen_in_flight = 0
        self._faults: deque[Fault] = deque()
        self._fault_rate: tuple[float, Fault, random.Random] | None = None
        self._lock = threading.Lock()  # guards counters and the fault queue only, never a sleep
        self._stop = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> FakeServer:
        if self._httpd is not None:
            return self
        self._stop.clear()
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.fake = self
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fakeserver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()  # wakes every sleeping / hanging handler
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- addresses --------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._httpd is not None, "FakeServer is not started"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """Root URL (Anthropic SDK base_url)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """``url + "/v1"`` (OpenAI SDK base_url)."""
        return self.url + "/v1"

    # -- fault injection ----------------------------------------------------------------------
    def add_fault(self, fault: Fault | None = None, *, times: int = 1, **fields: Any) -> None:
        """Queue ``fault`` (or ``Fault(**fields)``) for the next ``times`` matching requests."""
        fault = fault or Fault(**fields)
        with self._lock:
            self._faults.extend([fault] * times)

    def set_fault_rate(self, probability: float, fault: Fault | None = None, *, seed: int = 0, **fields: Any) -> None:
        """Every API request independently gets ``fault`` with ``probability`` (seeded); 0 turns it off."""
        with self._lock:
            self._fault_rate = None if probability <= 0 else (probability, fault or Fault(**fields), random.Random(seed))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._fault_rate = None

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self._faults):
                if fault.path is None or path.endswith(fault.path):
                    del self._faults[i]
                    return fault
            if self._fault_rate is not None:
                p, fault, rng = self._fault_rate
                if rng.random() < p:
                    return fault
        return None

    # -- bookkeeping -----------------------------------------------------------------------------
    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _enter(self) -> bool:
        with self._lock:
            if self.max_in_flight is not None and self.in_flight >= self.max_in_flight:
                return False
            self.in_flight += 1
            self.max_seen_in_flight = max(self.max_seen_in_flight, self.in_flight)
            return True

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    @property
    def request_count(self) -> int:
        """Requests received on any route (including ones answered with a fault)."""
        with self._lock:
            return len(self.requests)

    def api_requests(self) -> list[Request]:
        """POST requests only (the model calls), in arrival order."""
        with self._lock:
            return [r for r in self.requests if r.method == "POST"]

    def reset(self) -> None:
        """Forget recorded requests, faults and the in-flight high-water mark."""
        with self._lock:
            self.requests.clear()
            self._faults.clear()
            self._fault_rate = None
            self.max_seen_in_flight = self.in_flight

    # -- answers ----------------------------------------------------------------------------
    def _answer(self, request: Request, last_user: str) -> str:
        policy = self.answer
        if callable(policy):
            return str(policy(request))
        if isinstance(policy, dict):
            return str(policy.get(last_user, policy.get("*", "")))
        if policy == "echo":
            return f"echo: {last_user}"
        return str(policy)

    @staticmethod
    def _pieces(answer: str) -> list[str]:
        # Stream word by word, keeping the spaces, so joined chunks equal the answer.
        words = answer.split(" ")
        return [w if i == 0 else " " + w for i, w in enumerate(words)] if answer else []
