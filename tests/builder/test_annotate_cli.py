"""The annotation commands as real subprocesses: create a round from a dataset folder, import, progress,
agreement, export; bad input exits 2 with the reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bayesbench.builder import BuilderDataset, Guidelines, TestCase

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    return subprocess.run([sys.executable, "-m", "bayesbench.cli", "build", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_round_from_the_command_line(tmp_path):
    g = Guidelines(task="Rate the answer", rubric={"bad": "", "ok": "", "good": ""}, scale="ordinal")
    ds = BuilderDataset("support", [TestCase(input=f"question {i}", id=f"q{i}") for i in range(6)], guidelines=g)
    ds.save(tmp_path / "ds")
    round_ = tmp_path / "round.sqlite"
    r = cli("annotate", "create", str(tmp_path / "ds"), "--out", str(round_), "--annotator", "ann",
            "--annotator", "bob", "--overlap", "2")
    assert r.returncode == 0, r.stderr
    assert "6 items, 2 annotators, overlap 2" in r.stdout
    labels = tmp_path / "external.jsonl"
    rows = [{"item_id": f"q{i}", "annotator": a, "label": ["bad", "ok", "good"][i % 3] if a == "ann" or i != 5 else "bad"}
            for i in range(6) for a in ("ann", "bob")]
    labels.write_text("".join(json.dumps(x) + "\n" for x in rows))
    r = cli("annotate", "import", str(round_), "--from", str(labels))
    assert r.returncode == 0 and "imported 12 labels" in r.stdout
    r = cli("annotate", "progress", str(round_), "--json")
    assert [p["done"] for p in json.loads(r.stdout)] == [6, 6]
    r = cli("agreement", str(round_), "--boot", "100", "--json", "--consensus", "dawid-skene")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["agreement"]["level_of_measurement"] == "ordinal"  # from the round's guidelines
    assert out["agreement"]["flagged"] == ["q5"]  # ann said good, bob said bad
    assert out["consensus"]["method"] == "dawid_skene" and out["consensus"]["n"] == 6
    r = cli("annotate", "export", str(round_), "--out", str(tmp_path / "labels.csv"))
    assert r.returncode == 0 and (tmp_path / "labels.csv").read_text().count("\n") == 13
    r = cli("agreement", str(tmp_path / "labels.csv"), "--scale", "ordinal", "--labels", "bad,ok,good", "--boot", "50")
    assert r.returncode == 0 and "krippendorff_alpha" in r.stdout and "flagged for review: q5" in r.stdout


def test_bad_input_exits_2(tmp_path):
    r = cli("annotate", "progress", str(tmp_path / "nope.sqlite"))
    assert r.returncode == 2 and "no annotation project" in r.stderr
    r = cli("agreement", str(tmp_path / "labels.txt"))
    assert r.returncode == 2 and "must be a .sqlite round" in r.stderr
