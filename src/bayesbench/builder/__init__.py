"""Build your own benchmark: collect test cases, remove duplicates, scrub personal data, version and export.

The data half (schema, collection, dedup, anonymisation, export) turns logs of real queries, expert files,
Hugging Face datasets and model-generated candidates into a :class:`BuilderDataset`: test cases with stable
ids, a content-hash version, a changelog and annotation :class:`Guidelines`. A ``BuilderDataset`` runs directly
in every bayesbench front door (``benchmark``, ``suite``, ``BayesianBenchmark``, ``BayesianRanker``) and exports
to JSONL, Hugging Face ``datasets``, Inspect and lm-eval. See docs/builder.md.
"""

from __future__ import annotations

# annotation, agreement, consensus and LLM-as-judge
from ._agreement import (
    AgreementReport,
    AgreementResult,
    ItemAgreement,
    agreement_report,
    cohens_kappa,
    fleiss_kappa,
    krippendorff_alpha,
)
from ._annotate import AnnotationProject, AnnotatorProgress, assign_items
from ._annotate_app import annotation_app, annotation_router, serve_annotation
from ._annotation_ratings import Ratings
from ._anonymize import AnonymizationResult, Pseudonymizer, anonymize, anonymize_text
from ._collect import collect_expert, collect_hf, collect_logs, read_records
from ._consensus import ConsensusResult, dawid_skene, majority_vote
from ._dataset import BuilderDataset, ChangeEntry
from ._dedup import DedupResult, Duplicate, deduplicate, normalize_text
from ._export import (
    RawDataWarning,
    export_inspect_jsonl,
    export_jsonl,
    export_lm_eval,
    from_hf,
    from_inspect,
    is_anonymized,
    save_hf,
    to_hf,
    to_inspect,
)
from ._generate import GenerationResult, generate_candidates, generate_candidates_async
from ._judge import JudgeScorer, JudgeVerdict, PairwiseJudge, PairwiseVerdict
from ._judge_prompts import PAIRWISE_TEMPLATE, RUBRIC_TEMPLATE
from ._judge_validate import BiasEstimate, JudgeValidation, length_bias, position_bias, validate_judge
from ._pii import ENTITIES, REGEX_ENTITIES, PiiSpan, PresidioDetector, RegexDetector, iban_valid, luhn_valid
from ._pii_corpus import EntityScore, PiiEvaluation, PiiExample, evaluate_detector, make_pii_corpus
from ._schema import Guidelines, Provenance, TestCase

__all__ = [
    # --- data half: schema, collection, dedup, anonymisation, export (builder helper) ---
    "AnonymizationResult",
    "BuilderDataset",
    "ChangeEntry",
    "DedupResult",
    "Duplicate",
    "ENTITIES",
    "EntityScore",
    "GenerationResult",
    "Guidelines",
    "PiiEvaluation",
    "PiiExample",
    "PiiSpan",
    "PresidioDetector",
    "Provenance",
    "Pseudonymizer",
    "REGEX_ENTITIES",
    "RawDataWarning",
    "RegexDetector",
    "TestCase",
    "anonymize",
    "anonymize_text",
    "collect_expert",
    "collect_hf",
    "collect_logs",
    "deduplicate",
    "evaluate_detector",
    "export_inspect_jsonl",
    "export_jsonl",
    "export_lm_eval",
    "from_hf",
    "from_inspect",
    "generate_candidates",
    "generate_candidates_async",
    "iban_valid",
    "is_anonymized",
    "luhn_valid",
    "make_pii_corpus",
    "normalize_text",
    "read_records",
    "save_hf",
    "to_hf",
    "to_inspect",
    "AgreementReport",
    "AgreementResult",
    "ItemAgreement",
    "agreement_report",
    "cohens_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "AnnotationProject",
    "AnnotatorProgress",
    "assign_items",
    "annotation_app",
    "annotation_router",
    "serve_annotation",
    "Ratings",
    "ConsensusResult",
    "dawid_skene",
    "majority_vote",
    "JudgeScorer",
    "JudgeVerdict",
    "PairwiseJudge",
    "PairwiseVerdict",
    "PAIRWISE_TEMPLATE",
    "RUBRIC_TEMPLATE",
    "BiasEstimate",
    "JudgeValidation",
    "length_bias",
    "position_bias",
    "validate_judge",
]
