"""The loading ladder the Benchmark base runs for every suite: data_dir -> data package -> hub, one error."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bayesbench.benchmarks import DROP, GSM8K, MMLU, Benchmark, BigBenchHard, HellaSwag, HumanEval
from bayesbench.benchmarks._base import LoadedData, Problem, Record
from bayesbench.benchmarks._data import PackageFile, dir_rows
from bayesbench.errors import DatasetError


class Tiny(Benchmark):
    """A minimal suite: every hook it must implement, nothing else. Its package is a real module on sys.path."""

    name = "Tiny"
    package = PackageFile("tinydata-for-tests", "tinydata_for_tests", "data/test.jsonl", "1.0")
    dir_calls = 0

    def load_from_dir(self, data_dir: Path, part: str | None) -> LoadedData | None:
        Tiny.dir_calls += 1
        rows = dir_rows(data_dir, "test")
        return LoadedData(self.to_records(rows, "test")) if rows else None

    def to_records(self, rows: list[dict[str, Any]], split: str) -> dict[str, list[Record]]:
        return {"tiny": [{"id": f"{split}/{i}", "question": r["q"], "answer": r["a"]} for i, r in enumerate(rows)]}

    def _format(self, task: str, record: Record, shots: list[Record]) -> str:
        return record["question"]

    def _expected(self, record: Record) -> str:
        return record["answer"]

    def score(self, problem: Problem, response: Any) -> float:
        return float(str(response).strip() == problem["expected_output"])


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.fixture
def installed_package(tmp_path, monkeypatch) -> Path:
    """Tiny's data package as a real (uninstalled-metadata) module directory on sys.path."""
    root = tmp_path / "site"
    (root / "tinydata_for_tests").mkdir(parents=True)
    (root / "tinydata_for_tests" / "__init__.py").write_text("raise ImportError('data packages are never imported')\n")
    _write(root / "tinydata_for_tests" / "data" / "test.jsonl", [{"q": "1+1", "a": "2"}, {"q": "2+2", "a": "4"}])
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()
    return root


def test_a_suite_missing_a_hook_cannot_be_built() -> None:
    class NoScore(Benchmark):
        def load_from_dir(self, data_dir: Path, part: str | None) -> LoadedData | None:
            return None

        def to_records(self, rows: list[dict[str, Any]], split: str) -> dict[str, list[Record]]:
            return {}

        def _format(self, task: str, record: Record, shots: list[Record]) -> str:
            return ""

        def _expected(self, record: Record) -> str:
            return ""

    with pytest.raises(TypeError, match="score"):
        NoScore()  # type: ignore[abstract]


def test_auto_ladder_records_the_rung_used(tmp_path, installed_package) -> None:
    data_dir = tmp_path / "mine"
    _write(data_dir / "test.jsonl", [{"q": "3+3", "a": "6"}])
    from_dir = Tiny(data_dir=data_dir)
    assert from_dir.data_source == f"data_dir:{data_dir}" and len(from_dir.problems()) == 1

    from_package = Tiny()
    assert from_package.data_source.startswith("package:tinydata-for-tests==")
    assert [p["expected_output"] for p in from_package.problems()] == ["2", "4"]
    result = from_package.evaluate(lambda prompt: str(eval(prompt)))  # noqa: S307 - the test's own prompts
    assert result.source == from_package.data_source and result.overall_accuracy.value == 1.0

    empty = tmp_path / "empty"
    empty.mkdir()
    fell_through = Tiny(data_dir=empty)  # the hook returned None: auto goes on to the package
    assert fell_through.data_source.startswith("package:")


def test_no_source_is_one_error_listing_what_was_tried_and_the_fixes(tmp_path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetError) as info:
        Tiny(data_dir=empty).load()
    message = str(info.value)
    assert message.startswith("Tiny: no data source worked. Tried: ")
    assert f"data_dir: {empty} holds no files" in message
    assert "pip install --no-deps tinydata-for-tests==1.0" in message
    assert "hub: there is no hub dataset" in message

    with pytest.raises(DatasetError, match="data_dir: not given .*data_dir='path/to/files'"):
        Tiny().load()


