"""The one exception tree of bayesbench.

Every message says what was wrong, what is allowed, and how to fix it. Catch
``BayesbenchError`` to handle anything the library raises on purpose.
"""

from __future__ import annotations

__all__ = [
    "BayesbenchError",
    "ConfigError",
    "UnknownSettingError",
    "DatasetError",
    "ModelError",
    "ScoringError",
    "StoreError",
    "MissingDependencyError",
    "missing_dependency",
]


class BayesbenchError(Exception):
    """Base class of every error bayesbench raises on purpose."""


class ConfigError(BayesbenchError, ValueError):
    """A parameter is outside its allowed range or has the wrong type."""


class UnknownSettingError(ConfigError, TypeError):
    """A keyword is not a setting of the front door it was passed to (a typo, or a setting of another door)."""


class DatasetError(BayesbenchError, ValueError):
    """A dataset is empty, malformed or cannot be loaded."""


class ModelError(BayesbenchError, RuntimeError):
    """A model call failed after all retries, or a model name is unknown."""


class ScoringError(BayesbenchError, ValueError):
    """A score function returned something that is not a valid score."""


class StoreError(BayesbenchError, RuntimeError):
    """The results store cannot be opened, migrated or written."""


class MissingDependencyError(BayesbenchError, ImportError):
    """An optional dependency is not installed; the message gives the pip line."""


def missing_dependency(package: str, extra: str, feature: str) -> MissingDependencyError:
    """Build the uniform error for an optional dependency that is not installed."""
    return MissingDependencyError(
        f"{feature} needs the optional package '{package}', which is not installed. "
        f'Install it with: pip install "bayesbench[{extra}]"'
    )
