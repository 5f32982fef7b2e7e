"""The public surface: every public package's `__all__` is exact, resolves, and every name in it is documented."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import types
from typing import Any

import pytest

import bayesbench

EXPECTED_TOP_LEVEL = {
    "benchmark", "suite", "BayesianBenchmark", "BayesianRanker", "TaskResult", "BenchmarkReport", "RankingResult",
    "BetaPosterior", "NormalPosterior", "Posterior", "DirichletPosterior", "GammaPosterior",
    "compare", "rank", "prob_a_beats_b", "is_non_discriminating", "BayesbenchError", "ConfigError", "DatasetError",
    "ModelError", "ScoringError", "StoreError", "MissingDependencyError", "__version__", "plan",
}

EXPECTED_PLOTS = {
    "stopping_path", "benchmark_report", "ranking", "task_scores", "latency", "cost_accuracy", "frontier", "resources",
    "stored_run", "call_latencies",
}

#: Public modules that are programs rather than libraries: nothing to import from them but ``main``.
NO_ALL = {
    "bayesbench.cli": "the `bayesbench` command (entry point cli:main)",
    "bayesbench.demo": "the `bayesbench demo` command behind the CLI",
}

#: Docstrings Python writes itself: not documentation.
_GENERATED_DOCS = ("An enumeration.",)


def _public_modules() -> list[str]:
    def failed(name: str) -> None:
        raise AssertionError(f"importing {name} failed while walking bayesbench")

    names = ["bayesbench"] + [m.name for m in pkgutil.walk_packages(bayesbench.__path__, "bayesbench.", onerror=failed)]
    return sorted(n for n in names if not any(part.startswith("_") for part in n.split(".")))


PUBLIC_MODULES = _public_modules()


def _resolve(module: types.ModuleType, name: str) -> Any:
    if hasattr(module, name):
        return getattr(module, name)
    if hasattr(module, "__path__"):  # a package may list its submodules (``from pkg import *`` imports them)
        return importlib.import_module(f"{module.__name__}.{name}")
    raise AssertionError(f"{module.__name__}.__all__ lists {name!r}, which does not resolve")


def _is_api_object(obj: Any) -> bool:
    """Classes and functions carry their origin and a docstring; constants and type aliases cannot."""
    return inspect.isclass(obj) or inspect.isroutine(obj)


def _defined_under(obj: Any, module_name: str) -> bool:
    origin = getattr(obj, "__module__", None) or ""
    return origin == module_name or origin.startswith(module_name + ".")


def _own_doc(obj: Any) -> str:
    doc = (obj.__dict__.get("__doc__") if inspect.isclass(obj) else obj.__doc__) or ""
    doc = doc.strip()
    if inspect.isclass(obj) and dataclasses.is_dataclass(obj) and doc.startswith(f"{obj.__name__}("):
        return ""  # the signature dataclasses write when a class has no docstring
    return "" if doc in _GENERATED_DOCS else doc


def test_the_walk_finds_every_public_package() -> None:
    for expected in ("bayesbench", "bayesbench.benchmarks", "bayesbench.stats", "bayesbench.models",
                     "bayesbench.engine", "bayesbench.execution", "bayesbench.scoring", "bayesbench.store",
                     "bayesbench.monitor", "bayesbench.builder", "bayesbench.ops", "bayesbench.server"):
        assert expected in PUBLIC_MODULES
    assert not [n for n in PUBLIC_MODULES if "._" in n]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_all_is_exact_resolves_and_is_documented(module_name: str) -> None:
    module = importlib.import_module(module_name)
    if module_name in NO_ALL:
        assert not hasattr(module, "__all__") or module.__all__ == ["main"]
        return
    assert hasattr(module, "__all__"), f"{module_name} is public but has no __all__; list its public names"
    names = list(module.__all__)
    assert all(isinstance(n, str) for n in names) and len(names) == len(set(names)), f"{module_name}.__all__"
    private = [n for n in names if n.startswith("_") and n != "__version__"]
    assert not private, f"{module_name}.__all__ lists private names {private}"

    exported = {n: _resolve(module, n) for n in names}
    # no extra: every class/function it exports is bayesbench's own (not a re-exported typing/numpy name)
    foreign = sorted(n for n, obj in exported.items() if _is_api_object(obj) and not _defined_under(obj, "bayesbench"))
    assert not foreign, f"{module_name}.__all__ re-exports names from outside bayesbench: {foreign}"
    # no missing: every public class/function defined in this package is in __all__ (or renamed with a _)
    defined = {
        n for n, obj in vars(module).items()
        if not n.startswith("_") and not isinstance(obj, types.ModuleType) and _is_api_object(obj)
        and _defined_under(obj, module_name)
    }
    missing = sorted(defined - set(names))
    assert not missing, f"{module_name} defines public {missing} but __all__ omits them (export them or prefix _)"
    undocumented = sorted(n for n, obj in exported.items()
                          if (_is_api_object(obj) or isinstance(obj, types.ModuleType)) and not _own_doc(obj))
    assert not undocumented, f"{module_name}: public names without a docstring: {undocumented}"


def test_the_rules_catch_what_they_claim(monkeypatch) -> None:
    """The checks above fail on a missing name, an extra name, a private name and an undocumented name."""
    import bayesbench.posteriors as mod

    def undocumented() -> None:
        pass

    undocumented.__module__ = mod.__name__
    monkeypatch.setattr(mod, "helper_without_docs", undocumented, raising=False)
    with pytest.raises(AssertionError, match=r"defines public \['helper_without_docs'\]"):
        test_all_is_exact_resolves_and_is_documented(mod.__name__)
    monkeypatch.setattr(mod, "__all__", [*mod.__all__, "helper_without_docs"])
    with pytest.raises(AssertionError, match=r"without a docstring: \['helper_without_docs'\]"):
        test_all_is_exact_resolves_and_is_documented(mod.__name__)
    monkeypatch.setattr(mod, "__all__", [*mod.__all__, "Any"])
    monkeypatch.setattr(mod, "Any", Any, raising=False)
    with pytest.raises(AssertionError, match="does not resolve|outside bayesbench|docstring"):
        test_all_is_exact_resolves_and_is_documented(mod.__name__)
    monkeypatch.setattr(mod, "__all__", ["_hidden"])
    with pytest.raises(AssertionError, match="private names"):
        test_all_is_exact_resolves_and_is_documented(mod.__name__)
    monkeypatch.setattr(mod, "__all__", ["no_such_name"])
    with pytest.raises(AssertionError, match="does not resolve"):
        test_all_is_exact_resolves_and_is_documented(mod.__name__)


def test_top_level_all_contains_the_documented_api() -> None:
    assert EXPECTED_TOP_LEVEL <= set(bayesbench.__all__)


EXPECTED_OPS = {
    "CostModel", "CostReport", "DeploymentReport", "LatencyReport", "LoadLevel", "LoadTestReport", "ModelCost",
    "ModelLatency", "ResourceMonitor", "ResourceReport", "compare_deployments", "cost_report", "latency_report",
    "loadtest", "loadtest_async",
}


def test_ops_all_is_the_operations_api() -> None:
    import bayesbench.ops

    assert set(bayesbench.ops.__all__) == EXPECTED_OPS
def test_plots_names() -> None:
    import bayesbench.plots

    assert set(bayesbench.plots.__all__) == EXPECTED_PLOTS


def test_error_tree() -> None:
    for name in ("ConfigError", "DatasetError", "ModelError", "ScoringError", "StoreError", "MissingDependencyError"):
        assert issubclass(getattr(bayesbench, name), bayesbench.BayesbenchError)
