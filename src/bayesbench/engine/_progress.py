"""A live progress display for long runs (rich), or nothing when ``verbose`` is off."""

from __future__ import annotations

from typing import Any


class Progress:
    """Shows problems fed to the decision engine out of the total, with the current interval."""

    def __init__(self, description: str, total: int, *, enabled: bool) -> None:
        self._progress: Any = None
        self._task: Any = None
        if not enabled:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        self._progress = RichProgress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[status]}"),
        )
        self._progress.start()
        self._task = self._progress.add_task(description, total=total, status="")

    def update(self, completed: int, status: str = "") -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=completed, status=status)

    def close(self, status: str = "") -> None:
        if self._progress is not None:
            if status:
                self._progress.update(self._task, status=status)
            self._progress.stop()
            self._progress = None
