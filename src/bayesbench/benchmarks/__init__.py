"""Standard benchmark suites: MMLU, HellaSwag, DROP, BIG-Bench Hard, HumanEval, GSM8K, TruthfulQA, and the safety
suites BBQ (social bias) and Toxicity (toxicity rate of continuations, pluggable classifier).

Each suite loads its data (``data_dir``, else an installed data package, else the Hugging Face hub: the ladder
the :class:`Benchmark` base runs for all of them), builds the usual prompts with seeded subsets and few-shot
examples, and ``evaluate(model)`` returns a :class:`BenchmarkResult` whose numbers carry confidence intervals.
A new suite is a :class:`Benchmark` subclass with its hooks (it returns :class:`LoadedData` and names its
:class:`PackageFile`). See docs/benchmarks.md.
"""

from ._base import Benchmark, LoadedData
from ._bbh import BigBenchHard, BigBenchHardTask, vendored_tasks
from ._bbq import BBQ, BBQCategory, vendored_categories
from ._compare import HeadToHead, compare_models
from ._data import PackageFile
from ._drop import DROP
from ._gsm8k import GSM8K
from ._hellaswag import HellaSwag, HellaSwagTask
from ._humaneval import HumanEval
from ._mmlu import MMLU, MMLUTask
from ._result import BenchmarkResult, PredictionRecord, ScoreEstimate
from ._toxicity import ProfanityClassifier, Toxicity
from ._truthfulqa import TruthfulQA

__all__ = [
    "BBQ",
    "BBQCategory",
    "Benchmark",
    "BenchmarkResult",
    "BigBenchHard",
    "BigBenchHardTask",
    "DROP",
    "GSM8K",
    "HeadToHead",
    "HellaSwag",
    "HellaSwagTask",
    "HumanEval",
    "LoadedData",
    "MMLU",
    "MMLUTask",
    "PackageFile",
    "PredictionRecord",
    "ProfanityClassifier",
    "ScoreEstimate",
    "Toxicity",
    "TruthfulQA",
    "compare_models",
    "vendored_categories",
    "vendored_tasks",
]
