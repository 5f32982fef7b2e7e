"""Inspect AI with bayesbench's PairedEarlyStopping: samples each model ran vs the full eval, for two mockllm
models with fixed per-sample correctness (no tokenizer, no network), over seeds.

    python perf/inspect_early_stopping.py [--samples 200] [--acc 0.75,0.55] [--seeds 5] [--max-samples 4]

Per seed: the verdict, the pairs the rule used, the samples each model ran (the rule's pairs plus those in
flight), and the wall time, next to the full eval (no early stopping) of the same models.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
from inspect_ai import Task, eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from inspect_ai.scorer import match
from inspect_ai.solver import generate

from bayesbench.integrations import PairedEarlyStopping


def mock(name: str, correct: np.ndarray):
    outs = []
    for ok in correct:
        out = ModelOutput.from_content("mockllm/model", "yes" if ok else "no")
        out.usage = ModelUsage(input_tokens=3, output_tokens=1, total_tokens=4)
        outs.append(out)
    return get_model(f"mockllm/{name}", custom_outputs=outs, memoize=False)


def run(n: int, ca: np.ndarray, cb: np.ndarray, stopper, max_samples: int) -> tuple[list, float]:
    task = Task(dataset=MemoryDataset([Sample(id=i, input=f"q{i}", target="yes") for i in range(n)]),
                solver=generate(), scorer=match(), early_stopping=stopper, name="yesno")
    t0 = time.perf_counter()
    logs = eval(task, model=[mock("a", ca), mock("b", cb)], log_dir=tempfile.mkdtemp(prefix="bb-inspect-"),
                display="none", max_samples=max_samples, max_tasks=2)  # logs stay readable after eval returns
    return logs, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--acc", default="0.75,0.55")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--max-samples", type=int, default=4)
    args = ap.parse_args()
    pa, pb = (float(x) for x in args.acc.split(","))
    n = args.samples
    print("| seed | verdict | pairs used | samples run (a, b) | of | time s | full eval time s | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    used_all, time_ratio = [], []
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        ca, cb = rng.random(n) < pa, rng.random(n) < pb
        logs, secs = run(n, ca, cb, PairedEarlyStopping(confidence=0.95), args.max_samples)
        _, full_secs = run(n, ca, cb, None, args.max_samples)
        meta = logs[-1].results.early_stopping.metadata
        ran = [sum(1 for s in log.samples if s.scores) for log in logs]
        used_all.append(sum(ran) / (2 * n))
        time_ratio.append(secs / full_secs)
        print(f"| {seed} | {meta['verdict']} | {meta['n_paired']} | {ran[0]}, {ran[1]} | {n} | {secs:.1f} "
              f"| {full_secs:.1f} | {secs / full_secs:.2f} |")
    print(f"\nmean share of the full eval's samples run: {np.mean(used_all):.2f}; mean time ratio "
          f"{np.mean(time_ratio):.2f} (accuracies {pa}, {pb}, {n} samples, max_samples={args.max_samples})")


if __name__ == "__main__":
    main()
