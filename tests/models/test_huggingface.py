"""hf_dataset on real local files with the real ``datasets`` library; hf_model runs in the
conformance and fault suites against the fake server."""

import json
import os
import subprocess
import sys

import pytest

from bayesbench.errors import ConfigError, DatasetError
from bayesbench.models import hf_dataset

ROWS = [{"question": f"What is {i}+{i}?", "answer": str(2 * i)} for i in range(5)]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))


def test_local_jsonl_file(tmp_path):
    rows = hf_dataset(write_jsonl(tmp_path / "gsm.jsonl", ROWS))
    assert rows == ROWS


def test_local_csv_and_parquet_and_limit(tmp_path):
    import pandas as pd

    frame = pd.DataFrame(ROWS)
    frame.to_csv(tmp_path / "d.csv", index=False)
    frame.to_parquet(tmp_path / "d.parquet")
    assert hf_dataset(str(tmp_path / "d.parquet"), limit=2) == ROWS[:2]
    csv_rows = hf_dataset(tmp_path / "d.csv")
    assert [r["question"] for r in csv_rows] == [r["question"] for r in ROWS]


def test_local_folder_with_splits(tmp_path):
    folder = tmp_path / "ds"
    folder.mkdir()
    write_jsonl(folder / "train.jsonl", ROWS[:3])
    write_jsonl(folder / "test.jsonl", ROWS[3:])
    assert hf_dataset(folder, split="test") == ROWS[3:]
    assert hf_dataset(folder, split="train") == ROWS[:3]
    with pytest.raises(DatasetError, match="split 'validation' not found"):
        hf_dataset(folder, split="validation")


def test_bad_inputs_say_how_to_fix(tmp_path):
    (tmp_path / "x.xml").write_text("<a/>")
    with pytest.raises(DatasetError, match="not supported"):
        hf_dataset(tmp_path / "x.xml")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no data files"):
        hf_dataset(tmp_path / "empty")
    with pytest.raises(ConfigError, match="`limit`"):
        hf_dataset(tmp_path / "x.xml", limit=0)


def test_hub_name_offline_is_a_dataset_error(tmp_path):
    # datasets reads the offline switch at import time, so use a fresh interpreter.
    code = (
        "from bayesbench.models import hf_dataset\n"
        "from bayesbench.errors import DatasetError\n"
        "try:\n"
        "    hf_dataset('openai/gsm8k', subset='main')\n"
        "except DatasetError as e:\n"
        "    print('DatasetError:', e)\n"
    )
    env = dict(os.environ, HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, env=env)
    assert "DatasetError:" in out.stdout, out.stderr[-2000:]
    assert "offline" in out.stdout and "local file or folder" in out.stdout
