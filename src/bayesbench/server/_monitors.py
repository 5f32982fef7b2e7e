"""Monitor trends for the dashboard, read from the store's ``monitors`` and ``monitor_checks`` tables.

A check compares one scheduled run with the monitor's pinned baseline run on the same items: its
``estimate`` is the mean paired difference (new − baseline, in the metric's units) with the engine's
interval, and ``alert`` is the monitor's lifetime e-process verdict (docs/monitoring.md). The trend page
draws, per metric, that difference per check against the baseline (0) and the alert margin (−δ), and for
the score also each run's mean score against the baseline run's mean.
"""

from __future__ import annotations

from typing import Any

from ._secrets import mask_secrets
from ._views import when

_MARGIN_KEYS = {"score": "margin", "latency_s": "latency_margin_s", "cost_usd": "cost_margin_usd"}


def available(store: Any) -> bool:
    return hasattr(store, "monitors") and hasattr(store, "monitor_checks")


def _latest_per_run(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last check of each (run, metric), in the order the runs were first checked."""
    by_key: dict[tuple[Any, str], dict[str, Any]] = {}
    for c in checks:
        by_key[(c["run_id"], c["metric"])] = c
    return sorted(by_key.values(), key=lambda c: (c["checked_at"], c["id"]))


def monitor_list(store: Any) -> list[dict[str, Any]]:
    if not available(store):
        return []
    out = []
    for m in store.monitors():
        checks = _latest_per_run(store.monitor_checks(m["name"]))
        cfg = m.get("config") or {}
        out.append({
            "name": m["name"], "model": cfg.get("model_name") or cfg.get("model"), "task": cfg.get("dataset"),
            "metric": ", ".join(cfg.get("metrics") or ["score"]), "checks": len(checks),
            "alerts": sum(bool(c["alert"]) for c in checks), "baseline_run": m.get("baseline_run_id"),
            "last_text": when(checks[-1]["checked_at"]) if checks else "",
        })
    return mask_secrets(out)


def _mean_score(store: Any, run_id: str | None) -> float | None:
    if not run_id:
        return None
    run = store.get_run(run_id)
    value = ((run or {}).get("summary") or {}).get("mean_score")
    return float(value) if isinstance(value, (int, float)) else None


def monitor_view(store: Any, name: str) -> dict[str, Any] | None:
    if not available(store):
        return None
    mon = store.get_monitor(name)
    if mon is None:
        return None
    cfg = mon.get("config") or {}
    checks = _latest_per_run(store.monitor_checks(name))
    metrics = list(dict.fromkeys([*(cfg.get("metrics") or []), *(c["metric"] for c in checks)])) or ["score"]
    base_id = mon.get("baseline_run_id")
    panels = []
    for metric in metrics:
        rows = [c for c in checks if c["metric"] == metric]
        margin = cfg.get(_MARGIN_KEYS.get(metric, "margin"))
        points = [{
            "value": c["estimate"], "lo": c["ci_low"], "hi": c["ci_high"], "alert": bool(c["alert"]),
            "run_id": c["run_id"], "when_text": when(c["checked_at"]),
            "detail": _detail(c.get("detail") or {}, c.get("e_value")),
        } for c in rows]
        panel: dict[str, Any] = {"metric": metric, "points": points, "margin": margin,
                                 "alerts": sum(p["alert"] for p in points)}
        if metric == "score":
            panel["levels"] = [dict(p, value=_mean_score(store, p["run_id"]), lo=None, hi=None) for p in points]
            panel["baseline_level"] = _mean_score(store, base_id)
        panels.append(panel)
    return mask_secrets({
        "name": name, "model": cfg.get("model_name") or cfg.get("model"), "task": cfg.get("dataset"),
        "metric": ", ".join(metrics), "baseline_run": base_id, "panels": panels, "config": cfg,
        "alerts": sum(p["alerts"] for p in panels),
    })


def _detail(detail: dict[str, Any], e_value: Any) -> str:
    parts = []
    if isinstance(detail.get("n"), int):
        parts.append(f"n={detail['n']}")
    threshold = detail.get("threshold_e")
    if isinstance(e_value, (int, float)):
        parts.append(f"lifetime e-value {e_value:.3g}"
                     + (f" (alert at ≥ {threshold:.3g})" if isinstance(threshold, (int, float)) else ""))
    if detail.get("new_alert"):
        parts.append("new alert")
    return ", ".join(parts)
