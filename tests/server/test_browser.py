"""The dashboard in a real browser (headless Chromium driven by Playwright) over a real store filled by real
runs: runs -> a run -> a comparison -> rankings -> monitor trends, clicking as a person would, with the
screenshots saved as test artifacts ($BAYESBENCH_ARTIFACTS/dashboard, else the test's tmp dir)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from bayesbench.store import Store

from .._shared import require_or_skip
from ._fill import EVIL_NAME, KEY, Served

pytestmark = pytest.mark.timeout(180)

CHROMIUM = os.environ.get("BAYESBENCH_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    require_or_skip(importlib.util.find_spec("playwright") is not None, "needs pip install playwright==1.65.2")
    require_or_skip(os.path.exists(CHROMIUM), f"needs Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, served: Served):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    outside: list[str] = []  # every request must stay on the server: no CDN, no external asset
    pg.on("request", lambda req: None if req.url.startswith(served.url) else outside.append(req.url))
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert outside == [] and errors == []


def _not_pwned(pg) -> None:
    assert pg.evaluate("typeof window.__pwned") == "undefined"  # no injected script or handler ran


def test_click_through_runs_run_comparison_rankings_monitor(page, served: Served, filled: dict,
                                                           artifacts: Path) -> None:
    pg = page
    pg.goto(served.url + "/")
    assert pg.title() == "Runs · bayesbench"
    total = Store(filled["path"]).list_runs(limit=1)[1]
    assert f"({total})" in pg.inner_text("h1")
    assert pg.locator("#runs tbody tr").count() == min(total, 50)
    assert EVIL_NAME in pg.inner_text("#runs")  # shown as text
    pg.screenshot(path=str(artifacts / "1-runs.png"), full_page=True)

    # filter by tag, then open the comparison run
    pg.select_option("select[name=tag]", "nightly")
    pg.click("#filter")
    pg.wait_for_url("**/runs?**tag=nightly**")
    assert pg.locator("#runs tbody tr").count() == 1
    pg.click("a.run-link:has-text('addition')")
    pg.wait_for_url(f"**/runs/{filled['compare']}")
    result = filled["compare_result"]
    assert pg.inner_text("#verdict") == f"winner: {result.winner_name}"
    assert pg.locator("#path svg polyline").count() == 1 and pg.locator("#interval svg rect").count() == 1
    stop = pg.text_content("#path svg") or ""
    assert f"stop at n={result.problems_tested}" in stop
    rows = pg.locator("#items tbody tr")
    disagreements = int(pg.inner_text("#disagreements"))
    expected = sum(a != b for a, b in zip(result.scores_a, result.scores_b))
    assert disagreements == expected > 0
    classes = [rows.nth(k).get_attribute("class") for k in range(rows.count())]
    assert classes == ["disagree"] * expected + ["agree"] * (len(classes) - expected)  # disagreements first
    first_answer = rows.nth(0).locator("td").nth(5).inner_text()
    assert first_answer.startswith("<script>window.__pwned=1</script>") and KEY not in first_answer
    resources = pg.inner_text("#resources")
    assert "peak_rss_mb\t182.5" in resources and "cpu.cores\t2" in resources and "hf_token\t<redacted>" in resources
    assert "samples" not in resources and pg.locator("#resource-charts svg polyline").count() == 2  # RSS and CPU
    assert "memory (RSS), MiB" in (pg.locator("#resource-charts svg").first.text_content() or "")
    usage = pg.locator("#usage tbody tr")
    assert usage.count() == 2 and usage.first.locator("td").nth(1).inner_text() == str(result.usage["models"][
        usage.first.locator("td").first.inner_text()]["calls"])  # calls per model, as the run counted them
    assert KEY not in pg.content()
    _not_pwned(pg)
    pg.screenshot(path=str(artifacts / "2-run.png"), full_page=True)

    # two suite runs side by side: choose A and B on the runs page, then Compare
    pg.goto(served.url + "/runs?tag=bbh")
    a, b = filled["suites"]
    pg.check(f"input[name=a][value='{a}']")
    pg.check(f"input[name=b][value='{b}']")
    pg.click("#compare")
    pg.wait_for_url("**/compare?**")
    assert pg.inner_text("h1") == "always-yes vs always-no"
    n_items = pg.locator("#items tbody tr").count()
    assert n_items == 30 and int(pg.inner_text("#disagreements")) == 30  # "Yes" and "No" never agree
    _not_pwned(pg)
    pg.screenshot(path=str(artifacts / "3-compare.png"), full_page=True)

    # rankings with intervals and tie groups
    pg.click("header a:has-text('Rankings')")
    pg.wait_for_url("**/rankings")
    card = pg.locator(".ranking-card").first
    assert card.locator("svg circle").count() == 4  # one estimate per model
    assert "medium ~ medium-twin" in card.inner_text()  # the twins cannot be separated
    pg.screenshot(path=str(artifacts / "4-rankings.png"), full_page=True)

    # monitor trends: baseline line, alerts marked after the regression
    pg.click("header a:has-text('Monitors')")
    pg.wait_for_url("**/monitors")
    pg.click("a.monitor-link:has-text('nightly-addition')")
    pg.wait_for_url("**/monitors/nightly-addition")
    alerts = pg.locator("#panel-score svg circle.alert")
    assert alerts.count() >= 2  # both charts mark them
    assert "baseline" in (pg.locator("#panel-score svg").first.text_content() or "")
    statuses = pg.locator("#panel-score table.checks tbody tr td:nth-child(5)").all_inner_texts()
    assert statuses[-5:] == ["ok"] * 5 and statuses[0] == "ALERT"  # newest first: the regressed runs alert
    pg.screenshot(path=str(artifacts / "5-monitor.png"), full_page=True)
    pg.click("#baseline-link")
    assert "monitor:nightly-addition" in pg.inner_text("#run-name")
    assert pg.locator("#items tbody tr").count() > 0  # the monitor's answers, from its call records
    pg.click("#monitor-link")
    pg.wait_for_url("**/monitors/nightly-addition")
    for name in ("1-runs", "2-run", "3-compare", "4-rankings", "5-monitor"):
        assert (artifacts / f"{name}.png").stat().st_size > 10_000


def test_history_estimates_and_errors(page, served: Served, filled: dict, artifacts: Path) -> None:
    pg = page
    pg.goto(served.url + "/runs?kind=monitor")
    assert pg.locator("#runs tbody tr").count() == 10
    pg.click("header a:has-text('History')")
    pg.wait_for_url("**/history")
    rows = pg.locator("#history tbody tr")
    assert rows.count() == 1 and "yes-by-history" in rows.first.inner_text()
    estimate = Store(filled["path"]).run_record(filled["history"])["summary"]["settings"]["history"]["estimate"]
    assert f"{estimate['mean']:.3f}" in rows.first.inner_text()
    rows.first.locator("a").click()
    pg.wait_for_url(f"**/runs/{filled['history']}")
    assert "active" in pg.inner_text("#history") and f"{estimate['mean']:.3f}" in pg.inner_text("#history")
    pg.screenshot(path=str(artifacts / "6-history.png"), full_page=True)
    pg.goto(served.url + "/runs/does-not-exist")
    assert "no run with id" in pg.inner_text("#error")
    pg.goto(served.url + "/compare?a=" + filled["compare"])
    assert "choose two runs" in pg.inner_text("#error")
