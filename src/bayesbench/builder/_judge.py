"""LLM-as-judge scoring: a model grades answers (rubric or reference based) or prefers one of two (pairwise).

* :class:`JudgeScorer` is a score function ``await judge(problem, response) -> float in [0, 1]``: pass it as
  ``score_fn`` to ``compare`` / ``rank`` / ``@benchmark``. Scores are the rubric label's position on the scale
  (worst 0, best 1) or your own ``scores={label: value}``; with fractional scores use the continuous path
  (``posterior_factory=NormalPosterior``); the anytime-valid e-process accepts any score in ``score_range``.
* :class:`PairwiseJudge` asks the judge twice, once in each order; the two verdicts must agree for a win, and
  any disagreement (a position effect) is a tie. ``judge.task(model_a, model_b)`` is a task function
  ``problem -> (score_a, score_b)`` for ``BayesianBenchmark.task`` / ``add_task``: 1/0, 0/1 or 0.5/0.5.

The judge's own calls go through an :class:`~bayesbench.execution.Executor` (its own by default; pass one with a
store for the response cache and per-call records, ``prices`` for cost, rate limits...). It is never the run's
executor: a judge call made while the run's call holds a slot must not wait for a slot of the same pool. A reply
that names no allowed label is not a score: it raises ``MalformedResponse`` inside the call, so the executor
retries it and never caches it; after the last attempt the scorer raises :class:`~bayesbench.errors.ScoringError`.

Every verdict is kept (``judge.verdicts``) for validation against human labels, and ``judge.scoring_info()`` is
what a run's result reports as ``scored_by``.
"""

from __future__ import annotations

import hashlib
import inspect
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..engine import run_sync
from ..errors import ConfigError, ScoringError
from ..execution import Executor
from ..models import as_callable, is_async_callable, model_name
from ._judge_prompts import (
    PAIRWISE_TEMPLATE,
    RUBRIC_TEMPLATE,
    parse_verdict,
    question_text,
    references_of,
    render_pairwise,
    render_rubric,
)

MODES = ("rubric", "reference")
REFERENCE_RUBRIC = {"incorrect": "the answer contradicts or misses the reference answer",
                    "correct": "the answer agrees with a reference answer"}
PAIR_LABELS = ("A", "B", "TIE")
#: Bump when prompts or parsing change, so old cached judge replies are never reused.
JUDGE_VERSION = 1


def _item_id(problem: Any, fallback: str = "") -> str:
    if isinstance(problem, Mapping) and problem.get("id") is not None:
        return str(problem["id"])
    return fallback


def _model_key(model: Any) -> str:
    key = getattr(model, "cache_key", None)
    if callable(key) and not isinstance(key, str):
        key = key()
    if key is None:
        key = f"{getattr(model, '__module__', '')}.{getattr(model, '__qualname__', type(model).__qualname__)}"
    return str(key)


@dataclass(frozen=True)
class JudgeVerdict:
    """One graded answer: the label the judge chose, its score in [0, 1], and what the call cost."""

    item_id: str
    label: str
    score: float
    mode: str
    reply: str
    response_chars: int
    cached: bool
    attempts: int
    cost_usd: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PairwiseVerdict:
    """One pairwise comparison asked in both orders. ``first`` is the verdict with A shown first (``"A"`` means
    a), ``second`` with B shown first (``"A"`` there means b). ``winner`` is ``"a"``, ``"b"`` or ``"tie"``;
    ``consistent`` is false when the two orders disagreed (then ``winner`` is ``"tie"``)."""

    item_id: str
    first: str
    second: str
    winner: str
    consistent: bool
    chars_a: int
    chars_b: int
    cached: bool
    cost_usd: float | None

    @property
    def scores(self) -> tuple[float, float]:
        return {"a": (1.0, 0.0), "b": (0.0, 1.0)}.get(self.winner, (0.5, 0.5))

    def to_dict(self) -> dict[str, Any]:
        return dict(asdict(self), scores=list(self.scores))


