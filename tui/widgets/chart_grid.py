"""ChartGrid: a scrollable grid of Charts in sections (the key prefix before '/') with the one set of chart
controls of the app: x-axis, smoothing, log y, full screen, metric filter, grid columns and a keyboard
cursor with a read-out line.

The run view's charts (run_charts.py), the comparison's (compare_charts.py) and the full-screen chart
(screens/chart.py) are ChartGrids that add only how their data is read. The grid never opens a screen: for a
full-screen chart or a pick it posts ChartFullScreenRequested or PickRequested and the screen decides.
"""

from __future__ import annotations

import math
import re
from typing import Any

from rich.text import Text
from textual.actions import SkipAction
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Static

from .. import plotting as P
from ..messages import ChartFullScreenRequested, PickRequested
from ..text import safe_text
from .chart import CURSOR_STEPS, Chart, ChartOptions

CHART_WIDTH = 40  # cells per chart: the grid fits as many as the width allows

CONTROL_BINDINGS = [  # in the footer's order (it drops keys from the far end when narrow; `?` lists them all)
    Binding("enter", "full_screen", "Full", tooltip="one chart full screen (escape goes back)"),
    Binding("slash", "filter_metrics", "Filter", key_display="/", tooltip="filter metrics by regex"),
    Binding("x", "x_axis", "x-axis", tooltip="cycle the x-axis: default, step, relative time, wall time"),
    Binding("X", "pick_x", "x metric", show=False, tooltip="pick any logged metric as the x-axis"),
    Binding("plus,equals_sign", "smoothing(1)", "Smooth+", key_display="+", tooltip="more smoothing (EMA)"),
    Binding("minus", "smoothing(-1)", "Smooth-", key_display="-", tooltip="less smoothing"),
    Binding("y", "log_y", "log y", tooltip="log / linear y-axis"),
    Binding("left_square_bracket", "columns(-1)", "Cols-", key_display="[", show=False,
            tooltip="fewer chart columns"),
    Binding("right_square_bracket", "columns(1)", "Cols+", key_display="]", show=False,
            tooltip="more chart columns"),
    Binding("left", "cursor(-1)", "Cursor", key_display="←/→", tooltip="move the chart cursor along x"),
    Binding("right", "cursor(1)", "Cursor", show=False, tooltip="move the chart cursor along x"),
    Binding("escape", "clear_filter", "Back",
            tooltip="close the filter box, clear the filter, leave full screen, else back"),
]


def section_of(key: str) -> str:
    """The section of a metric key: the prefix before the first '/', or 'metrics'."""
    return key.split("/", 1)[0] if "/" in key else "metrics"


def chart_id(key: str) -> str:
    """A DOM id for a metric key (keys can hold any character)."""
    return "chart-" + key.encode().hex()


def _set_display(widget: Widget, shown: bool) -> None:
    if widget.display != shown:
        widget.display = shown


