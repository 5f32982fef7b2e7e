"""Re-create the vendored BBH files in ``data/bbh/`` from BIG-bench ``task.json`` files.

BIG-Bench Hard (Suzgun et al., 2022) took 23 BIG-bench tasks and rewrote them as ``{"input", "target"}`` pairs
with the options inside the input. No PyPI package ships the BBH files, but the ``bigbench`` sdist ships the
source tasks (Apache-2.0). This converter applies the BBH input/target conventions to four small tasks and keeps
a seeded sample of at most 250 examples each. Run it on an unpacked sdist::

    python -m bayesbench.benchmarks._bbh_vendor /path/to/bigbench/benchmark_tasks
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

MAX_EXAMPLES = 250
SEED = 0


def _gold(example: dict[str, Any]) -> str:
    return next(k for k, v in example["target_scores"].items() if v == 1)


def _sports(ex: dict[str, Any], rng: random.Random) -> dict[str, str]:
    sentence = ex["input"].strip()
    if not sentence.endswith((".", "!", "?")):
        sentence += "."
    return {"input": f'Is the following sentence plausible? "{sentence}"',
            "target": "yes" if _gold(ex) == "plausible" else "no"}


def _navigate(ex: dict[str, Any], rng: random.Random) -> dict[str, str]:
    return {"input": "If you follow these instructions, do you return to the starting point? "
                     f"{ex['input'].strip()}\nOptions:\n- Yes\n- No",
            "target": "Yes" if _gold(ex) == "True" else "No"}


def _date(ex: dict[str, Any], rng: random.Random) -> dict[str, str]:
    options = list(ex["target_scores"])
    rng.shuffle(options)
    letters = "ABCDEFGH"
    lines = "\n".join(f"({letters[i]}) {o}" for i, o in enumerate(options))
    return {"input": f"{ex['input'].strip()}\nOptions:\n{lines}", "target": f"({letters[options.index(_gold(ex))]})"}


def _causal(ex: dict[str, Any], rng: random.Random) -> dict[str, str]:
    return {"input": "How would a typical person answer each of the following questions about causation?\n"
                     f"{ex['input'].strip()}\nOptions:\n- Yes\n- No",
            "target": _gold(ex)}


# BBH task name -> (BIG-bench source task, converter)
TASKS: dict[str, tuple[str, Callable[[dict[str, Any], random.Random], dict[str, str]]]] = {
    "sports_understanding": ("sports_understanding", _sports),
    "navigate": ("navigate", _navigate),
    "date_understanding": ("date_understanding", _date),
    "causal_judgement": ("causal_judgment", _causal),
}


def convert(benchmark_tasks: Path, out_dir: Path) -> dict[str, int]:
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for bbh_name, (source, fn) in TASKS.items():
        task = json.loads((benchmark_tasks / source / "task.json").read_text(encoding="utf-8"))
        examples = task["examples"]
        rng = random.Random(f"{SEED}/{bbh_name}")
        keep = sorted(rng.sample(range(len(examples)), min(MAX_EXAMPLES, len(examples))))
        rows = [fn(examples[i], rng) for i in keep]
        doc = {
            "name": bbh_name,
            "description": task.get("description", ""),
            "source": f"BIG-bench task '{source}' (github.com/google/BIG-bench, bigbench==1.0.0 sdist), "
                      f"{len(rows)} of {len(examples)} examples (seeded sample), converted to the BBH format",
            "license": "Apache-2.0",
            "canary": task.get("canary", ""),
            "examples": rows,
        }
        text = json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
        (out_dir / f"{bbh_name}.json").write_text(text, encoding="utf-8")
        counts[bbh_name] = len(rows)
    return counts


if __name__ == "__main__":  # pragma: no cover - a maintenance tool
    if len(sys.argv) != 2:
        sys.exit("usage: python -m bayesbench.benchmarks._bbh_vendor /path/to/bigbench/benchmark_tasks")
    print(convert(Path(sys.argv[1]), Path(__file__).parent / "data" / "bbh"))
