"""The progress display: plain lines when piped, a live display on a terminal, both with status from the start."""

from __future__ import annotations

import io

from bayesbench.engine._progress import STARTING, Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_piped_output_gets_plain_lines_from_the_start():
    out = io.StringIO()
    p = Progress("task", 100, enabled=True, stream=out)
    assert out.getvalue() == f"[task] 0/100 problems, 0:00:00 elapsed, at most ? left  {STARTING}\n"
    for done in range(4, 44, 4):
        p.update(done, "leading: a")
    p.close("a")
    lines = out.getvalue().splitlines()
    # one line per tenth of the run (10 problems here), not one per update
    assert [line.split()[1] for line in lines] == ["0/100", "12/100", "24/100", "36/100", "40/100"]
    assert "at most" in lines[1] and "leading: a" in lines[1]
    assert lines[-1].endswith("done: a") and "left" not in lines[-1]


def test_a_terminal_gets_the_live_display_with_status_before_the_first_batch():
    out = Terminal()
    p = Progress("task", 100, enabled=True, stream=out)
    p.update(50, "leading: a")
    p.close("a")
    text = out.getvalue()
    assert "task" in text and "at most" in text and "left" in text and "50/100" in text


def test_disabled_progress_writes_nothing():
    out = io.StringIO()
    p = Progress("task", 10, enabled=False, stream=out)
    p.update(5, "x")
    p.close("y")
    assert out.getvalue() == ""
