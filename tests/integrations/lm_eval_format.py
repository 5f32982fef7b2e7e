"""Write lm-evaluation-harness ``--log_samples`` output in its real layout (lm-eval 0.4: one folder per model,
``results_<timestamp>.json`` with ``model_name`` and ``config.model_args``, and one
``samples_<task>_<timestamp>.jsonl`` per task, a JSON line per document and filter). Used by the tests and by
perf/lm_eval_replay.py to build logs from real per-question results."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

TIMESTAMP = "2024-05-01T10-00-00.123456"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def write_lm_eval_run(root: Path, model: str, tasks: Mapping[str, Sequence[float]], *, metric: str = "acc",
                      filters: Sequence[str] = ("none",), doc_ids: Sequence[int] | None = None) -> Path:
    """One model's run: ``tasks`` maps a task name to per-document scores (doc_id 0, 1, ... unless
    ``doc_ids``). Every filter logs every document; the scores of later filters are flipped so a reader
    that mixes filters would be caught."""
    folder = root / model.replace("/", "__")
    folder.mkdir(parents=True, exist_ok=True)
    results = {}
    for task, scores in tasks.items():
        ids = list(doc_ids) if doc_ids is not None else list(range(len(scores)))
        with open(folder / f"samples_{task}_{TIMESTAMP}.jsonl", "w") as fh:
            for k, filt in enumerate(filters):
                for doc_id, score in zip(ids, scores):
                    value = float(score) if k == 0 else 1.0 - float(score)
                    question = f"{task} question {doc_id}"
                    fh.write(json.dumps({
                        "doc_id": doc_id, "doc": {"question": question, "answer": "A"}, "target": " A",
                        "arguments": {"gen_args_0": {"arg_0": f"Question: {question}\nAnswer:", "arg_1": " A"}},
                        "resps": [[["-1.25", value == 1.0]]], "filtered_resps": [["-1.25", value == 1.0]],
                        "filter": filt, "metrics": [metric], "doc_hash": _sha(question),
                        "prompt_hash": _sha("prompt " + question), "target_hash": _sha(" A"), metric: value,
                    }) + "\n")
        mean = sum(scores) / len(scores)
        results[task] = {"alias": task, f"{metric},{filters[0]}": mean, f"{metric}_stderr,{filters[0]}": 0.0}
    (folder / f"results_{TIMESTAMP}.json").write_text(json.dumps({
        "results": results, "model_name": model, "model_name_sanitized": model.replace("/", "__"),
        "config": {"model": "hf", "model_args": f"pretrained={model},dtype=float32", "batch_size": 8},
        "git_hash": "0000000", "date": 1714557600.0,
    }, indent=2))
    return folder
