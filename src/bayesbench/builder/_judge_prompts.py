"""The judge's prompts and the one strict parser of its replies.

A reply is a verdict only if it names exactly one allowed label, as ``VERDICT: <label>`` anywhere in the reply
or as the reply's first word. Anything else (no label, a label that is not allowed, two different verdicts)
raises :class:`~bayesbench.models.MalformedResponse`: the execution layer retries it, never caches it, and
after the last attempt the scorer raises a ``ScoringError``. A guess is never a score.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..models import MalformedResponse, default_prompt

_VERDICT = re.compile(r"verdict\s*[:=\-]\s*[\*\"'`\[(]*\s*([^\s\*\"'`\]).,;:!]+)", re.IGNORECASE)
_FIRST_WORD = re.compile(r"^[\s\*\"'`\[(#]*([^\s\*\"'`\]).,;:!]+)")

RUBRIC_TEMPLATE = """You are grading an answer. {task}
{criteria}
Labels (from worst to best):
{rubric}
{edge_cases}{examples}
Question:
{question}
{reference_block}
Answer to grade:
{response}

Reply with one line: VERDICT: <label>, where <label> is one of {labels}.
VERDICT:"""

PAIRWISE_TEMPLATE = """You are comparing two answers to the same question. {task}
{criteria}
Question:
{question}
{reference_block}
[Answer A]
{first}

[Answer B]
{second}

Which answer is better? Reply with one line: VERDICT: A, VERDICT: B or VERDICT: TIE.
VERDICT:"""


def question_text(problem: Any) -> str:
    """The question a problem asks (``input`` / ``question`` / ``prompt``, the engine's default prompt)."""
    return default_prompt(problem)


def references_of(problem: Any) -> list[str]:
    """The reference answers a problem carries: ``answers`` (builder cases), else ``references`` + ``expected``,
    else ``answer``."""
    if not isinstance(problem, Mapping):
        return []
    for key in ("answers", "references"):
        value = problem.get(key)
        if isinstance(value, (list, tuple)) and value:
            out = [str(v) for v in value]
            exp = problem.get("expected")
            return out if exp is None or str(exp) in out else [str(exp), *out]
    for key in ("expected", "answer", "reference"):
        value = problem.get(key)
        if value is not None:
            return [str(value)]
    return []


def _lines(items: Sequence[str], head: str) -> str:
    return (head + "\n" + "\n".join(f"- {x}" for x in items) + "\n") if items else ""


def reference_block(refs: Sequence[str]) -> str:
    if not refs:
        return ""
    return "Reference answer(s):\n" + "\n".join(f"- {r}" for r in refs) + "\n"


def render_rubric(*, template: str, task: str, criteria: Sequence[str], rubric: Mapping[str, str],
                  edge_cases: Sequence[str], examples: Sequence[Mapping[str, Any]], question: str,
                  references: Sequence[str], response: str) -> str:
    ex = ""
    if examples:
        ex = "Examples:\n" + "\n".join(
            f"- input: {e.get('input')!s} -> {e.get('label')!s}" + (f" ({e['rationale']})" if e.get("rationale") else "")
            for e in examples) + "\n"
    return template.format(
        task=task or "Grade how well the answer responds to the question.",
        criteria=_lines(criteria, "Criteria:"),
        rubric="\n".join(f"- {k}: {v}" if v else f"- {k}" for k, v in rubric.items()),
        edge_cases=_lines(edge_cases, "Edge cases:"),
        examples=ex,
        question=question,
        reference_block=reference_block(references),
        response=response,
        labels=", ".join(rubric),
    )


def render_pairwise(*, template: str, task: str, criteria: Sequence[str], question: str, references: Sequence[str],
                    first: str, second: str) -> str:
    return template.format(task=task, criteria=_lines(criteria, "Criteria:"), question=question,
                           reference_block=reference_block(references), first=first, second=second)


def parse_verdict(reply: str, labels: Sequence[str]) -> str:
    """The one allowed label the reply names (case-insensitive), or :class:`MalformedResponse`."""
    allowed = {str(label).lower(): str(label) for label in labels}
    text = str(reply)
    found = {m.group(1).lower() for m in _VERDICT.finditer(text)}
    hits = {allowed[f] for f in found if f in allowed}
    if not found:
        first = _FIRST_WORD.match(text)
        if first and first.group(1).lower() in allowed:
            hits = {allowed[first.group(1).lower()]}
    if len(hits) == 1 and len(found) <= 1:
        return hits.pop()
    preview = text.strip().replace("\n", " ")[:120]
    why = "names two different verdicts" if len(hits) > 1 or len(found) > 1 else "names none of the allowed labels"
    raise MalformedResponse(
        f"the judge's reply {why} ({', '.join(allowed.values())}): {preview!r}; it is not a score (retried, "
        "never cached)"
    )
