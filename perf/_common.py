"""Shared pieces of the execution benchmarks: the server process and an httpx model function."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def latency_server(latency_s: float) -> Iterator[str]:
    """Start _latency_server.py in its own process (so it does not share our GIL); yield its URL."""
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("_latency_server.py")), str(latency_s)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}/v1/complete"
    finally:
        proc.kill()
        proc.wait(10)


class HttpModel:
    """An async model function: POST the prompt, return the answer text (a str with token counts)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.cache_key = f"bench:{url.rsplit(':', 1)[0]}"  # the port changes between runs; the model does not
        self._client: Any = None

    async def __call__(self, prompt: str) -> str:
        import httpx

        if self._client is None:
            limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
            self._client = httpx.AsyncClient(limits=limits, timeout=30)
        r = await self._client.post(self.url, json={"prompt": prompt})
        r.raise_for_status()
        return r.json()["text"]

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


class RawHttpModel:
    """The same model function on bare asyncio streams (a keep-alive connection pool, no library),
    so the benchmark measures the executor rather than an HTTP client's own overhead."""

    def __init__(self, url: str) -> None:
        rest = url.split("://", 1)[1]
        hostport, path = rest.split("/", 1)
        self.host, port = hostport.split(":")
        self.port, self.path = int(port), "/" + path
        self.cache_key = f"bench-raw:{self.host}{self.path}"
        self._idle: list[tuple[Any, Any]] = []

    async def __call__(self, prompt: str) -> str:
        import asyncio
        import json

        conn = self._idle.pop() if self._idle else await asyncio.open_connection(self.host, self.port)
        reader, writer = conn
        body = json.dumps({"prompt": prompt}).encode()
        writer.write(
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode() + body
        )
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = next(int(h.split(b":", 1)[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:"))
        data = await reader.readexactly(length)
        self._idle.append(conn)
        if status != 200:
            raise RuntimeError(f"HTTP {status}")
        return json.loads(data)["text"]

    async def aclose(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()
