"""Every figure is rendered to a real file and checked: a valid PNG/SVG, and the artists it should hold."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason='needs the plots extra: pip install "bayesbench[plots]"')

from PIL import Image  # noqa: E402 (pillow comes with matplotlib)

import bayesbench as bb  # noqa: E402
from bayesbench import BayesianBenchmark, ConfigError, plots  # noqa: E402


def check_png(path, min_px=(400, 200)):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        assert im.size[0] >= min_px[0] and im.size[1] >= min_px[1]
        # not a blank canvas: many distinct colours were drawn
        assert len(im.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 20


def check_svg(path):
    assert path.stat().st_size > 5000
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")


def by_gid(ax, gid):
    return [a for a in ax.get_children() if a.get_gid() == gid]


def errorbars(ax):
    """The errorbar containers of ``ax`` (their gid is on every artist they hold)."""
    return list(ax.containers)


def legend_texts(ax):
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend is not None else []


@pytest.fixture(scope="module")
def decided():
    rng = np.random.default_rng(3)
    a = (rng.random(600) < 0.75).astype(float)
    b = (rng.random(600) < 0.45).astype(float)
    return bb.compare(a, b, names=("strong", "weak"), seed=1, batch_size=8)


def test_stopping_path_png(decided, tmp_path):
    result = decided
    assert result.winner == "model_a" and result.problems_tested < 600
    p = result.stopping_path
    # one entry per batch, ending at the stop, with the engine's own final numbers
    assert p.n == sorted(p.n) and p.n[-1] == result.problems_tested
    assert len(p) == math.ceil(result.problems_tested / 8)
    assert math.exp(p.log_e_a[-1]) == pytest.approx(result.e_values["A"])
    assert (p.cs_low[-1], p.cs_high[-1]) == pytest.approx(result.ci)
    assert p.cs_low[-1] > 0 and p.log_e_a[-1] >= p.log_threshold > p.log_e_a[-2]
    assert all(lo2 >= lo1 - 1e-12 for lo1, lo2 in zip(p.cs_low, p.cs_low[1:]))  # the CS only narrows

    out = tmp_path / "path.png"
    fig = result.plot(path=out)
    check_png(out)
    ax_e, ax_cs = fig.axes
    (e_a,), (e_b,) = by_gid(ax_e, "e_a"), by_gid(ax_e, "e_b")
    assert list(e_a.get_xdata()) == p.n and len(e_b.get_ydata()) == len(p)
    (threshold,) = by_gid(ax_e, "threshold")
    assert threshold.get_ydata()[0] == pytest.approx(2 / 0.05)
    assert ax_e.get_yscale() == "log"
    for ax in (ax_e, ax_cs):
        (stop,) = by_gid(ax, "stop")
        assert stop.get_xdata()[0] == result.problems_tested
    (marker,) = by_gid(ax_e, "stop_marker")
    assert marker.get_xdata()[0] == result.problems_tested and marker.get_ydata()[0] >= 40
    labels = legend_texts(ax_e)
    assert "strong better than weak" in labels and "weak better than strong" in labels
    assert any(f"strong wins at n = {result.problems_tested}" in t for t in labels)
    assert "strong" in fig.texts[0].get_text() and "weak" in ax_cs.get_ylabel()


def test_stopping_path_svg_and_undecided(tmp_path):
    same = [1.0, 0.0] * 40
    result = bb.compare(same, same, names=("x", "y"), seed=0)
    assert result.winner is None
    out = tmp_path / "tie.svg"
    fig = plots.stopping_path(result, path=out, title="two equal models")
    check_svg(out)
    assert fig.texts[0].get_text() == "two equal models"
    assert not by_gid(fig.axes[0], "stop_marker")  # no side crossed: the stop is a line, not a winner's star
    assert by_gid(fig.axes[0], "stop")[0].get_xdata()[0] == result.problems_tested == 80
    assert any("undecided" in t for t in legend_texts(fig.axes[0]))


def test_benchmark_report_one_panel_per_task(tmp_path):
    rng = np.random.default_rng(4)
    a, b = rng.random(300) < 0.85, rng.random(300) < 0.45
    problems = [{"id": i} for i in range(300)]
    bench = BayesianBenchmark(seed=4)

    @bench.task(dataset=problems, name="clear")
    def clear(problem):
        return float(a[problem["id"]]), float(b[problem["id"]])

    @bench.task(dataset=problems[:60], name="even")
    def even(problem):
        return 0.5, 0.5

    report = bench.run()
    out = tmp_path / "report.png"
    fig = report.plot(path=out)
    check_png(out)
    assert len(fig.axes) == 4  # (e-values, CS) per task
    for (ax_e, _ax_cs), result in zip([fig.axes[0:2], fig.axes[2:4]], report.task_results):
        assert ax_e.get_title(loc="left").startswith(result.name)
        assert by_gid(ax_e, "stop")[0].get_xdata()[0] == result.problems_tested


def test_ranking_png(tmp_path):
    rng = np.random.default_rng(5)
    matrix = {f"m{i}": (rng.random(500) < 0.3 + 0.12 * i).astype(float) for i in range(4)}
    matrix["m3_twin"] = matrix["m3"].copy()
    result = bb.rank(matrix, seed=0)
    out = tmp_path / "rank.png"
    fig = result.plot(path=out)
    check_png(out)
    ax, right = fig.axes
    (points,) = by_gid(ax, "scores")
    assert list(points.get_xdata()) == pytest.approx([m.score for m in result.ranking])
    (intervals,) = by_gid(ax, "intervals")
    segments = [(float(s[0, 0]), float(s[1, 0])) for s in intervals.get_segments()]
    assert [c for s in segments for c in s] == pytest.approx([c for m in result.ranking for c in m.ci])
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert [n.split(" ", 1)[1].split("  ")[0] for n in names] == result.order
    assert len(by_gid(ax, "tie")) == sum(len(g) - 1 for g in result.tie_groups) >= 1  # m3 ~ m3_twin at least
    claims = [t.get_text() for t in right.get_yticklabels()]
    rank_of = {m: i + 1 for i, m in enumerate(result.order)}
    for model, text in zip(result.order, claims):
        beaten = sorted(rank_of[w] for b, w in result.claims if b == model)
        assert text == ("> " + ", ".join(f"#{k}" for k in beaten) if beaten else "—")
    assert claims[0] != "—" and claims[-1] == "—"
    assert f"{len(result.claims)} certified claim(s)" in ax.get_title()
    # the dict form (a stored run's summary) draws the same
    fig2 = plots.ranking(result.to_dict(), path=tmp_path / "rank.svg")
    check_svg(tmp_path / "rank.svg")
    assert [t.get_text() for t in fig2.axes[0].get_yticklabels()] == names


def test_latency_ecdf_and_violin(tmp_path):
    rng = np.random.default_rng(6)
    lat = {"fast": list(rng.lognormal(np.log(0.05), 0.3, 200)), "slow": list(rng.lognormal(np.log(0.8), 0.5, 50))}
    fig = plots.latency(lat, path=tmp_path / "lat.png")
    check_png(tmp_path / "lat.png")
    (ax,) = fig.axes
    lines = by_gid(ax, "ecdf")
    assert len(lines) == 2 and ax.get_xscale() == "log"
    assert sorted(lat["fast"]) == pytest.approx(list(lines[0].get_xdata()))
    assert lines[0].get_ydata()[-1] == pytest.approx(1.0)
    labels = legend_texts(ax)
    assert labels[0].startswith("fast (n=200") and f"p50 {np.median(lat['slow']):.3g}s" in labels[1]

    # an executor's own call records (no store): one list per model, live calls only
    from bayesbench.execution import Executor

    executor = Executor(max_concurrency=2)
    bb.BayesianBenchmark(seed=0, executor=executor).compare(lambda p: "y", lambda p: "n", lambda p, r: float(r == "y"),
                                                            list(range(40)))
    recorded = plots.call_latencies(executor)
    assert sorted(recorded) == ["model_a", "model_b"] and all(x > 0 for v in recorded.values() for x in v)
    assert len(recorded["model_a"]) == sum(1 for r in executor.records if r.model == "model_a")
    executor.close()

    fig = plots.latency(lat, kind="violin", path=tmp_path / "lat.svg")
    check_svg(tmp_path / "lat.svg")
    assert len(by_gid(fig.axes[0], "violin")) == 2
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["fast (n=200)", "slow (n=50)"]


def test_cost_accuracy_frontier(tmp_path):
    points = [
        {"model": "local-small", "accuracy": 0.41, "accuracy_low": 0.35, "accuracy_high": 0.47, "cost_per_1000": 0.02,
         "latency_p50_s": 0.3, "latency_p95_s": 0.9, "throughput_rps": 3.1},
        {"model": "local-big", "accuracy": 0.55, "accuracy_low": 0.49, "accuracy_high": 0.61, "cost_per_1000": 0.2},
        {"model": "api", "accuracy": 0.82, "accuracy_low": 0.78, "accuracy_high": 0.86, "cost_per_1000": 4.0},
        {"model": "worse-api", "accuracy": 0.50, "accuracy_low": 0.44, "accuracy_high": 0.56, "cost_per_1000": 6.0},
        {"model": "unpriced", "accuracy": 0.6, "accuracy_low": 0.5, "accuracy_high": 0.7, "cost_per_1000": None},
    ]
    assert plots.frontier(points[:4]) == ["local-small", "local-big", "api"]
    fig = plots.cost_accuracy(points, path=tmp_path / "cost.png")
    check_png(tmp_path / "cost.png")
    (ax,) = fig.axes
    assert len(errorbars(ax)) == 4 and ax.get_xscale() == "log"
    (front,) = by_gid(ax, "frontier")
    assert list(front.get_xdata()) == [0.02, 0.2, 4.0]
    labels = legend_texts(ax)
    assert any(t.startswith("local-small ($0.02/1000, p50 0.3s, p95 0.9s, 3.1 req/s)") for t in labels)
    assert "not shown (no cost or accuracy): unpriced" in ax.get_title()
    with pytest.raises(ConfigError, match="no point has both"):
        plots.cost_accuracy([points[-1]])
    keyed = plots.cost_accuracy({p["model"]: {k: v for k, v in p.items() if k != "model"} for p in points[:2]})
    assert len(errorbars(keyed.axes[0])) == 2


def _samples(n, gpu):
    return [{"t_s": 0.5 * (i + 1), "process_cpu_percent": 50.0 + i, "system_cpu_percent": 80.0,
             "rss_bytes": (100 + i) * 2**20, "gpu_util_percent": (30.0 + i) if gpu else None,
             "gpu_memory_bytes": (2**30 if gpu else None)} for i in range(n)]


def test_resources_with_and_without_gpu(tmp_path):
    report = {"interval_s": 0.5, "samples": _samples(20, gpu=False), "peak_rss_bytes": 119 * 2**20,
              "mean_process_cpu_percent": 59.5, "gpu": None}
    fig = plots.resources(report, path=tmp_path / "res.png")
    check_png(tmp_path / "res.png")
    assert len(fig.axes) == 2
    (rss,) = by_gid(fig.axes[1], "rss_bytes")
    assert list(rss.get_ydata()) == [100.0 + i for i in range(20)]  # MiB
    assert len(by_gid(fig.axes[0], "process_cpu_percent")) == len(by_gid(fig.axes[0], "system_cpu_percent")) == 1
    assert "peak RSS 119 MiB" in fig.texts[0].get_text() and "no GPU data" in fig.texts[0].get_text()

    report = dict(report, samples=_samples(10, gpu=True), gpu={"name": "Mock GPU"})
    fig = plots.resources(report, path=tmp_path / "res.svg")
    check_svg(tmp_path / "res.svg")
    assert len(fig.axes) == 4  # cpu, rss, gpu util and its twin axis for gpu memory
    assert list(by_gid(fig.axes[2], "gpu_util_percent")[0].get_ydata()) == [30.0 + i for i in range(10)]
    assert "GPU: Mock GPU" in fig.texts[0].get_text()


def test_suite_result_plots(tmp_path):
    from bayesbench.benchmarks import BigBenchHard, BigBenchHardTask

    suite = BigBenchHard(tasks=[BigBenchHardTask.NAVIGATE, BigBenchHardTask.SPORTS_UNDERSTANDING], n_shots=0,
                         n_problems_per_task=12)
    result = suite.evaluate(lambda prompt: "Yes" if len(prompt) % 2 else "No", model_name="parity")
    fig = result.plot(path=tmp_path / "suite.png")
    check_png(tmp_path / "suite.png")
    (ax,) = fig.axes
    (points,) = errorbars(ax)
    assert list(points.lines[0].get_xdata()) == pytest.approx(
        [result.overall_accuracy.value] + [e.value for e in result.task_scores.values()])
    assert [t.get_text() for t in ax.get_yticklabels()][0] == f"overall (n={result.n_problems})"
    assert "parity" in ax.get_title()


def test_suite_head_to_head_plots(tmp_path):
    from bayesbench.benchmarks import BigBenchHard, BigBenchHardTask, compare_models

    suite = BigBenchHard(tasks=[BigBenchHardTask.SPORTS_UNDERSTANDING], n_shots=0, n_problems_per_task=120)
    expected = {p["prompt"]: p["expected_output"] for p in suite.problems()}
    right = lambda prompt: expected[prompt]
    flipped = lambda prompt: "no" if expected[prompt] == "yes" else "yes"
    h2h = compare_models(right, flipped, "right", "flipped", benchmark=suite, confidence=0.95)
    assert h2h.winner == "right"
    fig = h2h.plot(path=tmp_path / "h2h.png")
    check_png(tmp_path / "h2h.png")
    assert by_gid(fig.axes[0], "stop")[0].get_xdata()[0] == h2h.problems_tested
    assert "right better than flipped" in legend_texts(fig.axes[0])


def test_bad_input_is_a_clear_error(decided, tmp_path):
    with pytest.raises(ConfigError, match=r"must end in \.png or \.svg"):
        decided.plot(path=tmp_path / "x.jpg")
    with pytest.raises(ConfigError, match="must be a TaskResult"):
        plots.stopping_path({"not": "a result"})
    with pytest.raises(ConfigError, match="positive finite seconds"):
        plots.latency({"m": [0.1, -1.0]})
    with pytest.raises(ConfigError, match="`kind` must be one of"):
        plots.latency({"m": [0.1]}, kind="box")
    with pytest.raises(ConfigError, match="non-empty `samples`"):
        plots.resources({"samples": []})
    assert not (tmp_path / "x.jpg").exists()
