"""The annotation page in a real headless Chromium against a real server subprocess on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bayesbench.builder import Guidelines, TestCase
from bayesbench.builder._annotate import AnnotationProject
from tests._shared import require_or_skip

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
XSS = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">Is <b>this</b> safe?'
GUIDE = Guidelines(task="Decide whether the question is answerable from general knowledge.",
                   criteria=["a single factual answer exists"], rubric={"no": "not answerable", "yes": "answerable"},
                   edge_cases=["opinion questions are 'no'"],
                   examples=[{"input": "Capital of France?", "label": "yes", "rationale": "one fact"}])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen]]:
    require_or_skip(importlib.util.find_spec("fastapi") is not None and importlib.util.find_spec("uvicorn") is not None,
                    'the annotation page needs fastapi and uvicorn: pip install "bayesbench[builder]"')
    cases = [TestCase(input=XSS, id="xss"), TestCase(input="What is 2 + 2?", references=("4",), id="math"),
             TestCase(input="Is jazz better than rock?", id="opinion")]
    path = tmp_path / "round.sqlite"
    AnnotationProject.create(path, cases, annotators=["alice", "bob"], overlap=2, guidelines=GUIDE, seed=0).close()
    port = _free_port()
    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "bayesbench.builder._annotate_app", str(path), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if httpx.get(base + "/progress.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "annotation server not ready after 30 s"
            time.sleep(0.1)
        yield base, path, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture
def browser():
    require_or_skip(importlib.util.find_spec("playwright") is not None,
                    "the browser tests need playwright: pip install playwright==1.65.2")
    require_or_skip(Path(CHROMIUM).exists(), f"the browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _labels_on_disk(path: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(path)
    try:
        return sorted(conn.execute("SELECT annotator, item_id, label FROM labels").fetchall())
    finally:
        conn.close()


def test_annotator_labels_items_in_the_browser(served, browser):
    base, path, proc = served
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    response = page.goto(base + "/")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    page.select_option("#annotator", "alice")
    page.click("#start")
    assert page.inner_text("#who") == "annotating as alice"
    assert page.inner_text("#progress") == "0 / 3 done"
    # the style sheet loads under the strict CSP (no inline styles needed)
    assert page.evaluate("() => getComputedStyle(document.querySelector('header')).backgroundColor") == "rgb(29, 53, 87)"
    # the guidelines are shown beside the item
    guide = page.inner_text("#guidelines")
    for text in ("general knowledge", "a single factual answer exists", "opinion questions are 'no'", "one fact"):
        assert text in guide
    seen = []
    for n, label in enumerate(["yes", "no", "yes"]):
        item_id = page.inner_text("#item-id")
        seen.append(item_id)
        if item_id == "xss":
            # the payload is shown as text, not run or rendered as markup
            assert page.inner_text("#item-text") == XSS
            assert page.locator("#item-text img").count() == 0 and page.locator("#item-text b").count() == 0
        page.check(f"input[name=label][value={label}]")
        page.fill("#note", f"note {n}")
        page.click("#save")
        page.wait_for_load_state()
        # saved as submitted: the row is in the SQLite file before the next page is shown
        assert ("alice", item_id, label) in _labels_on_disk(path)
        assert page.inner_text("#progress") == f"{n + 1} / 3 done"
        assert page.get_attribute("#bar", "value") == str(n + 1)
    assert sorted(seen) == ["math", "opinion", "xss"]
    assert page.inner_text("#done").startswith("All your items are labelled")
    assert page.evaluate("() => window.__pwned === undefined") and dialogs == []
    page.goto(base + "/progress")
    assert page.inner_text("tr[data-annotator=alice] td.done") == "3"
    assert page.inner_text("tr[data-annotator=bob] td.done") == "0"
    assert httpx.get(base + "/progress.json").json()["progress"][0]["done"] == 3
    exported = httpx.get(base + "/export.jsonl").text.splitlines()
    assert len(exported) == 3 and '"annotator": "alice"' in exported[0]
    # the server is killed outright: every acknowledged label is still in the file
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    with AnnotationProject.open(path) as reopened:
        assert sorted((r["item_id"], r["label"], r["note"]) for r in reopened.records()) == sorted(
            zip(seen, ["yes", "no", "yes"], ["note 0", "note 1", "note 2"]))


def test_bad_submissions_are_refused_in_the_page(served, browser):
    base, path, _ = served
    page = browser.new_page()
    page.goto(base + "/item")  # not logged in: back to the login page
    assert page.locator("#annotator").count() == 1
    page.select_option("#annotator", "bob")
    page.click("#start")
    # a forged form post (a label that is not allowed) is refused and nothing is saved
    page.evaluate("""() => { const f = document.getElementById('label-form');
        const r = f.querySelector('input[name=label]'); r.value = 'maybe'; r.checked = true; f.submit(); }""")
    page.wait_for_load_state()
    assert "`label` must be one of" in page.inner_text("#error")
    assert _labels_on_disk(path) == []
    r = httpx.post(base + "/login", data={"annotator": "mallory"})
    assert r.status_code == 400 and "unknown annotator" in r.text


def test_router_mounts_under_a_prefix(tmp_path):
    """How the dashboard mounts the page: include_router(..., prefix=...); every link follows the prefix."""
    require_or_skip(importlib.util.find_spec("fastapi") is not None, 'needs fastapi: pip install "bayesbench[builder]"')
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from bayesbench.builder._annotate_app import annotation_router

    proj = AnnotationProject.create(tmp_path / "m.sqlite", [{"id": "a", "text": "A"}], annotators=["al"], overlap=1,
                                    labels=["n", "y"])
    app = FastAPI()
    app.include_router(annotation_router(proj), prefix="/annotate")
    client = TestClient(app)
    page = client.get("/annotate/")
    assert page.status_code == 200 and 'action="http://testserver/annotate/login"' in page.text
    r = client.post("/annotate/login", data={"annotator": "al"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/annotate/item")
    r = client.post("/annotate/item", data={"item_id": "a", "label": "y"}, follow_redirects=True)
    assert "1 / 1 done" in r.text and proj.records()[0]["label"] == "y"
