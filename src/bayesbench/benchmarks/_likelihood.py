"""Multiple-choice suites scored by log-likelihood (HellaSwag, TruthfulQA): one ``loglikelihood(context,
continuations)`` call per problem, the same letters as the generative prompt, and a choice model for the engine.

A suite mixes in :class:`LikelihoodSuite` and says, per problem, the context, the continuations and the letter
each continuation stands for (``ll_context``, ``ll_continuations``, ``ll_letters``), which continuation a model
picks (``pick``), and how one problem's log-likelihoods score (``score_likelihoods``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ..errors import ConfigError, ModelError
from ._base import Calls, Problem
from ._result import PredictionRecord, ScoreEstimate


def logprob(value: Any) -> float:
    """A summed log-probability from a float, an object with ``.logprob`` (the llama.cpp adapter's
    ``LoglikelihoodResult``) or an lm-eval style ``(logprob, is_greedy)`` pair."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    lp = getattr(value, "logprob", None)
    if lp is None and isinstance(value, (tuple, list)) and value:
        lp = value[0]
    if isinstance(lp, (int, float)) and not isinstance(lp, bool):
        return float(lp)
    raise ModelError(
        f"loglikelihood must return one summed log-probability per continuation (a float, an object with "
        f".logprob, or a (logprob, is_greedy) pair), got {value!r}"
    )


def checked_logprobs(results: Any, continuations: list[str]) -> list[float]:
    lls = [logprob(x) for x in results]
    if len(lls) != len(continuations):
        raise ModelError(f"loglikelihood returned {len(lls)} values for {len(continuations)} continuations; "
                         "it must return one summed log-probability per continuation")
    return lls


def argmax(values: list[float]) -> int:
    return max(range(len(values)), key=values.__getitem__)


def norm_choice(lls: list[float], continuations: list[str]) -> int:
    """acc_norm's pick: the continuation with the highest log-likelihood per UTF-8 byte."""
    return argmax([v / max(1, len(c.encode("utf-8"))) for v, c in zip(lls, continuations)])


class LikelihoodChoice:
    """A model as ``callable(problem) -> letter``: the letter of the continuation it picks by log-likelihood.

    What a suite's ``choice_model`` returns, so the sequential engine can compare local models by
    log-likelihood. Carries a ``cache_key`` so the response cache tells models (and pick rules) apart.
    """

    def __init__(self, model: Any, name: str, rule: str, pick: Callable[[list[float], list[str]], int],
                 continuations: str = "ll_continuations") -> None:
        self.model = model
        self.model_name = name
        self.rule = rule
        self.pick = pick
        self.continuations = continuations

    def cache_key(self) -> str:
        inner = getattr(self.model, "cache_key", None)
        inner = inner() if callable(inner) else inner
        return f"{self.rule}|{inner or self.model_name}"

    def __call__(self, problem: Problem) -> Any:
        from ..models import Completion

        conts = problem[self.continuations]
        results = self.model.loglikelihood(problem["ll_context"], conts)
        lls = checked_logprobs(results, conts)
        tokens = sum(int(getattr(x, "n_tokens", 0) or 0) for x in results) or None
        letter = problem["ll_letters"][self.pick(lls, conts)]
        return Completion(letter, input_tokens=tokens, output_tokens=0 if tokens else None, model=self.model_name)


class LikelihoodSuite:
    """Mixed into a :class:`~bayesbench.benchmarks.Benchmark`: ``scoring="auto"|"generate"|"loglikelihood"``."""

    #: The metric reported when scoring by log-likelihood, and the rule name in cache keys.
    likelihood_metric = "acc"
    scoring: str
    scoring_used: str | None
    primary_metric: str

    def pick(self, lls: list[float], continuations: list[str]) -> int:
        """Which continuation a model picks (default: the most likely)."""
        return argmax(lls)

    def score_likelihoods(self, problem: Problem, lls: list[float]) -> tuple[str, float, dict[str, Any]]:
        """(the letter picked, the primary score, extra details kept on the record) for one problem."""
        conts = problem["ll_continuations"]
        i = self.pick(lls, conts)
        letter = problem["ll_letters"][i]
        return letter, float(letter == problem["expected_output"]), {}

    def choice_model(self, model: Any, name: str | None = None) -> LikelihoodChoice:
        """``model`` (with ``loglikelihood(context, continuations)``) as a callable answering this suite's
        problems with the letter of its log-likelihood choice, for the sequential engine."""
        if not callable(getattr(model, "loglikelihood", None)):
            raise ConfigError(
                f"{type(model).__name__} has no loglikelihood(context, continuations); use a local model such as "
                "bayesbench.adapters.llamacpp.llamacpp_model(...), or compare generatively"
            )
        label = name or getattr(model, "model", None) or type(model).__name__
        return LikelihoodChoice(model, label, f"{type(self).__name__.lower()}-{self.likelihood_metric}", self.pick)

    async def _run(
        self, model: Any, model_name: str | None, problems: list[Problem], calls: Calls
    ) -> tuple[list[PredictionRecord], str]:
        ll = getattr(model, "loglikelihood", None)
        mode = self.scoring
        if mode == "auto":
            mode = "loglikelihood" if callable(ll) else "generate"
        if mode == "loglikelihood" and not callable(ll):
            raise ConfigError(
                "`scoring='loglikelihood'` needs a model with loglikelihood(context, continuations) -> list[float] "
                f"(e.g. the llama.cpp adapter); {type(model).__name__} has none. Use scoring='generate'"
            )
        self.scoring_used = mode
        self.primary_metric = self.likelihood_metric if mode == "loglikelihood" else "accuracy"
        if mode == "generate":
            return await super()._run(model, model_name, problems, calls)  # type: ignore[misc]
        from ..models import model_name as display_name

        name = str(model_name or display_name(model))  # a model that only scores need not generate
        # One log-likelihood call per problem (batch_size applies to generation only).
        answers = await asyncio.gather(*(
            calls.executor.call(name, ll, p["ll_context"], p["ll_all_continuations"], problem_id=p["id"])
            for p in problems
        ))
        out = []
        for p, call in zip(problems, answers):
            if call.error is not None:
                out.append(self._record(p, None, 0.0, error=f"{call.error_type}: {call.error}",  # type: ignore[attr-defined]
                                        **self._failed_details()))
                continue
            lls = checked_logprobs(call.response, p["ll_all_continuations"])
            letter, score, details = self.score_likelihoods(p, lls)
            out.append(self._record(p, letter, score, loglikelihoods=lls, **details))  # type: ignore[attr-defined]
        return out, name

    def _failed_details(self) -> dict[str, Any]:
        """The extra details of a problem whose call failed (every extra metric scores 0)."""
        return {}

    def _likelihood_metrics(self, records: list[PredictionRecord], names: tuple[str, ...]) -> dict[str, ScoreEstimate]:
        if self.scoring_used != "loglikelihood":
            return {}
        return {n: ScoreEstimate.from_scores([r.details.get(n, 0.0) for r in records]) for n in names}
