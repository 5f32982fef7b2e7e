"""The `bayesbench` command as a user runs it: real subprocesses, exit codes, JSON output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import bayesbench

from .._shared import LEADERBOARD, shared_data

BAYESBENCH = [sys.executable, "-m", "bayesbench.cli"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([*BAYESBENCH, *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env)


BENCH_FILE = textwrap.dedent(
    """
    from bayesbench import BayesianBenchmark

    problems = [{"id": i, "answer": "right"} for i in range(300)]
    bench = BayesianBenchmark(seed=0)

    @bench.task(dataset=problems, name="strong_vs_weak")
    def strong_vs_weak(problem):
        return 1.0, float(problem["id"] % 3 == 0)
    """
)


def test_version():
    out = run("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"bayesbench {bayesbench.__version__}"


def test_run_file_with_flags_and_json(tmp_path):
    f = tmp_path / "my_benchmark.py"
    f.write_text(BENCH_FILE)
    out = run(str(f), "--confidence", "0.99", "--min-samples", "10", "--skip-threshold", "0.90", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    task = data["bench"]["task_results"]["strong_vs_weak"]
    assert task["winner"] == "model_a" and task["confidence"] == 0.99
    assert 10 <= task["problems_tested"] < 300
    text = run(str(f), "--quiet")
    assert text.returncode == 0 and "winner: model_a" in text.stdout


def test_run_suite_file(tmp_path):
    f = tmp_path / "suite_file.py"
    f.write_text(textwrap.dedent(
        """
        from bayesbench import suite

        @suite(confidence=0.95, seed=1)
        class EvalSuite:
            dataset = list(range(200))
            task_parity = staticmethod(lambda p: (1.0, float(p % 2)))
        """
    ))
    out = run(str(f), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["EvalSuite"]["winners"] == {"parity": "model_a"}


@pytest.mark.parametrize(
    "content, args, code, message",
    [
        (None, [], 2, "does not exist"),
        ("x = 1\n", [], 2, "defines nothing to run"),
        (BENCH_FILE, ["--confidence", "1.5"], 2, "`confidence` must be in (0.5, 1), got 1.5"),
        ("from bayesbench import BayesianBenchmark, RetryPolicy\n"
         "bench = BayesianBenchmark(seed=0, retry=RetryPolicy(max_attempts=1))\n"
         "@bench.task(dataset=[1, 2, 3])\n"
         "def t(p):\n    raise ConnectionError('no route to model')\n", [], 3, "no route to model"),
    ],
)
def test_exit_codes(tmp_path, content, args, code, message):
    target = "missing.py"
    if content is not None:
        target = str(tmp_path / "b.py")
        Path(target).write_text(content)
    out = run(target, *args, "--quiet")
    assert out.returncode == code, (out.stdout, out.stderr)
    assert message in out.stderr


def write_matrix(path: Path, rows: dict[str, list[float]]) -> None:
    n = len(next(iter(rows.values())))
    lines = ["model," + ",".join(f"q{i}" for i in range(n))]
    lines += [name + "," + ",".join(str(int(v)) for v in vals) for name, vals in rows.items()]
    path.write_text("\n".join(lines) + "\n")


def test_replay_pair_and_ranking(tmp_path):
    rng = np.random.default_rng(0)
    rows = {m: list(rng.random(800) < p) for m, p in [("m90", 0.9), ("m60", 0.6), ("m30", 0.3)]}
    csv = tmp_path / "matrix.csv"
    write_matrix(csv, rows)
    pair = run("replay", str(csv), "--models", "m90,m60", "--json")
    assert pair.returncode == 0, pair.stderr
    data = json.loads(pair.stdout)
    assert data["early_stopping"]["winner_name"] == "m90"
    assert data["early_stopping"]["problems_tested"] < data["full_run"]["problems"] == 800
    ranking = run("replay", str(csv))
    assert ranking.returncode == 0, ranking.stderr
    assert "Rank 1: m90" in ranking.stdout and "Full run order by mean: m90 > m60 > m30" in ranking.stdout
    bad = run("replay", str(csv), "--models", "m90,m61")
    assert bad.returncode == 2 and "did you mean 'm60'" in bad.stderr


def test_replay_on_real_leaderboard_results():
    """Two real LLMs' recorded answers (Open LLM Leaderboard v1), as shipped beside the repo."""
    path = shared_data(f"{LEADERBOARD}/M_tinyhellaswag.csv.gz")  # skips without ../shared, fails under CI=true
    out = run("replay", str(path), "--random-models", "2", "--pick-seed", "3", "--rule", "full_benchmark", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    early, full = data["early_stopping"], data["full_run"]
    assert early["total_problems"] == full["problems"] == 97
    # bank mode answers "what would the full run say?": it always ends with a verdict by the end of the
    # bank, and the verdict is the full run's leader (None only on an exact tie)
    assert early["status"] in ("A", "B", "EQUIVALENT")
    assert early["winner_name"] == full["leader"]


def test_run_with_a_store_records_and_reuses(tmp_path):
    f = tmp_path / "my_benchmark.py"
    f.write_text(BENCH_FILE)
    db = tmp_path / "runs.sqlite"
    first = run(str(f), "--store", str(db), "--json")
    second = run(str(f), "--store", str(db), "--json")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    a = json.loads(first.stdout)["bench"]["task_results"]["strong_vs_weak"]
    b = json.loads(second.stdout)["bench"]["task_results"]["strong_vs_weak"]
    assert a["run_id"] and b["run_id"] and a["run_id"] != b["run_id"]
    assert (a["winner"], a["problems_tested"]) == (b["winner"], b["problems_tested"])
    assert b["usage"]["models"]["strong_vs_weak"]["cached"] == b["usage"]["models"]["strong_vs_weak"]["calls"]


def test_replay_has_no_money_budget():
    """Replaying recorded scores costs nothing: --max-cost-usd is not offered, and refused if passed."""
    root = Path(__file__).resolve().parents[2]
    assert "--max-cost-usd" not in run("replay", "--help").stdout
    out = run("replay", "examples/recorded_scores.csv", "--max-cost-usd", "1", cwd=root)
    assert out.returncode == 2 and "unrecognized arguments: --max-cost-usd" in out.stderr


# ---------------------------------------------------------------- first contact: help, warnings, messages
def test_top_level_help_lists_the_run_flags_and_commands():
    out = run("--help")
    assert out.returncode == 0
    assert out.stdout.startswith("usage: bayesbench ")
    for text in ("--confidence", "--store", "--equivalence-margin", "--timeout", "bayesbench replay MATRIX.csv",
                 "bayesbench demo", "exit codes"):
        assert text in out.stdout, text
    assert "``" not in out.stdout and ":class:" not in out.stdout
    bare = run()
    assert bare.returncode == 2 and bare.stderr.startswith("usage: bayesbench ")


def test_subcommand_help_names_the_subcommand():
    assert run("run", "--help").stdout.startswith("usage: bayesbench run ")
    assert run("replay", "--help").stdout.startswith("usage: bayesbench replay ")


def test_demo_help_explains_every_flag():
    out = run("demo", "--help")
    assert out.returncode == 0, out.stderr
    helps = dict(re.findall(r"^  (--[a-z-]+)[^\n]*?\s{2,}(\S[^\n]*)$", out.stdout, re.M))
    for flag in ("--problems", "--rule", "--confidence", "--seed", "--threads", "--store", "--json"):
        assert flag in out.stdout
    assert "1 - alpha" in out.stdout and "seed of the problem shuffle" in out.stdout, helps


def test_skip_threshold_without_a_margin_warns(tmp_path):
    f = tmp_path / "b.py"
    f.write_text(BENCH_FILE)
    out = run(str(f), "--skip-threshold", "0.9", "--quiet")
    assert out.returncode == 0, out.stderr
    assert "--skip-threshold has no effect without --equivalence-margin" in out.stderr
    quiet = run(str(f), "--skip-threshold", "0.9", "--equivalence-margin", "0.05", "--quiet")
    assert quiet.returncode == 0 and "no effect" not in quiet.stderr


def test_a_bad_flag_value_is_reported_under_its_flag(tmp_path):
    f = tmp_path / "b.py"
    f.write_text(BENCH_FILE)
    out = run(str(f), "--confidence", "1.5", "--quiet")
    assert out.returncode == 2
    assert "bayesbench: error: --confidence: `confidence` must be in (0.5, 1), got 1.5" in out.stderr


def test_a_model_that_is_not_callable_is_bad_input_named_as_the_user_named_it(tmp_path):
    f = tmp_path / "b.py"
    f.write_text(
        "from bayesbench import benchmark\n"
        "@benchmark(model_a='gpt-4o-mini', model_b=str, dataset=[1, 2, 3])\n"
        "def exact_match(problem, response):\n    return 1.0\n"
    )
    out = run(str(f), "--quiet")
    assert out.returncode == 2, out.stderr
    assert "model 'model_a' must be a callable" in out.stderr and "'gpt-4o-mini'" in out.stderr
    assert "openai_model('gpt-4o-mini')" in out.stderr  # a model name alone: how to make it a model


def test_a_bad_score_names_the_users_function(tmp_path):
    f = tmp_path / "b.py"
    f.write_text(
        "from bayesbench import benchmark\n"
        "@benchmark(model_a=str, model_b=str, dataset=[1, 2, 3], seed=0)\n"
        "def exact_match(problem, response):\n    return 7.0\n"
    )
    out = run(str(f), "--quiet")
    assert out.returncode == 2
    assert "score function 'exact_match' on problem #" in out.stderr and "score_fn" not in out.stderr
    assert "--score-range LOW HIGH" in out.stderr  # the CLI form of the advice, too


def test_a_failed_model_shows_cli_advice_and_the_results_so_far(tmp_path):
    f = tmp_path / "b.py"
    f.write_text(
        "from bayesbench import BayesianBenchmark, RetryPolicy\n"
        "bench = BayesianBenchmark(seed=0, batch_size=2, retry=RetryPolicy(max_attempts=1))\n"
        "@bench.task(dataset=list(range(20)))\n"
        "def flaky(p):\n"
        "    if p == 7:\n        raise ConnectionError('connection refused.')\n"
        "    return 1.0, 0.0\n"
    )
    out = run(str(f), "--quiet", "--min-samples", "50")
    assert out.returncode == 3
    assert "connection refused." in out.stderr and ".." not in out.stderr
    assert "--on-error zero" in out.stderr
    assert "results so far" in out.stderr and "flaky:" in out.stderr


def test_progress_is_shown_as_plain_lines_when_piped(tmp_path):
    f = tmp_path / "b.py"
    f.write_text(BENCH_FILE)
    out = run(str(f))
    assert out.returncode == 0, out.stderr
    lines = out.stderr.splitlines()
    assert lines[0].startswith("[strong_vs_weak] 0/300 problems") and "first batch is in flight" in lines[0]
    assert lines[-1].endswith("done: model_a")
    assert "winner: model_a" in out.stdout and "[strong_vs_weak]" not in out.stdout


def test_replay_warns_about_an_unused_skip_threshold():
    root = Path(__file__).resolve().parents[2]
    out = run("replay", "examples/recorded_scores.csv", "--skip-threshold", "0.9", cwd=root)
    assert out.returncode == 0, out.stderr
    assert "--skip-threshold has no effect without --equivalence-margin" in out.stderr
