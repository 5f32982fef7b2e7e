"""Small SVG charts drawn on the server: no script, no external asset, every label escaped.

Presentation attributes (``fill=``, ``stroke=``), not ``style=``, so the pages' Content-Security-Policy
needs no inline styles or scripts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

__all__ = ["interval_svg", "forest_svg", "path_svg", "series_svg", "trend_svg"]

_W, _PAD_L, _PAD_R = 640, 56, 16
_BAND, _LINE, _ZERO, _ALERT, _BASE = "#cfe0f5", "#1f5fa8", "#888", "#c62828", "#2e7d32"
_HALO = 'paint-order="stroke" stroke="#fff" stroke-width="3"'  # labels stay readable over the bars


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        return None
    return float(x)


def _fmt(x: float) -> str:
    return f"{x:.1f}" if math.isfinite(x) else "0"


class _Scale:
    def __init__(self, lo: float, hi: float, a: float, b: float) -> None:
        if hi - lo < 1e-12:
            lo, hi = lo - 0.5, hi + 0.5
        self.lo, self.hi, self.a, self.b = lo, hi, a, b

    def __call__(self, v: float) -> float:
        return self.a + (v - self.lo) / (self.hi - self.lo) * (self.b - self.a)


def _ticks(lo: float, hi: float, k: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / k
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=raw)
    start = math.ceil(lo / step) * step
    return [start + i * step for i in range(int((hi - start) / step) + 1)]


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    t = escape(title)
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
                  f'viewBox="0 0 {width} {height}" role="img" aria-label="{t}"><title>{t}</title>'
                  + "".join(body) + "</svg>")


def _x_axis(sx: _Scale, y: float, label: str, fmt: str = "{:g}") -> list[str]:
    out = [f'<line x1="{_fmt(sx.a)}" y1="{_fmt(y)}" x2="{_fmt(sx.b)}" y2="{_fmt(y)}" stroke="#444"/>']
    for t in _ticks(sx.lo, sx.hi):
        x = sx(t)
        out.append(f'<line x1="{_fmt(x)}" y1="{_fmt(y)}" x2="{_fmt(x)}" y2="{_fmt(y + 4)}" stroke="#444"/>')
        out.append(f'<text x="{_fmt(x)}" y="{_fmt(y + 16)}" font-size="11" text-anchor="middle">'
                   f'{escape(fmt.format(round(t, 6)))}</text>')
    out.append(f'<text x="{_fmt((sx.a + sx.b) / 2)}" y="{_fmt(y + 30)}" font-size="11" text-anchor="middle">'
               f'{escape(label)}</text>')
    return out


def _tick(t: float, signed: bool) -> str:
    sign = "+" if signed else ""
    if abs(t) >= 10:
        return f"{t:{sign},.0f}"
    return f"{round(t, 6):{sign}g}"


def _y_axis(sy: _Scale, x: float, signed: bool = True) -> list[str]:
    out = [f'<line x1="{_fmt(x)}" y1="{_fmt(sy.a)}" x2="{_fmt(x)}" y2="{_fmt(sy.b)}" stroke="#444"/>']
    for t in _ticks(sy.lo, sy.hi, 4):
        y = sy(t)
        label = _tick(t, signed)
        out.append(f'<text x="{_fmt(x - 6)}" y="{_fmt(y + 4)}" font-size="11" text-anchor="end">{label}</text>')
        out.append(f'<line x1="{_fmt(x)}" y1="{_fmt(y)}" x2="{_fmt(_W - _PAD_R)}" y2="{_fmt(y)}" stroke="#eee"/>')
    return out


def interval_svg(estimate: Any, lo: Any, hi: Any, *, label: str = "difference A − B", zero: bool = True) -> Markup:
    """One estimate with its interval on a line, and the 0 mark."""
    e, a, b = _num(estimate), _num(lo), _num(hi)
    if a is None or b is None:
        return Markup("")
    pts = [a, b] + ([0.0] if zero else []) + ([e] if e is not None else [])
    span = max(pts) - min(pts) or 1.0
    sx = _Scale(min(pts) - 0.08 * span, max(pts) + 0.08 * span, _PAD_L, _W - _PAD_R)
    body = []
    if zero:
        body.append(f'<line x1="{_fmt(sx(0))}" y1="8" x2="{_fmt(sx(0))}" y2="44" stroke="{_ZERO}" '
                    'stroke-dasharray="4 3"/>')
    body.append(f'<rect x="{_fmt(sx(a))}" y="18" width="{_fmt(max(1.0, sx(b) - sx(a)))}" height="16" '
                f'fill="{_BAND}" stroke="{_LINE}"/>')
    if e is not None:
        body.append(f'<circle cx="{_fmt(sx(e))}" cy="26" r="5" fill="{_LINE}"/>')
    body += _x_axis(sx, 50, label, "{:+g}" if zero else "{:g}")
    return _svg(_W, 90, f"{label}: {e} in [{a}, {b}]", body)


def forest_svg(rows: Sequence[tuple[str, Any, Any, Any]], *, label: str = "score", lo: float | None = None,
               hi: float | None = None) -> Markup:
    """One row per (name, estimate, low, high): intervals side by side (rankings, per-task scores)."""
    clean = [(str(n), _num(e), _num(a), _num(b)) for n, e, a, b in rows]
    vals = [v for _, e, a, b in clean for v in (e, a, b) if v is not None]
    if not vals:
        return Markup("")
    left = 170
    sx = _Scale(min(vals) if lo is None else lo, max(vals) if hi is None else hi, left, _W - _PAD_R)
    row_h = 24
    body = []
    for k, (name, e, a, b) in enumerate(clean):
        y = 14 + k * row_h
        short = name if len(name) <= 24 else name[:23] + "…"
        body.append(f'<text x="{left - 8}" y="{y + 4}" font-size="12" text-anchor="end">{escape(short)}</text>')
        if a is not None and b is not None:
            body.append(f'<line x1="{_fmt(sx(a))}" y1="{y}" x2="{_fmt(sx(b))}" y2="{y}" stroke="{_LINE}" '
                        'stroke-width="3"/>')
        if e is not None:
            body.append(f'<circle cx="{_fmt(sx(e))}" cy="{y}" r="4.5" fill="{_LINE}"/>')
    height = 14 + len(clean) * row_h
    body += _x_axis(sx, height, label)
    return _svg(_W, height + 40, f"{label} with intervals", body)


def path_svg(decisions: Sequence[dict[str, Any]], *, label: str = "difference A − B") -> Markup:
    """The stopping path: the estimate after each batch and its anytime-valid interval, with 0 and the stop."""
    pts = []
    for d in decisions:
        n, cs = _num(d.get("n")), d.get("cs")
        if n is None or not isinstance(cs, (list, tuple)) or len(cs) != 2:
            continue
        lo, hi = _num(cs[0]), _num(cs[1])
        if lo is None or hi is None:
            continue
        est = _num(d.get("estimate"))
        pts.append((n, (lo + hi) / 2 if est is None else est, lo, hi))
    if not pts:
        return Markup("")
    pts.sort()
    height, top, bottom = 240, 10, 190
    ys = [v for _, e, lo, hi in pts for v in (e, lo, hi)] + [0.0]
    sx = _Scale(0, max(p[0] for p in pts), _PAD_L, _W - _PAD_R)
    sy = _Scale(min(ys), max(ys), bottom, top)
    band = [f"{_fmt(sx(n))},{_fmt(sy(hi))}" for n, _, _, hi in pts] + \
        [f"{_fmt(sx(n))},{_fmt(sy(lo))}" for n, _, lo, _ in reversed(pts)]
    line = " ".join(f"{_fmt(sx(n))},{_fmt(sy(e))}" for n, e, _, _ in pts)
    stop = sx(pts[-1][0])
    body = _y_axis(sy, _PAD_L)
    body += [
        f'<polygon points="{" ".join(band)}" fill="{_BAND}" stroke="none"/>',
        f'<line x1="{_PAD_L}" y1="{_fmt(sy(0))}" x2="{_W - _PAD_R}" y2="{_fmt(sy(0))}" stroke="{_ZERO}" '
        'stroke-dasharray="4 3"/>',
        f'<polyline points="{line}" fill="none" stroke="{_LINE}" stroke-width="2"/>',
        f'<line x1="{_fmt(stop)}" y1="{top}" x2="{_fmt(stop)}" y2="{bottom}" stroke="{_ALERT}" '
        'stroke-dasharray="2 2"/>',
        f'<text x="{_fmt(stop - 4)}" y="{top + 10}" font-size="11" text-anchor="end" fill="{_ALERT}">'
        f'stop at n={int(pts[-1][0])}</text>',
    ]
    body += _x_axis(sx, bottom, "problems used (n)")
    return _svg(_W, height, f"stopping path of the {label}", body)


def trend_svg(points: Sequence[dict[str, Any]], *, baseline: Any = None, margin: Any = None,
              label: str = "score", signed: bool = True) -> Markup:
    """A monitor's checks over time: value (and interval when known), the baseline (and ``baseline − margin``,
    where an alert starts), alerts in red."""
    pts = [(k, _num(p.get("value")), _num(p.get("lo")), _num(p.get("hi")), bool(p.get("alert")))
           for k, p in enumerate(points)]
    pts = [p for p in pts if p[1] is not None]
    if not pts:
        return Markup("")
    base, marg = _num(baseline), _num(margin)
    floor = base - marg if base is not None and marg is not None else None
    height, top, bottom = 240, 10, 190
    ys = [v for _, e, lo, hi, _ in pts for v in (e, lo, hi) if v is not None] + \
        [v for v in (base, floor) if v is not None]
    sx = _Scale(0, max(1, len(points) - 1), _PAD_L + 10, _W - _PAD_R - 10)
    sy = _Scale(min(ys), max(ys), bottom, top)
    body = _y_axis(sy, _PAD_L, signed)
    labels: list[str] = []  # drawn last, over the bars
    if base is not None:
        body.append(f'<line x1="{_PAD_L}" y1="{_fmt(sy(base))}" x2="{_W - _PAD_R}" y2="{_fmt(sy(base))}" '
                    f'stroke="{_BASE}" stroke-width="2" stroke-dasharray="6 3"/>')
        labels.append(f'<text x="{_PAD_L + 4}" y="{_fmt(sy(base) - 4)}" font-size="11" text-anchor="start" {_HALO} '
                    f'fill="{_BASE}">baseline {base:.3g}</text>')
    if floor is not None:
        body.append(f'<line x1="{_PAD_L}" y1="{_fmt(sy(floor))}" x2="{_W - _PAD_R}" y2="{_fmt(sy(floor))}" '
                    f'stroke="{_ALERT}" stroke-dasharray="3 3"/>')
        labels.append(f'<text x="{_PAD_L + 4}" y="{_fmt(sy(floor) + 13)}" font-size="11" text-anchor="start" {_HALO} '
                    f'fill="{_ALERT}">alert margin −{marg:.3g}</text>')
    for k, _e, lo, hi, _ in pts:
        if lo is not None and hi is not None:
            body.append(f'<line x1="{_fmt(sx(k))}" y1="{_fmt(sy(lo))}" x2="{_fmt(sx(k))}" y2="{_fmt(sy(hi))}" '
                        f'stroke="{_BAND}" stroke-width="6"/>')
    body.append('<polyline points="' + " ".join(f"{_fmt(sx(k))},{_fmt(sy(e))}" for k, e, *_ in pts)
                + f'" fill="none" stroke="{_LINE}" stroke-width="2"/>')
    for k, e, _, _, alert in pts:
        if alert:
            body.append(f'<circle class="alert" cx="{_fmt(sx(k))}" cy="{_fmt(sy(e))}" r="6" fill="{_ALERT}"/>')
        else:
            body.append(f'<circle cx="{_fmt(sx(k))}" cy="{_fmt(sy(e))}" r="3" fill="{_LINE}"/>')
    body += labels + _x_axis(sx, bottom, "check")
    return _svg(_W, height, f"{label} per check, baseline and alerts", body)


def series_svg(points: Sequence[tuple[Any, Any]], *, label: str, x_label: str = "seconds since the start") -> Markup:
    """One measured quantity over time (a run's resource samples: memory, CPU, GPU)."""
    pts = [(x, y) for x, y in ((_num(a), _num(b)) for a, b in points) if x is not None and y is not None]
    if len(pts) < 2:
        return Markup("")
    height, top, bottom = 200, 10, 150
    sx = _Scale(min(p[0] for p in pts), max(p[0] for p in pts), _PAD_L, _W - _PAD_R)
    sy = _Scale(min(0.0, min(p[1] for p in pts)), max(p[1] for p in pts), bottom, top)
    body = _y_axis(sy, _PAD_L, signed=False)
    body.append('<polyline points="' + " ".join(f"{_fmt(sx(x))},{_fmt(sy(y))}" for x, y in pts)
                + f'" fill="none" stroke="{_LINE}" stroke-width="2"/>')
    body.append(f'<text x="{_PAD_L + 4}" y="{top + 10}" font-size="11" text-anchor="start" {_HALO}>'
                f'{escape(label)}</text>')
    body += _x_axis(sx, bottom, x_label)
    return _svg(_W, height, f"{label} over the run", body)
