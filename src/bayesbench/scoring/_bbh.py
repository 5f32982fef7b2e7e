"""BIG-Bench Hard answers: chain-of-thought "So the answer is X." and plain answers."""

from __future__ import annotations

import re
from typing import Literal

from ..errors import ScoringError
from ._numeric import extract_final_number, numbers_equal

__all__ = ["bbh_extract_answer", "bbh_score", "BBH_TASK_KINDS"]

AnswerKind = Literal["choice", "true_false", "yes_no", "valid_invalid", "number", "free"]

# The answer format of each of the 27 BBH subtasks (from the task targets).
BBH_TASK_KINDS: dict[str, AnswerKind] = {
    "boolean_expressions": "true_false",
    "causal_judgement": "yes_no",
    "date_understanding": "choice",
    "disambiguation_qa": "choice",
    "dyck_languages": "free",
    "formal_fallacies": "valid_invalid",
    "geometric_shapes": "choice",
    "hyperbaton": "choice",
    "logical_deduction_five_objects": "choice",
    "logical_deduction_seven_objects": "choice",
    "logical_deduction_three_objects": "choice",
    "movie_recommendation": "choice",
    "multistep_arithmetic_two": "number",
    "navigate": "yes_no",
    "object_counting": "number",
    "penguins_in_a_table": "choice",
    "reasoning_about_colored_objects": "choice",
    "ruin_names": "choice",
    "salient_translation_error_detection": "choice",
    "snarks": "choice",
    "sports_understanding": "yes_no",
    "temporal_sequences": "choice",
    "tracking_shuffled_objects_five_objects": "choice",
    "tracking_shuffled_objects_seven_objects": "choice",
    "tracking_shuffled_objects_three_objects": "choice",
    "web_of_lies": "yes_no",
    "word_sorting": "free",
}

_ANSWER_IS = re.compile(r"answer\s+is\s*:?[ \t]*", re.IGNORECASE)
_OPTION = re.compile(r"\(([A-Z])\)")
_LEAD_LETTER = re.compile(r"^\s*\(?([A-Z])(?:[).:,]|\s*$)")
_WORDS: dict[str, tuple[str, str]] = {
    "true_false": ("True", "False"),
    "yes_no": ("Yes", "No"),
    "valid_invalid": ("valid", "invalid"),
}


def _kind_of_target(target: str) -> AnswerKind:
    t = target.strip()
    if _OPTION.fullmatch(t):
        return "choice"
    low = t.lower()
    for kind, words in _WORDS.items():
        if low in (words[0].lower(), words[1].lower()):
            return kind  # type: ignore[return-value]
    if re.fullmatch(r"-?\d+(?:\.\d+)?", t):
        return "number"
    return "free"


def _resolve_kind(task: str | None) -> AnswerKind | None:
    if task is None:
        return None
    if task not in BBH_TASK_KINDS:
        close = [k for k in BBH_TASK_KINDS if task.lower().replace("-", "_") in k or k in task.lower()]
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ScoringError(f"`task` must be a BBH subtask name such as 'navigate', got {task!r}.{hint}")
    return BBH_TASK_KINDS[task]


def _span(text: str) -> str:
    """The part of the response that holds the answer."""
    text = text.replace("**", "")
    hits = list(_ANSWER_IS.finditer(text))
    if hits:
        span = text[hits[-1].end() :].strip().split("\n", 1)[0].strip()
    else:
        lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
        span = lines[-1] if lines else ""
    return span


def _strip_end(s: str) -> str:
    s = s.strip()
    while s and s[-1] in ".!;`'\"":
        s = s[:-1].rstrip()
    return s


def _canonical(span: str, kind: AnswerKind | None) -> str:
    if kind in (None, "choice"):
        m = _OPTION.search(span) or _LEAD_LETTER.match(span)
        if m:
            return f"({m.group(1)})"
        if kind == "choice":
            return _strip_end(span)
    for k, (yes, no) in _WORDS.items():
        if kind not in (None, k):
            continue
        # first matching word wins ("invalid" is tested as a whole word, before "valid")
        m = re.search(r"\b(" + no + "|" + yes + r")\b", span, re.IGNORECASE)
        if m:
            return no if m.group(1).lower() == no.lower() else yes
    if kind in (None, "number"):
        num = extract_final_number(span)
        if num is not None and (kind == "number" or re.fullmatch(r"[-\u2212$]?[\d,]*\.?\d+\s*", _strip_end(span))):
            return num
    return _strip_end(span)


def bbh_extract_answer(text: str, *, task: str | None = None) -> str:
    """The answer a BBH response gives, in the form of BBH targets.

    The span after the last "the answer is" (the CoT prompts end with "So the answer is X."),
    else the last non-empty line. Then, by the task's answer kind (inferred from the span when
    ``task`` is None): an option becomes "(B)"; True/False, Yes/No and valid/invalid take the
    first such word (case-folded to the target spelling); numbers lose separators and units;
    free text (dyck_languages, word_sorting) is stripped of trailing punctuation.
    """
    if not isinstance(text, str):
        raise ScoringError(f"`text` must be a str, got {type(text).__name__}")
    return _canonical(_span(text), _resolve_kind(task))


def bbh_score(response: str, target: str, *, task: str | None = None) -> float:
    """1.0 if the response's answer matches the BBH ``target``, else 0.0.

    The answer kind comes from ``task`` when given, else from the shape of ``target``.
    Options and fixed words compare exactly after canonicalisation, numbers numerically,
    free text after collapsing whitespace.
    """
    if not isinstance(target, str) or not target.strip():
        raise ScoringError(f"`target` must be a non-empty str such as '(A)' or 'True', got {target!r}")
    kind = _resolve_kind(task) or _kind_of_target(target)
    if not isinstance(response, str):
        raise ScoringError(f"`response` must be a str, got {type(response).__name__}")
    pred = _canonical(_span(response), kind)
    gold = _canonical(target, kind)
    if kind == "number":
        return 1.0 if numbers_equal(pred, gold) else 0.0
    if kind == "free":
        return 1.0 if " ".join(pred.split()) == " ".join(gold.split()) else 0.0
    return 1.0 if pred == gold else 0.0
