"""Unbiased pass@k (Chen et al., 2021, "Evaluating Large Language Models Trained on Code")."""

from __future__ import annotations

from ..errors import ConfigError

__all__ = ["pass_at_k"]


def _count(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"`{name}` must be an integer >= {minimum}, got {value!r}")
    return value


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of ``k`` samples drawn without replacement from ``n``
    generations, ``c`` of them correct, is correct: ``1 - C(n-c, k) / C(n, k)``.

    Computed as ``1 - prod_{i=n-c+1}^{n} (1 - k / i)``, which never forms the huge
    binomials and is exact to float rounding. Requires ``0 <= c <= n`` and ``1 <= k <= n``.
    """
    n = _count("n", n, 1)
    c = _count("c", c, 0)
    k = _count("k", k, 1)
    if c > n:
        raise ConfigError(f"`c` (correct samples) must be <= n = {n}, got {c}")
    if k > n:
        raise ConfigError(f"`k` must be <= n = {n} (cannot draw more samples than were generated), got {k}")
    if n - c < k:
        return 1.0  # every draw of k must contain a correct sample
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod
