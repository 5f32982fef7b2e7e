"""The dashboard's small parts on their own: secret masking, the SVG charts, date parsing, the missing extra."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bayesbench.errors import ConfigError
from bayesbench.server._secrets import mask_secrets, mask_text
from bayesbench.server._svg import forest_svg, interval_svg, path_svg, trend_svg
from bayesbench.server._views import parse_when, side_by_side

from ._fill import SRC

KEYS = [
    "sk-" + "a" * 40, "sk-proj-" + "Ab1" * 10, "sk-ant-api03-" + "x9" * 20, "hf_" + "AbCdEfGhIjKlMnOpQrStUv",
    "ghp_" + "1234567890abcdefghijABCDEFGHIJ", "xoxb-" + "1234567890-abcdefghijkl", "AKIA" + "ABCDEFGHIJKLMNOP",
    "AIza" + "SyA-1234567890abcdefghijklmnopqrstu", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.abcdefghijklmnopqrst",
]


@pytest.mark.parametrize("key", KEYS)
def test_key_like_strings_are_masked_anywhere(key: str) -> None:
    text = f"my answer: use {key} to log in"
    assert key not in mask_text(text) and "<redacted>" in mask_text(text)
    assert key not in str(mask_secrets({"note": [text], "deep": {"x": key}}))


def test_ordinary_text_is_left_alone() -> None:
    for text in ("task-7 skipped", "sk-8", "the hf_ prefix", "Bearer", "AKIA", "2 + 2 = 4", "model-a vs model-b"):
        assert mask_text(text) == text
    assert mask_text("Authorization: Bearer abcdefghijklmnop") == "Authorization: <redacted>"
    assert mask_secrets({"api_key": "x", "max_tokens": 12, "password": None}) == \
        {"api_key": "<redacted>", "max_tokens": 12, "password": None}


def test_charts_escape_labels_and_skip_bad_numbers() -> None:
    evil = "<script>alert(1)</script>"
    svg = forest_svg([(evil, 0.5, 0.4, 0.6), ("b", float("nan"), None, None)])
    assert "<script>" not in svg and "&lt;script&gt;" in svg and svg.count("<circle") == 1
    assert interval_svg(None, None, 1.0) == "" and path_svg([{"n": 1, "cs": "bad"}]) == ""
    path = path_svg([{"n": 8, "estimate": 0.3, "cs": [-0.5, 1.0]}, {"n": 16, "estimate": 0.25, "cs": [0.01, 0.5]}])
    assert "stop at n=16" in path and "<polygon" in path and "<polyline" in path
    trend = trend_svg([{"value": 0.0, "lo": -0.1, "hi": 0.1}, {"value": -0.3, "alert": True}], baseline=0.0,
                      margin=0.02, label=evil)
    assert trend.count('class="alert"') == 1 and "alert margin" in trend and "<script>" not in trend


def test_dates_and_side_by_side_order() -> None:
    assert parse_when("2026-01-02", "since") == 1767312000.0
    assert parse_when("2026-01-02", "until", end=True) == 1767312000.0 + 86400
    assert parse_when("12.5", "since") == 12.5 and parse_when("", "since") is None
    with pytest.raises(ConfigError, match="`since` must be a date YYYY-MM-DD"):
        parse_when("last week", "since")
    left = {"p1": {"score": 1.0}, "p2": {"score": 1.0}, "p3": {"score": 0.0}, "only-left": {"score": 1.0}}
    right = {"p1": {"score": 1.0}, "p2": {"score": 0.0}, "p3": {"score": 1.0}}
    view = side_by_side(left, right, ["p3", "p1", "p2"])
    assert [r["problem_id"] for r in view["rows"]] == ["p3", "p2", "p1"]  # disagreements first, then run order
    assert (view["n"], view["disagreements"], view["a_better"], view["b_better"]) == (3, 2, 1, 1)


def test_the_missing_extra_names_the_pip_line(tmp_path) -> None:
    code = ("import sys; sys.modules['fastapi'] = None\n"
            "from bayesbench.server import create_app\n"
            "try:\n    create_app('x.sqlite')\nexcept Exception as e:\n    print(type(e).__name__, e)\n")
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.startswith("MissingDependencyError") and 'pip install "bayesbench[serve]"' in out.stdout
