"""Numeric answers: GSM8K-style final-number extraction and tolerant comparison."""

from __future__ import annotations

import math
import re
from fractions import Fraction

from ..errors import ConfigError, ScoringError

__all__ = ["extract_final_number", "numbers_equal", "gsm8k_score", "parse_number"]

# A number as people and models write it: optional sign (not a hyphen glued to a word or
# digit, so "5-3" is 5 and 3), optional currency, digits with "," thousands groups or
# plain, optional decimals, optional "/denominator". "1,2,3" is three numbers.
_NUMBER = re.compile(
    r"(?<![\w.)])(?P<sign>[-\u2212+])?\s*(?P<cur>[$\u20ac\u00a3\u00a5])?\s*(?P<sign2>[-\u2212])?"
    r"(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)?(?P<frac>\.\d+)?(?:\s*/\s*(?P<den>\d+)(?![\d.]))?"
)
_HASHES = re.compile(r"####")
_BOXED = re.compile(r"\\boxed\s*\{([^{}]*)\}")
_ANSWER_IS = re.compile(
    r"answer(?:\s+is|\s+would\s+be|\s+will\s+be|\s+should\s+be)?\s*(?:[:=]\s*)?(?=[-\u2212+$\u20ac\u00a3\u00a5\d.(\\])",
    re.IGNORECASE,
)


def _numbers(text: str) -> list[str]:
    """All numbers in ``text``, canonicalised ("-1234.5", "3/4"), in order."""
    out = []
    for m in _NUMBER.finditer(text):
        whole, frac = m.group("int"), m.group("frac")
        if whole is None and frac is None:
            continue
        s = (whole or "0").replace(",", "") + (frac or "")
        if m.group("den") is not None and frac is None:
            s += "/" + m.group("den")
        negative = (m.group("sign") in ("-", "\u2212")) != (m.group("sign2") in ("-", "\u2212"))
        out.append(("-" if negative else "") + s)
    return out


def extract_final_number(text: str) -> str | None:
    """The final numeric answer in ``text`` as a plain number string, or None.

    Precedence: the first number after "####" (GSM8K's reference format); else the last
    ``\\boxed{...}`` number; else the number right after the last "answer is" / "answer:";
    else the last number anywhere. Thousands separators, currency signs, units and a
    trailing period are dropped: ``"The answer is $1,234.50."`` gives ``"1234.50"``.
    """
    if not isinstance(text, str):
        raise ScoringError(f"`text` must be a str, got {type(text).__name__}")
    text = text.replace("**", "")
    m = _HASHES.search(text)
    if m:
        nums = _numbers(text[m.end() :])
        if nums:
            return nums[0]
    boxed = [n for b in _BOXED.findall(text) for n in _numbers(b)[-1:]]
    if boxed:
        return boxed[-1]
    for m in reversed(list(_ANSWER_IS.finditer(text))):
        nums = _numbers(text[m.end() : m.end() + 40])
        if nums:
            return nums[0]
    nums = _numbers(text)
    return nums[-1] if nums else None


def parse_number(value: str | int | float) -> Fraction | None:
    """Exact value of a number written as int, float, "1,234.5", "$18", "-3/4" or "50%"; None if not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    s = value.strip().rstrip(".").strip()
    percent = s.endswith("%")
    nums = _numbers(s.rstrip("%"))
    if len(nums) != 1:
        return None
    num = nums[0]
    try:
        result = Fraction(num)
    except (ValueError, ZeroDivisionError):
        return None
    return result / 100 if percent else result


def numbers_equal(a: str | int | float | None, b: str | int | float | None, *, rel_tol: float = 1e-6) -> bool:
    """Whether two written numbers are equal: "18" == "18.0" == "18.00" == "$18" == 18, "3/4" == "0.75".

    Exact comparison first, then ``math.isclose`` with ``rel_tol`` (default 1e-6) for
    rounded decimals. Anything that is not a single number (None, "", "abc", "1 2") is
    equal to nothing.
    """
    if isinstance(rel_tol, bool) or not isinstance(rel_tol, (int, float)) or not 0 <= rel_tol < 1:
        raise ConfigError(f"`rel_tol` must be in [0, 1), got {rel_tol!r}")
    x, y = parse_number(a) if a is not None else None, parse_number(b) if b is not None else None
    if x is None or y is None:
        return False
    return x == y or math.isclose(float(x), float(y), rel_tol=rel_tol)


def gsm8k_score(response: str, reference_answer: str) -> float:
    """1.0 if the final number of ``response`` equals the reference's (after "####"), else 0.0."""
    if not isinstance(reference_answer, str):
        raise ScoringError(f"`reference_answer` must be a str, got {type(reference_answer).__name__}")
    gold = extract_final_number(reference_answer)
    if gold is None:
        raise ScoringError(
            f"GSM8K reference answer has no number: {reference_answer[-80:]!r}; "
            "expected the dataset's 'answer' field ending in '#### <number>'"
        )
    pred = extract_final_number(response) if isinstance(response, str) else None
    return 1.0 if numbers_equal(pred, gold) else 0.0
