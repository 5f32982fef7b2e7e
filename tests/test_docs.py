"""Every ```python example in docs/ runs, except blocks marked `<!-- no-run: reason -->` (real paid
endpoints). Each runs in its own interpreter in an empty directory, so files it writes stay out of the repo."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- no-run:[^>]*-->\s*)?```python\n(.*?)```", re.S)
EXAMPLES = [
    pytest.param(code, id=f"{md.name}[{i}]")
    for md in sorted((ROOT / "docs").glob("*.md"))
    for i, (skip, code) in enumerate(BLOCK.findall(md.read_text()))
    if not skip
]


def test_docs_have_examples():
    assert len(EXAMPLES) >= 15


@pytest.mark.parametrize("code", EXAMPLES)
def test_docs_example_runs(code, tmp_path):
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
