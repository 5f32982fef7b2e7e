"""`bayesbench estimate`: in-process through argparse and as a real subprocess (piped and on a terminal)."""

from __future__ import annotations

import argparse
import json
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bayesbench.history._cli import add_estimate_parser, run_estimate

from ._sim import factor_bank

SRC = str(Path(__file__).resolve().parents[2] / "src")
ENV = {**os.environ, "PYTHONPATH": SRC}
# the real command line: `bayesbench estimate ...` is `python -m bayesbench.cli estimate ...`
CLI = [sys.executable, "-m", "bayesbench.cli"]
FAST_FIT = ["--ranks", "2", "--penalties", "3"]


def _bayesbench(*args: str) -> subprocess.CompletedProcess:
    """`bayesbench ARGS...` in a real subprocess, output captured as text."""
    return subprocess.run([*CLI, *args], capture_output=True, text=True, check=False, env=ENV, timeout=120)


@pytest.fixture(scope="module")
def bank_csv(tmp_path_factory):
    bank, _ = factor_bank(n_models=120, n_items=60, rank=2, seed=8)
    path = tmp_path_factory.mktemp("bank") / "bank.csv"
    bank.to_csv(path)
    return bank, path


def _parse(argv):
    p = argparse.ArgumentParser(prog="bayesbench")
    add_estimate_parser(p.add_subparsers())
    return p.parse_args(argv)


def test_in_process_holdout_json(bank_csv, capsys, tmp_path):
    bank, path = bank_csv
    fitfile = tmp_path / "f.npz"
    rc = run_estimate(
        _parse(
            [
                "estimate",
                "--bank",
                str(path),
                "--holdout",
                "m3",
                "--budget",
                "30",
                "--json",
                "--ranks",
                "2",
                "--penalties",
                "3",
                "--save-fit",
                str(fitfile),
                "--place",
            ]
        )
    )
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["true_mean"] == pytest.approx(bank.mean("m3"))
    assert out["estimate"]["n"] == 30 and out["estimate"]["method"] == "active" and out["fit"]["rank"] == 2
    assert "m3" not in out["placement"]["above"] + out["placement"]["below"]  # held out of the fit
    assert fitfile.exists()
    rc = run_estimate(
        _parse(["estimate", "--bank", str(path), "--holdout", "m3", "--budget", "30", "--json", "--fit", str(fitfile)])
    )
    again = json.loads(capsys.readouterr().out)
    assert rc == 0 and again["estimate"] == out["estimate"]  # the saved fit reproduces the run


def test_in_process_scores_file_and_errors(bank_csv, capsys, tmp_path):
    bank, path = bank_csv
    scores = tmp_path / "new.csv"
    scores.write_text("item,score\n" + "".join(f"{it},{v}\n" for it, v in zip(bank.items, bank.row("m7"))))
    rc = run_estimate(
        _parse(
            [
                "estimate",
                "--bank",
                str(path),
                "--scores",
                str(scores),
                "--budget",
                "20",
                "--ranks",
                "2",
                "--penalties",
                "3",
                "--quiet",
                "--method",
                "uniform",
            ]
        )
    )
    assert rc == 0 and "uniform: mean" in capsys.readouterr().out
    rc = run_estimate(_parse(["estimate", "--bank", str(tmp_path / "nope.csv"), "--holdout", "m1"]))
    assert rc == 2 and "no such file" in capsys.readouterr().err
    rc = run_estimate(
        _parse(
            [
                "estimate",
                "--bank",
                str(path),
                "--holdout",
                "m1",
                "--confidence",
                "1.5",
                "--ranks",
                "2",
                "--penalties",
                "3",
                "--quiet",
            ]
        )
    )
    assert rc == 2 and "`confidence` must be in (0.5, 1), got 1.5" in capsys.readouterr().err


def test_subprocess_piped_prints_the_interval_narrowing(bank_csv, tmp_path):
    bank, path = bank_csv
    mod = tmp_path / "newmodel.py"
    row = {it: float(v) for it, v in zip(bank.items, bank.row("m11"))}
    mod.write_text(f"ROW = {row!r}\ndef score(item):\n    return ROW[item]\n")
    proc = _bayesbench("estimate", "--bank", str(path), "--score-fn", f"{mod}:score", "--budget", "40",
                       "--ci", "anytime", *FAST_FIT)
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("n=")]
    assert len(lines) >= 5 and lines[-1].startswith("n=40/40")
    widths = [float(ln.rsplit("width ", 1)[1]) for ln in lines]
    assert widths == sorted(widths, reverse=True) and widths[-1] < widths[0]
    assert "active: mean" in proc.stdout and "anytime interval" in proc.stdout
    bad = tmp_path / "bad.py"
    bad.write_text("def score(item):\n    return 3.0\n")
    proc = _bayesbench("estimate", "--bank", str(path), "--score-fn", f"{bad}:score", *FAST_FIT)
    assert proc.returncode == 2 and "returned 3.0; it must return a score in [0, 1]" in proc.stderr


def test_subprocess_on_a_terminal_uses_rich(bank_csv):
    _, path = bank_csv
    master, slave = pty.openpty()
    proc = subprocess.Popen([*CLI, "estimate", "--bank", str(path), "--holdout", "m2", "--budget", "30", *FAST_FIT],
                            stdout=subprocess.PIPE, stderr=slave, env={**ENV, "TERM": "xterm"})
    os.close(slave)
    chunks: list[bytes] = []

    def drain():  # keep reading so a full pty buffer never blocks the child
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    proc.communicate(timeout=120)
    reader.join(timeout=10)
    os.close(master)
    err = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0
    assert "estimate" in err and "width" in err and "\x1b[" in err  # a rich live display, not plain lines
    assert "n=" not in err


def test_bayesbench_help_lists_estimate_and_estimate_help_works():
    top = _bayesbench("--help")
    assert top.returncode == 0 and "bayesbench estimate --bank" in top.stdout
    sub = _bayesbench("estimate", "--help")
    assert sub.returncode == 0 and "--budget" in sub.stdout and "--holdout" in sub.stdout
    bad = _bayesbench("estimate", "--budget", "5")
    assert bad.returncode == 2 and "--bank" in bad.stderr
