"""The public names of bayesbench.scoring (the benchmarks layer imports these exact names)."""

import inspect

import bayesbench.scoring as scoring

PROMISED = {
    "normalize_text", "exact_match", "extract_choice_letter", "multiple_choice_score", "extract_final_number",
    "numbers_equal", "gsm8k_score", "drop_em_f1", "bbh_extract_answer", "bbh_score", "pass_at_k",
    "SandboxLimits", "SandboxResult", "run_in_sandbox", "check_humaneval",
}


def test_all_is_exact_and_importable():
    assert PROMISED <= set(scoring.__all__)
    assert len(scoring.__all__) == len(set(scoring.__all__))
    for name in scoring.__all__:
        obj = getattr(scoring, name)
        if isinstance(obj, dict):  # BBH_TASK_KINDS, a constant
            continue
        assert obj.__module__.startswith("bayesbench.scoring._"), name


def test_keyword_only_options():
    assert inspect.signature(scoring.exact_match).parameters["normalize"].kind is inspect.Parameter.KEYWORD_ONLY
    assert inspect.signature(scoring.run_in_sandbox).parameters["limits"].kind is inspect.Parameter.KEYWORD_ONLY
    assert inspect.signature(scoring.bbh_score).parameters["task"].kind is inspect.Parameter.KEYWORD_ONLY
    assert inspect.signature(scoring.numbers_equal).parameters["rel_tol"].default == 1e-6
    limits = scoring.SandboxLimits()
    assert (limits.cpu_seconds, limits.wall_seconds, limits.memory_mb, limits.max_file_mb, limits.network) == (
        5, 10, 512, 10, False
    )
