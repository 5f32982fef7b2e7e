"""The original bayesbench API keeps working (defect 10), and `import bayesbench` stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bayesbench import BayesianBenchmark, BetaPosterior, TaskResult
from bayesbench.stats import make_pair_test


def _report(**settings):
    bench = BayesianBenchmark(seed=0, **settings)

    @bench.task(dataset=list(range(60)), name="first")
    def first(p):
        return 1.0, float(p % 2)

    @bench.task(dataset=list(range(60)), name="second")
    def second(p):
        return float(p % 3 != 0), 1.0

    return bench.run()


def test_task_results_is_a_list_with_lookup_by_name():
    report = _report()
    assert isinstance(report.task_results, list)
    assert all(isinstance(r, TaskResult) for r in report.task_results)
    assert [r.name for r in report.task_results] == ["first", "second"]  # registration order
    assert report.task_results[0].name == "first"
    assert report["second"] is report.task_results[1] is report.task("second") is report[1]
    assert report.task_names == ["first", "second"]
    with pytest.raises(KeyError, match="no task named 'third'.*'first', 'second'"):
        report["third"]
    assert list(report.to_dict()["task_results"]) == ["first", "second"]


@pytest.mark.parametrize("rule", ["posterior", "anytime"])
def test_default_posterior_is_jeffreys_everywhere(rule):
    """BayesianBenchmark(rule="posterior") used Beta(1, 1) while make_pair_test and the docs say Beta(1/2, 1/2)."""
    bench = BayesianBenchmark(rule=rule, seed=0, min_samples=3)
    bench.task(dataset=list(range(40)), name="t")(lambda p: (1.0, 0.0))
    result = bench.run()["t"]
    n = result.problems_tested
    assert isinstance(result.posterior_a, BetaPosterior)
    assert (result.posterior_a.alpha, result.posterior_a.beta) == (0.5 + n, 0.5)
    assert (result.posterior_b.alpha, result.posterior_b.beta) == (0.5, 0.5 + n)
    test = make_pair_test("posterior")
    assert (test.posterior_a.alpha, test.posterior_a.beta) == (0.5, 0.5)


def test_an_explicit_posterior_factory_is_used_as_given():
    bench = BayesianBenchmark(0.95, 0.85, 3, BetaPosterior, rule="posterior", seed=0)
    bench.task(dataset=list(range(40)), name="t")(lambda p: (1.0, 0.0))
    result = bench.run()["t"]
    assert (result.posterior_a.alpha, result.posterior_a.beta) == (1.0 + result.problems_tested, 1.0)


def test_import_does_not_load_scipy():
    """scipy.stats took most of the 1.7-2 s of `import bayesbench`; it loads on first use now."""
    code = ("import sys, bayesbench; bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('scipy', 'rich', 'httpx', 'pandas', 'llama_cpp')); print(bad); assert not bad")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_version_command_does_not_load_scipy():
    code = ("import sys; from bayesbench.cli import main; assert main(['--version']) == 0; "
            "assert not [m for m in sys.modules if m.startswith('scipy')]")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("bayesbench ")
