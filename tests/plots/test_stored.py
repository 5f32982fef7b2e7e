"""Figures of runs recorded in a real SQLite store: the stopping path rebuilt by replaying the recorded
scores (checked against what the live run decided), and `bayesbench plot` as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib", reason='needs the plots extra: pip install "bayesbench[plots]"')

from bayesbench import BayesianBenchmark, BayesianRanker, StoreError, plots  # noqa: E402
from bayesbench.cli import main as cli_main  # noqa: E402
from bayesbench.models import openai_model  # noqa: E402
from bayesbench.plots._stored import replay_pair_run  # noqa: E402
from bayesbench.store import Store  # noqa: E402

from .test_figures import by_gid, check_png, check_svg  # noqa: E402

SRC = str(Path(__file__).resolve().parents[2] / "src")


def grade(problem, response):
    return float(response.strip() == "right")


def answer_by_model(request):
    """'good' is always right; 'coin' is right on even question numbers."""
    number = int(request.prompt.rsplit("q", 1)[1])
    return "right" if request.body["model"] == "good" or number % 2 == 0 else "wrong"


@pytest.fixture
def recorded(fake_server, tmp_path):
    fake_server.answer = answer_by_model
    fake_server.latency_s = 0.01
    db = tmp_path / "runs.sqlite"
    bench = BayesianBenchmark(seed=3, store=str(db), max_concurrency=8)
    good = openai_model("good", base_url=fake_server.openai_base_url)
    coin = openai_model("coin", base_url=fake_server.openai_base_url)
    problems = [f"question q{i}" for i in range(240)]
    result = bench.compare(good, coin, grade, problems, model_a_name="good", model_b_name="coin")
    return db, result


def cli(*args, cwd):
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "bayesbench.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)


def test_replayed_path_is_the_live_one(recorded):
    db, live = recorded
    assert live.winner == "model_a" and live.problems_tested < 240 and live.run_id
    replayed = replay_pair_run(str(db), live.run_id)
    assert replayed.stopping_path == live.stopping_path
    assert (replayed.problems_tested, replayed.status, replayed.ci) == (live.problems_tested, live.status, live.ci)
    assert (replayed.model_a_name, replayed.model_b_name) == ("good", "coin")
    # and both are what the live run wrote to the store's decisions table, batch by batch
    with Store(db) as store:
        decisions = store.decisions(live.run_id)
    assert [d["n"] for d in decisions] == live.stopping_path.n
    assert [d["log_evalues"]["A"] for d in decisions] == pytest.approx(live.stopping_path.log_e_a)


def test_cli_plot_path_and_latency(recorded, tmp_path, monkeypatch, capsys):
    db, live = recorded
    out = tmp_path / "figs" / "path.png"
    done = cli("plot", live.run_id, "--store", str(db), "--out", str(out), cwd=tmp_path)  # the real command
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    check_png(out)

    monkeypatch.chdir(tmp_path)  # the same entry point in-process from here on (a subprocess each is slow)
    assert cli_main(["plot", live.run_id, "--store", str(db), "--kind", "latency", "--out", "lat.svg"]) == 0
    check_svg(tmp_path / "lat.svg")
    # the figure holds every live call of each model, each at least the server's latency
    fig = plots.stored_run(str(db), live.run_id, kind="latency")
    lines = by_gid(fig.axes[0], "ecdf")
    latencies = plots.call_latencies(str(db), live.run_id)
    assert sorted(latencies) == ["coin", "good"] and len(lines) == 2
    assert all(min(v) >= 0.01 for v in latencies.values())
    assert len(latencies["good"]) == live.usage["models"]["good"]["calls"] - live.usage["models"]["good"]["cached"]

    assert cli_main(["plot", live.run_id, "--store", str(db)]) == 0  # default name, in the working folder
    check_png(tmp_path / f"bayesbench-{live.run_id[:12]}.png")
    assert capsys.readouterr().out.splitlines()[-1] == f"bayesbench-{live.run_id[:12]}.png"


def test_cli_plot_bad_input(recorded, tmp_path, monkeypatch, capsys):
    db, live = recorded
    done = cli("plot", "nope", "--store", str(db), cwd=tmp_path)
    assert done.returncode == 2 and "no run with id 'nope'" in done.stderr and live.run_id in done.stderr
    monkeypatch.chdir(tmp_path)
    for args, message in (
        (["--store", str(tmp_path / "missing.sqlite")], "does not exist"),
        (["--store", str(db), "--kind", "ranking"], "not a ranking"),
        (["--store", str(db), "--out", "x.pdf"], "must end in .png or .svg"),
    ):
        assert cli_main(["plot", live.run_id, *args]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "missing.sqlite").exists()  # never creates an empty store
    assert not list(tmp_path.glob("*.png")) and not (tmp_path / "x.pdf").exists()


def test_stored_ranking(tmp_path):
    db = tmp_path / "rank.sqlite"
    ranker = BayesianRanker(seed=1, store=str(db))
    for name, every in (("top", 1), ("mid", 2), ("low", 5)):
        ranker.add_model(name, lambda p, every=every: float(p % every == 0))
    result = ranker.rank(list(range(300)), score_fn=lambda p, r: r)
    assert result.run_id
    done = cli("plot", result.run_id, "--store", str(db), "--out", "rank.png", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    check_png(tmp_path / "rank.png")
    fig = plots.stored_run(Store(db), result.run_id)
    names = [t.get_text().split(" ", 1)[1].split("  ")[0] for t in fig.axes[0].get_yticklabels()]
    assert names == result.order == ["top", "mid", "low"]
    with pytest.raises(StoreError, match="did not finish"):
        with Store(db) as store:
            rid = store.start_run("ranking", {"kind": "rank"}, 0, ["0"])
            plots.stored_run(store, rid, kind="ranking")


def test_matplotlib_missing_is_the_install_line(tmp_path):
    """Without matplotlib, `import bayesbench.plots` works and drawing names the extra; `import bayesbench`
    never imports matplotlib."""
    code = (
        "import sys\n"
        "import bayesbench\n"
        "assert 'matplotlib' not in sys.modules\n"
        "sys.modules['matplotlib'] = None\n"  # as if not installed
        "import bayesbench.plots as p\n"
        "r = bayesbench.compare([1, 0, 1, 1] * 5, [0, 0, 1, 0] * 5, seed=0)\n"
        "try:\n"
        "    r.plot()\n"
        "except bayesbench.MissingDependencyError as e:\n"
        "    print(e)\n"
    )
    env = dict(os.environ, PYTHONPATH=SRC)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert 'pip install "bayesbench[plots]"' in done.stdout and "matplotlib" in done.stdout
