"""Every example in the README runs: each ```python block is executed, each `bayesbench ...` command
in a ```bash block is run (except `demo`, which has its own end-to-end test)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)
BASH_LINES = [line.split("#")[0].strip() for block in re.findall(r"```bash\n(.*?)```", README, re.S)
              for line in block.splitlines()]
COMMANDS = [line for line in BASH_LINES if line.startswith("bayesbench ") and " demo" not in line]
QUICKSTART = [line for line in BASH_LINES if line.startswith("bash scripts/")]


def test_readme_has_examples():
    assert len(PYTHON_BLOCKS) >= 4 and len(COMMANDS) >= 4
    assert QUICKSTART == ["bash scripts/demo.sh", "bash scripts/test.sh"]
    for script in QUICKSTART:
        assert (ROOT / script.split()[1]).is_file()


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_python_example_runs(index, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    exec(compile(PYTHON_BLOCKS[index], f"README.md[python {index}]", "exec"), {"__name__": "__readme__"})


@pytest.mark.parametrize("command", COMMANDS)
def test_cli_example_runs(command, tmp_path):
    # run where a user would, beside a copy of examples/, so files the commands write stay out of the repo
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    args = shlex.split(command)
    out = subprocess.run([sys.executable, "-m", "bayesbench.cli", *args[1:]], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip()
