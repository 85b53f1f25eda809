"""ChartsPanel: a grid of live MetricCharts of one run, in sections by the key prefix before '/'.

The panel owns its poll: a thread worker opens its own Reader, reads downsampled series for new keys
(Reader.sampled, buckets = chart width) and only the new points of known keys (Reader.history with
since_step), then posts MetricsPolled; the handler updates the charts and schedules the next poll.
"""

from __future__ import annotations

import math
import sqlite3
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Static
from tracktui.store import Reader, StoreError
from tracktui.store.codec import metric_def

from ..messages import MetricsPolled, Series
from ..text import safe_text
from .metric_chart import MAX_POINTS, MetricChart

if TYPE_CHECKING:
    from ..app import TrackTuiApp

CHART_WIDTH = 40  # columns per chart; the grid fits as many as the screen allows
RAW_LIMIT = 20_000  # a step-metric chart reads raw points up to this many, then falls back to steps


def section_of(key: str) -> str:
    """The section of a metric key: the prefix before the first '/', or 'metrics'."""
    return key.split("/", 1)[0] if "/" in key else "metrics"


def chart_id(key: str) -> str:
    """A DOM id for a metric key (keys can hold any character)."""
    return "chart-" + key.encode().hex()


def _split(points: list[tuple[Any, Any]]) -> tuple[list[float], list[float], list[tuple[float, float]]]:
    xs, ys, special = [], [], []
    for x, v in points:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or isinstance(x, bool):
            continue
        if not isinstance(x, (int, float)) or not math.isfinite(x):
            continue
        if math.isfinite(v):
            xs.append(float(x))
            ys.append(float(v))
        else:
            special.append((float(x), float(v)))
    return xs, ys, special


