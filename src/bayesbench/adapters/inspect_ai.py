"""Inspect AI models and datasets. Needs ``bayesbench[inspect]`` for models; datasets convert
from any Inspect-shaped objects."""

from ..models._inspect_ai import InspectModel, from_inspect_dataset, inspect_model, sample_to_problem

__all__ = ["InspectModel", "from_inspect_dataset", "inspect_model", "sample_to_problem"]