class ChartGrid(VerticalScroll):
    """Charts in sections with the chart controls; subclasses read the data and call add_chart()."""

    BINDINGS = CONTROL_BINDINGS

    DEFAULT_CSS = """
    ChartGrid { height: 1fr; }
    ChartGrid .section { height: 1; color: $text-muted; text-style: bold; }
    ChartGrid Grid { height: auto; grid-size: 2; grid-gutter: 0 1; grid-rows: 12; }
    ChartGrid #charts-empty { padding: 1 2; }
    ChartGrid #chart-status { dock: bottom; height: 1; background: $panel; }
    ChartGrid #metric-filter { dock: bottom; }
    """

    can_focus = True

    def __init__(self, opts: ChartOptions | None = None, only: str | None = None, empty: str = "no metrics logged yet",
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.opts = opts if opts is not None else ChartOptions()
        self.only = only  # the one chart of a full-screen chart's screen, else None
        self.empty_text = empty
        self.charts: dict[str, Chart] = {}
        self.col_override: int | None = None  # chart columns chosen with [ and ], else as many as fit
        self.full_key: str | None = only  # the chart that fills the grid, else None
        self.metric_filter: re.Pattern[str] | None = None
        self.failed: str | None = None  # the last read failed: why (shown in the status line until one works)
        self._status_shown: Text | None = None

    def compose(self) -> Any:
        yield Static(Text(self.empty_text, style="dim"), id="charts-empty")
        yield Static(Text(" x: step"), id="chart-status")
        box = Input(placeholder="regex of metric keys (enter applies, empty shows all)", id="metric-filter")
        box.display = False
        yield box

    def on_mount(self) -> None:
        self.update_readout()

    def on_resize(self) -> None:
        self.apply_visibility()

    # ------------------------------------------------------------ charts and sections

    def control_charts(self) -> list[Chart]:
        """The charts of this grid, in order."""
        return list(self.charts.values())

    def visible_charts(self) -> list[Chart]:
        """Charts that pass the filter (one in full screen)."""
        return [c for c in self.control_charts() if c.display]

    def metric_keys(self) -> list[str]:
        """Metrics offered as an x-axis."""
        return sorted(self.charts)

    def section_grid(self, key: str) -> Grid:
        """The grid of key's section; a section's heading and grid are mounted when its first chart comes."""
        sid = "section-" + section_of(key).encode().hex()
        grids = self.query(f"#{sid}")
        if grids:
            return grids.first(Grid)
        heading = Static(Text(f"── {safe_text(section_of(key), limit=60)} " + "─" * 80), classes="section",
                         id="head-" + sid)
        grid = Grid(id=sid)
        grid.styles.grid_size_columns = self.grid_columns()
        self.mount(heading, grid, before="#chart-status")
        return grid

    def add_chart(self, key: str, x_label: str = "step") -> Chart:
        """A new chart in key's section."""
        chart = Chart(key, self.opts, x_label=x_label, id=chart_id(key))
        chart.display = self.shows(key)
        self.section_grid(key).mount(chart)
        self.charts[key] = chart
        self.query_one("#charts-empty").display = False
        self.apply_visibility()
        return chart

    def show_empty(self, text: str | None = None) -> None:
        """Say why there is no chart (or hide the line once there are charts)."""
        empty = self.query_one("#charts-empty", Static)
        if text is not None:
            empty.update(Text(text, style="dim"))
        empty.display = not self.charts

    # ------------------------------------------------------------ options

    def x_changed(self, old: str) -> bool:
        """The x mode changed (subclasses read x bases here); True when the charts redraw once read."""
        return False

    def redraw(self) -> None:
        """An option changed: every chart draws again when shown."""
        self.opts.bump()
        for c in self.control_charts():
            c.options_changed()
        self.update_readout()

    def set_x_mode(self, mode: str) -> None:
        """Show the charts against another x-axis."""
        old, self.opts.x_mode = self.opts.x_mode, mode
        if self.x_changed(old):
            self.update_readout()  # the charts keep their drawing until the new x values are read
        else:
            self.redraw()

    def action_x_axis(self) -> None:
        """Cycle the x-axis."""
        self.set_x_mode(P.next_x_mode(self.opts.x_mode))

    def action_pick_x(self) -> None:
        """Ask the screen for a pick of any logged metric as the x-axis."""
        options = ["default", "step", "relative", "wall", *[f"metric:{k}" for k in self.metric_keys()]]

        def done(choice: str | None) -> None:
            if choice:
                self.set_x_mode(choice)

        self.post_message(PickRequested("x-axis", options, done, labels=[P.x_label(o) for o in options]))

    def action_smoothing(self, delta: int) -> None:
        """More or less smoothing."""
        self.opts.smoothing = P.next_smoothing(self.opts.smoothing, delta)
        self.redraw()

    def action_log_y(self) -> None:
        """Log or linear y."""
        self.opts.log_y = not self.opts.log_y
        self.redraw()

    def action_cursor(self, delta: int) -> None:
        """Move the chart cursor (first press: the middle)."""
        cur = self.opts.cursor
        self.opts.cursor = CURSOR_STEPS // 2 if cur is None else max(0, min(CURSOR_STEPS, cur + delta))
        self.redraw()

    # ------------------------------------------------------------ columns, full screen, filter

    def action_columns(self, delta: int) -> None:
        """More or fewer chart columns."""
        self.col_override = max(1, min(6, (self.col_override or self.auto_columns()) + delta))
        self.apply_columns()
        self.update_readout()

    def auto_columns(self) -> int:
        """Columns that fit the width (the screen's, before the grid's own is known: charts mounted at a
        passing width would be drawn once more)."""
        return max(1, (self.size.width or self.app.size.width) // CHART_WIDTH)

    def grid_columns(self) -> int:
        """Charts per grid row now."""
        return 1 if self.full_key else (self.col_override or self.auto_columns())

    @property
    def columns(self) -> int:
        """Charts per grid row now."""
        return self.grid_columns()

    def apply_columns(self) -> None:
        """Set the grids' column count."""
        cols = self.grid_columns()
        for grid in self.query(Grid):
            if grid.styles.grid_size_columns != cols:
                grid.styles.grid_size_columns = cols

    def focused_chart(self) -> Chart | None:
        """The chart with focus, else the first visible one."""
        f = self.app.focused
        if isinstance(f, Chart) and f in self.control_charts():
            return f
        vis = self.visible_charts()
        return vis[0] if vis else None

    def action_full_screen(self) -> None:
        """Back to the grid from a chart that fills it; else ask the screen for the chart on the whole screen."""
        if self.only is not None:
            return
        if self.full_key is not None:
            self.show_full(None)
            return
        chart = self.focused_chart()
        if chart is not None:
            self.post_message(ChartFullScreenRequested(self, chart.key, self.full_screen_run(chart)))

    def full_screen_run(self, chart: Chart) -> str | None:
        """The run whose stored metric a chart shows (a screen of its own can read it), else None."""
        return None

    def show_full(self, key: str | None) -> None:
        """Let one chart fill the grid (None: back to the grid)."""
        self.full_key = key
        self.apply_visibility()

    def action_filter_metrics(self) -> None:
        """Ask for a regex of metric keys to show."""
        box = self.query_one("#metric-filter", Input)
        box.display = True
        box.value = self.metric_filter.pattern if self.metric_filter else ""
        box.focus()

    def set_filter(self, pattern: str) -> bool:
        """Show only metrics matching the regex (empty: all); False if it does not compile."""
        try:
            self.metric_filter = re.compile(pattern) if pattern else None
        except re.error as e:
            self.notify(f"bad regex: {safe_text(str(e), limit=60)}", severity="error")
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
            self.focus()

    def action_clear_filter(self) -> None:
        """Escape: close the filter box, else clear the filter, else leave full screen, else the screen's
        own escape (back)."""
        box = self.query_one("#metric-filter", Input)
        if box.display:
            box.display = False
            self.focus()
        elif self.metric_filter is not None:
            box.value = ""
            self.set_filter("")
        elif self.full_key is not None and self.only is None:
            self.show_full(None)
        else:
            raise SkipAction()  # the screen's escape binding runs

    def shows(self, key: str) -> bool:
        """Whether a chart passes the filter and the full-screen choice."""
        if self.full_key is not None:
            return key == self.full_key
        return self.metric_filter is None or self.metric_filter.search(key) is not None

    def apply_visibility(self) -> None:
        """Hide charts (and empty sections) the filter or full screen leave out. Only what differs is set:
        this runs on every resize, and each tab switch back to the charts is one (a style set, even to the
        same value, restyles and lays out again)."""
        full_h = max(8, self.size.height - (1 if self.only else 3))
        for c in self.control_charts():
            _set_display(c, self.shows(c.key))
            c.set_class(c.key == self.full_key, "-full")
            if c.key == self.full_key:
                if c.styles.height is None or c.styles.height.cells != full_h:
                    c.styles.height = full_h
            elif c.styles.has_rule("height"):
                c.styles.clear_rule("height")
        for grid in self.query(Grid):
            _set_display(grid, any(ch.display for ch in grid.children))
            if self.full_key is not None and grid.display:
                grid.styles.grid_rows = str(full_h)
            elif grid.styles.has_rule("grid_rows"):
                grid.styles.clear_rule("grid_rows")
            header = self.section_header(grid)
            if header is not None:
                _set_display(header, grid.display and self.full_key is None)
        self.apply_columns()
        self.update_readout()

    def section_header(self, grid: Grid) -> Static | None:
        """The section title above a grid, if any."""
        kids = list(self.children)
        i = kids.index(grid) if grid in kids else -1
        if i > 0 and isinstance(kids[i - 1], Static) and kids[i - 1].has_class("section"):
            return kids[i - 1]
        return None

    # ------------------------------------------------------------ the status line

    def status_text(self) -> Text:
        """The options and the cursor read-out in one line."""
        o = self.opts
        t = Text()
        if self.failed:
            t.append(f" {safe_text(self.failed, limit=100)} ", style="bold red")
        t.append(f" x: {P.x_label(o.x_mode) if o.x_mode != 'default' else 'step'}", style="bold")
        t.append(f"   smoothing: {o.smoothing:.2f}   y: {'log' if o.log_y else 'linear'}")
        t.append(f"   cols: {self.col_override or 'auto'}")
        if self.metric_filter is not None:
            t.append(f"   filter: {safe_text(self.metric_filter.pattern, limit=30)}")
        if self.full_key is not None and self.only is None:
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
                t.append(f"{P.tick_label(parts[0][1], mode)} →")
                for name, _, y in parts:
                    t.append(f" {name} ")
                    t.append(P.fmt_value(y), style="red" if not math.isfinite(y) else "bold")
        return t

    def readout_values(self) -> dict[str, float]:
        """Chart key (and series label) -> value at the cursor (tests and the status line)."""
        out: dict[str, float] = {}
        for c in self.visible_charts():
            for label, _, y in c.readout():
                out[c.key if label == c.key else f"{c.key} {label}"] = y
        return out

    def update_readout(self) -> None:
        """Refresh the status line (after the layout, so the charts have their sizes)."""
        def later() -> None:
            text = self.status_text()
            if text == self._status_shown:
                return
            self._status_shown = text
            for st in self.query("#chart-status"):
                if isinstance(st, Static):
                    st.update(text)

        self.call_after_refresh(later)
