"""Dashboard page-load time with 1 000 runs in the store, against a 10-run store in the same run (the ratio).

Both stores hold documents of real results (comparisons, BBH suite runs with answers, a ranking) posted with
``post_results``'s own writer, spread over 30 days, with tags and models to filter by. For each store it starts
``bayesbench serve`` (its own process) and measures, per page, the median of ``--repeat`` loads of:

* server time: the app's own time per request (its ``Server-Timing`` header: routing, queries, rendering);
* HTTP time: the full request as a client on this machine sees it (httpx, keep-alive);
* browser time: headless Chromium's navigation timing, request start to the load event (Playwright, Debian's
  /usr/bin/chromium), i.e. what a person waits for.

Pages: the runs list (first page: 50 rows), the list filtered by a tag, one run page (a comparison with its
stopping path and answers side by side), and ``GET /api/runs``.

    python perf/dashboard_load.py [--runs 1000] [--baseline 10] [--middle 100] [--repeat 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from bayesbench import BayesianBenchmark, BayesianRanker  # noqa: E402
from bayesbench.store import Store  # noqa: E402
from bayesbench.store._post import run_document  # noqa: E402

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def real_documents() -> list[dict]:
    """Documents of real results: 8 comparisons, 2 suite runs (answers per item), 1 ranking."""
    docs = []
    for seed in range(8):
        r = BayesianBenchmark(confidence=0.95, seed=seed).compare(
            lambda p: p % 5 != 0, lambda p, s=seed: (p + s) % 3 != 0, lambda p, x: float(x), list(range(400)),
            name=f"task-{seed % 4}", model_a_name="model-a", model_b_name=f"model-{seed % 3}")
        docs.append(run_document(r))
    from bayesbench.benchmarks import BigBenchHard

    for answer in ("Yes", "No"):
        suite = BigBenchHard(tasks=["navigate", "sports_understanding"], n_shots=0, n_problems_per_task=40, seed=0)
        docs.append(run_document(suite.evaluate(lambda prompt, a=answer: a, model_name=f"always-{answer.lower()}")))
    ranker = BayesianRanker(confidence=0.95, min_samples=5, seed=2)
    for k in range(4):
        ranker.add_model(f"m{k}", lambda p, k=k: p % (k + 2) != 0)

    @ranker.evaluate
    def score(problem: int, response: bool) -> float:
        return float(response)

    docs.append(run_document(ranker.rank(dataset=list(range(400)))))
    return docs


def fill(path: str, n: int, docs: list[dict]) -> str:
    """``n`` runs: the real documents again and again, each with its own id, date, tags and model name."""
    store = Store(path)
    now = time.time()
    first_compare = None
    for k in range(n):
        doc = dict(docs[k % len(docs)], id=uuid.uuid4().hex, created=now - (n - k) * (30 * 86400 / n),
                   tags=["nightly" if k % 2 else "weekly", f"v{k % 7}"])
        if doc["kind"] == "suite":
            doc["model_name"] = f"{doc['models'][0]}-{k % 5}"
        rid = store.put_posted_run(doc)
        if doc["kind"] == "compare":
            first_compare = rid
    store.close()
    assert first_compare is not None
    return first_compare


def measure(path: str, run_id: str, repeat: int) -> dict[str, dict[str, float]]:
    import httpx
    from playwright.sync_api import sync_playwright
    from tests.server._fill import Served

    pages = {"runs list": "/runs", "runs ?tag=": "/runs?tag=v3", "run page": f"/runs/{run_id}",
             "GET /api/runs": "/api/runs"}
    out: dict[str, dict[str, float]] = {}
    server = Served(path, None)
    try:
        with httpx.Client() as client, sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page()
            for label, url in pages.items():
                server_ms, http_ms, browser_ms = [], [], []
                for _ in range(repeat):
                    t = time.perf_counter()
                    r = client.get(server.url + url)
                    http_ms.append((time.perf_counter() - t) * 1000)
                    r.raise_for_status()
                    server_ms.append(float(r.headers["server-timing"].split("dur=")[1]))
                    page.goto(server.url + url)
                    browser_ms.append(page.evaluate(
                        "() => { const e = performance.getEntriesByType('navigation')[0];"
                        " return e.loadEventEnd - e.requestStart; }"))
                out[label] = {"server": statistics.median(server_ms), "http": statistics.median(http_ms),
                              "browser": statistics.median(browser_ms), "bytes": len(r.content)}
            browser.close()
    finally:
        server.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--baseline", type=int, default=10)
    ap.add_argument("--middle", type=int, default=100, help="a store as big as a full page and more (default 100)")
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    docs = real_documents()
    sizes = (args.baseline, args.middle, args.runs)
    with tempfile.TemporaryDirectory() as d:
        results = {}
        for n in sizes:
            path = str(Path(d) / f"runs-{n}.sqlite")
            t = time.perf_counter()
            rid = fill(path, n, docs)
            fill_s = time.perf_counter() - t
            results[n] = measure(path, rid, args.repeat)
            size = Path(path).stat().st_size / 1e6
            print(f"store with {n} runs: filled in {fill_s:.1f} s, {size:.1f} MB", flush=True)
    a, m, z = (results[n] for n in sizes)
    print(f"\nmedian of {args.repeat} loads, ms (the list pages show min(runs, 50) rows); ratios: {args.runs} runs "
          f"over {args.baseline} and over {args.middle}")
    print(f"| page | server {sizes[0]} / {sizes[1]} / {sizes[2]} | ratio /{sizes[0]} | ratio /{sizes[1]} "
          f"| HTTP {sizes[2]} | browser {sizes[0]} / {sizes[1]} / {sizes[2]} | ratio /{sizes[0]} | ratio /{sizes[1]} "
          f"| KB ({sizes[2]}) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label in a:
        print(f"| {label} | {a[label]['server']:.1f} / {m[label]['server']:.1f} / {z[label]['server']:.1f} | "
              f"{z[label]['server'] / a[label]['server']:.2f} | {z[label]['server'] / m[label]['server']:.2f} | "
              f"{z[label]['http']:.1f} | {a[label]['browser']:.0f} / {m[label]['browser']:.0f} / "
              f"{z[label]['browser']:.0f} | {z[label]['browser'] / a[label]['browser']:.2f} | "
              f"{z[label]['browser'] / m[label]['browser']:.2f} | {z[label]['bytes'] / 1000:.0f} |")


if __name__ == "__main__":
    main()