class _Judge:
    """What both judges share: the judge model, its executor, the verdict log and the call wrapper."""

    kind = "judge"

    def __init__(self, model: Any, *, name: str | None, executor: Executor | None, guidelines: Any,
                 task: str | None, criteria: Sequence[str] | None, template: str) -> None:
        if not callable(model) and not callable(getattr(model, "generate", None)):
            raise ConfigError(
                f"`model` must be a judge model: an adapter (e.g. openai_model(...)), a BaseLLM or a function "
                f"prompt -> str, got {type(model).__name__}"
            )
        if executor is not None and not callable(getattr(executor, "call", None)):
            raise ConfigError(f"`executor` must be a bayesbench.execution.Executor or None, got {type(executor).__name__}")
        if not isinstance(template, str) or not template:
            raise ConfigError("`template` must be a non-empty prompt template string")
        self.model = model
        self.name = name or f"judge:{model_name(model)}"
        self.executor = executor if executor is not None else Executor(max_concurrency=4)
        self.guidelines = guidelines
        self.task_text = task if task is not None else str(getattr(guidelines, "task", "") or "")
        self.criteria = list(criteria if criteria is not None else getattr(guidelines, "criteria", []) or [])
        self.template = template
        self._lock = threading.Lock()
        self._malformed = 0
        self._errors = 0
        self._calls = 0
        self._cached = 0
        self._cost = 0.0
        self._priced = False
        self._ask = self._make_ask()

    # ---------------------------------------------------------------- the call
    def cache_key(self) -> str:
        """What identifies this judge's answers in the response cache: model, prompt template, version."""
        digest = hashlib.sha256(self.template.encode("utf-8")).hexdigest()[:16]
        return f"bayesbench-judge/{JUDGE_VERSION}|{self.kind}|{_model_key(self.model)}|template:{digest}"

    def _make_ask(self) -> Callable[..., Any]:
        model = self.model
        a_generate = getattr(model, "a_generate", None)
        generate = getattr(model, "generate", None)
        count = self._count_malformed

        if a_generate is not None and inspect.iscoroutinefunction(a_generate):
            async def ask_async(prompt: str, labels: list[str]) -> Any:
                reply = await a_generate(prompt)
                count(reply, labels)
                return reply
            fn: Callable[..., Any] = ask_async
        elif callable(generate) and not inspect.isroutine(model):
            def ask_generate(prompt: str, labels: list[str]) -> Any:
                reply = generate(prompt)
                count(reply, labels)
                return reply
            fn = ask_generate
        elif is_async_callable(model):
            async def ask_fn_async(prompt: str, labels: list[str]) -> Any:
                reply = await model(prompt)
                count(reply, labels)
                return reply
            fn = ask_fn_async
        else:
            def ask_fn(prompt: str, labels: list[str]) -> Any:
                reply = model(prompt)
                count(reply, labels)
                return reply
            fn = ask_fn
        fn.cache_key = self.cache_key()  # type: ignore[attr-defined]
        return fn

    def _count_malformed(self, reply: Any, labels: list[str]) -> None:
        """Parse inside the call: an unparseable reply fails the attempt (retried, never cached)."""
        try:
            parse_verdict(str(reply) if reply is not None else "", labels)
        except Exception:
            with self._lock:
                self._malformed += 1
            raise

    async def _verdict(self, prompt: str, labels: Sequence[str], item_id: str) -> tuple[str, Any]:
        record = await self.executor.call(self.name, self._ask, prompt, list(labels), problem_id=item_id)
        with self._lock:
            self._calls += 1
            self._cached += int(record.cached)
            if record.cost_usd is not None:
                self._cost += record.cost_usd
                self._priced = True
            if not record.ok:
                self._errors += 1
        if not record.ok:
            raise ScoringError(
                f"judge {self.name!r} gave no usable verdict on item {item_id or '?'} after {record.attempts} "
                f"attempt(s): {record.error_type}: {record.error}. An unparseable reply is not a score; use a "
                "stronger judge model, a clearer template, or more attempts (Executor(retry=RetryPolicy(...)))"
            )
        return parse_verdict(str(record.response), labels), record

    # ---------------------------------------------------------------- reporting
    def _judged(self) -> int:
        raise NotImplementedError

    def scoring_info(self) -> dict[str, Any]:
        """What a run reports as ``scored_by``: the judge, its mode, how many items it judged and at what cost."""
        judged = self._judged()
        with self._lock:
            info: dict[str, Any] = {
                "kind": "llm_judge",
                "judge": self.name,
                "mode": self.kind,
                "judged": judged,
                "judge_calls": self._calls,
                "cached_calls": self._cached,
                "unparseable_replies": self._malformed,
                "failed_calls": self._errors,
                "cost_usd": self._cost if self._priced else None,
                "cost_per_item_usd": (self._cost / judged) if self._priced and judged else None,
            }
        return info


