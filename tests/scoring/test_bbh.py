"""Golden tests for BIG-Bench Hard answer extraction and scoring."""

import pytest

from bayesbench.errors import ScoringError
from bayesbench.scoring import BBH_TASK_KINDS, bbh_extract_answer, bbh_score


@pytest.mark.parametrize(
    "text, task, expected",
    [
        ("Let's think step by step. Paris is in France. So the answer is (B).", None, "(B)"),
        ("(C)", None, "(C)"),
        ("B", None, "(B)"),
        ("The answer is (A) Paris", None, "(A)"),
        ("True", None, "True"),
        ("So the answer is False.", None, "False"),
        ("So the answer is Yes.", None, "Yes"),
        ("so the answer is no", None, "No"),
        ("So the answer is invalid.", None, "invalid"),  # not read as "valid"
        ("valid", None, "valid"),
        ("So the answer is 24.", None, "24"),
        ("So the answer is ] ) }.", None, "] ) }"),
        ("Counting...\nFinal: 1,024", "object_counting", "1024"),
        ("So the answer is apple banana cherry.", "word_sorting", "apple banana cherry"),
        ("So the answer is yes, he can.", "sports_understanding", "Yes"),
        ("The argument is not valid. So the answer is invalid", "formal_fallacies", "invalid"),
        ("So the answer is -42.", "multistep_arithmetic_two", "-42"),
        ("Step 1 ... the answer is (E). Wait, the answer is (D).", "date_understanding", "(D)"),
        ("**So the answer is (F).**", "logical_deduction_seven_objects", "(F)"),
    ],
)
def test_extract(text, task, expected):
    assert bbh_extract_answer(text, task=task) == expected


@pytest.mark.parametrize(
    "response, target, task, score",
    [
        ("Let's think step by step.\n... So the answer is (B).", "(B)", None, 1.0),
        ("So the answer is (A).", "(B)", None, 0.0),
        ("B", "(B)", "snarks", 1.0),
        ("So the answer is True.", "True", "boolean_expressions", 1.0),
        ("true", "True", None, 1.0),
        ("So the answer is No.", "Yes", "navigate", 0.0),
        ("So the answer is valid.", "invalid", None, 0.0),
        ("So the answer is 7.", "7", None, 1.0),
        ("So the answer is 7.0", "7", "object_counting", 1.0),
        ("Answer: seven", "7", None, 0.0),
        ("So the answer is ]  ) }", "] ) }", "dyck_languages", 1.0),
        ("So the answer is apple cherry banana.", "apple banana cherry", "word_sorting", 0.0),
    ],
)
def test_score(response, target, task, score):
    assert bbh_score(response, target, task=task) == score


def test_all_27_tasks_known_and_typos_suggest():
    assert len(BBH_TASK_KINDS) == 27
    with pytest.raises(ScoringError, match="Did you mean 'navigate'"):
        bbh_score("Yes", "Yes", task="navigat")
    with pytest.raises(ScoringError, match="`target` must be a non-empty str"):
        bbh_score("Yes", "")
