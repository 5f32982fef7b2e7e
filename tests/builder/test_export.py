"""Round trips of every export (JSONL, HF datasets, Inspect, lm-eval) and the built dataset in every front door."""

from __future__ import annotations

import importlib.util
import json
import warnings

import pytest

from bayesbench import BayesianBenchmark, BayesianRanker, benchmark, suite
from bayesbench.builder import (
    BuilderDataset,
    Guidelines,
    Provenance,
    RawDataWarning,
    TestCase,
    anonymize,
    export_jsonl,
    export_lm_eval,
    from_hf,
    from_inspect,
    is_anonymized,
    save_hf,
    to_hf,
    to_inspect,
)
from bayesbench.errors import DatasetError
from tests._shared import require_or_skip


def _dataset() -> BuilderDataset:
    cases = [
        TestCase(input="What is 2+2?", expected="4", domain="math", difficulty="easy", tags=("arith",),
                 provenance=Provenance(kind="expert", source="experts.csv", location=2), metadata={"n": 1}),
        TestCase(input="Capital of France?", references=("Paris", "paris, France"), difficulty=0.25),
        TestCase(input={"question": "Sum 1..10", "hint": "Gauss"}, expected="55", tags=("a", "b")),
        TestCase(input="Say something nice.", provenance=Provenance(kind="generated", source="m")),
    ]
    return BuilderDataset("my bench", cases, guidelines=Guidelines(task="t", rubric={"0": "no", "1": "yes"}))


def test_jsonl_round_trip(tmp_path) -> None:
    ds = _dataset()
    back = BuilderDataset.load(export_jsonl(ds, tmp_path / "out" / "cases.jsonl"))
    assert back.cases == ds.cases


def test_hf_round_trip(tmp_path) -> None:
    require_or_skip(importlib.util.find_spec("datasets") is not None, 'pip install "bayesbench[datasets]"')
    import datasets

    ds = _dataset()
    hf = to_hf(ds)
    assert hf.num_rows == 4 and hf[0]["input"] == "What is 2+2?" and hf[2]["input_is_json"] is True
    path = save_hf(ds, tmp_path / "hf")
    loaded = datasets.load_from_disk(str(path))
    back = from_hf(loaded)
    assert back.cases == ds.cases and back.name == "my bench"
    assert from_hf(str(path)).cases == ds.cases
    with pytest.raises(DatasetError, match="not a dataset written by to_hf"):
        from_hf(datasets.Dataset.from_dict({"question": ["q"]}))


def test_inspect_round_trip() -> None:
    require_or_skip(importlib.util.find_spec("inspect_ai") is not None, 'pip install "bayesbench[inspect]"')
    from inspect_ai.dataset import MemoryDataset, Sample

    ds = _dataset()
    ins = to_inspect(ds)
    assert isinstance(ins, MemoryDataset) and len(ins) == 4 and ins.name == "my bench"
    assert ins[0].id == ds.ids[0] and ins[1].target == ["Paris", "paris, France"] and ins[3].target == []
    back = from_inspect(ins)
    assert back.cases == ds.cases
    foreign = from_inspect(MemoryDataset([Sample(input="q?", target=["a", "b"], id=7)], name="ext"))
    assert foreign[0].expected == "a" and foreign[0].references == ("b",) and foreign.ids == ["7"]


