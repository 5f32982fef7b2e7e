"""`bayesbench build ...` in real subprocesses: the walk from a JSONL of queries to exports, and clear errors."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bayesbench.builder import BuilderDataset
from bayesbench.cli import main

SRC = str(Path(__file__).resolve().parents[2] / "src")
QUERIES = [
    {"query": "How do I reset my password? I am bob@example.com", "answer": "Settings > Security", "user": "u1"},
    {"query": "how do I reset my password?  I am bob@example.com!", "answer": "Settings > Security", "user": "u1"},
    {"query": "Refund to card 4111 1111 1111 1111 please", "answer": "Refunds take 5 days", "user": "u2"},
    {"query": "What is the capital of France?", "answer": "Paris", "user": "u3"},
]


def _cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""), **(env or {})}
    return subprocess.run([sys.executable, "-m", "bayesbench.cli", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def queries(tmp_path: Path) -> Path:
    path = tmp_path / "queries.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in QUERIES), encoding="utf-8")
    return path


def test_the_walk_from_queries_to_every_export(tmp_path: Path, queries: Path) -> None:
    r = _cli("build", "collect", "built", "--from", "queries.jsonl", "--field", "input=query", "--field",
             "expected=answer", "--domain", "support", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "collected 4 case(s)" in r.stdout and "by source: log=4" in r.stdout
    r = _cli("build", "dedup", "built", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["counts"] == {"examined": 4, "exact": 1, "near": 0, "kept": 3}
    r = _cli("build", "export", "built", "--format", "jsonl", "--out", "raw.jsonl", cwd=tmp_path)
    assert r.returncode == 2 and "not anonymised" in r.stderr and not (tmp_path / "raw.jsonl").exists()
    r = _cli("build", "anonymize", "built", "--engine", "regex", "--salt-file", "secret/salt.txt", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "CREDIT_CARD=1, EMAIL=1" in r.stdout and "created a new salt" in r.stderr
    salt = (tmp_path / "secret" / "salt.txt").read_text().strip()
    stored = "".join(p.read_text() for p in (tmp_path / "built").iterdir())
    assert salt not in stored and "bob@example.com" not in stored and "4111" not in stored
    for fmt, out in (("jsonl", "x.jsonl"), ("hf", "hf"), ("inspect", "ins.jsonl"), ("lm-eval", "lm")):
        r = _cli("build", "export", "built", "--format", fmt, "--out", out, cwd=tmp_path)
        assert r.returncode == 0 and "exported 3 case(s) of 'built'" in r.stdout, (fmt, r.stderr)
    ds = BuilderDataset.load(tmp_path / "built")
    assert BuilderDataset.load(tmp_path / "x.jsonl").cases == ds.cases
    assert (tmp_path / "lm" / "built.yaml").exists() and (tmp_path / "hf" / "dataset_info.json").exists()
    if importlib.util.find_spec("inspect_ai") is not None or os.environ.get("CI") == "true":  # CI installs it
        from inspect_ai.dataset import json_dataset

        from bayesbench.builder import from_inspect

        assert from_inspect(json_dataset(str(tmp_path / "ins.jsonl"))).cases == ds.cases
    r = _cli("build", "info", "built", cwd=tmp_path)
    assert r.returncode == 0 and ds.version in r.stdout
    assert [line.split()[1] for line in r.stdout.splitlines() if line.startswith("  20")] == \
        ["add", "dedup", "anonymize"]
    info = json.loads(_cli("build", "info", "built", "--json", cwd=tmp_path).stdout)
    assert info["version"] == ds.version and info["n_cases"] == 3


def test_clear_errors(tmp_path: Path, queries: Path, capsys) -> None:
    assert main(["build", "collect", "d", "--from", str(queries), "--field", "input=qeury"]) == 2
    assert "queries.jsonl:1: the input field 'qeury' is missing" in capsys.readouterr().err
    assert main(["build", "collect", "d", "--from", str(queries), "--field", "inputquery"]) == 2
    assert "CASE_FIELD=SOURCE_FIELD" in capsys.readouterr().err
    assert main(["build", "collect", "d"]) == 2
    assert "at least one --from" in capsys.readouterr().err
    assert main(["build", "info", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["build", "export", str(tmp_path), "--format", "csv", "--out", "x"]) == 2
    assert "invalid choice" in capsys.readouterr().err
    assert main(["build", "collect", str(tmp_path / "d"), "--from", str(queries)]) == 0
    capsys.readouterr()
    assert main(["build", "anonymize", str(tmp_path / "d"), "--engine", "regex", "--salt-file",
                 str(tmp_path / "d" / "salt")]) == 2
    assert "outside the dataset folder" in capsys.readouterr().err


def test_generate_through_the_fake_server(tmp_path: Path, queries: Path, fake_server) -> None:
    fake_server.answer = "- Where is my parcel?\n- Can I change the address?"
    assert main(["build", "collect", str(tmp_path / "d"), "--from", str(queries)]) == 0
    code = main(["build", "generate", str(tmp_path / "d"), "--model", "gpt-4o-mini", "--base-url",
                 fake_server.openai_base_url, "--template", "Questions about {topic}", "--topic", "delivery"])
    assert code == 0
    ds = BuilderDataset.load(tmp_path / "d")
    assert [c.input for c in ds if c.synthetic] == ["Where is my parcel?", "Can I change the address?"]
    assert ds.changelog[-1].action == "generate"
    fake_server.add_fault(status=401, times=5)
    code = main(["build", "generate", str(tmp_path / "d"), "--model", "gpt-4o-mini", "--base-url",
                 fake_server.openai_base_url, "--template", "More about {topic}", "--topic", "x"])
    assert code == 3 and len(BuilderDataset.load(tmp_path / "d")) == len(ds)


def test_the_sample_log_the_readme_uses(tmp_path: Path, capsys) -> None:
    """tests/builder/data/support_queries.jsonl (copied to examples/ for the README): one exact and one near
    duplicate of the password question, and an email, a card, a phone, an IBAN, an API key and an IP to scrub."""
    sample = Path(__file__).with_name("data") / "support_queries.jsonl"
    built = str(tmp_path / "built")
    assert main(["build", "collect", built, "--from", str(sample), "--field", "input=query", "--field",
                 "expected=answer", "--domain", "support"]) == 0
    assert main(["build", "dedup", built, "--threshold", "0.75", "--json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{"):])["counts"] == {"examined": 18, "exact": 1, "near": 1, "kept": 16}
    assert main(["build", "anonymize", built, "--engine", "regex", "--json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{"):])["counts"] == {"API_KEY": 1, "CREDIT_CARD": 1, "EMAIL": 1, "IBAN": 1,
                                                           "IP_ADDRESS": 1, "PHONE": 1}
    assert main(["build", "export", built, "--format", "lm-eval", "--out", str(tmp_path / "lm")]) == 0
    guide = tmp_path / "guidelines.json"
    guide.write_text(json.dumps({"task": "Is the answer right?", "rubric": {"0": "wrong", "1": "right"},
                                 "scale": "ordinal", "criteria": ["names the menu path"]}))
    assert main(["build", "collect", built, "--guidelines", str(guide)]) == 0
    ds = BuilderDataset.load(built)
    assert ds.guidelines.labels == ["0", "1"] and ds.changelog[-1].action == "guidelines"
    guide.write_text(json.dumps({"task": "x", "scale": "ratio"}))
    assert main(["build", "collect", built, "--guidelines", str(guide)]) == 2
    assert "`scale` must be one of" in capsys.readouterr().err