class JudgeScorer(_Judge):
    """Grade one answer with a judge model; ``await scorer(problem, response)`` is its score in [0, 1].

    Parameters
    ----------
    model:
        The judge: an adapter (``openai_model(...)``, ``llamacpp_model(...)``...), a ``BaseLLM`` or a sync/async
        function ``prompt -> str``.
    mode:
        ``"rubric"`` (default): grade against the rubric's labels. ``"reference"``: grade against the problem's
        reference answers (``answers`` / ``references`` / ``expected`` / ``answer``), by default with the labels
        ``incorrect`` / ``correct``.
    guidelines:
        A :class:`~bayesbench.builder.Guidelines` (or anything with ``task``, ``criteria``, ``rubric``,
        ``edge_cases``, ``examples``): what human annotators read, the judge reads too.
    rubric:
        ``{label: meaning}`` from worst to best; default the guidelines' rubric, else (reference mode)
        ``incorrect``/``correct``. Required in rubric mode when the guidelines have none.
    scores:
        ``{label: score in [0, 1]}``; default evenly spaced from 0 (first label) to 1 (last).
    executor:
        The :class:`~bayesbench.execution.Executor` the judge's calls go through (cache with a store, ``prices``
        for cost, retries for unparseable replies). Default: its own ``Executor(max_concurrency=4)``.
    name:
        The judge's model name in call records and prices. Default ``"judge:<model name>"``.
    template:
        The prompt template (``str.format`` fields: task, criteria, rubric, edge_cases, examples, question,
        reference_block, response, labels). Default :data:`RUBRIC_TEMPLATE`.
    """

    def __init__(
        self,
        model: Any,
        *,
        mode: str = "rubric",
        guidelines: Any = None,
        rubric: Mapping[str, str] | None = None,
        scores: Mapping[str, float] | None = None,
        task: str | None = None,
        criteria: Sequence[str] | None = None,
        executor: Executor | None = None,
        name: str | None = None,
        template: str = RUBRIC_TEMPLATE,
    ) -> None:
        if mode not in MODES:
            raise ConfigError(f"`mode` must be one of {', '.join(map(repr, MODES))}, got {mode!r}")
        self.kind = mode
        chosen = dict(rubric) if rubric is not None else dict(getattr(guidelines, "rubric", {}) or {})
        if not chosen:
            if mode == "rubric":
                raise ConfigError(
                    "a rubric judge needs labels: pass rubric={'wrong': ..., 'right': ...} (worst to best) or "
                    "guidelines with a rubric, or use mode='reference'"
                )
            chosen = dict(REFERENCE_RUBRIC)
        if len(chosen) < 2:
            raise ConfigError(f"`rubric` needs at least two labels, got {list(chosen)!r}")
        bad = [k for k in chosen if not str(k) or any(ch.isspace() for ch in str(k))]
        if bad:
            raise ConfigError(f"rubric labels must be single words (the judge replies with one), got {bad!r}")
        self.rubric = {str(k): str(v) for k, v in chosen.items()}
        self.labels = list(self.rubric)
        n = len(self.labels)
        if scores is None:
            self.scores = {label: i / (n - 1) for i, label in enumerate(self.labels)}
        else:
            missing = [label for label in self.labels if label not in scores]
            if missing:
                raise ConfigError(f"`scores` has no score for the label(s) {missing!r}")
            self.scores = {}
            for label in self.labels:
                v = scores[label]
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
                    raise ConfigError(f"`scores[{label!r}]` must be a number in [0, 1], got {v!r}")
                self.scores[label] = float(v)
        super().__init__(model, name=name, executor=executor, guidelines=guidelines, task=task, criteria=criteria,
                         template=template)
        self.verdicts: list[JudgeVerdict] = []

    def prompt(self, problem: Any, response: Any) -> str:
        """The exact text the judge is sent for ``(problem, response)``."""
        g = self.guidelines
        refs = references_of(problem)
        if self.kind == "reference" and not refs:
            raise ScoringError(
                f"a reference judge needs reference answers, but item {_item_id(problem) or '?'} has none "
                "(give it `references`, `expected` or `answer`, or use mode='rubric')"
            )
        return render_rubric(
            template=self.template, task=self.task_text, criteria=self.criteria, rubric=self.rubric,
            edge_cases=list(getattr(g, "edge_cases", []) or []), examples=list(getattr(g, "examples", []) or []),
            question=question_text(problem), references=refs if self.kind == "reference" else [],
            response=str(response),
        )

    async def grade(self, problem: Any, response: Any, *, item_id: str | None = None) -> JudgeVerdict:
        """The full verdict for one answer (label, score, cost); raises ScoringError when no verdict came."""
        iid = item_id if item_id is not None else _item_id(problem)
        label, record = await self._verdict(self.prompt(problem, response), self.labels, iid)
        verdict = JudgeVerdict(iid, label, self.scores[label], self.kind, str(record.response)[:2000],
                               len(str(response)), record.cached, record.attempts, record.cost_usd)
        with self._lock:
            self.verdicts.append(verdict)
        return verdict

    async def __call__(self, problem: Any, response: Any) -> float:
        return (await self.grade(problem, response)).score

    def grade_many(self, items: Sequence[tuple[str, Any, Any]]) -> list[JudgeVerdict]:
        """Grade ``[(item_id, problem, response), ...]`` concurrently (sync); for validation sets."""
        import asyncio

        async def run() -> list[JudgeVerdict]:
            return list(await asyncio.gather(*(self.grade(p, r, item_id=str(i)) for i, p, r in items)))

        return list(run_sync(run))

    def _judged(self) -> int:
        return len(self.verdicts)

    def scoring_info(self) -> dict[str, Any]:
        info = super().scoring_info()
        info["labels"] = dict(self.scores)
        return info

    def __repr__(self) -> str:
        return f"JudgeScorer({self.name!r}, mode={self.kind!r}, labels={self.labels!r})"


