"""MetricChart: one plotext chart of one or more series; each chart owns its plot object.

Series arrive already downsampled (the store's min/max buckets), so drawing costs follow the chart's
width. The comparison view can give one chart several series (one colour per run, with a legend).
"""

from __future__ import annotations

import math
from typing import Any

from textual.content import Content
from textual_plotext import PlotextPlot

from ..messages import Series
from ..text import safe_text

MAX_POINTS = 4000  # cap per series kept in memory; the panel re-samples from the store beyond it
COLORS = ("cyan", "orange", "green", "magenta", "blue", "red", "yellow", "white")


def smooth(ys: list[float], weight: float) -> list[float]:
    """Exponential moving average with debiasing (TensorBoard's smoothing)."""
    if weight <= 0 or not ys:
        return ys
    out, last, n = [], 0.0, 0
    for y in ys:
        n += 1
        last = last * weight + (1 - weight) * y
        out.append(last / (1 - weight**n))
    return out


def _ticks(lo: float, hi: float, n: int) -> tuple[list[float], list[str]]:
    """n evenly spaced ticks with short labels (plotext's own print every digit: 0.000999956)."""
    if hi <= lo:
        return [lo], [number_label(lo)]
    step = (hi - lo) / (n - 1)
    ticks = [lo + i * step for i in range(n)]
    return ticks, [number_label(t) for t in ticks]


def number_label(v: float) -> str:
    """A short tick label for a number."""
    if v == 0:
        return "0"
    if abs(v) >= 1e5 or abs(v) < 1e-3:
        return f"{v:.2e}"
    if float(v).is_integer() or abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.4g}"


class MetricChart(PlotextPlot):
    """A live line chart of one metric (or of several runs' series of one metric)."""

    DEFAULT_CSS = """
    MetricChart { height: 12; border: round $panel-lighten-2; padding: 0; }
    MetricChart:focus { border: round $accent; }
    """

    can_focus = True

    def __init__(self, key: str, x_label: str = "step", **kwargs: Any):
        super().__init__(**kwargs)
        self.key = key
        self.x_label = x_label
        self.series: dict[str, Series] = {}
        self.smoothing = 0.0
        self.log_y = False
        self.version = 0  # bumped by every change of data or options: render() rebuilds only then
        self._cache: tuple[Any, Any] | None = None
        self.border_title = Content(safe_text(key, limit=60))
        self._update_subtitle()

    def _update_subtitle(self) -> None:
        parts = [] if self.x_label == "step" else [f"x: {safe_text(self.x_label, limit=20)}"]
        specials = sum(len(s.special) for s in self.series.values())
        if specials:
            parts.append(f"{specials} NaN/Inf")
        last = self.last_value()
        if last is not None:
            parts.append(f"{last:.4g}")
        self.border_subtitle = Content(" · ".join(parts))

    def last_value(self) -> float | None:
        """The latest finite value of the first series."""
        for s in self.series.values():
            return s.y[-1] if s.y else None
        return None

    def invalidate(self) -> None:
        """Data or options changed: draw again."""
        self.version += 1
        self.refresh()

    def set_series(self, name: str, series: Series) -> None:
        """Replace one series."""
        self.version += 1
        self.series[name] = series
        self._update_subtitle()
        self.refresh()

    def append(self, name: str, series: Series) -> None:
        """Append new points to one series."""
        self.version += 1
        cur = self.series.setdefault(name, Series())
        cur.x.extend(series.x)
        cur.y.extend(series.y)
        cur.special.extend(series.special)
        cur.last_step = max(cur.last_step, series.last_step)
        if len(cur.x) > MAX_POINTS:  # keep every other point of the oldest half: bounded memory
            half = len(cur.x) // 2
            cur.x[:half] = cur.x[:half:2]
            cur.y[:half] = cur.y[:half:2]
        self._update_subtitle()
        self.refresh()

    def render(self) -> Any:
        """Plot the series, then let PlotextPlot draw; the result is kept until data, size or theme change
        (Textual asks again on every layout pass, plotext takes milliseconds per chart)."""
        key = (self.version, self.size, self.app.theme, self.smoothing, self.log_y)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        if self.size.height < 4 or self.size.width < 10:  # not laid out yet: plotting would be wasted
            return ""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.xlabel("")
        plt.ylabel("")
        multi = len(self.series) > 1
        lo_hi: list[float] = []
        x_lo_hi: list[float] = []
        for i, (name, s) in enumerate(self.series.items()):
            ys = smooth(s.y, self.smoothing)
            xs = s.x
            if self.log_y:
                pts = [(x, y) for x, y in zip(xs, ys, strict=True) if y > 0]
                xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            if not xs:
                continue
            lo_hi += [min(ys), max(ys)]
            x_lo_hi += [min(xs), max(xs)]
            plt.plot(xs, ys, marker="braille", color=COLORS[i % len(COLORS)],
                     label=safe_text(name, limit=20) if multi else None)
        specials = [sp for s in self.series.values() for sp in s.special]
        if specials and lo_hi:
            top, bottom = max(lo_hi), min(lo_hi)
            xs = [x for x, _ in specials]
            ys = [bottom if (v < 0 and not math.isnan(v)) else top for _, v in specials]
            plt.scatter(xs, ys, marker="x", color="red")
        if self.log_y:
            plt.yscale("log")
        elif lo_hi:
            plt.yticks(*_ticks(min(lo_hi), max(lo_hi), max(2, min(5, self.size.height // 3))))
        if x_lo_hi:
            plt.xticks(*_ticks(min(x_lo_hi), max(x_lo_hi), max(2, min(5, self.size.width // 12))))
        if not lo_hi:
            plt.title("no numeric points yet")
        out = super().render()
        self._cache = (key, out)
        return out
