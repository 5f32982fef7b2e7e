"""A minimal keep-alive HTTP server that answers every POST after a fixed latency.

Run in its own process by the benchmarks (``python perf/_latency_server.py LATENCY_S``); it
prints its port on stdout. asyncio, so thousands of waiting requests cost no threads.
"""

from __future__ import annotations

import asyncio
import json
import sys


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, latency: float) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = await reader.readexactly(length) if length else b""
            await asyncio.sleep(latency)
            prompt = json.loads(body or b"{}").get("prompt", "")
            payload = json.dumps({"text": f"answer to {prompt}", "input_tokens": 5, "output_tokens": 3}).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(payload)).encode()
                + b"\r\n\r\n"
                + payload
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(latency: float) -> None:
    server = await asyncio.start_server(lambda r, w: handle(r, w, latency), "127.0.0.1", 0, backlog=2048)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await asyncio.sleep(600)  # bounded: the benchmark kills us long before


if __name__ == "__main__":
    asyncio.run(main(float(sys.argv[1])))
