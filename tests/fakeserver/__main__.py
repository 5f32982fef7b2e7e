"""Run the fake provider in its own process (so benchmarks do not share the client's GIL).

    python -m tests.fakeserver [--latency-s 0.05] [--stream-chunk-delay-s 0] [--max-in-flight N]

Prints ``READY http://127.0.0.1:PORT`` on one line once listening, then serves until stdin
closes or the process gets SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from ._server import FakeServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakeserver")
    parser.add_argument("--latency-s", type=float, default=0.0)
    parser.add_argument("--stream-chunk-delay-s", type=float, default=0.0)
    parser.add_argument("--max-in-flight", type=int, default=None)
    parser.add_argument("--answer", default="echo", help="'echo' or a fixed answer text")
    args = parser.parse_args(argv)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    with FakeServer(answer=args.answer, latency_s=args.latency_s, stream_chunk_delay_s=args.stream_chunk_delay_s,
                    max_in_flight=args.max_in_flight) as server:
        print(f"READY {server.url}", flush=True)
        threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
        done.wait()


if __name__ == "__main__":
    main()
