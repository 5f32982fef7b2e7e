"""Ranking K models: pairwise one-sided e-processes + sequential Holm + transitive closure + retirement
(statistics.md §3 d, §6.3 "Ranking").

Each unordered pair {i, j} runs one :class:`PairedSequentialTest` on Z = x_i − x_j; its "A" side is the
e-process for "i ≻ j" and its "B" side the one for "j ≻ i", giving M = K(K−1) one-sided hypotheses.
A pair is updated only on problems both models answered and freezes when one of them retires (a
stopped supermartingale is still one). Holm uses the running maxima e_k (p_k = 1/e_k is an
anytime-valid p-value), so every interim rejection stays a rejection: FWER ≤ α over the whole race.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np

from ..errors import ConfigError, ScoringError
from ._rules import fixed_n_paired_test
from ._scores import Scores
from ._sequential import EngineConfig, PairedSequentialTest

__all__ = ["RankingRace"]

Goal = Literal["rank", "top1"]


class RankingRace:
    """Race K models on the same problems until their order (or the best one) is certified.

    goal: "rank" retires a model once every pair involving it is resolved (directly, by transitivity,
        or, with ``cfg.delta`` set, certified equivalent); "top1" drops a model as soon as some other
        model is certified better (successive elimination) and is done when one model is left.
    fdr: False (default) = sequential Holm on running-max e-values (FWER ≤ α); True = e-BH on the
        current e-values (FDR ≤ α at any stopping time; claims can be withdrawn while racing).
    rule: "anytime" (default) or "fixed": run everything, no retirement, and at :meth:`close` Holm over
        the K(K−1) one-sided fixed-n paired tests (exact McNemar / paired t).

    Bank mode (``cfg.target == "full_benchmark"``) uses the without-replacement payoff per pair, and
    adds certain claims by exact curtailment and at the end of the bank (exact ties count as resolved).
    Equivalence with ``cfg.delta``: both equivalence e-values of the pair must reach
    2·P/α with P = K(K−1)/2 (Bonferroni); this retirement variant has not been simulated.
    """

    def __init__(
        self,
        models: Sequence[str],
        cfg: EngineConfig | None = None,
        goal: Goal = "rank",
        *,
        fdr: bool = False,
        rule: Literal["anytime", "fixed"] = "anytime",
    ) -> None:
        cfg = EngineConfig() if cfg is None else cfg
        if not isinstance(cfg, EngineConfig):
            raise ConfigError(f"`cfg` must be an EngineConfig, got {type(cfg).__name__}")
        names = [str(m) for m in models]
        if len(names) < 2 or len(set(names)) != len(names):
            raise ConfigError(f"`models` must hold at least 2 distinct names, got {list(models)!r}")
        if goal not in ("rank", "top1"):
            raise ConfigError(f"`goal` must be one of 'rank', 'top1', got {goal!r}")
        if rule not in ("anytime", "fixed"):
            raise ConfigError(f"`rule` must be one of 'anytime', 'fixed', got {rule!r}")
        self.cfg = cfg
        self.models = names
        self.goal = goal
        self.fdr = bool(fdr)
        self.rule = rule
        self._idx = {m: i for i, m in enumerate(names)}
        K = len(names)
        self._K = K
        self._M = K * (K - 1)
        pair_cfg = cfg if cfg.target == "full_benchmark" else dataclasses.replace(cfg, bank_size=None)
        self._tests: dict[tuple[int, int], PairedSequentialTest] = {
            (i, j): PairedSequentialTest(pair_cfg) for i in range(K) for j in range(i + 1, K)
        }
        for t in self._tests.values():
            t._lazy_cs = True  # the race never looks at the CS; compute it when pair_cs() asks
        self._active = [True] * K
        self._n = [0] * K
        self._sums = [0.0] * K
        self._direct = np.zeros((K, K), dtype=bool)  # rejected "i ≻ j" (Holm or certain)
        self._closure = np.zeros((K, K), dtype=bool)
        self._equiv = np.zeros((K, K), dtype=bool)
        self._closed = False
        self._data: dict[str, list[np.ndarray]] = {m: [] for m in names} if rule == "fixed" else {}
        pairs = K * (K - 1) // 2
        eq_alpha = cfg.equivalence_alpha if cfg.equivalence_alpha is not None else cfg.alpha
        self._eq_thr = math.log(2.0 * pairs / eq_alpha)
        self._holm_thr = np.log((self._M - np.arange(self._M)) / cfg.alpha)  # (M - k + 1)/α, k = 1..M

    # ------------------------------------------------------------------ public API
    def active_models(self) -> list[str]:
        """Models that must answer the next batch of problems."""
        return [m for m, a in zip(self.models, self._active) if a]

    def n(self, model: str | None = None) -> int | dict[str, int]:
        """Problems answered by ``model`` (or a dict for every model)."""
        if model is None:
            return dict(zip(self.models, self._n))
        return self._n[self._index(model)]

    def mean_score(self, model: str) -> float:
        """Mean (rescaled) score of ``model`` on the problems it answered."""
        i = self._index(model)
        return self._sums[i] / self._n[i] if self._n[i] else float("nan")

    def update(self, scores: Mapping[str, Scores]) -> None:
        """Feed one batch: the same problems, in dispatch order, for every active model."""
        if self._closed:
            raise ConfigError("this race is closed; build a new RankingRace to race again")
        active = [i for i in range(self._K) if self._active[i]]
        missing = [self.models[i] for i in active if self.models[i] not in scores]
        if missing:
            raise ScoringError(
                f"`scores` must have a batch for every active model; missing {missing}; "
                "ask active_models() who must answer"
            )
        unknown = [m for m in scores if m not in self._idx]
        if unknown:
            raise ScoringError(f"`scores` has unknown model names {unknown}; known: {self.models}")
        lo, hi = self.cfg.score_range
        batch = {i: np.asarray(scores[self.models[i]], dtype=float).reshape(-1) for i in active}
        lengths = {self.models[i]: v.shape[0] for i, v in batch.items()}
        if len(set(lengths.values())) > 1:
            raise ScoringError(f"every active model must score the same problems, got lengths {lengths}")
        k = next(iter(lengths.values()))
        if k == 0:
            return
        for (i, j), t in self._tests.items():
            if self._active[i] and self._active[j]:
                t.update(batch[i], batch[j])  # validates and rescales
        for i, v in batch.items():
            self._n[i] += k
            self._sums[i] += float(((v - lo) / (hi - lo)).sum())
            if self.rule == "fixed":
                self._data[self.models[i]].append(v)
        if self.rule == "anytime":
            self._resolve()
            self._retire()

    def claims(self) -> set[tuple[str, str]]:
        """Certified (better, worse) claims, transitively closed."""
        K = self._K
        return {(self.models[i], self.models[j]) for i in range(K) for j in range(K) if self._closure[i, j]}

    def equivalent_pairs(self) -> set[frozenset[str]]:
        """Pairs certified equivalent (|Δ| < delta) or exactly tied at the end of the bank."""
        K = self._K
        return {
            frozenset((self.models[i], self.models[j]))
            for i in range(K)
            for j in range(i + 1, K)
            if self._equiv[i, j]
        }

    def done(self) -> bool:
        """True when the race needs no more data (or :meth:`close` was called)."""
        if self._closed:
            return True
        if self.rule == "fixed":
            return False
        act = [i for i in range(self._K) if self._active[i]]
        if self.goal == "top1":
            return len(act) <= 1 or all(self._resolved(i, j) for i in act for j in act if i < j)
        return len(act) == 0

    def close(self) -> set[tuple[str, str]]:
        """No more data will come; for rule="fixed" run the Holm-corrected fixed-n tests. Returns claims."""
        if not self._closed and self.rule == "fixed":
            self._fixed_claims()
        self._closed = True
        return self.claims()

    def log_e(self, better: str, worse: str) -> float:
        """Running-max log e-value of the hypothesis "``better`` ≻ ``worse``"."""
        i, j = self._index(better), self._index(worse)
        if i == j:
            raise ConfigError(f"`better` and `worse` must differ, got {better!r} twice")
        t = self._tests[(min(i, j), max(i, j))]
        return t.log_e_values()["A" if i < j else "B"]

    def pair_log_e(self) -> dict[tuple[str, str], float]:
        """Running-max log e-values of all K(K−1) hypotheses "(better, worse)"."""
        return {(a, b): self.log_e(a, b) for a in self.models for b in self.models if a != b}

    def pair_cs(self, a: str, b: str) -> tuple[float, float]:
        """Confidence sequence for the mean difference a − b (rescaled scale)."""
        i, j = self._index(a), self._index(b)
        lo, hi = self._tests[(min(i, j), max(i, j))].confidence_sequence()
        return (lo, hi) if i < j else (-hi, -lo)

    def pair_estimate(self, a: str, b: str) -> float:
        """Mean paired difference a − b on the problems both answered (rescaled scale)."""
        i, j = self._index(a), self._index(b)
        e = self._tests[(min(i, j), max(i, j))].estimate
        return e if i < j else -e

    def pair_n(self, a: str, b: str) -> int:
        """Problems both a and b answered while racing."""
        i, j = self._index(a), self._index(b)
        return self._tests[(min(i, j), max(i, j))].n

    # ------------------------------------------------------------------ internals
    def _index(self, model: str) -> int:
        try:
            return self._idx[model]
        except KeyError:
            raise ConfigError(f"unknown model {model!r}; known: {self.models}") from None

    def _resolved(self, i: int, j: int) -> bool:
        return bool(self._closure[i, j] or self._closure[j, i] or self._equiv[min(i, j), max(i, j)])

    def _resolve(self) -> None:
        keys: list[tuple[int, int]] = []
        vals: list[float] = []
        for (i, j), t in self._tests.items():
            le = t.log_e_values()
            keys += [(i, j), (j, i)]
            vals += [le["A"], le["B"]]
            verdict = t.bank_verdict()
            if verdict == "A":
                self._direct[i, j] = True
            elif verdict == "B":
                self._direct[j, i] = True
            elif verdict == "EQUIVALENT":
                self._equiv[i, j] = True
            if "eq_hi" in le and le["eq_hi"] >= self._eq_thr and le["eq_lo"] >= self._eq_thr:
                self._equiv[i, j] = True
        v = np.asarray(vals)
        order = np.argsort(-v, kind="stable")
        if self.fdr:
            cur = np.array(
                [self._tests[(min(a, b), max(a, b))].current_log_e()["A" if a < b else "B"] for a, b in keys]
            )
            order = np.argsort(-cur, kind="stable")
            srt = cur[order]
            ks = np.arange(1, self._M + 1)
            ok = srt >= np.log(self._M / (self.cfg.alpha * ks))
            khat = int(ks[ok].max()) if ok.any() else 0
            rejected = np.zeros((self._K, self._K), dtype=bool)
            for r in order[:khat]:
                rejected[keys[r]] = True
            direct = rejected | self._certain()
        else:
            srt = v[order]
            fail = srt < self._holm_thr
            r = int(np.argmax(fail)) if fail.any() else self._M
            for q in order[:r]:
                self._direct[keys[q]] = True
            direct = self._direct
        self._closure = _transitive_closure(direct)

    def _certain(self) -> np.ndarray:
        out = np.zeros((self._K, self._K), dtype=bool)
        for (i, j), t in self._tests.items():
            verdict = t.bank_verdict()
            if verdict == "A":
                out[i, j] = True
            elif verdict == "B":
                out[j, i] = True
        return out

    def _retire(self) -> None:
        K = self._K
        for m in range(K):
            if not self._active[m]:
                continue
            if self.goal == "top1":
                if self._closure[:, m].any():
                    self._active[m] = False
            elif all(self._resolved(m, j) for j in range(K) if j != m):
                self._active[m] = False

    def _fixed_claims(self) -> None:
        from scipy import stats  # noqa: F401  (fixed_n_paired_test uses scipy)

        K = self._K
        data = {m: np.concatenate(v) if v else np.zeros(0) for m, v in self._data.items()}
        keys: list[tuple[int, int]] = []
        pvals: list[float] = []
        for i in range(K):
            for j in range(i + 1, K):
                r = fixed_n_paired_test(
                    data[self.models[i]], data[self.models[j]], 1 - 1e-12, score_range=self.cfg.score_range
                )
                # one-sided p-values from the two-sided one, by the sign of the estimate
                p1 = r.p_value / 2 if r.estimate > 0 else 1 - r.p_value / 2
                p2 = r.p_value / 2 if r.estimate < 0 else 1 - r.p_value / 2
                if r.estimate == 0:
                    p1 = p2 = 1.0
                keys += [(i, j), (j, i)]
                pvals += [p1, p2]
        p = np.asarray(pvals)
        order = np.argsort(p, kind="stable")
        thr = self.cfg.alpha / (self._M - np.arange(self._M))
        fail = p[order] > thr
        n_rejected = int(np.argmax(fail)) if fail.any() else self._M
        for q in order[:n_rejected]:
            self._direct[keys[q]] = True
        self._closure = _transitive_closure(self._direct)


def _transitive_closure(adj: np.ndarray) -> np.ndarray:
    c = adj.copy()
    for k in range(c.shape[0]):
        c |= c[:, k : k + 1] & c[k : k + 1, :]
    np.fill_diagonal(c, False)
    return c
