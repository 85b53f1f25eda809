"""Chart: the one chart widget of the app. A line chart of one metric over one or several runs, or of
several metrics of one run (the custom chart), drawn with its panel's ChartOptions.

Drawing (plotext) costs milliseconds a chart, so a chart draws only when its data, its size, the theme or
an option changed, and only when Textual asks for its lines, which it does for charts on screen only: the
drawn lines are kept (`draws` counts the drawings) and a focus change, a tab switch or a repaint of the
screen reuses them. What the cursor reads (`prepare()`) is computed without drawing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from textual.content import Content
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual_plotext import PlotextPlot

from .. import plotting as P
from ..chart_data import MAX_POINTS
from ..messages import Series
from ..text import safe_text

CURSOR_STEPS = 40  # positions of the cursor across the x range


@dataclass
class ChartOptions:
    """The chart options of one panel (shared with its full-screen chart); version changes with every
    option, and the charts redraw on it."""

    x_mode: str = "default"
    smoothing: float = 0.0
    log_y: bool = False
    cursor: int | None = None  # 0..CURSOR_STEPS across the chart's x range, None: off
    version: int = 0
    bases: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)  # run id -> x basis
    t0: dict[str, float] = field(default_factory=dict)  # run id -> start time (relative x)

    def bump(self) -> None:
        """An option changed."""
        self.version += 1


@dataclass
class Prepared:
    """What a chart shows, before drawing: per line its label, colour, marker and points; the NaN/Inf marks."""

    lines: list[tuple[str | None, str, str, list[float], list[float]]] = field(default_factory=list)
    drawn: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)  # name -> (xs, ys) read
    bands: dict[str, tuple[list[float], list[float], list[float], list[float]]] = field(default_factory=dict)
    specials: list[tuple[float, float]] = field(default_factory=list)
    dropped: int = 0  # points not drawn on a log axis (y <= 0)


class Chart(PlotextPlot):
    """A live line chart. Series are keyed by name (a run id in the comparison, the metric in the run view);
    labels, colours and groups say how they are drawn."""

    DEFAULT_CSS = """
    Chart { height: 12; border: round $panel-lighten-2; padding: 0; }
    Chart:focus { border: round $accent; }
    """

    can_focus = True

    def __init__(self, key: str, opts: ChartOptions | None = None, x_label: str = "step", **kwargs: Any):
        super().__init__(**kwargs)
        self.key = key
        self.opts = opts if opts is not None else ChartOptions()
        self.x_label = x_label
        self.series: dict[str, Series] = {}
        self.labels: dict[str, str] = {}  # series name -> legend label
        self.run_colors: dict[str, str] = {}  # series name -> colour (a run keeps its colour on every chart)
        self.run_of: dict[str, str] = {}  # series name -> run id (its x basis)
        self.groups: list[tuple[str, str, list[str]]] = []  # (label, colour, series names): mean + band
        self.default_bases: dict[str, tuple[list[float], list[float]]] = {}  # name -> its step metric's basis
        self.time_axis = False  # x already holds seconds since the run's start (system metrics)
        self.version = 0  # bumped by every change of data
        self.draws = 0  # plotext drawings so far (the bench and the tests count them)
        self._prepared: tuple[Any, Prepared] | None = None
        self._lines: tuple[Any, list[Strip]] | None = None
        self.border_title = Content(safe_text(key, limit=60))

    # ------------------------------------------------------------ data

    def invalidate(self) -> None:
        """Data changed (or labels, colours, groups): draw again when next shown."""
        self.version += 1
        self.update_subtitle()
        self.refresh()

    def options_changed(self) -> None:
        """The panel's options changed (their version is part of what the drawing is kept for)."""
        self.update_subtitle()
        self.refresh()

    def update_subtitle(self) -> None:
        """Set the line under the chart (cheap: no drawing)."""
        sub = self.subtitle()
        if sub != str(self.border_subtitle or ""):
            self.border_subtitle = Content(sub)

    def set_series(self, name: str, series: Series) -> None:
        """Replace one series."""
        self.series[name] = series
        self.invalidate()

    def append(self, name: str, series: Series) -> None:
        """Append new points to one series (memory stays bounded: the oldest half is thinned)."""
        cur = self.series.setdefault(name, Series())
        cur.x.extend(series.x)
        cur.y.extend(series.y)
        cur.special.extend(series.special)
        cur.last_step = max(cur.last_step, series.last_step)
        if len(cur.x) > MAX_POINTS:
            half = len(cur.x) // 2
            cur.x[:half] = cur.x[:half:2]
            cur.y[:half] = cur.y[:half:2]
        self.invalidate()

    def last_value(self) -> float | None:
        """The latest finite value of the first series."""
        for s in self.series.values():
            return s.y[-1] if s.y else None
        return None

    # ------------------------------------------------------------ what is shown (no drawing)

    def x_of(self, name: str, xs: list[float]) -> list[float]:
        """xs (steps, or the step metric) mapped to the panel's x mode."""
        mode = self.opts.x_mode
        rid = self.run_of.get(name, name)
        if self.time_axis:
            return [x + self.opts.t0.get(rid, 0.0) for x in xs] if mode == "wall" else list(xs)
        if mode == "default" and name in self.default_bases:
            return P.transform_x(xs, "metric:", self.default_bases[name])
        if mode in ("default", "step"):
            return list(xs)
        basis = self.opts.bases.get(rid)
        if basis is None:
            return [math.nan] * len(xs)
        return P.transform_x(xs, mode, basis, self.opts.t0.get(rid))

    def prepare(self) -> Prepared:
        """The lines to draw with the current data and options (kept until either changes)."""
        key = (self.version, self.opts.version, self.size.width)
        if self._prepared is not None and self._prepared[0] == key:
            return self._prepared[1]
        opts = self.opts
        out = Prepared()
        data: dict[str, tuple[list[float], list[float], list[float]]] = {}
        for name, s in self.series.items():
            xs, ys = P.finite_pairs(self.x_of(name, s.x), s.y)
            data[name] = (xs, ys, P.ema(ys, opts.smoothing))
            if s.special:
                sx = self.x_of(name, [p[0] for p in s.special])
                out.specials += [(x, v) for x, (_, v) in zip(sx, s.special, strict=True) if math.isfinite(x)]
        multi = len(self.series) > 1 or bool(self.labels)

        def line(xs: list[float], ys: list[float], color: str, label: str | None, marker: str = "braille") -> None:
            if opts.log_y:  # drawn as log10(y) with 10**tick labels (plotext's own log scale is fragile)
                xs, ys, dropped = P.log_split(xs, ys)
                out.dropped += len(dropped)
                ys = [math.log10(y) for y in ys]
            if xs:
                out.lines.append((label, color, marker, xs, ys))

        if self.groups:
            for label, color, names in self.groups:
                members = [(data[n][0], data[n][2]) for n in names if n in data]
                gx, mean, lo, hi = P.group_band(members, points=max(20, 2 * self.size.width))
                line(gx, lo, color, None, marker="⠄")  # the band's edges: thin dots in the group's colour
                line(gx, hi, color, None, marker="⠄")
                line(gx, mean, color, safe_text(label, limit=20))
                out.drawn[label] = (gx, mean)
                out.bands[label] = (gx, mean, lo, hi)
        else:
            for i, (name, (xs, raw, sm)) in enumerate(data.items()):
                color = self.run_colors.get(name, P.color(i))
                if opts.smoothing > 0:
                    line(xs, raw, "gray", None)  # the raw series stays visible, faintly
                line(xs, sm, color, safe_text(self.labels.get(name, name), limit=20) if multi else None)
                out.drawn[name] = (xs, sm)
        self._prepared = (key, out)
        return out

    @property
    def drawn(self) -> dict[str, tuple[list[float], list[float]]]:
        """Per series (or group) the (xs, ys) shown, smoothed."""
        return self.prepare().drawn

    @property
    def bands(self) -> dict[str, tuple[list[float], list[float], list[float], list[float]]]:
        """Per group the (x, mean, min, max) shown."""
        return self.prepare().bands

    @property
    def dropped(self) -> int:
        """Points not drawn on a log axis (y <= 0)."""
        return self.prepare().dropped

    @property
    def specials_drawn(self) -> int:
        """NaN/Inf points marked on the chart."""
        return len(self.prepare().specials)

    def x_range(self) -> tuple[float, float] | None:
        """The x range of what is shown."""
        xs = [x for d in self.drawn.values() for x in (d[0][:1] + d[0][-1:])]
        return (min(xs), max(xs)) if xs else None

    def cursor_x(self) -> float | None:
        """The cursor's x on this chart, or None when it is off or the chart is empty."""
        rng = self.x_range()
        if self.opts.cursor is None or rng is None:
            return None
        return rng[0] + (rng[1] - rng[0]) * self.opts.cursor / CURSOR_STEPS

    def readout(self) -> list[tuple[str, float, float]]:
        """(label, x, y) of every shown series at the cursor (the nearest shown point)."""
        cx = self.cursor_x()
        if cx is None:
            return []
        out = []
        for name, (xs, ys) in self.drawn.items():
            got = P.value_at(xs, ys, cx)
            if got is not None:
                out.append((self.labels.get(name, name), got[0], got[1]))
        for sx, v in (p for s in self.series.values() for p in s.special):
            if self.opts.x_mode in ("default", "step") and abs(sx - cx) < 1e-9:
                out.append(("NaN/Inf", sx, v))
        return out

    def subtitle(self) -> str:
        """The line under the chart: x-axis, NaN/Inf marks, hidden points, smoothing, the last value."""
        parts = []
        label = P.x_label(self.opts.x_mode) if self.opts.x_mode != "default" else self.x_label
        if label != "step":
            parts.append(f"x: {safe_text(label, limit=20)}")
        specials = sum(len(s.special) for s in self.series.values())
        if specials:
            parts.append(f"{specials} NaN/Inf ×")
        if self.opts.log_y and self.dropped:  # (only a log axis hides points: prepare() is not needed else)
            parts.append(f"{self.dropped} ≤0 hidden")
        if self.opts.smoothing:
            parts.append(f"ema {self.opts.smoothing:.2f}")
        if len(self.series) == 1 and not self.labels:
            last = self.last_value()
            if last is not None:
                parts.append(f"{last:.4g}")
        return " · ".join(parts)

    # ------------------------------------------------------------ drawing

    def _lines_key(self) -> tuple[Any, ...]:
        return (self.version, self.opts.version, tuple((g[0], g[1], tuple(g[2])) for g in self.groups),
                self.size, self.app.theme)

    def is_current(self) -> bool:
        """Whether the kept drawing shows the current data and options (the benches wait for it)."""
        return self._lines is not None and self._lines[0] == self._lines_key()

    def render_line(self, y: int) -> Strip:
        """One line of the drawing; the drawing is made again only when data, size, theme or options
        changed (Textual asks for lines on every repaint: a focus change, a tab switch, a scroll)."""
        key = self._lines_key()
        if self._lines is None or self._lines[0] != key:
            self._lines = (key, self._draw())
        lines = self._lines[1]
        if 0 <= y < len(lines):
            return lines[y]
        return Strip.blank(self.size.width, self.visual_style.rich_style)

    def _draw(self) -> list[Strip]:
        width, height = self.size
        if height < 4 or width < 10:  # not laid out yet: plotting would be wasted
            return []
        self.draws += 1
        visual = visualize(self, self.render(), markup=False)
        return Visual.to_strips(self, visual, width, height, self.visual_style)

    def render(self) -> Any:
        """Plot what prepare() gives and let plotext draw it (call through render_line, which keeps it)."""
        if self.size.height < 4 or self.size.width < 10:
            return ""
        prep = self.prepare()
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.xlabel("")
        plt.ylabel("")
        ylo: list[float] = []
        xlo: list[float] = []
        for label, color, marker, xs, ys in prep.lines:
            ylo.extend((min(ys), max(ys)))
            xlo.extend((xs[0], xs[-1]))
            plt.plot(xs, ys, marker=marker, color=color, label=label)
        if prep.specials and ylo:
            top, bottom = max(ylo), min(ylo)
            plt.scatter([x for x, _ in prep.specials], [bottom if v < 0 else top for _, v in prep.specials],
                        marker="x", color="red")
        if ylo:
            ticks, labels = P.ticks(min(ylo), max(ylo), max(2, min(5, self.size.height // 3)))
            if self.opts.log_y:
                labels = [P.tick_label(10**t) for t in ticks]
            plt.yticks(ticks, labels)
        if xlo:
            mode = self.opts.x_mode if self.opts.x_mode in ("wall", "relative") else ""
            plt.xticks(*P.ticks(min(xlo), max(xlo), max(2, min(5, self.size.width // 12)), mode))
            cx = self.cursor_x()
            if cx is not None:
                plt.vline(cx, "white")
        if not ylo:
            plt.title("no points on this x-axis" if self.series else "no numeric points yet")
        return super().render()

