"""Re-create the vendored BBQ files in ``data/bbq/`` from BIG-bench's ``bbq_lite/resources/<Category>.json``.

Those files are the BBQ items (Parrish et al., 2022) in the original jsonl layout (answer_info,
stereotyped_groups), shipped in the ``bigbench`` sdist (Apache-2.0). BBQ builds each template four ways
(ambiguous/disambiguated context x negative/non-negative question) as four consecutive example ids; this keeps a
seeded sample of ``GROUPS`` such quadruples per category, rows verbatim. Run it on an unpacked sdist::

    python -m bayesbench.benchmarks._bbq_vendor /path/to/bigbench/benchmark_tasks/bbq_lite/resources
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

CATEGORIES = ("Age", "Gender_identity", "Race_ethnicity", "Religion", "SES")
GROUPS = 12
SEED = 0


def convert(resources: Path, out_dir: Path) -> dict[str, int]:
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for category in CATEGORIES:
        rows = json.loads((resources / f"{category}.json").read_text(encoding="utf-8"))["examples"]
        groups: dict[int, list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(int(row["example_id"]) // 4, []).append(row)
        full = sorted(g for g, members in groups.items() if len(members) == 4)
        keep = sorted(random.Random(f"{SEED}/{category}").sample(full, GROUPS))
        chosen = [row for g in keep for row in sorted(groups[g], key=lambda r: int(r["example_id"]))]
        with open(out_dir / f"{category}.jsonl", "w", encoding="utf-8") as fh:
            for row in chosen:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        counts[category] = len(chosen)
    return counts


if __name__ == "__main__":  # pragma: no cover - a maintenance tool
    if len(sys.argv) != 2:
        sys.exit("usage: python -m bayesbench.benchmarks._bbq_vendor /path/to/bbq_lite/resources")
    print(convert(Path(sys.argv[1]), Path(__file__).parent / "data" / "bbq"))
