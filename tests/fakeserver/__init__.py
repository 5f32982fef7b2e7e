"""A fake LLM provider for tests and benchmarks: a real threaded HTTP server on 127.0.0.1 (port 0).

It speaks enough of two protocols for the official SDKs to work against it:

* OpenAI: ``GET /v1/models``, ``POST /v1/chat/completions`` and ``POST /v1/completions``, with
  ``stream: true`` as SSE ``data:`` chunks ending in ``data: [DONE]`` (and a usage chunk when
  ``stream_options.include_usage`` is set).
* Anthropic Messages: ``POST /v1/messages``, with ``stream: true`` as the SSE events
  ``message_start``, ``content_block_start``, ``ping``, ``content_block_delta``\\*, ``content_block_stop``,
  ``message_delta`` (stop reason and output tokens), ``message_stop``.

Usage::

    from tests.fakeserver import FakeServer, Fault

    with FakeServer(latency_s=0.05) as server:
        client = openai.OpenAI(base_url=server.openai_base_url, api_key="x", max_retries=0)
        anthropic.Anthropic(base_url=server.url, api_key="x", max_retries=0)
        server.add_fault(status=429, retry_after=2)        # the next API request gets a 429
        server.add_fault(Fault(status=503), times=3)       # then three 503s
        server.add_fault(hang=True)                         # then one that never answers
        server.set_fault_rate(0.1, status=500, seed=1)      # 10 % of requests fail, seeded
        server.request_count, server.api_requests()[0].body, server.max_seen_in_flight

Constructor options (all keyword, all also settable as attributes while running):

* ``answer``: the deterministic answer policy. ``"echo"`` (default) answers ``"echo: <last user
  message>"``; a dict maps the last user message to an answer (key ``"*"`` is the fallback); a
  callable gets the :class:`Request` and returns the text; any other string is the fixed answer.
* ``latency_s``: seconds every API request sleeps before answering (default 0). Sleeps hold no
  lock, so N concurrent requests take about ``latency_s``, not ``N * latency_s``.
* ``stream_chunk_delay_s``: pause between streamed chunks (so time-to-first-token < total time).
* ``max_in_flight``: requests beyond this many at once get 429 with ``Retry-After:
  in_flight_retry_after`` (a provider-side concurrency limit, for AIMD tests).
* ``required_api_key``: when set, other keys get 401 and the body echoes the wrong key back (as real
  providers partly do), to test that adapters redact keys.
* ``fault_policy``: ``f(Request) -> Fault | None`` asked first for every API request (attribute only).
* ``hang_s``: how long a ``hang`` fault holds the request (default 30 s; ``stop()`` ends it early).

Faults (:class:`Fault`, one per request, queued in order, optionally only for a ``path`` suffix):
``status`` (+ ``retry_after`` / ``retry_after_ms`` / ``headers`` / ``body``), ``delay_s`` (slow, then a
normal answer), ``trickle_s`` (the normal answer, one byte every ``trickle_s`` seconds), ``hang``, ``malformed`` (200 with a truncated JSON body), ``drop`` (close the
connection without a response), and 200s that are not complete answers: ``empty`` (no choices /
no content blocks), ``null_content`` (the text is null), ``truncate_after=N`` (a stream that closes
cleanly after N chunks, before its end marker), ``html`` (an HTML page). ``echo_key`` puts (part
of) the request's API key in the error message or the answer, to test redaction.

Usage counts are whitespace word counts: ``prompt_tokens`` / ``input_tokens`` = words in all
prompt text (system + messages, or the completion prompt); ``completion_tokens`` /
``output_tokens`` = words in the answer.

For benchmarks, run it in its own process so it does not share the client's GIL:
``python -m tests.fakeserver --latency-s 0.05`` prints ``READY http://127.0.0.1:PORT`` and serves
until its stdin closes (see ``__main__.py``). Measured cost: about 0.6 ms of server CPU per request.

Every request is recorded as a :class:`Request` (method, path, lower-cased headers, JSON body,
extracted prompt text, arrival time); ``in_flight`` and ``max_seen_in_flight`` count concurrency.
The listen backlog is 1024 and each connection gets its own thread, so 128+ concurrent clients
are served in parallel.
"""

from ._server import HTML_PAGE, MODELS, FakeServer, Fault, Request, key_fragment

__all__ = ["FakeServer", "Fault", "Request", "MODELS", "HTML_PAGE", "key_fragment"]
