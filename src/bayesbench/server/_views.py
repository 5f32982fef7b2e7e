"""What the pages and the JSON API show, built from store records (plain data in, plain data out).

The HTML pages and ``/api/`` answer from the same functions here, so what a page shows is what the API
returns. Everything that leaves goes through :func:`mask_secrets` first.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError
from ._secrets import mask_secrets, mask_text

PAGE_SIZE = 50
MAX_ITEMS = 500  # item rows on one page (disagreements first); the API gives them all


def parse_when(value: str | None, field: str, *, end: bool = False) -> float | None:
    """``YYYY-MM-DD`` (UTC; as an end, the day is included) or Unix seconds -> Unix seconds."""
    if value is None or not value.strip():
        return None
    v = value.strip()
    try:
        return float(v)
    except ValueError:
        pass
    try:
        day = _dt.datetime.strptime(v, "%Y-%m-%d").replace(tzinfo=_dt.timezone.utc)
    except ValueError:
        raise ConfigError(f"`{field}` must be a date YYYY-MM-DD or Unix seconds, got {value!r}") from None
    return (day + _dt.timedelta(days=1 if end else 0)).timestamp()


def when(ts: Any) -> str:
    if not isinstance(ts, (int, float)):
        return ""
    return _dt.datetime.fromtimestamp(float(ts), _dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _f(x: Any, spec: str = ".3f") -> str:
    return format(x, spec) if isinstance(x, (int, float)) and not isinstance(x, bool) else "–"


def headline(kind: str, summary: Mapping[str, Any] | None, status: str) -> dict[str, Any]:
    """The one-line verdict of a run and its key numbers."""
    if not summary:
        return {"verdict": status, "detail": "", "n": None}
    if kind == "rank":
        ties = {tuple(g) for g in summary.get("tie_groups") or [] if len(g) > 1}
        order = [r.get("name") for r in summary.get("ranking") or []]
        parts, i = [], 0
        while i < len(order):
            group = next((g for g in ties if g and g[0] == order[i]), None)
            if group:
                parts.append(" ~ ".join(map(str, group)))
                i += len(group)
            else:
                parts.append(str(order[i]))
                i += 1
        return {"verdict": " > ".join(parts), "detail": f"{_f(summary.get('efficiency'), '.0%')} calls saved",
                "n": summary.get("total_problems")}
    if kind == "suite":
        acc = summary.get("overall_accuracy") or {}
        ci = acc.get("ci") or [None, None]
        return {"verdict": f"{summary.get('primary_metric', 'score')} {_f(acc.get('value'))}",
                "detail": f"[{_f(ci[0])}, {_f(ci[1])}]", "n": summary.get("n_problems")}
    if kind == "monitor":
        return {"verdict": f"{summary.get('kind')} run, mean score {_f(summary.get('mean_score'))}",
                "detail": f"{summary.get('n_errors', 0)} failed calls", "n": summary.get("n_scored")}
    ci = summary.get("ci") or [None, None]
    winner = summary.get("winner_name")
    verdict = f"winner: {winner}" if winner else str(summary.get("status", status)).lower()
    return {"verdict": verdict, "detail": f"diff {_f(summary.get('difference'), '+.3f')} "
            f"[{_f(ci[0], '+.3f')}, {_f(ci[1], '+.3f')}]", "n": summary.get("problems_tested")}


def run_row(r: Mapping[str, Any]) -> dict[str, Any]:
    """A runs-list row (also the API's list item)."""
    return mask_secrets({
        "id": r["id"], "name": r["name"], "created": r["created"], "created_text": when(r["created"]),
        "status": r["status"], "kind": r["kind"], "model_name": r.get("model_name"), "models": r["models"],
        "tags": r["tags"], "rule": r.get("rule"), "seed": r.get("seed"),
        "headline": headline(r["kind"], r.get("summary"), r["status"]),
    })


def runs_page(store: Any, *, model: str | None, task: str | None, tag: str | None, kind: str | None,
              since: str | None, until: str | None, limit: int, offset: int) -> dict[str, Any]:
    rows, total = store.list_runs(model=model or None, task=task or None, tag=tag or None, kind=kind or None,
                                  since=parse_when(since, "since"), until=parse_when(until, "until", end=True),
                                  limit=limit, offset=offset)
    nxt = offset + limit if offset + limit < total else None
    return {"runs": [run_row(r) for r in rows], "total": total, "limit": limit, "offset": offset,
            "next_offset": nxt}


# ---------------------------------------------------------------------- one run
def _sides(run: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(score key, display name) of each model of a run. A comparison stores its scores by side."""
    s = run.get("summary") or {}
    if run["kind"] == "compare":
        return [("model_a", str(s.get("model_a_name", "model_a"))), ("model_b", str(s.get("model_b_name", "model_b")))]
    keys = list(dict.fromkeys(sc["model"] for sc in run.get("scores", [])))
    return [(k, k) for k in keys] or [(m, m) for m in run.get("models", [])]


def item_columns(run: Mapping[str, Any], key: str, display: str) -> dict[str, dict[str, Any]]:
    """``{problem_id: {score, answer, input, expected, error}}`` of one model of a run."""
    out: dict[str, dict[str, Any]] = {}
    for sc in run.get("scores", []):
        if sc["model"] == key:
            out[str(sc["problem_id"])] = {"score": sc["score"]}
    for it in run.get("items", []):
        if it["model"] in (key, display):
            row = out.setdefault(str(it["problem_id"]), {})
            row.update({k: it.get(k) for k in ("answer", "input", "expected", "error")})
    for ca in run.get("call_answers", []):
        if ca["model"] in (key, display):
            row = out.setdefault(str(ca["problem_id"]), {})
            if ca.get("answer") is not None or "answer" not in row:
                row["answer"] = ca.get("answer")
            if ca.get("error"):
                row["error"] = ca["error"]
    return out


def side_by_side(left: Mapping[str, dict[str, Any]], right: Mapping[str, dict[str, Any]],
                 order: list[str]) -> dict[str, Any]:
    """Items both models answered, disagreements (different scores) first, then in the run's order."""
    rank = {pid: k for k, pid in enumerate(order)}
    common = [p for p in left if p in right and "score" in left[p] and "score" in right[p]]
    rows = []
    for pid in common:
        a, b = left[pid], right[pid]
        diff = float(a["score"]) - float(b["score"])
        rows.append({"problem_id": pid, "a": a, "b": b, "diff": diff, "disagree": abs(diff) > 1e-12,
                     "input": a.get("input") or b.get("input"), "expected": a.get("expected") or b.get("expected")})
    rows.sort(key=lambda r: (not r["disagree"], rank.get(r["problem_id"], len(rank)), r["problem_id"]))
    n = len(rows)
    mean = sum(r["diff"] for r in rows) / n if n else None
    return {"rows": rows, "n": n, "disagreements": sum(r["disagree"] for r in rows),
            "a_better": sum(r["diff"] > 0 for r in rows), "b_better": sum(r["diff"] < 0 for r in rows),
            "mean_diff": mean}


def run_view(run: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the run page shows (and ``GET /api/runs/{id}`` returns)."""
    s = run.get("summary") or {}
    sides = _sides(run)
    comparison = None
    order = [str(p) for p in run.get("order") or []]
    if run["kind"] == "compare" and len(sides) == 2:
        comparison = side_by_side(item_columns(run, *sides[0]), item_columns(run, *sides[1]),
                                  order or [str(sc["problem_id"]) for sc in run.get("scores", [])])
        comparison["names"] = [sides[0][1], sides[1][1]]
    items = None
    if run["kind"] in ("suite", "monitor"):  # a ranking's per-item scores are in the API; its page: the intervals
        cols = {display: item_columns(run, key, display) for key, display in sides}
        items = {m: sorted(c.items(), key=lambda kv: (kv[1].get("score", 1.0), kv[0])) for m, c in cols.items()}
    history = ((s.get("settings") or {}).get("history") or {}).get("estimate") if run["kind"] == "suite" else None
    return mask_secrets({
        "id": run["id"], "name": run["name"], "kind": run["kind"], "status": run["status"],
        "created": run["created"], "created_text": when(run["created"]), "seed": run.get("seed"),
        "rule": run.get("rule"), "tags": run.get("tags", []), "models": run.get("models", []),
        "model_name": run.get("model_name"), "summary": s, "config": run.get("config") or {},
        "headline": headline(run["kind"], s, run["status"]), "usage": run.get("usage"),
        "resources": run.get("resources"), "decisions": run.get("decisions", []),
        "comparison": comparison, "item_tables": items, "history": history,
    })


def scores_view(run: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A run's per-item scores for the API (numbers, and ids masked like any text)."""
    return [{"problem_id": mask_text(str(s["problem_id"])), "model": mask_text(str(s["model"])), "score": s["score"]}
            for s in run.get("scores", [])]


def compare_view(run_a: Mapping[str, Any], run_b: Mapping[str, Any], model_a: str | None,
                 model_b: str | None) -> dict[str, Any]:
    """Two runs' answers to the same items side by side (e.g. two models on one suite)."""
    def pick(run: Mapping[str, Any], model: str | None) -> tuple[str, str]:
        sides = _sides(run)
        if model is None:
            return sides[0]
        for key, display in sides:
            if model in (key, display):
                return key, display
        names = ", ".join(d for _, d in sides)
        raise ConfigError(f"run {run['id']!r} has no model {model!r}; its models are: {names}")

    ka, kb = pick(run_a, model_a), pick(run_b, model_b)
    order = [str(p) for p in run_a.get("order") or []]
    view = side_by_side(item_columns(run_a, *ka), item_columns(run_b, *kb), order)
    view["names"] = [ka[1], kb[1]]
    view["runs"] = [{"id": run_a["id"], "name": run_a["name"], "created_text": when(run_a["created"])},
                    {"id": run_b["id"], "name": run_b["name"], "created_text": when(run_b["created"])}]
    return mask_secrets(view)


def flat_items(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """A nested dict as (dotted key, leaf) pairs, for the resources and usage tables."""
    if isinstance(value, Mapping) and value:
        out: list[tuple[str, Any]] = []
        for k, v in value.items():
            out += flat_items(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(value, list) and len(value) > 8:
        return [(prefix, f"[{len(value)} values]")]
    return [(prefix, value)]


_SERIES = (("rss_bytes", "memory (RSS), MiB", 2.0 ** -20), ("process_cpu_percent", "process CPU, %", 1.0),
           ("gpu_util_percent", "GPU utilisation, %", 1.0), ("gpu_memory_bytes", "GPU memory, MiB", 2.0 ** -20))


def resource_series(resources: Any) -> list[dict[str, Any]]:
    """Time series in a run's resource samples (``{"samples": [{"t_s", "rss_bytes", ...}]}``), one per quantity."""
    samples = resources.get("samples") if isinstance(resources, Mapping) else None
    if not isinstance(samples, list):
        return []
    out = []
    for key, label, scale in _SERIES:
        pts = [(s.get("t_s"), s[key] * scale) for s in samples
               if isinstance(s, Mapping) and isinstance(s.get(key), (int, float)) and not isinstance(s.get(key), bool)]
        if len(pts) >= 2:
            out.append({"label": label, "points": pts})
    return out


def resource_table(resources: Any) -> list[tuple[str, Any]]:
    """The scalar parts of a run's resources (the samples are drawn, not listed)."""
    if not isinstance(resources, Mapping):
        return flat_items(resources)
    return flat_items({k: v for k, v in resources.items() if k != "samples"})