def read_series(r: Reader, run_id: str, key: str, step_metric: str | None, buckets: int,
                since_step: int | None) -> tuple[Series, bool] | None:
    """A key's series: a fresh downsampled one when since_step is None, else the points after it."""
    if step_metric:
        rng = r.step_range(run_id, key)
        if rng is not None and (since_step is not None or rng[1] - rng[0] < RAW_LIMIT):
            hist = r.history(run_id, [key, step_metric], since_step=-1 if since_step is None else since_step)
            xmap = dict(hist.get(step_metric, []))
            pts = hist.get(key, [])
            last = pts[-1][0] if pts else (since_step if since_step is not None else -1)
            xs, ys, special = _split([(xmap.get(s), v) for s, v in pts])
            return Series(xs, ys, special, last_step=last), since_step is None
    if since_step is None:
        s = r.sampled(run_id, key, buckets=buckets)
        xs = [float((a + b) // 2) for a, b in zip(s.first_step, s.last_step, strict=True)]
        last = s.last_step[-1] if s.last_step else -1
        special = [(float(st), float(v)) for st, v in s.special]
        if special:
            last = max(last, int(max(st for st, _ in s.special)))
        return Series(xs, list(s.mean), special, last_step=last, sampled=True), True
    pts = r.history(run_id, [key], since_step=since_step, limit=MAX_POINTS).get(key, [])
    if not pts:
        return None
    xs, ys, special = _split([(float(st), v) for st, v in pts])
    return Series(xs, ys, special, last_step=pts[-1][0]), False


def section_grid(panel: Widget, key: str, before: str | None = None) -> tuple[Grid, bool]:
    """The grid of key's section (the part before '/') in panel, and whether it was just made: a section's
    heading and grid are mounted (before the selector, if given) when its first chart comes."""
    sid = "section-" + section_of(key).encode().hex()
    grids = panel.query(f"#{sid}")
    if grids:
        return grids.first(Grid), False
    heading = Static(Text(f"── {safe_text(section_of(key), limit=60)} " + "─" * 80), classes="section",
                     id="head-" + sid)
    grid = Grid(id=sid)
    panel.mount(heading, grid, before=before)
    return grid, True


class ChartsPanel(VerticalScroll):
    """Every metric of a run as a live chart."""

    app: TrackTuiApp

    BINDINGS = [
        Binding("enter", "full_screen", "Full screen"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("x", "x_axis", "x-axis"),
        Binding("plus,equals_sign", "smoothing(1)", "Smooth+", key_display="+"),
        Binding("minus", "smoothing(-1)", "Smooth-", key_display="-"),
        Binding("y", "log_y", "log y"),
    ]

    DEFAULT_CSS = """
    ChartsPanel { height: 1fr; }
    ChartsPanel .section { height: 1; color: $text-muted; text-style: bold; }
    ChartsPanel Grid { height: auto; grid-size: 2; grid-gutter: 0 1; grid-rows: 12; }
    ChartsPanel #charts-empty { padding: 1 2; }
    ChartsPanel #charts-filter { height: 1; border: none; padding: 0 1; display: none; }
    ChartsPanel.full .section { display: none; }
    ChartsPanel.full MetricChart { height: 100%; }
    """

    def __init__(self, run_id: str, only: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.run_id = run_id
        self.only = only  # one metric (the full-screen chart), else every metric
        self.filter_text = ""
        self.charts: dict[str, MetricChart] = {}
        self.last_steps: dict[str, int] = {}
        self.step_metrics: dict[str, str | None] = {}
        self.x_mode = "auto"  # "auto": each metric's define_metric step_metric where set; "step": always step
        self.smoothing = 0.0
        self.log_y = False
        self.defs: list[dict[str, Any]] = []
        self.polls = 0

    def compose(self) -> Any:
        yield Input(placeholder="show metrics whose key contains… (enter keeps, escape clears)",
                    id="charts-filter")
        yield Static(Text("no metrics logged yet", style="dim"), id="charts-empty")

    def on_mount(self) -> None:
        self.poll()

    def on_resize(self) -> None:
        cols = self.columns
        for grid in self.query(Grid):
            grid.styles.grid_size_columns = cols
            if self.only:  # the full-screen chart takes the whole height
                grid.styles.grid_rows = str(max(12, self.size.height - 1))

    @property
    def columns(self) -> int:
        """Charts per grid row."""
        return 1 if self.only else max(1, self.size.width // CHART_WIDTH)

    @property
    def buckets(self) -> int:
        """Points per chart: about two per column of a chart (braille has 2 dots a cell)."""
        cols = self.columns
        return max(20, 2 * (self.size.width // cols - 2 if self.size.width else CHART_WIDTH))

    # ------------------------------------------------------------ polling

    def poll(self) -> None:
        """One poll, unless paused (the handler schedules the next)."""
        if self.app.paused:
            self.app.waiting_polls.add(self.poll)
            return
        known = {k: (self.last_steps.get(k), self.step_metrics.get(k)) for k in self.charts}
        self._read(self.run_id, known, self.x_mode, self.buckets, self.only)

    @work(thread=True, exclusive=True, group="charts-poll", exit_on_error=False)
    def _read(self, run_id: str, known: dict[str, tuple[int | None, str | None]], x_mode: str,
              buckets: int, only: str | None) -> None:
        try:
            self._read_store(run_id, known, x_mode, buckets, only)
        except (sqlite3.Error, OSError, StoreError):  # busy or broken: nothing new, try again next poll
            self.post_message(MetricsPolled(run_id, [], {}, set(), self.defs))

    def _read_store(self, run_id: str, known: dict[str, tuple[int | None, str | None]], x_mode: str,
                    buckets: int, only: str | None) -> None:
        with Reader(self.app.store_root) as r:
            rec = r.run(run_id)
            defs = rec.metric_defs if rec else []
            keys = [k for k in r.keys(run_id) if only is None or k == only]
            series: dict[str, Series] = {}
            replace: set[str] = set()
            for key in keys:
                d = metric_def(defs, key)
                if d and d.get("hidden"):
                    continue
                sm = d.get("step_metric") if (d and x_mode == "auto") else None
                sm = sm if sm and sm != key else None
                last, old_sm = known.get(key, (None, None))
                since = last if (key in known and old_sm == sm) else None
                got = read_series(r, run_id, key, sm, buckets, since)
                if got is None:
                    continue
                s, fresh = got
                s.x_label = sm or "step"
                series[key] = s
                if fresh:
                    replace.add(key)
        self.post_message(MetricsPolled(run_id, keys, series, replace, defs))

    def on_metrics_polled(self, message: MetricsPolled) -> None:
        """Add charts for new keys, replace or extend series, schedule the next poll."""
        message.stop()
        if not self.is_attached:
            return
        self.defs = message.defs
        self.polls += 1
        for key in message.keys:
            s = message.series.get(key)
            if s is None:
                continue
            chart = self.charts.get(key)
            x_label = s.x_label
            if chart is None:
                chart = self._add_chart(key, x_label)
            chart.x_label = x_label
            self.step_metrics[key] = None if x_label == "step" else x_label
            if key in message.replace:
                chart.set_series(key, s)
            elif s.x or s.special:
                chart.append(key, s)
            self.last_steps[key] = max(self.last_steps.get(key, -1), s.last_step)
            if len(chart.series[key].x) > 2 * MAX_POINTS:
                self.last_steps.pop(key, None)  # re-sample from the store on the next poll
        self.query_one("#charts-empty").display = not self.charts
        if self.app.poll_interval:
            self.set_timer(self.app.poll_interval, self.poll)

    def _add_chart(self, key: str, x_label: str) -> MetricChart:
        grid, new = section_grid(self, key)
        if new:
            grid.styles.grid_size_columns = self.columns
            if self.only:
                grid.styles.grid_rows = str(max(12, self.size.height - 1))
        chart = MetricChart(key, x_label=x_label, id=chart_id(key))
        chart.smoothing = self.smoothing
        chart.log_y = self.log_y
        chart.display = self._shown(key)
        grid.mount(chart)
        self.charts[key] = chart
        return chart

    def _shown(self, key: str) -> bool:
        return not self.filter_text or self.filter_text.lower() in key.lower()

    # ------------------------------------------------------------ filter, full screen

    def action_filter(self) -> None:
        """Show only the charts whose key contains a text."""
        inp = self.query_one("#charts-filter", Input)
        inp.display = True
        inp.focus()

    @on(Input.Changed, "#charts-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        """Hide the charts (and sections) that do not match."""
        self.filter_text = event.value.strip()
        for key, chart in self.charts.items():
            chart.display = self._shown(key)
        for grid in self.query(Grid):
            grid.display = any(c.display for c in grid.query(MetricChart))
            self.query_one(f"#head-{grid.id}").display = grid.display

    @on(Input.Submitted, "#charts-filter")
    def filter_submitted(self) -> None:
        """Enter keeps the filter and goes back to the charts."""
        self.focus()

    def on_key(self, event: Any) -> None:
        """Escape in the filter clears it."""
        inp = self.query_one("#charts-filter", Input)
        if event.key == "escape" and (inp.has_focus or inp.value):
            event.stop()
            inp.value = ""
            inp.display = False
            self.focus()

    def action_full_screen(self) -> None:
        """The focused chart (or the first shown one) on a screen of its own."""
        from ..screens.chart import ChartScreen

        if self.only:
            return
        focused = self.app.focused
        key = focused.key if isinstance(focused, MetricChart) else next(
            (k for k, c in self.charts.items() if c.display), None)
        if key is not None:
            self.app.push_screen(ChartScreen(self.run_id, key))

    # ------------------------------------------------------------ actions

    def action_x_axis(self) -> None:
        """Cycle the x-axis: each metric's step metric, or the step everywhere."""
        self.x_mode = "step" if self.x_mode == "auto" else "auto"
        self.last_steps.clear()
        self.notify(f"x-axis: {'step' if self.x_mode == 'step' else 'step metric where defined'}", timeout=2)
        if not self.app.poll_interval:
            self.poll()

    def action_smoothing(self, delta: int) -> None:
        """More or less smoothing (exponential moving average)."""
        steps = [0.0, 0.3, 0.6, 0.8, 0.9, 0.95, 0.99]
        i = min(range(len(steps)), key=lambda j: abs(steps[j] - self.smoothing))
        self.smoothing = steps[max(0, min(len(steps) - 1, i + delta))]
        for c in self.charts.values():
            c.smoothing = self.smoothing
            c.refresh()
        self.notify(f"smoothing {self.smoothing:.2f}", timeout=1.5)

    def action_log_y(self) -> None:
        """Toggle a log y-axis."""
        self.log_y = not self.log_y
        for c in self.charts.values():
            c.log_y = self.log_y
            c.refresh()
        self.notify("y: log" if self.log_y else "y: linear", timeout=1.5)
