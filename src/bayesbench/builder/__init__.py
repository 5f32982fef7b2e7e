"""Build your own benchmark: collect test cases, remove duplicates, scrub personal data, version and export.

The data half (this package's schema, collection, dedup, anonymisation and export) turns logs of real queries,
expert files, Hugging Face datasets and model-generated candidates into a :class:`BuilderDataset`: test cases
with stable ids, a content-hash version, a changelog and annotation :class:`Guidelines`. A ``BuilderDataset``
runs directly in every bayesbench front door and exports to JSONL, Hugging Face ``datasets``, Inspect and
lm-eval. See docs/builder.md.
"""

from __future__ import annotations

from ._dataset import BuilderDataset, ChangeEntry
from ._schema import Guidelines, Provenance, TestCase

__all__ = [
    # --- data half: schema, collection, dedup, anonymisation, export (builder helper) ---
    "BuilderDataset",
    "ChangeEntry",
    "Guidelines",
    "Provenance",
    "TestCase",
    # --- annotation / agreement / judge half (judge helper): the integrator adds its names here ---
]