def test_a_forced_source_tries_only_that_rung(tmp_path, installed_package) -> None:
    Tiny.dir_calls = 0
    with pytest.raises(DatasetError) as info:
        Tiny(source="hub").load()
    tried, others = str(info.value).split(" Other sources: ")
    assert "source='hub' found no data. Tried: hub: there is no hub dataset" in tried and "package" not in tried
    assert others == ("source='data_dir' with data_dir='path/to/files', source='package' after "
                      "pip install --no-deps tinydata-for-tests==1.0, or source='auto' to try them in turn.")
    with pytest.raises(DatasetError, match="`source` is 'data_dir' but no `data_dir` was given"):
        Tiny(source="data_dir")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetError, match="source='data_dir' found no data"):
        Tiny(source="data_dir", data_dir=empty).load()
    assert Tiny(source="package", data_dir=empty).data_source.startswith("package:")
    assert Tiny.dir_calls == 1  # source="package" never read the directory


def test_every_data_package_is_pinned_in_its_error_and_the_docs() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md").read_text()
    for suite in (MMLU, GSM8K, HumanEval, HellaSwag):
        spec = suite.package
        assert spec is not None and spec.version, suite.name
        assert spec.install_line == f"pip install --no-deps {spec.distribution}=={spec.version}"
        assert f"`{spec.distribution}=={spec.version}`" in docs, f"docs/benchmarks.md lacks {suite.name}'s pin"


def test_the_hub_rung_through_datasets(tmp_path) -> None:
    """The real `datasets.load_dataset` path, offline: a local dataset folder stands in for a hub id."""
    hub = tmp_path / "hub_copy"
    _write(hub / "test.jsonl", [{"q": "5+5", "a": "10"}, {"q": "1+2", "a": "3"}])
    _write(hub / "train.jsonl", [{"q": "0+0", "a": "0"}])

    class FromHub(Tiny):
        package = None
        hub_path = str(hub)
        shot_split = "train"

    bench = FromHub(n_shots=1, cache_dir=tmp_path / "cache")
    assert bench.data_source == f"hub:{hub}"
    problems = bench.problems()
    assert [p["expected_output"] for p in problems] == ["10", "3"] and problems[0]["shot_ids"] == ["train/0"]


def test_suite_sources_per_rung(fixtures) -> None:
    assert MMLU(data_dir=fixtures / "mmlu_hub").data_source == f"data_dir:{fixtures / 'mmlu_hub'}"
    assert GSM8K(data_dir=fixtures / "gsm8k").data_source.startswith("data_dir:")
    assert HellaSwag(data_dir=fixtures / "hellaswag_hub").data_source.startswith("data_dir:")
    assert DROP(data_dir=fixtures / "drop").data_source.startswith("data_dir:")
    with pytest.raises(DatasetError, match="no offline data package"):
        DROP(source="package")


def test_bbh_resolves_each_task_on_its_own(fixtures) -> None:
    bench = BigBenchHard(tasks=["boolean_expressions", "navigate"], n_shots=0, data_dir=fixtures / "bbh")
    source = bench.data_source
    assert source.startswith(f"data_dir:{fixtures / 'bbh'} [boolean_expressions]; vendored:")
    assert source.endswith("[navigate]")
    assert {p["task"] for p in bench.problems()} == {"boolean_expressions", "navigate"}
    with pytest.raises(DatasetError, match="task 'snarks': source='package' found no data.*not vendored"):
        BigBenchHard(tasks=["snarks"], source="package").load()


def test_humaneval_data_dir_without_its_file_is_a_clear_error(tmp_path) -> None:
    (tmp_path / "notes.txt").write_text("nothing here")
    with pytest.raises(DatasetError, match="no HumanEval file in"):
        HumanEval(data_dir=tmp_path).load()


def test_offline_hub_failure_lists_every_rung(tmp_path) -> None:
    # `datasets` reads its offline switches at import time, so run the hub path in a fresh interpreter.
    code = (
        "from bayesbench.benchmarks import DROP\n"
        "from bayesbench.errors import DatasetError\n"
        f"b = DROP(cache_dir={str(tmp_path)!r})\n"
        "try:\n    b.load()\nexcept DatasetError as e:\n    print('DatasetError:', e)\n"
    )
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("DatasetError: DROP: no data source worked. Tried: data_dir: not given")
    assert "package: no PyPI package ships this data" in out
    assert "hub: loading 'ucinlp/drop'" in out and "connect to the network" in out
