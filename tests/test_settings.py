"""One source of run configuration: every front door, the CLI flags, run_config and docs/engine.md derive from
RunSettings' fields, so a setting added there reaches every door (and a typo anywhere is refused)."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

import bayesbench
from bayesbench import (
    BayesianBenchmark,
    BayesianRanker,
    BetaPosterior,
    ConfigError,
    NormalPosterior,
    RetryPolicy,
    benchmark,
    suite,
)
from bayesbench.engine import RunSettings
from bayesbench.engine._journal import run_config
from bayesbench.engine._settings import RunOptions, names
from bayesbench.errors import UnknownSettingError
from bayesbench.ops import CostModel

ROOT = Path(__file__).resolve().parents[1]

def _factory():
    return NormalPosterior(mu_0=0.3)


# A valid value different from the default, for every field: a new field without one fails here first.
CHANGED = {
    "confidence": 0.9,
    "skip_threshold": 0.8,
    "min_samples": 7,
    "posterior_factory": _factory,
    "rule": "fixed",
    "equivalence_margin": 0.05,
    "seed": 11,
    "batch_size": 4,
    "max_concurrency": 3,
    "max_problems": 50,
    "max_cost_usd": 2.5,
    "on_error": "zero",
    "retry": RetryPolicy(max_attempts=2),
    "timeout": 9.0,
    "execution": "ray",
    "score_range": (0.0, 2.0),
    "goal": "top1",
    # a bank CSV (what --history takes); an ItemBank or a HistoryMixture work the same way
    "history": str(ROOT / "tests" / "history" / "fixtures" / "mixture_bank.csv"),
    "n_runs": 3,
    "reduce": "majority",
    "monitor_resources": False,
    "cost_models": {"local": CostModel(hourly_usd=1.5)},
}
FIELDS = [f.name for f in fields(RunSettings)]


def test_every_field_has_help_and_a_changed_value():
    assert set(CHANGED) == set(FIELDS)
    for f in fields(RunSettings):
        assert f.metadata["help"].strip(), f.name
        assert CHANGED[f.name] != f.default, f.name
    RunSettings(**CHANGED)  # all valid together


def _pair_doors():
    """(name, build(settings) -> the RunSettings the door ended up with) for the two-model doors."""

    def bench(kw):
        return BayesianBenchmark(**kw).settings

    def deco(kw):
        return benchmark(model_a=str, model_b=str, dataset=[1], **kw)(lambda p, r: 1.0).bench.settings

    def suite_door(kw):
        @suite(**kw)
        class S:
            dataset = [1]
            task_x = staticmethod(lambda p: (1.0, 0.0))

        return S.bench.settings

    def configure(kw):
        return BayesianBenchmark().configure(**kw).settings

    return [("BayesianBenchmark", bench), ("benchmark", deco), ("suite", suite_door), ("configure", configure)]


@pytest.mark.parametrize("name", [n for n in FIELDS if n in names(ranking=False)])
@pytest.mark.parametrize("door", _pair_doors(), ids=lambda d: d[0])
def test_pair_doors_pass_every_setting_through(door, name):
    settings = door[1]({name: CHANGED[name]})
    assert getattr(settings, name) == CHANGED[name]


@pytest.mark.parametrize("name", FIELDS)
def test_ranker_passes_every_setting_through(name):
    value = CHANGED[name] if name != "rule" else "full_benchmark"
    assert getattr(BayesianRanker(**{name: value}).settings, name) == value


@pytest.mark.parametrize("name", names(live=False))
def test_one_liners_pass_every_replay_setting_through(name, monkeypatch):
    seen = {}
    import bayesbench._oneliners as one

    monkeypatch.setattr(one, "replay_pair", lambda a, b, settings, *r, **k: seen.setdefault("pair", settings))
    monkeypatch.setattr(one, "replay_rank", lambda m, settings, *r: seen.setdefault("rank", settings))
    if name != "goal":
        bayesbench.compare([1, 0], [0, 1], **{name: CHANGED[name]})
        assert getattr(seen["pair"], name) == CHANGED[name]
    value = CHANGED[name] if name != "rule" else "full_benchmark"
    bayesbench.rank({"a": [1], "b": [0]}, **{name: value})
    assert getattr(seen["rank"], name) == value


@pytest.mark.parametrize("name", sorted(set(FIELDS) - set(names(live=False))))
def test_one_liners_refuse_settings_of_live_runs(name):
    with pytest.raises(ConfigError, match=f"`{name}` does not apply to compare"):
        bayesbench.compare([1, 0], [0, 1], **{name: CHANGED[name]})


def test_signatures_show_every_setting_with_its_default():
    import inspect

    for door, ranking, live in [(BayesianBenchmark, False, True), (BayesianRanker, True, True),
                                (benchmark, False, True), (suite, False, True), (bayesbench.compare, False, False),
                                (bayesbench.rank, True, False)]:
        params = inspect.signature(door).parameters
        assert set(names(ranking=ranking, live=live)) <= set(params), door
    assert inspect.signature(BayesianRanker).parameters["min_samples"].default == 5
    assert inspect.signature(bayesbench.compare).parameters["seed"].default == 0


def test_original_positional_signatures_keep_working():
    b = BayesianBenchmark(0.9, 0.8, 5, BetaPosterior)
    assert (b.settings.confidence, b.settings.skip_threshold, b.settings.min_samples, b.settings.posterior_factory) \
        == (0.9, 0.8, 5, BetaPosterior)
    b = BayesianBenchmark(confidence=0.95, skip_threshold=0.85, min_samples=3, posterior_factory=BetaPosterior)
    assert b.settings.posterior_factory is BetaPosterior
    task = benchmark(str, str, [1, 2], 0.99, 0.9, 4)(lambda p, r: 1.0)
    assert (task.bench.settings.confidence, task.bench.settings.min_samples) == (0.99, 4)
    assert BayesianRanker(0.9).settings.confidence == 0.9
    with pytest.raises(TypeError, match="at most 4 positional"):
        BayesianBenchmark(0.9, 0.8, 5, BetaPosterior, "anytime")
    with pytest.raises(TypeError, match="two values for `confidence`"):
        BayesianBenchmark(0.9, confidence=0.8)


@pytest.mark.parametrize("door", [
    lambda: BayesianBenchmark(confidnce=0.9),
    lambda: BayesianRanker(confidnce=0.9),
    lambda: benchmark(str, str, [1], confidnce=0.9),
    lambda: suite(confidnce=0.9),
    lambda: bayesbench.compare([1], [0], confidnce=0.9),
    lambda: bayesbench.rank({"a": [1], "b": [0]}, confidnce=0.9),
    lambda: BayesianBenchmark().configure(confidnce=0.9),
    lambda: RunSettings().replace(confidnce=0.9),
])
def test_a_typo_is_refused_naming_the_close_match(door):
    with pytest.raises(UnknownSettingError, match="unknown setting `confidnce`. did you mean `confidence`"):
        door()
    assert issubclass(UnknownSettingError, TypeError) and issubclass(UnknownSettingError, ConfigError)


def test_a_setting_of_another_door_is_refused_saying_why():
    with pytest.raises(ConfigError, match="`goal` does not apply to BayesianBenchmark\\(\\): it is a setting for "
                                          "rankings only"):
        BayesianBenchmark(goal="top1")


def test_run_options_typeddict_matches_the_fields():
    """RunOptions (the `**options: Unpack[RunOptions]` of every door, for type checkers) has every field, same type."""
    declared = {k: getattr(v, "__forward_arg__", v) for k, v in RunOptions.__annotations__.items()}
    assert list(declared) == FIELDS
    assert declared == {f.name: f.type for f in fields(RunSettings)}


def test_run_config_records_exactly_the_recorded_fields():
    settings = RunSettings(**CHANGED)
    config = run_config("task", settings, [1, 2], {})
    recorded = [f.name for f in fields(RunSettings) if f.metadata["recorded"]]
    assert {k for k in config if k in FIELDS} == set(recorded)
    assert config["score_range"] == [0.0, 2.0] and config["seed"] == 11
    assert run_config("task", RunSettings(), [1], {})["seed"] == "auto"


def test_rules_are_defined_once():
    from bayesbench.engine import _settings
    from bayesbench.stats import _rules

    assert _settings.RULES is _rules.RULES
    for path in (ROOT / "src" / "bayesbench").rglob("*.py"):
        if path.name != "_rules.py":
            assert not re.search(r"^RULES\s*[:=]", path.read_text(), re.M), path


def test_posterior_factory_is_resolved_in_one_place():
    for path in (ROOT / "src" / "bayesbench").rglob("*.py"):
        assert "or BetaPosterior" not in path.read_text(), path


def _flags(*args: str) -> set[str]:
    out = subprocess.run([sys.executable, "-m", "bayesbench.cli", *args, "--help"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return set(re.findall(r"--[a-z][a-z-]+", out.stdout))


def test_cli_flags_are_generated_from_the_fields():
    flagged = [f.name for f in fields(RunSettings) if f.metadata["flag"] is not None]
    # what cannot be typed on a command line: a Python callable, a RetryPolicy object, CostModel objects
    assert set(FIELDS) - set(flagged) == {"posterior_factory", "retry", "cost_models"}
    run_flags, replay_flags = _flags("run"), _flags("replay")
    for name in flagged:
        flag = "--" + name.replace("_", "-")
        assert (flag in run_flags) == (name in names(ranking=False)), name
        assert (flag in replay_flags) == (name in names(live=False)), name


def test_cli_passes_every_flag_through(tmp_path):
    """Each generated flag reaches the settings of the file's benchmark (read back from --json's record)."""
    f = tmp_path / "b.py"
    f.write_text(
        "import json, sys\n"
        "from bayesbench import BayesianBenchmark\n"
        "bench = BayesianBenchmark()\n"
        "@bench.task(dataset=[1, 2, 3, 4])\n"
        "def t(p):\n    return 1.0, 0.0\n"
        "_run = bench.run\n"
        "def run(verbose=False):\n"
        "    s = bench.settings\n"
        "    sys.stderr.write('SETTINGS ' + json.dumps({k: getattr(s, k) for k in s.__dataclass_fields__ "
        "if k not in ('posterior_factory', 'retry', 'cost_models')}) + '\\n')\n"
        "    return _run(verbose)\n"
        "bench.run = run\n"
    )
    values = {n: v for n, v in CHANGED.items()
              if n in names(ranking=False) and n not in ("posterior_factory", "retry", "cost_models")}
    argv = []
    for name, value in values.items():
        argv += ["--" + name.replace("_", "-"), *(map(str, value) if isinstance(value, tuple) else [str(value)])]
    out = subprocess.run([sys.executable, "-m", "bayesbench.cli", str(f), *argv, "--json"], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    import json

    seen = json.loads(out.stderr.split("SETTINGS ", 1)[1].splitlines()[0])
    for name, value in values.items():
        assert seen[name] == (list(value) if isinstance(value, tuple) else value), name


def test_docs_engine_table_is_the_fields():
    from bayesbench.engine._settings import settings_table

    doc = (ROOT / "docs" / "engine.md").read_text()
    assert settings_table() in doc, "regenerate the table in docs/engine.md with settings_table()"
    documented = re.findall(r"^\| `([a-z_]+)` \| `", doc, re.M)
    assert documented == FIELDS


@pytest.mark.parametrize("models", ["a,b", "a,b,c"])
def test_replay_passes_every_flag_through(models, tmp_path, monkeypatch, capsys):
    """`--skip-threshold` was dropped for rankings; now every replay flag reaches compare()/rank()."""
    from bayesbench import cli

    matrix = tmp_path / "m.csv"
    matrix.write_text("model,q1,q2,q3\na,1,1,0\nb,0,1,0\nc,0,0,0\n")
    seen = {}

    def spy(real):
        def call(*args, **kwargs):
            seen.update(kwargs)
            return real(*args, **kwargs)
        return call

    monkeypatch.setattr(bayesbench, "compare", spy(bayesbench.compare))
    monkeypatch.setattr(bayesbench, "rank", spy(bayesbench.rank))
    ranking = models.count(",") > 1
    values = {n: CHANGED[n] for n in names(ranking=ranking, live=False) if n != "posterior_factory"}
    values["rule"] = "full_benchmark"
    argv = ["replay", str(matrix), "--models", models, "--json"]
    for name, value in values.items():
        argv += ["--" + name.replace("_", "-"), *(map(str, value) if isinstance(value, tuple) else [str(value)])]
    assert cli.main(argv) == 0, capsys.readouterr().err
    for name, value in values.items():
        assert seen[name] == value, name
