"""Progress of a long run, on stderr (stdout stays for results): a live display (rich) on a terminal, plain
lines when stderr is piped or redirected (CI logs, ``| tee``), nothing when ``verbose`` is off."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

# plain lines: one every this many seconds at most, plus one per tenth of the run and the last one
PLAIN_EVERY_S = 10.0
STARTING = "asking the models: the first batch is in flight"


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class Progress:
    """Problems fed to the decision engine out of the total, elapsed time, the most the rest can take
    (an early stop ends sooner) and the engine's status (estimate, interval, current leader)."""

    def __init__(self, description: str, total: int, *, enabled: bool, stream: TextIO | None = None) -> None:
        self._live: Any = None
        self._task: Any = None
        self._plain: TextIO | None = None
        self.description, self.total = description, total
        self._t0 = time.monotonic()
        self._last_line_t = -float("inf")
        self._last_line_done = self._done = 0
        if not enabled:
            return
        stream = sys.stderr if stream is None else stream
        if not getattr(stream, "isatty", lambda: False)():
            self._plain = stream
            self._line(0, STARTING)
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
        from rich.progress import Progress as RichProgress

        self._live = RichProgress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("at most"),
            TimeRemainingColumn(),
            TextColumn("left  {task.fields[status]}"),
            console=Console(file=stream),
        )
        self._live.start()
        self._task = self._live.add_task(description, total=total, status=STARTING)

    def _remaining(self, completed: int) -> str:
        if completed <= 0:
            return "?"
        elapsed = time.monotonic() - self._t0
        return _clock(elapsed / completed * max(self.total - completed, 0))

    def _line(self, completed: int, status: str, final: bool = False) -> None:
        assert self._plain is not None
        elapsed = time.monotonic() - self._t0
        left = "" if final else f", at most {self._remaining(completed)} left"
        self._plain.write(f"[{self.description}] {completed}/{self.total} problems, {_clock(elapsed)} elapsed"
                          f"{left}{'  ' + status if status else ''}\n")
        self._plain.flush()
        self._last_line_t, self._last_line_done = time.monotonic(), completed

    def update(self, completed: int, status: str = "") -> None:
        self._done = completed
        if self._live is not None:
            self._live.update(self._task, completed=completed, status=status)
        elif self._plain is not None:
            tenth = max(1, self.total // 10)
            if (completed - self._last_line_done >= tenth
                    or time.monotonic() - self._last_line_t >= PLAIN_EVERY_S):
                self._line(completed, status)

    def close(self, status: str = "") -> None:
        if self._live is not None:
            if status:
                self._live.update(self._task, status=status)
            self._live.stop()
            self._live = None
        elif self._plain is not None:
            self._line(self._done, f"done: {status}" if status else "done", final=True)
            self._plain = None
