"""The quick-start scripts as a new user meets them: prerequisites checked up front with a clear message,
and the exact next command printed (the `bayesbench` command lives in .venv, not on PATH)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYTHON3 = os.path.realpath(getattr(sys, "_base_executable", sys.executable))  # the interpreter behind any venv


def check(tmp_path: Path, tools: list[str]) -> subprocess.CompletedProcess:
    """`setup.sh --check` on a copy of the scripts, with only ``tools`` on PATH (no .venv, so nothing is built)."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "setup.sh", tmp_path / "scripts" / "setup.sh")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in tools:
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    env = {**os.environ, "PATH": str(bin_dir), "PYTHON": PYTHON3}
    return subprocess.run([shutil.which("bash"), "scripts/setup.sh", "--check"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)


BASE = ["bash", "dirname", "df", "awk"]


def test_check_passes_with_the_prerequisites(tmp_path):
    if not (shutil.which("cc") or shutil.which("gcc")) or not (shutil.which("c++") or shutil.which("g++")):
        pytest.skip("no C/C++ compiler on this machine")
    if subprocess.run([PYTHON3, "-c", "import ensurepip, venv"]).returncode != 0:
        pytest.skip(f"{PYTHON3} has no venv module")
    out = check(tmp_path, BASE + ["cc", "gcc", "c++", "g++"])
    assert out.returncode == 0, out.stderr
    assert "prerequisites ok" in out.stdout and "build llama.cpp" in out.stdout


def test_a_missing_compiler_is_named_with_the_package_to_install(tmp_path):
    if subprocess.run([PYTHON3, "-c", "import ensurepip, venv"]).returncode != 0:
        pytest.skip(f"{PYTHON3} has no venv module")
    out = check(tmp_path, BASE)
    assert out.returncode == 1
    assert "needs a C and a C++ compiler" in out.stderr and "build-essential" in out.stderr


def test_the_scripts_end_with_the_next_command():
    for script in ("setup.sh", "demo.sh"):
        text = (ROOT / "scripts" / script).read_text()
        last_echo = [line for line in text.splitlines() if line.lstrip().startswith("echo ")][-1]
        assert ".venv/bin/bayesbench" in last_echo and "source .venv/bin/activate" in last_echo, script
    assert "--quiet -e" not in (ROOT / "scripts" / "setup.sh").read_text()  # pip shows what it installs
