"""Everything about drawing a chart that is not a widget (no Textual here): the palette, tick positions and
labels, number formats, smoothing, x-axis joins, log y, group bands and cursor look-ups.

Every chart of the app (run view, custom chart, full screen, compare, system compare) draws with these.
Everything works on the short, already downsampled lists a chart holds (a few hundred points), never on a
run's raw history, so changing an option costs milliseconds whatever the run's length.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

# ---------------------------------------------------------------- palette

# plotext colour names; a run (or a metric on a custom chart) keeps its colour on every chart and legend
PALETTE = ("cyan", "orange", "green", "magenta", "blue", "red", "yellow", "white")
RICH_NAMES = {"orange": "dark_orange"}  # plotext colour names that Rich spells otherwise


def color(i: int) -> str:
    """The i-th series colour (the palette repeats)."""
    return PALETTE[i % len(PALETTE)]


def rich_color(c: str) -> str:
    """A palette colour as Rich names it (legends and bars drawn with Rich)."""
    return RICH_NAMES.get(c, c)


# ---------------------------------------------------------------- numbers and ticks


def number_label(v: float, extra: int = 0) -> str:
    """A short tick label for a number (plotext's own print every digit: 0.000999956); extra digits where
    the short form would give two ticks the same label."""
    if v == 0:
        return "0"
    if abs(v) >= 1e5 or abs(v) < 1e-3:
        return f"{v:.{2 + extra}e}"
    if float(v).is_integer() or abs(v) >= 100 and not extra:
        return f"{v:,.0f}"
    return f"{v:.{4 + extra}g}"


def tick_label(v: float, mode: str = "", extra: int = 0) -> str:
    """A tick label: clock time for wall time, h/m/s for relative time, else a short number."""
    if mode == "wall":
        return time.strftime("%H:%M:%S", time.localtime(v))
    if mode == "relative":
        v = int(round(v))
        return f"{v // 3600}h{v % 3600 // 60:02d}" if v >= 3600 else f"{v // 60}m{v % 60:02d}" if v >= 60 else f"{v}s"
    return number_label(v, extra)


def ticks(lo: float, hi: float, n: int, mode: str = "") -> tuple[list[float], list[str]]:
    """n evenly spaced ticks over [lo, hi] with short labels (whole numbers over wide numeric ranges)."""
    if hi <= lo:
        return [lo], [tick_label(lo, mode)]
    out = [lo + i * (hi - lo) / (n - 1) for i in range(n)]
    if not mode and hi - lo >= 20:  # steps and other wide ranges: whole numbers read better
        out = [float(round(t)) for t in out]
    labels = [tick_label(t, mode) for t in out]
    extra = 0
    while not mode and len(set(labels)) < len(labels) and extra < 6:  # a narrow range: 1.00e-03 three times
        extra += 1
        labels = [tick_label(t, mode, extra) for t in out]
    return out, labels


def fmt_value(v: float) -> str:
    """A short read-out of a value; NaN and Inf spelled out."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return f"{v:.4g}"


# ---------------------------------------------------------------- smoothing

SMOOTHING_STEPS = (0.0, 0.3, 0.6, 0.8, 0.9, 0.95, 0.99)  # what + and - step through


def next_smoothing(current: float, delta: int) -> float:
    """The smoothing weight delta steps from current along SMOOTHING_STEPS (clamped at both ends)."""
    steps = SMOOTHING_STEPS
    i = min(range(len(steps)), key=lambda j: abs(steps[j] - current))
    return steps[max(0, min(len(steps) - 1, i + delta))]


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


# ---------------------------------------------------------------- x-axis

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

