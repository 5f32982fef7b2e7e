"""perf/leaderboard_rules.py runs on any files in the public leaderboard layout, and says what it needs."""

from __future__ import annotations

import csv
import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from ._shared import REPO

SCRIPT = REPO / "perf" / "leaderboard_rules.py"
QUICK = ["--pairs", "4", "--rank-seeds", "1", "--models", "6", "--skip-overhead"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=600, env=env)


def write_table(path: Path, models: list[str], matrix: np.ndarray, prefix: str) -> None:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["model", *(f"{prefix}_item{j}" for j in range(matrix.shape[1]))])
        for name, row in zip(models, matrix):
            out.writerow([name, *row.tolist()])


def public_layout(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    skill = np.linspace(0.3, 0.9, 30)
    models = [f"org/model-{i}" for i in range(30)]
    data = tmp_path / "leaderboard"
    data.mkdir()
    write_table(data / "M_a.csv.gz", models, (rng.random((30, 40)) < skill[:, None]).astype(int), "a")
    # a second benchmark with two models the first lacks (dropped by the join) and a plain .csv
    extra = models[:28] + ["only/here-1", "only/here-2"]
    write_table(data / "M_b.csv", extra, (rng.random((30, 25)) < 0.6).astype(int), "b")
    (data / "README.md").write_text("not a data file")
    return data


def test_runs_on_files_in_the_public_layout(tmp_path) -> None:
    out = run("--data", str(public_layout(tmp_path)), *QUICK)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("# leaderboard_rules: 28 models x 65 questions")
    for rule in ("anytime", "full_benchmark", "posterior", "fixed"):
        assert f"\n{rule} " in out.stdout
    assert "## Rankings: 6 random models, 1 seeds" in out.stdout


def test_help_says_where_the_data_comes_from() -> None:
    out = run("--help")
    assert out.returncode == 0
    assert "--data DIR" in out.stdout and "Open LLM Leaderboard (v1)" in out.stdout
    assert "header 'model,<question id>,...'" in out.stdout and "../shared/data/open-llm-leaderboard-v1" in out.stdout


def test_missing_or_malformed_data_is_a_clear_error(tmp_path) -> None:
    out = run("--data", str(tmp_path / "nowhere"), *QUICK)
    assert out.returncode == 2 and out.stdout == ""
    assert "is not a directory. Pass --data DIR with the Open LLM Leaderboard v1 per-question results" in out.stderr
    (tmp_path / "empty").mkdir()
    assert "holds no .csv or .csv.gz files" in run("--data", str(tmp_path / "empty"), *QUICK).stderr
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.csv").write_text("model,q1,q2\nm1,1,0\nm2,1,0.5\n")
    out = run("--data", str(bad), *QUICK)
    assert out.returncode == 2 and "x.csv:3: every question value must be 0 or 1, got '0.5'" in out.stderr
    (bad / "x.csv").write_text("name,q1\nm1,1\n")
    assert "the first row must be 'model,<question id>,...'" in run("--data", str(bad), *QUICK).stderr


def test_the_readme_table_data(leaderboard_data) -> None:
    out = run("--data", str(leaderboard_data), *QUICK)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("# leaderboard_rules: 1989 models x 493 questions")
