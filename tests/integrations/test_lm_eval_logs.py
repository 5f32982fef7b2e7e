"""lm-eval ``--log_samples`` output goes straight into compare / rank / ``bayesbench replay``: the paired
sequential test on the items both models scored, with the saving early stopping would have given."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bayesbench as bb
from bayesbench.errors import ConfigError, DatasetError
from bayesbench.integrations import common_scores, load_logs

from .lm_eval_format import write_lm_eval_run

REPO = Path(__file__).resolve().parents[2]


def _scores(p: float, n: int, seed: int) -> list[float]:
    return [float(x) for x in (np.random.default_rng(seed).random(n) < p)]


@pytest.fixture
def two_runs(tmp_path):
    a = write_lm_eval_run(tmp_path, "org/strong", {"arc_easy": _scores(0.85, 300, 1)})
    b = write_lm_eval_run(tmp_path, "org/weak", {"arc_easy": _scores(0.45, 300, 2)})
    return tmp_path, a, b


def test_compare_takes_two_models_logs_and_matches_the_raw_scores(two_runs):
    _, a, b = two_runs
    from_logs = bb.compare(a, b)
    raw = bb.compare(_scores(0.85, 300, 1), _scores(0.45, 300, 2), names=("org/strong", "org/weak"))
    assert from_logs.model_a_name == "org/strong" and from_logs.model_b_name == "org/weak"
    assert from_logs.winner_name == "org/strong"
    assert from_logs.problems_tested < 300  # early stopping saved problems
    assert (from_logs.problems_tested, from_logs.mean_a, from_logs.mean_b) == (
        raw.problems_tested, raw.mean_a, raw.mean_b)


def test_only_the_first_filter_of_a_document_counts(tmp_path):
    strict = _scores(0.6, 50, 3)
    run = write_lm_eval_run(tmp_path, "org/m", {"gsm8k": strict}, metric="exact_match",
                            filters=("strict-match", "flexible-extract"))
    bank = load_logs(run)
    assert bank.n_items == 50 and list(bank.row("org/m")) == strict


def test_models_are_paired_on_the_items_both_scored(tmp_path):
    write_lm_eval_run(tmp_path, "org/a", {"arc_easy": _scores(0.7, 300, 4)})
    write_lm_eval_run(tmp_path, "org/b", {"arc_easy": _scores(0.5, 200, 5)}, doc_ids=range(100, 300))
    matrix, items = common_scores(load_logs(tmp_path))
    assert len(items) == 200 and items[0] == "arc_easy/100" and items[-1] == "arc_easy/299"
    assert matrix["org/a"] == _scores(0.7, 300, 4)[100:]


def test_rank_takes_a_directory_of_runs(tmp_path):
    for name, p, seed in [("org/best", 0.9, 6), ("org/mid", 0.55, 7), ("org/worst", 0.2, 8)]:
        write_lm_eval_run(tmp_path, name, {"arc_easy": _scores(p, 300, seed), "hellaswag": _scores(p, 200, seed + 9)})
    result = bb.rank(tmp_path)
    assert result.order == ["org/best", "org/mid", "org/worst"]
    assert result.total_problems == 500


def test_replay_cli_reads_lm_eval_logs(two_runs):
    root, _, _ = two_runs
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    out = subprocess.run([sys.executable, "-m", "bayesbench.cli", "replay", str(root), "--json"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["full_run"]["problems"] == 300 and payload["full_run"]["leader"] == "org/strong"
    assert payload["early_stopping"]["problems_tested"] < 300
    assert "300 item(s) scored by all of org/strong, org/weak" in out.stderr


def test_clear_errors(tmp_path, two_runs):
    root, a, _ = two_runs
    with pytest.raises(DatasetError, match="does not exist"):
        load_logs(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="not a log bayesbench can read"):
        load_logs(tmp_path / "empty")
    with pytest.raises(DatasetError, match="holds the logs of 2 models"):
        bb.compare(root, a)
    with pytest.raises(ConfigError, match="not one of each"):
        bb.compare(a, [1.0, 0.0])
    other = write_lm_eval_run(tmp_path / "x", "org/other", {"gsm8k": [1.0, 0.0]}, metric="exact_match")
    with pytest.raises(DatasetError, match="share no scored item"):
        bb.compare(a, other)
    with pytest.raises(DatasetError, match="no metric"):
        load_logs(a, metric="f1")
