"""Chart geometry for server-rendered SVG: scaled points, ticks and polylines, no drawing library.

The templates turn these into <svg> elements; values arrive here as numbers only (labels are
escaped by the templates), so a hostile metric name can never become markup.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Axis:
    lo: float
    hi: float
    ticks: list[tuple[float, str]] = field(default_factory=list)  # (pixel, label)


@dataclass
class Chart:
    width: int
    height: int
    series: list[tuple[str, str]]  # (label, "x1,y1 x2,y2 …")
    points: list[tuple[float, float, str]]  # scatter dots: x, y, tooltip
    x: Axis
    y: Axis
    pad: int = 40


def _finite(values: list[float]) -> list[float]:
    return [v for v in values if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)]


def _span(values: list[float]) -> tuple[float, float]:
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def _ticks(lo: float, hi: float, px_lo: float, px_hi: float, n: int = 4) -> list[tuple[float, str]]:
    return [(px_lo + (px_hi - px_lo) * i / n, f"{lo + (hi - lo) * i / n:.4g}") for i in range(n + 1)]


def xy_chart(series: dict[str, list[tuple[float, float]]], *, width: int = 360, height: int = 220,
             lines: bool = True, fixed: tuple[float, float, float, float] | None = None) -> Chart:
    """Line (or scatter) chart of `series`. `fixed` = (xlo, xhi, ylo, yhi), e.g. (0, 1, 0, 1) for ROC."""
    pad = 40
    xs = _finite([x for pts in series.values() for x, _ in pts])
    ys = _finite([y for pts in series.values() for _, y in pts])
    (xlo, xhi), (ylo, yhi) = (_span(xs), _span(ys)) if fixed is None else ((fixed[0], fixed[1]), (fixed[2], fixed[3]))

    def sx(v: float) -> float:
        return pad + (v - xlo) / (xhi - xlo) * (width - pad - 10)

    def sy(v: float) -> float:
        return height - pad + (ylo - v) / (yhi - ylo) * (height - pad - 10)

    out, dots = [], []
    for label, pts in series.items():
        clean = [(x, y) for x, y in pts if _finite([x, y]) == [x, y]]
        if lines:
            out.append((label, " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in clean)))
        else:
            dots.extend((sx(x), sy(y), f"{label}: {y:.6g}") for x, y in clean)
    return Chart(width, height, out, dots, Axis(xlo, xhi, _ticks(xlo, xhi, sx(xlo), sx(xhi))),
                 Axis(ylo, yhi, _ticks(ylo, yhi, sy(ylo), sy(yhi))), pad)


@dataclass
class Parallel:
    width: int
    height: int
    axes: list[tuple[str, float, str, str]]  # name, x pixel, low label, high label
    lines: list[tuple[str, str]]  # run id, polyline points


def parallel_coordinates(columns: list[str], rows: dict[str, dict[str, float]], *, height: int = 260,
                         step: int = 140) -> Parallel:
    """One vertical axis per column (scaled to its own range), one polyline per row (run)."""
    top, bottom = 24, height - 24
    spans = {c: _span(_finite([r.get(c) for r in rows.values() if c in r])) for c in columns}
    axes = [(c, 40 + i * step, f"{spans[c][0]:.4g}", f"{spans[c][1]:.4g}") for i, c in enumerate(columns)]
    lines = []
    for run_id, values in rows.items():
        pts = []
        for c, x, _, _ in axes:
            v = values.get(c)
            if not _finite([v]):
                continue
            lo, hi = spans[c]
            pts.append(f"{x},{bottom - (v - lo) / (hi - lo) * (bottom - top):.1f}")
        if len(pts) > 1:
            lines.append((run_id, " ".join(pts)))
    return Parallel(80 + max(len(columns) - 1, 0) * step, height, axes, lines)