def test_lm_eval_task_yaml_and_data(tmp_path) -> None:
    require_or_skip(importlib.util.find_spec("yaml") is not None, "PyYAML (a dependency of datasets) reads the YAML")
    import yaml  # the writer itself needs nothing
    ds = _dataset()
    path = export_lm_eval(ds, tmp_path / "lm", prompt="Question: {{input}}\nAnswer:")
    config = yaml.safe_load(path.read_text())
    # the keys of lm-eval's v0.4 task format (docs/new_task_guide.md) for a local generative task
    assert config["task"] == "my_bench" and path.name == "my_bench.yaml"
    assert config["dataset_path"] == "json" and config["test_split"] == "test"
    data_file = config["dataset_kwargs"]["data_files"]["test"]
    assert data_file.endswith("my_bench.jsonl")
    assert config["output_type"] == "generate_until"
    assert config["doc_to_text"] == "Question: {{input}}\nAnswer:" and config["doc_to_target"] == "{{expected}}"
    assert config["generation_kwargs"]["until"] == ["\n\n"] and config["generation_kwargs"]["do_sample"] is False
    assert config["metric_list"] == [{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True,
                                      "ignore_case": True, "ignore_punctuation": True}]
    assert config["metadata"]["version"] == 1.0 and config["metadata"]["skipped_without_answer"] == 1
    rows = [json.loads(line) for line in open(data_file)]
    assert [r["id"] for r in rows] == ds.ids[:3] and rows[1]["expected"] == "Paris"
    assert rows[2]["input"] == ds[2].text
    # back to cases: the data file keeps ids, inputs and answers
    assert {r["id"]: r["answers"] for r in rows} == {c.id: list(c.answers) for c in ds if c.answers}
    rel = yaml.safe_load(export_lm_eval(ds, tmp_path / "lm2", relative_paths=True).read_text())
    assert rel["dataset_kwargs"]["data_files"]["test"] == "my_bench.jsonl"
    with pytest.raises(DatasetError, match="no case with an expected answer"):
        export_lm_eval(BuilderDataset("x", [TestCase(input="q")]), tmp_path / "lm3")


def test_raw_logs_warn_until_anonymised(tmp_path) -> None:
    ds = BuilderDataset("logs", [TestCase(input="me: a@b.io", provenance=Provenance(kind="log", source="q.jsonl"))])
    assert not is_anonymized(ds)
    with pytest.warns(RawDataWarning, match="not anonymised"):
        export_jsonl(ds, tmp_path / "raw.jsonl")
    clean = anonymize(ds, engine="regex", salt="0123456789abcdef-salt").dataset
    assert is_anonymized(clean)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        export_jsonl(clean, tmp_path / "clean.jsonl")
    clean.add([TestCase(input="new raw", provenance=Provenance(kind="log"))])
    assert not is_anonymized(clean)


# --- the built dataset in every front door -----------------------------------------------------------------
def _built(n: int = 200) -> BuilderDataset:
    return BuilderDataset("arith", [TestCase(input=f"What is {i} + {i}?", expected=str(2 * i)) for i in range(n)])


def _good(problem: dict) -> str:
    return problem["expected"]


def _bad(problem: dict) -> str:
    return "0" if int(problem["expected"]) % 3 else problem["expected"]


def _exact(problem: dict, response: str) -> float:
    return float(response.strip() == problem["expected"])


def test_benchmark_stops_early_on_a_built_dataset() -> None:
    ds = _built()

    @benchmark(model_a=_good, model_b=_bad, dataset=ds, confidence=0.95, seed=3)
    def exact(problem, response):
        return _exact(problem, response)

    result = exact.run()
    assert result.winner == "model_a" and result.problems_tested < len(ds), result.summary()


def test_bayesian_benchmark_compare_and_task_on_a_built_dataset() -> None:
    ds = _built()
    bench = BayesianBenchmark(confidence=0.95, seed=3)
    result = bench.compare(_good, _bad, _exact, ds)
    assert result.winner == "model_a" and result.problems_tested < len(ds)

    @bench.task(dataset=ds, name="pairwise")
    def pairwise(problem):
        return _exact(problem, _good(problem)), _exact(problem, _bad(problem))

    report = bench.run()
    assert report.task_results[0].winner == "model_a"


def test_suite_and_ranker_on_a_built_dataset() -> None:
    ds = _built()

    @suite(confidence=0.95, seed=3)
    class Suite:
        dataset = ds

        @staticmethod
        def task_arith(problem):
            return _exact(problem, _good(problem)), _exact(problem, _bad(problem))

    assert Suite.run().task_results[0].winner == "model_a"
    ranker = BayesianRanker(confidence=0.95, seed=3)
    ranker.add_model("good", _good).add_model("bad", _bad)
    ranking = ranker.rank(ds, score_fn=_exact)
    assert ranking.ranking[0].name == "good", ranking.summary()
