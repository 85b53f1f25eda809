"""Chart controls shared by the run view and the comparison: x-axis, smoothing, log y, full screen, metric
filter, grid columns and a keyboard cursor with a read-out line.

ControlledChart draws from the downsampled series it holds (x in steps, or in the metric's step metric);
every option is applied at draw time by tui/series.py, so switching costs milliseconds on any run length.
ChartControls is the mixin of keys and state a host panel (a grid of ControlledCharts) adds.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.containers import Grid
from textual.content import Content
from textual.widgets import Input, Static

from .. import series as S
from ..messages import Series
from ..text import safe_text
from .metric_chart import MetricChart, number_label

RUN_COLORS = ("cyan", "orange", "green", "magenta", "blue", "red", "yellow", "white")
SMOOTHING_STEPS = (0.0, 0.3, 0.6, 0.8, 0.9, 0.95, 0.99)

CONTROL_BINDINGS = [
    Binding("x", "x_axis", "x-axis", tooltip="cycle the x-axis: default, step, relative time, wall time"),
    Binding("X", "pick_x", "x metric", show=False, tooltip="pick any logged metric as the x-axis"),
    Binding("plus,equals_sign", "smoothing(1)", "Smooth+", key_display="+", tooltip="more smoothing (EMA)"),
    Binding("minus", "smoothing(-1)", "Smooth-", key_display="-", tooltip="less smoothing"),
    Binding("y", "log_y", "log y", tooltip="log / linear y-axis"),
    Binding("enter", "full_screen", "Full", tooltip="one chart full screen (escape goes back)"),
    Binding("slash", "filter_metrics", "Filter", key_display="/", tooltip="filter metrics by regex"),
    Binding("left_square_bracket", "columns(-1)", "Cols-", key_display="[", show=False,
            tooltip="fewer chart columns"),
    Binding("right_square_bracket", "columns(1)", "Cols+", key_display="]", show=False,
            tooltip="more chart columns"),
    Binding("left", "cursor(-1)", "Cursor", key_display="←/→", tooltip="move the chart cursor along x"),
    Binding("right", "cursor(1)", "Cursor", show=False, tooltip="move the chart cursor along x"),
]

ESCAPE_BINDING = Binding("escape", "clear_filter", "Back",
                         tooltip="close the filter box, clear the filter, leave full screen, else back")

CURSOR_STEPS = 40  # positions of the cursor across the x range


@dataclass
class ChartOptions:
    """The chart options of one panel; version changes with every option (charts redraw on it)."""

    x_mode: str = "default"
    smoothing: float = 0.0
    log_y: bool = False
    cursor: int | None = None  # 0..CURSOR_STEPS across the panel's x range, None: off
    version: int = 0
    bases: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)  # run id -> x basis
    t0: dict[str, float] = field(default_factory=dict)  # run id -> start time (relative x)

    def bump(self) -> None:
        """An option changed."""
        self.version += 1


def tick_label(v: float, mode: str) -> str:
    """A short tick label: clock time for wall time, h/m/s for relative time, else a short number."""
    if mode == "wall":
        return time.strftime("%H:%M:%S", time.localtime(v))
    if mode == "relative":
        v = int(round(v))
        return f"{v // 3600}h{v % 3600 // 60:02d}" if v >= 3600 else f"{v // 60}m{v % 60:02d}" if v >= 60 else f"{v}s"
    return number_label(v)


def _ticks(lo: float, hi: float, n: int, mode: str = "") -> tuple[list[float], list[str]]:
    if hi <= lo:
        return [lo], [tick_label(lo, mode)]
    ticks = [lo + i * (hi - lo) / (n - 1) for i in range(n)]
    if not mode and hi - lo >= 20:  # steps and other wide ranges: whole numbers read better
        ticks = [float(round(t)) for t in ticks]
    return ticks, [tick_label(t, mode) for t in ticks]


class ControlledChart(MetricChart):
    """A chart of one metric over one or several runs (series keyed by run id, or by the metric in the run
    view), drawn with the panel's options; keeps what it drew for the cursor read-out."""

    def __init__(self, key: str, opts: ChartOptions, x_label: str = "step", **kwargs: Any):
        super().__init__(key, x_label=x_label, **kwargs)
        self.opts = opts
        self.labels: dict[str, str] = {}  # series name -> legend label
        self.run_colors: dict[str, str] = {}  # series name -> colour (a run keeps its colour on every chart)
        self.run_of: dict[str, str] = {}  # series name -> run id (its x basis)
        self.groups: list[tuple[str, str, list[str]]] = []  # (label, colour, series names): mean + band
        self.drawn: dict[str, tuple[list[float], list[float]]] = {}  # name -> (xs, ys) as drawn
        self.dropped = 0  # points not drawn on a log axis (y <= 0)
        self.default_bases: dict[str, tuple[list[float], list[float]]] = {}  # name -> its step metric's basis
        self.time_axis = False  # x already holds seconds since the run's start (system metrics)
        self.specials_drawn = 0
        self.bands: dict[str, tuple[list[float], list[float], list[float], list[float]]] = {}  # group bands

    def x_of(self, name: str, xs: list[float]) -> list[float]:
        """xs (steps, or the step metric) mapped to the panel's x mode."""
        mode = self.opts.x_mode
        rid = self.run_of.get(name, name)
        if self.time_axis:
            return [x + self.opts.t0.get(rid, 0.0) for x in xs] if mode == "wall" else list(xs)
        if mode == "default" and name in self.default_bases:
            return S.transform_x(xs, "metric:", self.default_bases[name])
        if mode in ("default", "step"):
            return list(xs)
        basis = self.opts.bases.get(rid)
        if basis is None:
            return [math.nan] * len(xs)
        return S.transform_x(xs, mode, basis, self.opts.t0.get(rid))

    def compute(self) -> tuple[dict[str, tuple[list[float], list[float], list[float]]],
                               list[tuple[float, float]]]:
        """Per series the (x, raw y, smoothed y) to draw, finite and sorted by x; and the NaN/Inf points."""
        out: dict[str, tuple[list[float], list[float], list[float]]] = {}
        specials: list[tuple[float, float]] = []
        for name, s in self.series.items():
            xs, ys = S.finite_pairs(self.x_of(name, s.x), s.y)
            out[name] = (xs, ys, S.ema(ys, self.opts.smoothing))
            if s.special:
                sx = self.x_of(name, [p[0] for p in s.special])
                specials += [(x, v) for x, (_, v) in zip(sx, s.special, strict=True) if math.isfinite(x)]
        return out, specials

    def x_range(self) -> tuple[float, float] | None:
        """The x range of what is drawn."""
        xs = [x for d in self.drawn.values() for x in (d[0][:1] + d[0][-1:])]
        return (min(xs), max(xs)) if xs else None

    def render(self) -> Any:
        """Plot with the panel's options; cached until data, size, theme or an option change."""
        key = (self.version, self.size, self.app.theme, self.opts.version, tuple(self.groups))
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        if self.size.height < 4 or self.size.width < 10:
            return ""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.xlabel("")
        plt.ylabel("")
        opts = self.opts
        data, specials = self.compute()
        multi = len(self.series) > 1 or bool(self.labels)
        ylo: list[float] = []
        xlo: list[float] = []
        self.drawn = {}
        self.bands: dict[str, tuple[list[float], list[float], list[float], list[float]]] = {}
        self.dropped = 0

        def draw(xs: list[float], ys: list[float], color: str, label: str | None, marker: str = "braille") -> None:
            if opts.log_y:  # drawn as log10(y) with 10**tick labels (plotext's own log scale is fragile)
                xs, ys, dropped = S.log_split(xs, ys)
                self.dropped += len(dropped)
                ys = [math.log10(y) for y in ys]
            if not xs:
                return
            ylo.extend((min(ys), max(ys)))
            xlo.extend((xs[0], xs[-1]))
            plt.plot(xs, ys, marker=marker, color=color, label=label)

        if self.groups:
            for label, color, names in self.groups:
                members = [(data[n][0], data[n][2]) for n in names if n in data]
                gx, mean, lo, hi = S.group_band(members, points=max(20, 2 * self.size.width))
                draw(gx, lo, color, None, marker="⠄")  # the band's edges: thin dots in the group's colour
                draw(gx, hi, color, None, marker="⠄")
                draw(gx, mean, color, safe_text(label, limit=20))
                self.drawn[label] = (gx, mean)
                self.bands[label] = (gx, mean, lo, hi)
        else:
            for i, (name, (xs, raw, sm)) in enumerate(data.items()):
                color = self.run_colors.get(name, RUN_COLORS[i % len(RUN_COLORS)])
                if opts.smoothing > 0:
                    draw(xs, raw, "gray", None)  # the raw series stays visible, faintly
                draw(xs, sm, color, safe_text(self.labels.get(name, name), limit=20) if multi else None)
                self.drawn[name] = (xs, sm)
        self.specials_drawn = len(specials)
        if specials and ylo:
            top, bottom = max(ylo), min(ylo)
            plt.scatter([x for x, _ in specials], [bottom if v < 0 else top for _, v in specials],
                        marker="x", color="red")
        if ylo:
            ticks, labels = _ticks(min(ylo), max(ylo), max(2, min(5, self.size.height // 3)))
            if opts.log_y:
                labels = [tick_label(10**t, "") for t in ticks]
            plt.yticks(ticks, labels)
        if xlo:
            mode = opts.x_mode if opts.x_mode in ("wall", "relative") else ""
            plt.xticks(*_ticks(min(xlo), max(xlo), max(2, min(5, self.size.width // 12)), mode))
            cx = self.cursor_x()
            if cx is not None:
                plt.vline(cx, "white")
        if not ylo:
            plt.title("no points on this x-axis" if self.series else "no numeric points yet")
        self._subtitle()
        out = super(MetricChart, self).render()  # PlotextPlot draws; MetricChart's own plotting is skipped
        self._cache = (key, out)
        return out

    def cursor_x(self) -> float | None:
        """The cursor's x on this chart, or None when it is off or the chart is empty."""
        rng = self.x_range()
        if self.opts.cursor is None or rng is None:
            return None
        return rng[0] + (rng[1] - rng[0]) * self.opts.cursor / CURSOR_STEPS

    def readout(self) -> list[tuple[str, float, float]]:
        """(label, x, y) of every drawn series at the cursor (the nearest drawn point)."""
        cx = self.cursor_x()
        if cx is None:
            return []
        out = []
        for name, (xs, ys) in self.drawn.items():
            got = S.value_at(xs, ys, cx)
            if got is not None:
                out.append((self.labels.get(name, name), got[0], got[1]))
        for sx, v in (p for s in self.series.values() for p in s.special):
            if self.opts.x_mode in ("default", "step") and abs(sx - cx) < 1e-9:
                out.append(("NaN/Inf", sx, v))
        return out

    def _subtitle(self) -> None:
        parts = []
        label = S.x_label(self.opts.x_mode) if self.opts.x_mode != "default" else self.x_label
        if label != "step":
            parts.append(f"x: {safe_text(label, limit=20)}")
        if self.specials_drawn or any(s.special for s in self.series.values()):
            parts.append(f"{sum(len(s.special) for s in self.series.values())} NaN/Inf ×")
        if self.dropped:
            parts.append(f"{self.dropped} ≤0 hidden")
        if self.opts.smoothing:
            parts.append(f"ema {self.opts.smoothing:.2f}")
        if len(self.series) == 1 and not self.labels:
            last = self.last_value()
            if last is not None:
                parts.append(f"{last:.4g}")
        self.border_subtitle = Content(" · ".join(parts))

    def _update_subtitle(self) -> None:
        if hasattr(self, "opts"):
            self._subtitle()
        else:
            super()._update_subtitle()


class ChartControls:
    """Keys and state of the chart controls; the host is a container of ControlledCharts that defines
    control_charts() and may override x_changed()."""

    opts: ChartOptions
    col_override: int | None
    full_key: str | None
    metric_filter: re.Pattern[str] | None

    def init_controls(self) -> None:
        """Set up the control state (call from __init__)."""
        self.opts = ChartOptions()
        self.col_override = None  # chart columns chosen with [ and ], else as many as fit
        self.full_key = None
        self.metric_filter = None

    def control_charts(self) -> list[ControlledChart]:
        """The charts this panel controls."""
        raise NotImplementedError

    def visible_charts(self) -> list[ControlledChart]:
        """Charts that pass the filter (all of them in grid mode, one in full screen)."""
        return [c for c in self.control_charts() if c.display]

    def x_changed(self, old: str) -> bool:
        """The x mode changed (hosts load x bases here); True when the charts redraw once that is read."""
        return False

    def metric_keys(self) -> list[str]:
        """Metrics offered as an x-axis."""
        return sorted({c.key for c in self.control_charts()})

    # ------------------------------------------------------------ actions

    def _redraw(self) -> None:
        self.opts.bump()
        for c in self.control_charts():
            c.smoothing, c.log_y = self.opts.smoothing, self.opts.log_y  # mirrored for MetricChart's readers
            c.refresh()
        self.update_readout()

    def set_x_mode(self, mode: str) -> None:
        """Show the charts against another x-axis."""
        old, self.opts.x_mode = self.opts.x_mode, mode
        if self.x_changed(old):
            self.update_readout()  # the charts keep their drawing until the new x values are read
        else:
            self._redraw()

    def action_x_axis(self) -> None:
        """Cycle the x-axis."""
        self.set_x_mode(S.next_x_mode(self.opts.x_mode))

    def action_pick_x(self) -> None:
        """Pick any logged metric as the x-axis."""
        from ..screens.pick import PickScreen

        options = ["default", "step", "relative", "wall", *[f"metric:{k}" for k in self.metric_keys()]]

        def done(choice: str | None) -> None:
            if choice:
                self.set_x_mode(choice)

        self.app.push_screen(PickScreen("x-axis", options, [S.x_label(o) for o in options]), done)  # type: ignore[attr-defined]

    def action_smoothing(self, delta: int) -> None:
        """More or less smoothing."""
        steps = SMOOTHING_STEPS
        i = min(range(len(steps)), key=lambda j: abs(steps[j] - self.opts.smoothing))
        self.opts.smoothing = steps[max(0, min(len(steps) - 1, i + delta))]
        self.smoothing = self.opts.smoothing  # the run view's panel keeps its own copy
        self._redraw()

    def action_log_y(self) -> None:
        """Log or linear y."""
        self.opts.log_y = not self.opts.log_y
        self.log_y = self.opts.log_y
        self._redraw()

    def action_cursor(self, delta: int) -> None:
        """Move the chart cursor (first press: the middle)."""
        cur = self.opts.cursor
        self.opts.cursor = CURSOR_STEPS // 2 if cur is None else max(0, min(CURSOR_STEPS, cur + delta))
        self._redraw()

    def action_columns(self, delta: int) -> None:
        """More or fewer chart columns."""
        self.col_override = max(1, min(6, (self.col_override or self.auto_columns()) + delta))
        self.apply_columns()
        self.update_readout()

    def auto_columns(self) -> int:
        """Columns that fit the width (40 cells a chart)."""
        return max(1, self.size.width // 40)  # type: ignore[attr-defined]

    def grid_columns(self) -> int:
        """Charts per grid row now."""
        return 1 if self.full_key else (self.col_override or self.auto_columns())

    def apply_columns(self) -> None:
        """Set the grids' column count."""
        cols = self.grid_columns()
        for grid in self.query(Grid):  # type: ignore[attr-defined]
            grid.styles.grid_size_columns = cols

    def focused_chart(self) -> ControlledChart | None:
        """The chart with focus, else the first visible one."""
        f = self.app.focused  # type: ignore[attr-defined]
        if isinstance(f, ControlledChart) and f in self.control_charts():
            return f
        vis = self.visible_charts()
        return vis[0] if vis else None

    def action_full_screen(self) -> None:
        """One chart full screen, or back to the grid."""
        if self.full_key is not None:
            self.full_key = None
        else:
            c = self.focused_chart()
            self.full_key = c.key if c else None
        self.apply_visibility()

    def action_filter_metrics(self) -> None:
        """Ask for a regex of metric keys to show."""
        box = self.query_one("#metric-filter", Input)  # type: ignore[attr-defined]
        box.display = True
        box.value = self.metric_filter.pattern if self.metric_filter else ""
        box.focus()

    def set_filter(self, pattern: str) -> bool:
        """Show only metrics matching the regex (empty: all); False if it does not compile."""
        try:
            self.metric_filter = re.compile(pattern) if pattern else None
        except re.error as e:
            self.notify(f"bad regex: {safe_text(str(e), limit=60)}", severity="error")  # type: ignore[attr-defined]
            return False
        self.apply_visibility()
        return True

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as the regex is typed (a pattern that does not compile yet keeps the last one)."""
        if event.input.id != "metric-filter":
            return
        event.stop()
        try:
            re.compile(event.value)
        except re.error:
            return
        self.set_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """The filter box was submitted: keep the filter, back to the charts."""
        if event.input.id != "metric-filter":
            return
        event.stop()
        if self.set_filter(event.value):
            event.input.display = False
            self.focus()  # type: ignore[attr-defined]

    def action_clear_filter(self) -> None:
        """Escape: close the filter box, else clear the filter, else leave full screen, else go back."""
        box = self.query_one("#metric-filter", Input)  # type: ignore[attr-defined]
        if box.display:
            box.display = False
            self.focus()  # type: ignore[attr-defined]
        elif self.metric_filter is not None:
            box.value = ""
            self.set_filter("")
        elif self.full_key is not None:
            self.action_full_screen()
        else:
            self.app.pop_screen()  # type: ignore[attr-defined]

    def shows(self, key: str) -> bool:
        """Whether a metric passes the filter and the full-screen choice."""
        if self.full_key is not None:
            return key == self.full_key
        return self.metric_filter is None or self.metric_filter.search(key) is not None

    def apply_visibility(self) -> None:
        """Hide charts (and empty sections) the filter or full screen leave out."""
        full_h = max(8, self.size.height - 3)  # type: ignore[attr-defined]
        for c in self.control_charts():
            c.display = self.shows(c.key)
            c.set_class(c.key == self.full_key, "-full")
            if c.key == self.full_key:
                c.styles.height = full_h
            else:
                c.styles.clear_rule("height")
        for grid in self.query(Grid):  # type: ignore[attr-defined]
            grid.display = any(ch.display for ch in grid.children)
            if self.full_key is not None and grid.display:
                grid.styles.grid_rows = str(full_h)
            else:
                grid.styles.clear_rule("grid_rows")
            header = self.section_header(grid)
            if header is not None:
                header.display = grid.display and self.full_key is None
        self.apply_columns()
        self.update_readout()

    def section_header(self, grid: Grid) -> Static | None:
        """The section title above a grid, if any."""
        kids = list(self.children)  # type: ignore[attr-defined]
        i = kids.index(grid) if grid in kids else -1
        if i > 0 and isinstance(kids[i - 1], Static) and kids[i - 1].has_class("section"):
            return kids[i - 1]
        return None

    def status_text(self) -> Text:
        """The options and the cursor read-out in one line."""
        o = self.opts
        t = Text()
        t.append(f" x: {S.x_label(o.x_mode) if o.x_mode != 'default' else 'step'}", style="bold")
        t.append(f"   smoothing: {o.smoothing:.2f}   y: {'log' if o.log_y else 'linear'}")
        t.append(f"   cols: {self.col_override or 'auto'}")
        if self.metric_filter is not None:
            t.append(f"   filter: {safe_text(self.metric_filter.pattern, limit=30)}")
        if self.full_key is not None:
            t.append("   full screen (enter: grid)")
        if o.cursor is not None:
            t.append("   cursor: ", style="bold")
            parts = []
            for c in self.visible_charts():
                for label, x, y in c.readout():
                    name = c.key if label == c.key or len(c.drawn) <= 1 and not c.labels else f"{c.key} {label}"
                    parts.append((safe_text(name, limit=30), x, y))
            if parts:
                mode = o.x_mode if o.x_mode in ("wall", "relative") else ""
                t.append(f"{tick_label(parts[0][1], mode)} →")
                for name, _, y in parts:
                    t.append(f" {name} ")
                    t.append(S.fmt_value(y), style="red" if not math.isfinite(y) else "bold")
        return t

    def readout_values(self) -> dict[str, float]:
        """Chart key (and series label) -> value at the cursor (tests and the status line)."""
        out: dict[str, float] = {}
        for c in self.visible_charts():
            for label, _, y in c.readout():
                out[c.key if label == c.key else f"{c.key} {label}"] = y
        return out

    def update_readout(self) -> None:
        """Refresh the status line (after the charts drew, so the read-out sees their points)."""
        def later() -> None:
            for st in self.query("#chart-status"):  # type: ignore[attr-defined]
                st.update(self.status_text())

        self.call_after_refresh(later)  # type: ignore[attr-defined]


def filter_box() -> Input:
    """The metric filter input (hidden until `/`)."""
    box = Input(placeholder="regex of metric keys (enter applies, empty shows all)", id="metric-filter")
    box.display = False
    return box


def status_line() -> Static:
    """The chart status / cursor read-out line."""
    return Static(Text(" x: step"), id="chart-status")


def run_series(s: Series) -> Series:
    """A copy of a series (the compare view keeps each run's own)."""
    return Series(list(s.x), list(s.y), list(s.special), s.last_step, s.sampled, s.x_label)
