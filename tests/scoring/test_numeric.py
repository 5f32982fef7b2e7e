"""Golden tests: GSM8K final numbers and numeric equality."""

import pytest

from bayesbench.errors import ConfigError, ScoringError
from bayesbench.scoring import extract_final_number, gsm8k_score, numbers_equal


@pytest.mark.parametrize(
    "text, expected",
    [
        ("#### 1,234", "1234"),
        ("Janet has 3 ducks... she earns 9 * 2 = 18 dollars.\n#### 18", "18"),
        ("She has 5 now.\n#### 18\nwait, 20", "18"),  # "####" beats everything after it
        ("The answer is 20. #### 18", "18"),
        ("The answer is $1,234.50", "1234.50"),
        ("It costs $18.", "18"),
        ("18 dollars", "18"),
        ("18.00", "18.00"),
        ("The answer is -7", "-7"),
        ("x = -3.5", "-3.5"),
        ("Total: \u221212", "-12"),  # unicode minus
        ("-$5", "-5"),
        ("5-3=2", "2"),  # a hyphen between numbers is not a sign
        ("the range 10-20", "20"),
        ("The answer is 3/4", "3/4"),
        ("\\boxed{42}", "42"),
        ("The answer is: 1,000,000 people.", "1000000"),
        ("**Answer: 72**", "72"),
        ("The answer is 25%", "25"),
        ("The answer is 18. Check: 3 + 15 = 18, in 2 steps", "18"),  # "answer is" beats the last number
        ("blah 3 apples and 5 pears", "5"),
        ("1,2,3", "3"),
        ("costs .5 dollars", "0.5"),
        ("no numbers here", None),
        ("", None),
    ],
)
def test_extract_final_number(text, expected):
    assert extract_final_number(text) == expected


@pytest.mark.parametrize(
    "a, b, equal",
    [
        ("18", "18.0", True),
        ("18", "18.00", True),
        ("$18", 18, True),
        ("1,234", "1234", True),
        ("3/4", "0.75", True),
        ("1/3", "0.3333333", True),  # within rel_tol 1e-6
        ("1/3", "0.333", False),
        ("-0", "0", True),
        ("50%", "0.5", True),
        ("2", "3", False),
        ("-5", "5", False),
        (None, "1", False),
        ("abc", "abc", False),
        ("1 2", "1 2", False),
        (18.0, 18, True),
    ],
)
def test_numbers_equal(a, b, equal):
    assert numbers_equal(a, b) is equal


def test_numbers_equal_tolerance_is_configurable():
    assert numbers_equal("100", "100.5", rel_tol=0.01)
    assert not numbers_equal("100", "100.5")
    with pytest.raises(ConfigError, match=r"`rel_tol` must be in \[0, 1\)"):
        numbers_equal("1", "1", rel_tol=2)


def test_gsm8k_score():
    ref = "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips.\n#### 72"
    assert gsm8k_score("She sold 72 clips altogether. The answer is 72.", ref) == 1.0
    assert gsm8k_score("The answer is $72.00", ref) == 1.0
    assert gsm8k_score("48 + 24 = 72 clips, so 72", ref) == 1.0
    assert gsm8k_score("The answer is 24", ref) == 0.0
    assert gsm8k_score("I cannot tell", ref) == 0.0
    assert gsm8k_score("#### 1,500", "#### 1500") == 1.0
    assert gsm8k_score("The answer is -3", "#### -3") == 1.0
    with pytest.raises(ScoringError, match="reference answer has no number"):
        gsm8k_score("72", "no number")