class PairwiseJudge(_Judge):
    """Prefer one of two answers, asking in both orders (A first, then B first).

    A win needs both orders to agree; a disagreement between the orders, or a TIE in either, is a tie.
    ``await judge.compare(problem, a, b)`` gives a :class:`PairwiseVerdict`; ``judge.task(model_a, model_b)``
    is a task function for the engine. Parameters as :class:`JudgeScorer` (``guidelines``, ``task``,
    ``criteria``, ``executor``, ``name``), with ``template`` default :data:`PAIRWISE_TEMPLATE` (fields task,
    criteria, question, reference_block, first, second). ``use_references``: show the problem's reference
    answers to the judge (default True when it has any).
    """

    kind = "pairwise"

    def __init__(self, model: Any, *, guidelines: Any = None, task: str | None = None,
                 criteria: Sequence[str] | None = None, use_references: bool = True,
                 executor: Executor | None = None, name: str | None = None, template: str = PAIRWISE_TEMPLATE) -> None:
        super().__init__(model, name=name, executor=executor, guidelines=guidelines, task=task, criteria=criteria,
                         template=template)
        self.use_references = bool(use_references)
        self.verdicts: list[PairwiseVerdict] = []

    def prompt(self, problem: Any, first: Any, second: Any) -> str:
        refs = references_of(problem) if self.use_references else []
        return render_pairwise(template=self.template, task=self.task_text, criteria=self.criteria,
                               question=question_text(problem), references=refs, first=str(first), second=str(second))

    async def compare(self, problem: Any, response_a: Any, response_b: Any, *,
                      item_id: str | None = None) -> PairwiseVerdict:
        import asyncio

        iid = item_id if item_id is not None else _item_id(problem)
        (v1, r1), (v2, r2) = await asyncio.gather(
            self._verdict(self.prompt(problem, response_a, response_b), PAIR_LABELS, iid),
            self._verdict(self.prompt(problem, response_b, response_a), PAIR_LABELS, iid),
        )
        # in the swapped order "A" is b: map both verdicts onto (a, b)
        first = {"A": "a", "B": "b", "TIE": "tie"}[v1]
        second = {"A": "b", "B": "a", "TIE": "tie"}[v2]
        consistent = first == second
        winner = first if consistent else "tie"
        costs = [c for c in (r1.cost_usd, r2.cost_usd) if c is not None]
        verdict = PairwiseVerdict(iid, v1, v2, winner, consistent, len(str(response_a)), len(str(response_b)),
                                  bool(r1.cached and r2.cached), sum(costs) if costs else None)
        with self._lock:
            self.verdicts.append(verdict)
        return verdict

    def compare_many(self, items: Sequence[tuple[str, Any, Any, Any]]) -> list[PairwiseVerdict]:
        """Compare ``[(item_id, problem, response_a, response_b), ...]`` concurrently (sync)."""
        import asyncio

        async def run() -> list[PairwiseVerdict]:
            return list(await asyncio.gather(*(self.compare(p, a, b, item_id=str(i)) for i, p, a, b in items)))

        return list(run_sync(run))

    def task(self, model_a: Any, model_b: Any, *, name_a: str | None = None,
             name_b: str | None = None) -> Callable[[Any], Any]:
        """A task function ``problem -> (score_a, score_b)``: ask both models (through the judge's executor), then
        judge the pair in both orders. Use with ``BayesianBenchmark().add_task(name, fn, dataset)``."""
        fa, fb = as_callable(model_a), as_callable(model_b)
        na, nb = name_a or model_name(model_a), name_b or model_name(model_b)
        if na == nb:
            nb = f"{nb} (b)"
        judge = self

        async def judged_pair(problem: Any) -> tuple[float, float]:
            import asyncio

            iid = _item_id(problem)
            ra, rb = await asyncio.gather(judge.executor.call(na, fa, problem, problem_id=iid),
                                          judge.executor.call(nb, fb, problem, problem_id=iid))
            for label, rec in ((na, ra), (nb, rb)):
                if not rec.ok:
                    raise ScoringError(f"model {label!r} failed on item {iid or '?'}: {rec.error_type}: {rec.error}")
            return (await judge.compare(problem, ra.response, rb.response, item_id=iid)).scores

        judged_pair.__name__ = judged_pair.__qualname__ = f"judged_{na}_vs_{nb}"
        judged_pair.cache_key = f"{self.cache_key()}|{_model_key(fa)}|{_model_key(fb)}"  # type: ignore[attr-defined]
        judged_pair.scoring_info = self.scoring_info  # type: ignore[attr-defined]
        return judged_pair

    def _judged(self) -> int:
        return len(self.verdicts)

    def scoring_info(self) -> dict[str, Any]:
        info = super().scoring_info()
        with self._lock:
            rows = list(self.verdicts)
        info["position_swapped"] = True
        info["ties_from_disagreement"] = sum(not v.consistent for v in rows)
        return info

    def __repr__(self) -> str:
        return f"PairwiseJudge({self.name!r})"
