"""ItemBank: validation, ids, join/filter, and every importer on upstream-format fixtures (oracle 7)."""

from __future__ import annotations

import gzip
import math
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from bayesbench.errors import ConfigError, DatasetError, MissingDependencyError
from bayesbench.history import ItemBank
from bayesbench.store import Store

FIX = Path(__file__).parent / "fixtures"
nan = math.nan


def test_ids_kept_and_defaults():
    b = ItemBank([[1, 0, nan], [0.5, 1, 1]], models=["a", "b"], items=["x", "y", "z"])
    assert b.models == ("a", "b") and b.items == ("x", "y", "z") and b.shape == (2, 3)
    assert b.mean("a") == 0.5 and b.row("b")[0] == 0.5
    assert ItemBank([[1, 0]]).models == ("model0",)
    assert not b.is_binary and b.observed_fraction == pytest.approx(5 / 6)


@pytest.mark.parametrize(
    "scores, match",
    [
        ([[1, 0], [1]], "ragged score rows: row 0 has 2 items but row 1 has 1"),
        ([[1, 1.5]], r"scores must be in \[0, 1\], got 1.5 at model row 0, item column 1"),
        ([[1, -0.1]], r"got -0.1"),
        ([[1, math.inf]], "scores must be in"),
        ([["a", 1]], "must be numbers"),
        ([1, 0, 1], "2-d"),
    ],
)
def test_bad_scores_are_refused_with_a_clear_message(scores, match):
    with pytest.raises(DatasetError, match=match):
        ItemBank(scores)


def test_bad_ids():
    with pytest.raises(DatasetError, match="`models` has 1 ids but the score matrix has 2"):
        ItemBank([[1], [0]], models=["a"])
    with pytest.raises(DatasetError, match="unique"):
        ItemBank([[1], [0]], models=["a", "a"])
    b = ItemBank([[1, 0]], models=["org/alpha"], items=["x", "y"])
    with pytest.raises(DatasetError, match="model 'alpha' is not in the bank.*similar ids: \\['org/alpha'\\]"):
        b.row("alpha")
    with pytest.raises(DatasetError, match="item 'nope' is not in the bank"):
        b.item_index("nope")


def test_filter_and_join():
    a = ItemBank([[1, 0], [0, 0], [1, 1]], models=["m1", "m2", "m3"], items=["x", "y"])
    b = ItemBank([[1], [0]], models=["m3", "m1"], items=["z"])
    j = a.join(b)
    assert j.models == ("m1", "m3") and j.items == ("x", "y", "z")
    np.testing.assert_array_equal(j.scores, [[1, 0, 0], [1, 1, 1]])
    o = a.join(b, how="outer")
    assert o.models == ("m1", "m2", "m3") and np.isnan(o.scores[1, 2])
    f = a.filter(models=["m3", "m1"], items=lambda i: i == "y")
    assert f.models == ("m3", "m1") and f.items == ("y",) and f.scores.tolist() == [[1], [0]]
    with pytest.raises(DatasetError, match="item 'q' is not in the bank"):
        a.filter(items=["q"])
    with pytest.raises(ConfigError, match="pass a list of ids"):
        a.filter(models="m1")
    clash = ItemBank([[0]], models=["m1"], items=["x"])
    with pytest.raises(DatasetError, match="item 'x' is in both banks with different scores for model 'm1'"):
        a.join(clash)
    assert a.filter(min_observed=0.5) == a


def test_bank_too_small_to_fit_says_what_is_needed():
    with pytest.raises(DatasetError, match="at least 10 models and 5 items"):
        ItemBank(np.ones((3, 4)) * 0.5).fit()
    sparse = np.full((12, 8), nan)
    sparse[np.arange(12), np.arange(12) % 8] = 1.0
    with pytest.raises(DatasetError, match="too small to fit rank 16: 12 observed scores"):
        ItemBank(sparse).fit()


