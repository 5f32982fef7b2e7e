"""pass@k against brute-force enumeration and exact big-integer binomials."""

import itertools
import math
from fractions import Fraction

import pytest

from bayesbench.errors import ConfigError
from bayesbench.scoring import pass_at_k


def _brute_force(n, c, k):
    samples = [True] * c + [False] * (n - c)
    draws = list(itertools.combinations(range(n), k))
    return sum(any(samples[i] for i in d) for d in draws) / len(draws)


@pytest.mark.parametrize("n", range(1, 9))
def test_matches_enumeration_for_small_n(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(_brute_force(n, c, k), abs=1e-12)


def test_known_values():
    assert pass_at_k(5, 1, 2) == pytest.approx(0.4)  # 1 - C(4,2)/C(5,2) = 1 - 6/10
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)  # pass@1 = c / n
    assert pass_at_k(10, 0, 5) == 0.0
    assert pass_at_k(10, 10, 1) == 1.0
    assert pass_at_k(10, 6, 5) == 1.0  # n - c < k
    assert pass_at_k(1, 1, 1) == 1.0


@pytest.mark.parametrize("n, c, k", [(200, 10, 100), (200, 1, 10), (1000, 7, 50), (500, 499, 1)])
def test_large_n_is_exact_to_rounding(n, c, k):
    exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
    assert pass_at_k(n, c, k) == pytest.approx(float(exact), rel=1e-12)


@pytest.mark.parametrize(
    "args, message",
    [
        ((0, 0, 1), "`n` must be an integer >= 1"),
        ((5, 6, 1), "`c` \\(correct samples\\) must be <= n = 5"),
        ((5, 2, 6), "`k` must be <= n = 5"),
        ((5, 2, 0), "`k` must be an integer >= 1"),
        ((5, -1, 1), "`c` must be an integer >= 0"),
        ((5.0, 1, 1), "`n` must be an integer"),
    ],
)
def test_validation(args, message):
    with pytest.raises(ConfigError, match=message):
        pass_at_k(*args)
