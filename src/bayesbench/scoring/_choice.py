"""Multiple-choice letter extraction (MMLU, HellaSwag, GPQA...)."""

from __future__ import annotations

import re

from ..errors import ScoringError

__all__ = ["extract_choice_letter", "multiple_choice_score"]

_MARKUP = re.compile(r"[*`]|\\textbf|\\text|\\mathrm")


def _check_letters(letters: str) -> str:
    if (
        not isinstance(letters, str)
        or not letters
        or not all("A" <= ch <= "Z" for ch in letters)
        or len(set(letters)) != len(letters)
    ):
        raise ScoringError(f"`letters` must be distinct upper-case letters such as 'ABCD', got {letters!r}")
    return letters


def _compiled(letters: str) -> dict[str, re.Pattern[str]]:
    cls = "[" + letters + letters.lower() + "]"
    # The letter must not run on into a word ("Apple", "A1"), but may be followed by ")" "." ":" etc.
    end = r"(?![A-Za-z0-9])"
    return {
        # "The answer is (B)", "Answer: b", "correct option is C", "final answer: [D]"
        "explicit": re.compile(
            r"\b(?:answer|option|choice)(?:\s+(?:is|would\s+be|will\s+be|should\s+be))?"
            r"\s*(?:[:=\-]\s*)?(?:(?:option|choice|letter)\s+)?[(\[{]?\s*(" + cls + r")" + end,
            re.IGNORECASE,
        ),
        # "I think it's D because", "I choose B", "I'd go with (C)"
        "verbal": re.compile(
            r"\b(?:it'?s|it\s+is|choose|pick|select|go\s+with)\s+(?:(?:option|choice|letter)\s+)?[(\[]?\s*("
            + cls
            + r")"
            + end,
            re.IGNORECASE,
        ),
        "boxed": re.compile(r"\\boxed\{\s*\(?\s*(" + cls + r")\s*\)?\s*\}"),
        # the response starts with the letter: "B", "(B)", "B.", "A) foo", "[C] ...", "D: ..."
        "leading": re.compile(r"^\s*[(\[]?\s*(" + cls + r")\s*(?:[).:\],\-]|$)"),
        # upper-case letter then space: "B because ..." (lower-case would be the article "a")
        "leading_space": re.compile(r"^\s*([" + letters + r"])\s+(?=\S)"),
        # two letters joined as alternatives: "A or B", "A and C", "B/C", "A, B"
        "alternatives": re.compile(
            r"(?<![A-Za-z0-9'])\(?[" + letters + r"]\)?\s*(?:,|/|\bor\b|\band\b|&)\s*\(?[" + letters + r"]\)?(?![A-Za-z0-9'])"
        ),
        "standalone": re.compile(r"(?<![A-Za-z0-9'])(?:\(([" + letters + r"])\)|([" + letters + r"])(?![A-Za-z0-9']))"),
    }


_CACHE: dict[str, dict[str, re.Pattern[str]]] = {}
# Words that may follow an answer letter ("A is right", "A because ..."); any other
# lower-case word after a capital "A" makes it the article ("A good choice is D").
_AFTER_LETTER = frozenset(
    "is was because since as would should must seems it its it's looks fits matches".split()
)
_NEXT_WORD = re.compile(r"\s+([a-z][a-z']*)")


def _is_article(text: str, m: re.Match[str]) -> bool:
    """Whether the matched "a"/"A" is the English article rather than option A."""
    group = 1 if m.group(1) else 2
    letter = m.group(group)
    if letter not in ("a", "A"):
        return False
    nxt = _NEXT_WORD.match(text, m.end(group))
    if letter == "a":
        return re.match(r"\s+[A-Za-z]", text[m.end(group) :]) is not None
    return nxt is not None and nxt.group(1) not in _AFTER_LETTER


def extract_choice_letter(text: str, letters: str = "ABCD") -> str | None:
    """The option letter a response commits to, upper-case, or None if there is none or it is ambiguous.

    Tried in order, the first rule that fires wins:

    1. an explicit statement, the *last* one if several ("The answer is (B)", "Answer: b",
       "the correct option is C", ``\\boxed{D}``), then verbal picks ("I think it's D", "I choose B");
    2. letters offered as alternatives ("A or B", "both A and C", "B/C", "A, B") give None;
    3. the response starts with a letter and a delimiter: "B", "(B)", "B.", "**C**", "A) foo";
    4. the response starts with a letter and a space: "B because ...";
    5. otherwise the set of free-standing capital option letters in the text ("... so D"),
       if it has exactly one member, else None.

    "a" before a word, and "A" before a lower-case word other than a verb or connective
    ("A good choice is D"), are read as the English article. Markdown emphasis and backticks
    are ignored.
    """
    if not isinstance(text, str):
        raise ScoringError(f"`text` must be a str, got {type(text).__name__}")
    letters = _check_letters(letters)
    pats = _CACHE.get(letters)
    if pats is None:
        pats = _CACHE[letters] = _compiled(letters)
    clean = _MARKUP.sub("", text)

    for name in ("boxed", "explicit", "verbal"):
        hits = [m for m in pats[name].finditer(clean) if not _is_article(clean, m)]
        if hits:
            return hits[-1].group(1).upper()
    if pats["alternatives"].search(clean):
        return None  # "A or B", "both A and C": no commitment
    m = pats["leading"].match(clean)
    if m and not _is_article(clean, m):
        return m.group(1).upper()
    m = pats["leading_space"].match(clean)
    if m and not _is_article(clean, m):
        return m.group(1).upper()
    found = set()
    for m in pats["standalone"].finditer(clean):
        if m.group(2) == "A" and _is_article(clean, m):
            continue
        found.add(m.group(1) or m.group(2))
    return found.pop() if len(found) == 1 else None


def multiple_choice_score(response: str, correct_letter: str, letters: str = "ABCD") -> float:
    """1.0 if the letter extracted from ``response`` is ``correct_letter`` (case-insensitive), else 0.0.

    An unparseable or ambiguous response scores 0.0.
    """
    letters = _check_letters(letters)
    if not isinstance(correct_letter, str) or correct_letter.strip().upper() not in letters:
        raise ScoringError(
            f"`correct_letter` must be one of {', '.join(letters)}, got {correct_letter!r}; "
            "pass the gold option letter, or widen `letters`"
        )
    return 1.0 if extract_choice_letter(response, letters) == correct_letter.strip().upper() else 0.0
