"""scripts/make_figures.py --quick (the fake provider server instead of the two LLMs) makes every README
figure, so the script cannot rot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib", reason='needs the plots extra: pip install "bayesbench[plots]"')

from .test_figures import check_png  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ("stopping_path", "latency", "cost_accuracy", "resources", "ranking")


def test_quick_mode_makes_every_figure(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_figures.py"), "--quick", "--out",
                           str(tmp_path), "--problems", "120"], capture_output=True, text=True, env=env, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in FIGURES:
        check_png(tmp_path / f"{name}.png")
        assert f"{name}.png:" in done.stdout
    assert "run: fake provider server, 120 questions: comparison: winner: good" in done.stdout
    assert "latency.png: good n=" in done.stdout and "fair n=" in done.stdout
