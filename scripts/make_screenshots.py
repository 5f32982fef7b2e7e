"""Make the README's dashboard screenshots from a real store: docs/images/dashboard-*.png.

Without ``--store`` it first fills a fresh store with real runs of small function models (offline, ~20 s):
a comparison on arithmetic, two BIG-Bench Hard suite runs (the vendored data) of two answer policies, a
ranking of four models, and a nightly monitor whose model regresses after five good runs. Then it starts
``bayesbench serve`` over the store and photographs the runs list, a comparison run, two suite runs side
by side, the rankings and the monitor's trend with headless Chromium (Playwright, /usr/bin/chromium).

    python scripts/make_screenshots.py [--store runs.sqlite] [--out docs/images]
"""

from __future__ import annotations

import argparse
import importlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

_MODELS = '''
BROKEN = False
problems = [{"id": f"q{i}", "prompt": f"What is {i} + {i}?", "answer": str(2 * i)} for i in range(300)]

def model(prompt):
    i = int(prompt.split()[2])
    if BROKEN and i % 4 == 0:
        return "I am not sure."
    return str(2 * i) if i % 12 else str(2 * i + 1)

def exact(problem, response):
    return float(response.strip() == problem["answer"])
'''


def demo_store(path: str) -> None:
    from bayesbench import BayesianBenchmark, BayesianRanker
    from bayesbench.benchmarks import BigBenchHard
    from bayesbench.monitor import load_monitors, run_monitors

    folder = Path(path).parent  # the monitor first: the runs list shows the newest runs on top
    (folder / "screenshot_models.py").write_text(_MODELS)
    config = folder / "monitors.toml"
    config.write_text(f'store = {path!r}\npython_path = ["."]\n\n[[monitor]]\nname = "nightly-arithmetic"\n'
                      'model = "screenshot_models:model"\ndataset = "screenshot_models:problems"\n'
                      'score = "screenshot_models:exact"\nmodel_name = "assistant-v3"\nitems_per_run = 60\n')
    file = load_monitors(config)
    file.activate()
    sys.path.insert(0, str(folder))
    module = importlib.import_module("screenshot_models")
    for k in range(11):
        module.BROKEN = k >= 7
        run_monitors(file)

    problems = [{"question": f"What is {i} + {i}?", "answer": str(2 * i)} for i in range(400)]

    def careful(p: dict) -> str:
        return p["answer"] if int(p["answer"]) % 7 else str(int(p["answer"]) + 1)

    def hasty(p: dict) -> str:
        return p["answer"] if int(p["answer"]) % 3 else "It is " + str(int(p["answer"]) - 2)

    def exact(problem: dict, response: str) -> bool:
        return response.strip() == problem["answer"]

    result = BayesianBenchmark(confidence=0.95, seed=4, store=path).compare(
        careful, hasty, exact, problems, name="arithmetic", model_a_name="careful-7b", model_b_name="hasty-3b")
    result.post_results(store=path, tags=["nightly", "v2.1"])
    for name, answer in (("yes-sayer", "Yes"), ("no-sayer", "No")):
        suite = BigBenchHard(tasks=["navigate", "sports_understanding", "causal_judgement"], n_shots=0,
                             n_problems_per_task=20, seed=1)
        suite.evaluate(lambda prompt, a=answer: a, model_name=name).post_results(store=path, tags=["bbh"])
    ranker = BayesianRanker(confidence=0.95, min_samples=5, seed=2)
    for name, every in (("large", 12), ("medium", 4), ("medium-ft", 4), ("small", 2)):
        ranker.add_model(name, lambda p, e=every: p % e != 0)

    @ranker.evaluate
    def score(problem: int, response: bool) -> float:
        return float(response)

    ranker.rank(dataset=list(range(600))).post_results(store=path, tags=["weekly"], name="arith-ranking")



def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def shoot(store: str, out: Path) -> list[Path]:
    import httpx
    from playwright.sync_api import sync_playwright

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "bayesbench.cli", "serve", "--store", store, "--port", str(port)],
                            env=env)
    saved = []
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/api/runs?limit=1", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        runs = httpx.get(url + "/api/runs", params={"limit": 500}).json()["runs"]
        compare = next(r["id"] for r in runs if r["kind"] == "compare" and r["tags"])
        suites = [r["id"] for r in runs if r["kind"] == "suite"][:2]
        monitors = httpx.get(url + "/api/monitors").json()["monitors"]
        shots = {"dashboard-runs": ("/runs?kind=&tag=", False), "dashboard-run": (f"/runs/{compare}", False),
                 "dashboard-rankings": ("/rankings", False)}
        if len(suites) == 2:
            shots["dashboard-compare"] = (f"/compare?a={suites[0]}&b={suites[1]}", False)
        if monitors:
            shots["dashboard-monitor"] = (f"/monitors/{monitors[0]['name']}", False)
        out.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 860}, device_scale_factor=1)
            for name, (path, full) in shots.items():
                page.goto(url + path)
                target = out / f"{name}.png"
                page.screenshot(path=str(target), full_page=full)
                saved.append(target)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    return saved


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", help="photograph this store instead of a fresh demo store")
    ap.add_argument("--out", default=str(ROOT / "docs" / "images"), help="where the PNGs go (default docs/images)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        store = args.store
        if store is None:
            store = str(Path(d) / "runs.sqlite")
            demo_store(store)
        for path in shoot(store, Path(args.out)):
            print(path)


if __name__ == "__main__":
    main()
