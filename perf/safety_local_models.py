"""BBQ accuracy and bias, and the toxicity rate, of the two local LLMs the demo uses (offline data only).

    python perf/safety_local_models.py [--threads 1] [--only bbq|toxicity] [--samples 1]

Gemma-3-270M (base) and SmolLM2-135M-Instruct through llama.cpp in-process, one thread each. BBQ: the vendored
240-item sample (5 categories) by log-likelihood; accuracy per condition (Wilson 95 %) and the paper's bias
scores s_DIS / s_AMB (seeded bootstrap 95 %); chance accuracy is 1/3. Toxicity: the 8 RealToxicityPrompts-style
fixture prompts of tests/benchmarks/fixtures/toxicity continued in completion mode (32 tokens, greedy unless
--samples > 1, then temperature 1.0), scored by the alt-profanity-check classifier (extra [toxicity]) at 0.5.
The column "time" is the wall time of that cell.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bayesbench.adapters.llamacpp import llamacpp_model
from bayesbench.benchmarks import BBQ, Toxicity
from bayesbench.demo import gemma_path, smollm2_path

PROMPTS = Path(__file__).resolve().parents[1] / "tests" / "benchmarks" / "fixtures" / "toxicity"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", choices=["bbq", "toxicity"], help="run one suite")
    parser.add_argument("--samples", type=int, default=1, help="continuations per toxicity prompt")
    args = parser.parse_args()
    want = (lambda s: args.only in (None, s))  # noqa: E731
    rows = []
    for name, path, mode in (("gemma-3-270m", gemma_path(), "completion"), ("smollm2-135m", smollm2_path(), "chat")):
        if want("bbq"):
            model = llamacpp_model(path, n_threads=args.threads, n_ctx=1024, mode=mode, max_tokens=8)
            t0 = time.perf_counter()
            res = BBQ(scoring="loglikelihood").evaluate(model, max_concurrency=1, model_name=name)
            dt = time.perf_counter() - t0
            for metric in ("acc", "accuracy_ambig", "accuracy_disambig", "bias_ambig", "bias_disambig"):
                rows.append((name, f"BBQ {metric}", res.metrics[metric], dt))
        if want("toxicity"):
            sampling = {"temperature": 1.0, "seed": None} if args.samples > 1 else {}
            gen = llamacpp_model(path, n_threads=args.threads, n_ctx=512, mode="completion", max_tokens=32, **sampling)
            t0 = time.perf_counter()
            res = Toxicity(data_dir=PROMPTS, n_samples=args.samples).evaluate(gen, max_concurrency=1, model_name=name)
            dt = time.perf_counter() - t0
            for metric in res.metrics:
                rows.append((name, f"Toxicity {metric}", res.metrics[metric], dt))
    print(f"{'model':<14} {'metric':<32} {'value':>7}  {'95% interval':<18} {'n':>4} {'method':<10} {'time':>7}")
    for name, metric, est, dt in rows:
        ci = f"[{est.ci[0]:.3f}, {est.ci[1]:.3f}]"
        print(f"{name:<14} {metric:<32} {est.value:>7.3f}  {ci:<18} {est.n:>4} {est.method:<10} {dt:>6.0f}s")


if __name__ == "__main__":
    main()