def test_from_csv_round_trips_the_leaderboard_layout(tmp_path):
    files = sorted((FIX / "leaderboard").glob("*.csv"))
    bank = ItemBank.from_csv(*files)  # joined on the model id, like the shared 5-file bank
    assert bank.models == ("org/alpha", "lab/gamma-7b")
    assert bank.items == ("arc_item1", "arc_item6", "arc_item24", "gsm8k_item1", "gsm8k_item30")
    np.testing.assert_array_equal(bank.scores, [[1, 0, 1, 0, 1], [1, 1, 1, 1, 1]])
    gz = tmp_path / "M_tinyarc.csv.gz"
    with gzip.open(gz, "wt") as fh:
        fh.write((FIX / "leaderboard" / "M_tinyarc.csv").read_text())
    arc = ItemBank.from_csv(gz)
    assert arc.n_models == 3 and arc.row("org/beta").tolist() == [0, 0, 1]
    out = tmp_path / "bank.csv"
    ItemBank([[1, nan], [0.25, 0]], ["a", "b"], ["x", "y"]).to_csv(out)
    assert ItemBank.from_csv(out) == ItemBank([[1, nan], [0.25, 0]], ["a", "b"], ["x", "y"])


def test_from_csv_errors(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("model,a,b\nm1,1,0\nm2,1\n")
    with pytest.raises(DatasetError, match="line 3: 2 fields but the header has 3 \\(ragged row\\)"):
        ItemBank.from_csv(p)
    p.write_text("model,a\nm1,7\n")
    with pytest.raises(DatasetError, match=r"bad.csv: scores must be in \[0, 1\], got 7.0"):
        ItemBank.from_csv(p)
    with pytest.raises(DatasetError, match="no such file"):
        ItemBank.from_csv(tmp_path / "missing.csv")


def test_from_lm_eval_reads_samples_and_model_names(tmp_path):
    bank = ItemBank.from_lm_eval(FIX / "lm_eval")
    assert set(bank.models) == {"EleutherAI/pythia-160m", "EleutherAI/pythia-410m"}
    assert bank.row("EleutherAI/pythia-160m")[[bank.item_index(f"arc_easy/{i}") for i in range(3)]].tolist() == [
        1,
        0,
        1,
    ]
    # gsm8k: the first filter (strict-match) only; the flexible-extract lines hold the opposite values
    assert bank.row("EleutherAI/pythia-160m")[[bank.item_index("gsm8k/0"), bank.item_index("gsm8k/1")]].tolist() == [
        0,
        1,
    ]
    assert bank.row("EleutherAI/pythia-410m")[bank.item_index("arc_easy/2")] == 0.0
    with pytest.raises(DatasetError, match="samples_gsm8k_.*line 1: no metric acc_norm in the sample"):
        ItemBank.from_lm_eval(FIX / "lm_eval", metric="acc_norm")
    shutil.copytree(FIX / "lm_eval", tmp_path / "arc")
    for f in (tmp_path / "arc").rglob("samples_gsm8k_*"):
        f.unlink()
    norm = ItemBank.from_lm_eval(tmp_path / "arc", metric="acc_norm")
    assert norm.items == ("arc_easy/0", "arc_easy/1", "arc_easy/2") and norm.scores.tolist() == [[1, 1, 1], [1, 1, 1]]


def test_from_lm_eval_errors(tmp_path):
    with pytest.raises(DatasetError, match="run lm_eval with --log_samples"):
        ItemBank.from_lm_eval(tmp_path)
    d = tmp_path / "m"
    shutil.copytree(FIX / "lm_eval" / "EleutherAI__pythia-160m", d)
    for r in d.glob("results_*.json"):
        r.unlink()
    with pytest.raises(DatasetError, match="no results_\\*.json next to it naming the model"):
        ItemBank.from_lm_eval(tmp_path)


def test_from_open_llm_leaderboard_parquet_and_jsonl():
    bank = ItemBank.from_open_llm_leaderboard([FIX / "open_llm_leaderboard"])
    assert set(bank.models) == {"org/model-a", "lab/model-b"}
    a = bank.row("org/model-a")
    assert [a[bank.item_index(f"arc:challenge/{i}")] for i in range(4)] == [1, 0, 0, 1]
    b = bank.row("lab/model-b")
    assert [b[bank.item_index(f"leaderboard_musr_team_allocation/{i}")] for i in (3, 1, 0)] == [0, 1, 1]
    assert np.isnan(a[bank.item_index("leaderboard_musr_team_allocation/0")])
    with pytest.raises(DatasetError, match="no such file or folder"):
        ItemBank.from_open_llm_leaderboard("/nonexistent/details")


def test_from_store_reads_every_run(tmp_path):
    with Store(tmp_path / "runs.sqlite") as st:
        r1 = st.start_run("mmlu", {"score_range": [0, 1]}, 1, ["p1", "p2"])
        st.record_scores(r1, "p1", {"gpt-x": 1.0, "local": 0.0})
        st.record_scores(r1, "p2", {"gpt-x": 0.0, "local": 1.0})
        r2 = st.start_run("gsm8k", {"score_range": [0, 10]}, 1, ["g1"])
        st.record_scores(r2, "g1", {"gpt-x": 7.5})
    bank = ItemBank.from_store(tmp_path / "runs.sqlite", benchmark="mmlu")
    assert bank.items == ("p1", "p2") and bank.row("gpt-x").tolist() == [1, 0] and bank.row("local").tolist() == [0, 1]
    every = ItemBank.from_store(Store(tmp_path / "runs.sqlite"))
    assert every.row("gpt-x")[every.item_index("gsm8k/g1")] == 0.75  # rescaled by the run's score_range
    with pytest.raises(DatasetError, match="no runs named 'hellaswag'; its runs are named \\['gsm8k', 'mmlu'\\]"):
        ItemBank.from_store(tmp_path / "runs.sqlite", benchmark="hellaswag")


def test_from_inspect_logs_without_inspect_says_how_to_install(tmp_path, monkeypatch):
    # inspect-ai is installed for the other tests: hide it (a None entry makes its import fail)
    for name in [m for m in sys.modules if m == "inspect_ai" or m.startswith("inspect_ai.")] + ["inspect_ai"]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(MissingDependencyError, match=r'pip install "bayesbench\[inspect\]"'):
        ItemBank.from_inspect_logs(tmp_path)


def test_from_inspect_logs_on_a_log_written_by_inspect(tmp_path):
    pytest.importorskip("inspect_ai", reason="inspect-ai is not installed (extra [inspect])")
    from inspect_ai import Task
    from inspect_ai import eval as inspect_eval
    from inspect_ai.dataset import Sample
    from inspect_ai.model import ModelOutput, ModelUsage, get_model
    from inspect_ai.scorer import match
    from inspect_ai.solver import generate

    outputs = []
    for text in ("1", "3"):  # one right, one wrong; usage set so the mock needs no tokenizer download
        out = ModelOutput.from_content(model="mockllm/model", content=text)
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        outputs.append(out)
    task = Task(
        dataset=[Sample(input="Say 1", target="1", id="a"), Sample(input="Say 2", target="2", id="b")],
        solver=generate(),
        scorer=match(),
        name="toy",
    )
    logs = inspect_eval(
        task,
        model=get_model("mockllm/model", custom_outputs=outputs),
        log_dir=str(tmp_path),
        display="none",
        max_samples=1,
    )
    assert logs[0].status == "success"
    bank = ItemBank.from_inspect_logs(tmp_path)
    assert bank.models == ("mockllm/model",) and set(bank.items) == {"toy/a", "toy/b"}
    from inspect_ai.log import read_eval_log

    log = read_eval_log(str(next(p for p in tmp_path.iterdir() if p.suffix in (".eval", ".json"))))
    expect = {f"toy/{s.id}": {"C": 1.0, "I": 0.0}[s.scores["match"].value] for s in log.samples}
    assert {it: bank.row("mockllm/model")[bank.item_index(it)] for it in bank.items} == expect
    assert sorted(expect.values()) == [0.0, 1.0]
