"""Scoring: answer normalisation and the standard benchmarks' metrics, pass@k, and the code sandbox.

See docs/scoring.md (the metrics and their exact rules) and docs/sandbox.md (what the
sandbox enforces on this kind of machine).
"""

from ._bbh import BBH_TASK_KINDS, bbh_extract_answer, bbh_score
from ._choice import extract_choice_letter, multiple_choice_score
from ._drop import drop_em_f1, drop_normalize_answer
from ._humaneval import check_humaneval, humaneval_program
from ._numeric import extract_final_number, gsm8k_score, numbers_equal, parse_number
from ._passk import pass_at_k
from ._sandbox import SandboxLimits, SandboxResult, available_backends, run_in_sandbox
from ._text import exact_match, normalize_text

__all__ = [
    "normalize_text",
    "exact_match",
    "extract_choice_letter",
    "multiple_choice_score",
    "extract_final_number",
    "parse_number",
    "numbers_equal",
    "gsm8k_score",
    "drop_em_f1",
    "drop_normalize_answer",
    "bbh_extract_answer",
    "bbh_score",
    "BBH_TASK_KINDS",
    "pass_at_k",
    "SandboxLimits",
    "SandboxResult",
    "run_in_sandbox",
    "available_backends",
    "check_humaneval",
    "humaneval_program",
]
