"""Golden tests: SQuAD normalisation, exact match, multiple-choice letters."""

import pytest

from bayesbench.errors import ScoringError
from bayesbench.scoring import exact_match, extract_choice_letter, multiple_choice_score, normalize_text


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("The  Eiffel-Tower!", "eiffeltower"),
        ("  An apple, a day. ", "apple day"),
        ("THE END", "end"),
        ("theatre", "theatre"),  # "the" only as a whole word
        ("Hello,\tworld\n", "hello world"),
        ("", ""),
    ],
)
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


def test_exact_match_normalised_and_verbatim():
    assert exact_match("The Paris.", "paris") == 1.0
    assert exact_match("Paris", "London") == 0.0
    assert exact_match("The Paris.", "paris", normalize=False) == 0.0
    assert exact_match("Paris", "Paris", normalize=False) == 1.0
    assert exact_match("an ox", ["cow", "Ox"]) == 1.0
    with pytest.raises(ScoringError, match="`target` must be"):
        exact_match("x", [])


@pytest.mark.parametrize(
    "text, expected",
    [
        ("B", "B"),
        ("(B)", "B"),
        ("B.", "B"),
        ("The answer is (B).", "B"),
        ("Answer: b", "B"),
        ("**C**", "C"),
        ("I think it's D because the others are wrong.", "D"),
        ("A) foo", "A"),
        ("Answer: (C) because A is wrong", "C"),
        ("b", "B"),
        ("a", "A"),
        ("d) twelve", "D"),
        ("C. Paris is the capital", "C"),
        ("The correct answer is D, since A and B fail.", "D"),
        ("A good choice here is D.", "D"),  # "A" as an article
        ("It's a tricky one, but I'd go with B", "B"),
        ("**Answer:** C", "C"),
        ("Option (B) is correct", "B"),
        ("The answer is A. Actually, the answer is C.", "C"),  # last explicit statement wins
        ("\\boxed{C}", "C"),
        ("B because it is the largest", "B"),
        ("A is correct", "A"),
        ("B, because A fails", "B"),
        ("so the final answer is: (d)", "D"),
        ("Let me think step by step.\nThe largest is Jupiter, so D", "D"),
    ],
)
def test_extract_choice_letter_styles(text, expected):
    assert extract_choice_letter(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "I don't know",
        "A or B",
        "Both A and C are plausible",
        "B/C",
        "(A) and (C)",
        "E",  # not an allowed letter
        "The answer is E",
        "Apple",
        "answer a question",
    ],
)
def test_extract_choice_letter_none_when_absent_or_ambiguous(text):
    assert extract_choice_letter(text) is None


def test_extract_choice_letter_other_letter_sets():
    assert extract_choice_letter("The answer is (F).", letters="ABCDEFGHIJ") == "F"
    assert extract_choice_letter("The answer is (F).") is None
    with pytest.raises(ScoringError, match="`letters` must be distinct upper-case"):
        extract_choice_letter("A", letters="abc")


def test_multiple_choice_score():
    assert multiple_choice_score("Answer: (C) because A is wrong", "C") == 1.0
    assert multiple_choice_score("Answer: (C) because A is wrong", "a") == 0.0
    assert multiple_choice_score("A or B", "A") == 0.0
    assert multiple_choice_score("b", "b") == 1.0
    with pytest.raises(ScoringError, match="`correct_letter` must be one of A, B, C, D, got 'E'"):
        multiple_choice_score("E", "E")
