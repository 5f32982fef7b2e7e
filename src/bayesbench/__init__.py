"""bayesbench: compare and rank LLMs, stopping as soon as the evidence is enough."""

from ._version import __version__
from .errors import (
    BayesbenchError,
    ConfigError,
    DatasetError,
    MissingDependencyError,
    ModelError,
    ScoringError,
    StoreError,
)

__all__ = [
    "__version__",
    "BayesbenchError",
    "ConfigError",
    "DatasetError",
    "MissingDependencyError",
    "ModelError",
    "ScoringError",
    "StoreError",
]
