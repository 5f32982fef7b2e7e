"""compare_models on HellaSwag compares local models by log-likelihood (acc_norm) when both can."""

from __future__ import annotations

import zlib

from bayesbench.benchmarks import HellaSwag
from bayesbench.benchmarks.compare import compare_models


class TableLikelihood:
    """A 'model' whose log-likelihoods favour the gold ending on a fixed share of items."""

    def __init__(self, name: str, right_every: int) -> None:
        self.model = name
        self.right_every = right_every
        self.calls = 0

    def cache_key(self) -> str:
        return self.model

    def loglikelihood(self, context, continuations):
        self.calls += 1
        gold = self.gold[context]
        pick = gold if (zlib.crc32(context.encode()) % self.right_every) else (gold + 1) % len(continuations)
        # per-byte normalised: the picked ending gets the best score whatever its length
        return [(-1.0 if i == pick else -50.0) * len(c.encode()) for i, c in enumerate(continuations)]

    def generate(self, prompt):  # never used when comparing by likelihood
        raise AssertionError("compare_models should not generate for HellaSwag with likelihood models")


def test_head_to_head_by_likelihood():
    bench = HellaSwag(n_shots=0)
    gold = {p["ll_context"]: p["reference"]["label"] for p in bench.problems()}
    strong, weak = TableLikelihood("strong", 1_000_000), TableLikelihood("weak", 2)
    strong.gold = weak.gold = gold
    h2h = compare_models(model1=strong, model2=weak, model1_name="strong", model2_name="weak", benchmark=bench,
                         confidence=0.95, seed=0)
    assert h2h.winner == "strong"
    assert h2h.problems_tested < h2h.total_problems == 100
    assert strong.calls >= h2h.problems_tested and weak.calls >= h2h.problems_tested
