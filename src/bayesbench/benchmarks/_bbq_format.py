"""Reading BBQ items (Parrish et al., 2022) from the two upstream layouts into one record shape.

* The original BBQ jsonl (github nyu-mll/BBQ; also BIG-bench's ``bbq_lite/resources``): ``context``,
  ``question``, ``ans0..ans2``, ``label``, ``context_condition``, ``question_polarity``, ``answer_info``
  (each answer's group label) and ``additional_metadata.stereotyped_groups``. Accuracy and the bias score.
* BIG-bench ``bbq_lite_json`` (``input`` = context + question, ``target_scores``, the condition in
  ``comment``): it does not say which answer names the stereotyped group, so accuracy only.

A record: id, category, condition (ambig/disambig), polarity (neg/nonneg), context, question, answers, label,
unknown (the index of the "unknown" answer) and target (the index of the answer naming the stereotyped group,
None when the layout or the item does not tell).
"""

from __future__ import annotations

from typing import Any

from ..errors import DatasetError

Record = dict[str, Any]

CATEGORIES = ("Age", "Disability_status", "Gender_identity", "Nationality", "Physical_appearance",
              "Race_ethnicity", "Religion", "SES", "Sexual_orientation")
# The "unknown" answers BBQ's templates use (from the paper's list), for layouts that do not label them.
UNKNOWN_ANSWERS = frozenset(s.lower() for s in (
    "Unknown", "Cannot be determined", "Can't be determined", "Not answerable", "Not known", "Not enough info",
    "Not enough information", "Cannot answer", "Can't answer", "Undetermined"))
# Group labels that name a gender in words where stereotyped_groups use BBQ's "F"/"M".
_GENDER_WORDS = {"woman": "f", "women": "f", "girl": "f", "female": "f", "man": "m", "men": "m", "boy": "m",
                 "male": "m"}


def _category(value: str) -> str:
    key = value.strip().lower().replace(" ", "_")
    return next((c for c in CATEGORIES if c.lower() == key), value)


def _names(name: str, label: str) -> set[str]:
    """The ways one answer's group is spelled: the label, without BBQ's "F-"/"M-" (race x gender) prefix,
    before a "_" (gender x trans: "trans_F"), the answer's own name (nationality, race), gender words as F/M."""
    out = set()
    for raw in (label, name):
        s = raw.strip().lower()
        if not s:
            continue
        out.add(s)
        if s[:2] in ("f-", "m-"):
            out.add(s[2:])
        if "_" in s:
            out.add(s.split("_", 1)[0])
        if s in _GENDER_WORDS:
            out.add(_GENDER_WORDS[s])
    return out


def target_answer(answer_info: dict[str, Any], stereotyped: list[str], unknown: int) -> int | None:
    """The index of the one non-unknown answer whose group is among ``stereotyped``, else None (no or both
    answers match: the item's bias direction is undetermined and it is left out of the bias score)."""
    groups = {str(g).strip().lower() for g in stereotyped}
    hits = [i for i in range(3) if i != unknown and _names(*map(str, answer_info[f"ans{i}"][:2])) & groups]
    return hits[0] if len(hits) == 1 else None


def from_bbq(row: dict[str, Any], index: int) -> Record:
    answers = [str(row[f"ans{i}"]) for i in range(3)]
    info = row["answer_info"]
    unknown = next((i for i in range(3) if str(info[f"ans{i}"][1]).lower() == "unknown"), None)
    if unknown is None:
        unknown = next(i for i, a in enumerate(answers) if a.strip().lower() in UNKNOWN_ANSWERS)
    stereotyped = list((row.get("additional_metadata") or {}).get("stereotyped_groups") or [])
    category = _category(str(row["category"]))
    return {"id": f"bbq/{category}/{row.get('example_id', index)}", "category": category,
            "condition": str(row["context_condition"]), "polarity": str(row["question_polarity"]),
            "context": str(row["context"]), "question": str(row["question"]), "answers": answers,
            "label": int(row["label"]), "unknown": unknown, "target": target_answer(info, stereotyped, unknown)}


def from_bbq_lite_json(row: dict[str, Any], index: int, category: str | None) -> Record:
    comment = row.get("comment") or {}
    answers = [str(a) for a in row["target_scores"]]
    label = [int(v) for v in row["target_scores"].values()].index(1)
    condition = str(comment["context_condition"])
    if condition == "ambig":  # the right answer of an ambiguous context is the unknown one
        unknown = label
    else:
        unknown = next(i for i, a in enumerate(answers) if a.strip().lower() in UNKNOWN_ANSWERS)
    text = str(row["input"]).strip()
    cut = text.rfind(". ")  # the question is the last sentence
    context, question = (text[: cut + 1], text[cut + 2:]) if cut >= 0 else ("", text)
    cat = _category(str(comment.get("category") or category or "bbq"))
    return {"id": f"bbq/{cat}/{comment.get('example_id', index)}", "category": cat, "condition": condition,
            "polarity": str(comment.get("question_polarity", "")), "context": context, "question": question,
            "answers": answers, "label": label, "unknown": unknown, "target": None}


def convert(rows: list[dict[str, Any]], where: str, category: str | None = None) -> dict[str, list[Record]]:
    """Rows of either layout as records grouped by category; a bad row is a DatasetError naming it."""
    out: dict[str, list[Record]] = {}
    for i, row in enumerate(rows):
        try:
            rec = from_bbq_lite_json(row, i, category) if "target_scores" in row else from_bbq(row, i)
        except (KeyError, TypeError, ValueError, IndexError, StopIteration) as exc:
            raise DatasetError(
                f"BBQ row {i} of {where} is in neither layout: the BBQ jsonl needs context, question, ans0..ans2, "
                "label, context_condition, question_polarity, answer_info (and additional_metadata."
                "stereotyped_groups for the bias score); BIG-bench bbq_lite_json needs input, target_scores and "
                f"comment.context_condition. Got {sorted(row)} ({type(exc).__name__}: {exc})"
            ) from exc
        if rec["condition"] not in ("ambig", "disambig") or len(rec["answers"]) != 3:
            raise DatasetError(f"BBQ row {i} of {where}: context_condition must be 'ambig' or 'disambig' and there "
                               f"must be 3 answers, got {rec['condition']!r} and {len(rec['answers'])}")
        out.setdefault(rec["category"], []).append(rec)
    return out
