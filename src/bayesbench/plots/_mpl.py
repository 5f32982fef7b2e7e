"""matplotlib, imported only when a figure is drawn, and the one way figures are made and saved.

Figures are built with ``matplotlib.figure.Figure`` and the Agg canvas directly, never through pyplot:
nothing switches the user's backend, no GUI window opens, and drawing is safe off the main thread.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

from ..errors import ConfigError, missing_dependency

FORMATS = (".png", ".svg")
# one colour per role, the same in every figure (matplotlib's tab10 values)
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")


def matplotlib_modules() -> tuple[Any, Any]:
    """``(matplotlib.figure, matplotlib.backends.backend_agg)``, or the install line if matplotlib is absent."""
    try:
        from matplotlib import figure
        from matplotlib.backends import backend_agg
    except ImportError:
        raise missing_dependency("matplotlib", "plots", "bayesbench.plots") from None
    return figure, backend_agg


def new_figure(width: float, height: float) -> Any:
    """An empty Figure on an Agg canvas (``width`` x ``height`` inches, constrained layout)."""
    figure, backend_agg = matplotlib_modules()
    fig = figure.Figure(figsize=(width, height), layout="constrained")
    backend_agg.FigureCanvasAgg(fig)
    return fig


def wrap(text: str, width: int = 95) -> str:
    """A long title broken into lines (each existing line wrapped on its own), so it is never clipped."""
    return "\n".join(textwrap.fill(line, width) for line in text.split("\n"))


def check_path(path: Any) -> Path | None:
    """``path`` as a Path with a supported extension, or None; refuses other extensions up front."""
    if path is None:
        return None
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigError(f"`path` must be a file path ending in .png or .svg, or None, got {type(path).__name__}")
    p = Path(path)
    if p.suffix.lower() not in FORMATS:
        raise ConfigError(f"`path` must end in .png or .svg, got {str(path)!r}; e.g. path='stopping.png'")
    return p


def finish(fig: Any, path: Any) -> Any:
    """Save ``fig`` to ``path`` when given (format from the extension; folders are created) and return it."""
    target = check_path(path)
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(target, dpi=150 if target.suffix.lower() == ".png" else None)
    return fig
