"""Pure chart-series arithmetic (no Textual): smoothing, x-axis joins, log-y, group bands, cursor look-ups.

Everything here works on the short, already downsampled lists a chart holds (a few hundred points),
never on a run's raw history, so changing an option costs milliseconds whatever the run's length.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

X_MODES = ("default", "step", "relative", "wall")  # then "metric:<key>" for any logged metric
X_LABELS = {"default": "step (or the metric's step metric)", "step": "step", "relative": "relative time (s)",
            "wall": "wall time"}


def x_label(mode: str) -> str:
    """How an x mode reads in a status line."""
    return mode[len("metric:"):] if mode.startswith("metric:") else X_LABELS.get(mode, mode)


def next_x_mode(mode: str) -> str:
    """The x mode after this one in the `x` cycle (a picked metric goes back to the start)."""
    if mode not in X_MODES:
        return X_MODES[0]
    return X_MODES[(X_MODES.index(mode) + 1) % len(X_MODES)]


def ema(ys: Sequence[float], weight: float) -> list[float]:
    """Exponential moving average debiased as TensorBoard does: s_n = w*s_{n-1} + (1-w)*y_n, divided by
    1 - w**n. Non-finite values pass through untouched and do not enter the average."""
    if weight <= 0:
        return list(ys)
    out: list[float] = []
    acc, n = 0.0, 0
    for y in ys:
        if not math.isfinite(y):
            out.append(y)
            continue
        n += 1
        acc = acc * weight + (1 - weight) * y
        out.append(acc / (1 - weight**n))
    return out


def interp(xs: Sequence[float], ys: Sequence[float], q: float) -> float:
    """ys at q by linear interpolation over sorted xs; NaN outside [xs[0], xs[-1]] or with no points."""
    if not xs or q < xs[0] or q > xs[-1]:
        return math.nan
    i = bisect_left(xs, q)
    if xs[i] == q:
        return ys[i]
    x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
    return y0 + (y1 - y0) * (q - x0) / (x1 - x0)


def join_by_step(steps: Sequence[float], basis_steps: Sequence[float], basis_vals: Sequence[float]) -> list[float]:
    """The new x of each step: the basis (another metric, or the step's wall time) at that step, exact where
    the basis was logged at that step, interpolated between its neighbours, NaN outside its range."""
    pairs = sorted((s, v) for s, v in zip(basis_steps, basis_vals, strict=True) if math.isfinite(v))
    bx = [p[0] for p in pairs]
    by = [p[1] for p in pairs]
    return [interp(bx, by, s) for s in steps]


def transform_x(steps: Sequence[float], mode: str, basis: tuple[Sequence[float], Sequence[float]] | None,
                t0: float | None = None) -> list[float]:
    """x values of a chart for an x mode: 'step' keeps steps; 'wall' and 'relative' join the step times
    (relative subtracts t0, the run's start, or the first time); 'metric:<key>' joins that metric."""
    if mode in ("default", "step") or basis is None:
        return [float(s) for s in steps]
    xs = join_by_step(steps, basis[0], basis[1])
    if mode == "relative":
        start = t0 if t0 is not None else (min(basis[1]) if basis[1] else 0.0)
        xs = [x - start for x in xs]
    return xs


def log_split(xs: Sequence[float], ys: Sequence[float]) -> tuple[list[float], list[float], list[float]]:
    """For a log y-axis: the points with y > 0, and the x of those with y <= 0 (marked, not drawn)."""
    kx, ky, dropped = [], [], []
    for x, y in zip(xs, ys, strict=True):
        if y > 0:
            kx.append(x)
            ky.append(y)
        elif math.isfinite(y):
            dropped.append(x)
    return kx, ky, dropped


def finite_pairs(xs: Sequence[float], ys: Sequence[float]) -> tuple[list[float], list[float]]:
    """The points whose x and y are both finite, sorted by x."""
    pts = sorted((x, y) for x, y in zip(xs, ys, strict=True) if math.isfinite(x) and math.isfinite(y))
    return [p[0] for p in pts], [p[1] for p in pts]


def group_band(series: Sequence[tuple[Sequence[float], Sequence[float]]], points: int = 200
               ) -> tuple[list[float], list[float], list[float], list[float]]:
    """Mean line and min-max band of several runs' series with different x samples: each series is
    interpolated onto one shared grid of `points` x values; at each x only the runs whose range covers it
    count. Returns (grid, mean, lo, hi)."""
    clean = [finite_pairs(xs, ys) for xs, ys in series]
    clean = [c for c in clean if c[0]]
    if not clean:
        return [], [], [], []
    lo_x = min(c[0][0] for c in clean)
    hi_x = max(c[0][-1] for c in clean)
    n = 1 if hi_x == lo_x else max(2, points)
    grid = [lo_x + (hi_x - lo_x) * i / (n - 1) for i in range(n)] if n > 1 else [lo_x]
    gx, mean, lo, hi = [], [], [], []
    for g in grid:
        vals = [v for v in (interp(c[0], c[1], g) for c in clean) if math.isfinite(v)]
        if not vals:
            continue
        gx.append(g)
        mean.append(sum(vals) / len(vals))
        lo.append(min(vals))
        hi.append(max(vals))
    return gx, mean, lo, hi


def value_at(xs: Sequence[float], ys: Sequence[float], x: float) -> tuple[float, float] | None:
    """The (x, y) of the point nearest to x in sorted xs (a cursor read-out), or None with no points."""
    if not xs:
        return None
    i = bisect_right(xs, x)
    best = min((j for j in (i - 1, i) if 0 <= j < len(xs)), key=lambda j: abs(xs[j] - x))
    return xs[best], ys[best]


def fmt_value(v: float) -> str:
    """A short read-out of a value; NaN and Inf spelled out."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return f"{v:.4g}"
