"""DROP on upstream-format fixtures (no real DROP data is available offline), with the official EM/F1."""

from __future__ import annotations

import pytest

from bayesbench.benchmarks import DROP
from bayesbench.benchmarks._data import hub_rows
from bayesbench.benchmarks._drop import _convert, extract_prediction
from bayesbench.errors import ConfigError, DatasetError

ANSWERS = {
    "How many points did the Hawks score in the first half?": "24",
    "Which team scored fewer points in the first half?": "Owls",
    "By how many inhabitants did the town grow between 1850 and 1900?": "3,500",
    "What drove the growth of the town?": "railway line",  # partial: F1 0.8, EM 0
    "Who caught the touchdown pass?": "Answer: Tom Reed\nBecause he caught it.",
    "How long was the field goal in yards?": "40",  # wrong number: EM 0, F1 0
}


def _model(bench: DROP):
    by_prompt = {p["prompt"]: ANSWERS[p["reference"]["question"]] for p in bench.problems()}
    return lambda prompt: by_prompt[prompt]


def test_em_and_f1_on_fixtures(fixtures) -> None:
    bench = DROP(n_shots=1, data_dir=fixtures / "drop")
    result = bench.evaluate(_model(bench))
    assert bench.data_source.startswith("data_dir:")
    assert result.primary_metric == "em"
    assert result.overall_accuracy.value == pytest.approx(4 / 6)
    # "railway line" vs "the new railway line": articles dropped, precision 2/2, recall 2/3 -> F1 0.8
    assert result.metrics["f1"].value == pytest.approx((4 + 0.8) / 6)
    assert result.metrics["f1"].method == "normal" and result.overall_accuracy.method == "wilson"
    f1s = {r.problem_id: r.details["f1"] for r in result.records}
    assert f1s["drop/validation/q4"] == pytest.approx(0.8) and f1s["drop/validation/q6"] == 0.0


def test_f1_as_the_headline(fixtures) -> None:
    bench = DROP(n_shots=0, metric="f1", data_dir=fixtures / "drop")
    result = bench.evaluate(_model(bench))
    assert result.primary_metric == "f1"
    assert result.overall_accuracy.value == pytest.approx(4.8 / 6)
    assert result.metrics["em"].value == pytest.approx(4 / 6)


def test_prompt_golden_with_train_shot(fixtures) -> None:
    p = DROP(n_shots=1, data_dir=fixtures / "drop").problems()[0]
    assert p["prompt"] == (
        "Passage: Anna bought 3 apples and 4 pears.\nQuestion: How many fruits did Anna buy?\nAnswer: 7\n\n"
        "Passage: The Hawks scored 14 points in the first quarter and 10 in the second. The Owls scored 7 points "
        "in the first half.\nQuestion: How many points did the Hawks score in the first half?\nAnswer:"
    )
    assert p["expected_output"] == "24"


def test_shots_from_other_items_without_train(fixtures, tmp_path) -> None:
    (tmp_path / "validation.jsonl").write_text((fixtures / "drop" / "validation.jsonl").read_text())
    for p in DROP(n_shots=5, data_dir=tmp_path).problems():
        assert p["id"] not in p["shot_ids"] and len(p["shot_ids"]) == 5
        assert p["prompt"].count(p["reference"]["question"]) == 1


def test_answer_extraction() -> None:
    assert extract_prediction("Answer: Tom Reed\nBecause.") == "Tom Reed"
    assert extract_prediction("\n  24 points\nmore") == "24 points"


def test_no_offline_package_and_validation(fixtures) -> None:
    with pytest.raises(DatasetError, match="no offline data package"):
        DROP(source="package")
    with pytest.raises(ConfigError, match="n_shots"):
        DROP(n_shots=6)
    with pytest.raises(ConfigError, match="metric"):
        DROP(metric="accuracy")


def test_datasets_code_path_keeps_answer_spans(fixtures) -> None:
    rows = hub_rows("json", data_files={"validation": str(fixtures / "drop" / "validation.jsonl")},
                    split="validation", feature="t")
    records = _convert(rows, "validation")
    assert records[1]["answers"] == ["the Owls", "Owls"]
    assert records[0]["id"] == "drop/validation/q1"
