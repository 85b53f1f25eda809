"""RunChartsPanel: every metric of one run as a live Chart in a ChartGrid (the chart controls), with the
custom chart of several metrics (`m`, tui/widgets/custom_chart.py); with `only`, the one chart of the
full-screen chart's screen.

Reading: the panel is given the app's live-data layer (tui/live.py) and keeps three feeds on it: the
run's metrics (tui/chart_data.py read_metrics: downsampled series for new keys, only the new points of known
keys), the custom chart's metrics, and one-off loads of x-axis bases. The layer owns the schedule, pause,
the worker threads and the errors (shown in the status line, retried); a hidden panel does not read.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.containers import Grid
from textual.content import Content
from textual.widgets import Static
from tracktui.store import Reader

from ..chart_data import read_basis, read_custom, read_metrics
from ..live import Feed, Live
from ..messages import MetricsPolled, PickRequested, Series
from ..text import safe_text
from .chart import MAX_POINTS, Chart, ChartOptions
from .chart_grid import ChartGrid
from .custom_chart import CUSTOM_BINDINGS, CUSTOM_KEY, custom_title


class RunChartsPanel(ChartGrid):
    """Every metric of one run, live, with the chart controls and the custom chart."""

    BINDINGS = CUSTOM_BINDINGS

    def __init__(self, live: Live, run_id: str, opts: ChartOptions | None = None, only: str | None = None,
                 **kwargs: Any):
        super().__init__(opts=opts, only=only, **kwargs)
        self.live = live
        self.run_id = run_id
        self.last_steps: dict[str, int] = {}
        self.step_metrics: dict[str, str | None] = {}
        self.read_mode = self._read_mode()
        self.defs: list[dict[str, Any]] = []
        self.polls = 0
        self.bases_loaded = 0
        self.custom: Chart | None = None
        self.custom_keys: list[str] = []
        self.custom_last: dict[str, int] = {}  # metric -> last step read
        self.custom_gen = 0  # bumped on every change of the chosen metrics: older reads are dropped
        self.custom_reads = 0
        self.read_buckets = 80  # points per chart for fresh reads (set on the main thread, read by workers)
        self.feed = live.feed(self, self._read_metrics, name="charts", cursor=(self.read_mode, {}))
        self.custom_feed = live.feed(self, self._read_custom, name="custom-chart", cursor=(0, {}))
        self.basis_load: Feed | None = None

    def on_mount(self) -> None:  # ChartGrid's on_mount runs too (Textual calls each class's handler)
        self.read_buckets = self.buckets
        self.feed.start()

    def _read_mode(self) -> str:
        return "auto" if self.opts.x_mode == "default" else "step"

    @property
    def buckets(self) -> int:
        """Points per chart: about two per column of a chart (braille has 2 dots a cell)."""
        cols = self.grid_columns()
        return max(20, 2 * (self.size.width // cols - 2 if self.size.width else 40))

    def control_charts(self) -> list[Chart]:
        """The run's charts (the custom chart first)."""
        custom = [self.custom] if self.custom is not None else []
        return custom + list(self.charts.values())

    def full_screen_run(self, chart: Chart) -> str | None:
        """A stored metric can have a screen of its own; the custom chart fills this panel instead."""
        return None if chart is self.custom else self.run_id

    # ------------------------------------------------------------ reading (worker threads, via self.live)

    def _read_metrics(self, reader: Reader, cursor: tuple[str, dict[str, tuple[int | None, str | None]]]
                      ) -> tuple[Any, Any]:
        mode, known = cursor
        return (mode, read_metrics(reader, self.run_id, known, mode, self.read_buckets, self.only)), cursor

    def _read_custom(self, reader: Reader, cursor: tuple[int, dict[str, int | None]]) -> tuple[Any, Any]:
        gen, known = cursor
        return (gen, read_custom(reader, self.run_id, known, self.read_buckets)), cursor

    def _metrics_cursor(self) -> tuple[str, dict[str, tuple[int | None, str | None]]]:
        return self.read_mode, {k: (self.last_steps.get(k), self.step_metrics.get(k)) for k in self.charts}

    def poll(self) -> None:
        """Read what is new now (the layer's schedule reads on its own)."""
        self.read_buckets = self.buckets
        self.feed.poll_now()

    def on_feed_updated(self, message: Feed.Updated) -> None:
        """A read of one of this panel's feeds arrived."""
        message.stop()
        self.failed = None
        if message.feed is self.feed:
            self.metrics_read(*message.data)
        elif message.feed is self.custom_feed:
            self.custom_read(*message.data)
        elif message.feed is self.basis_load:
            self.basis_loaded(*message.data)
        self.update_readout()

    def on_feed_failed(self, message: Feed.Failed) -> None:
        """A read failed: say so in the status line (the layer tries again)."""
        message.stop()
        self.failed = f"{safe_text(message.error, limit=70)}, retrying in {message.retry_in:g} s"
        self.update_readout()

    def metrics_read(self, mode: str, message: MetricsPolled) -> None:
        """Add charts for new keys, replace or extend series; the next read starts from what is here now."""
        if mode != self.read_mode:  # read before the x-axis changed: read again with the new one
            self.feed.cursor = self._metrics_cursor()
            self.feed.poll_now()
            return
        self.defs = message.defs
        self.polls += 1
        for key in message.keys:
            s = message.series.get(key)
            if s is None:
                continue
            chart = self.charts.get(key) or self.add_chart(key, s.x_label)
            chart.x_label = s.x_label
            self.step_metrics[key] = None if s.x_label == "step" else s.x_label
            if key in message.replace:
                chart.set_series(key, s)
            elif s.x or s.special:
                chart.append(key, s)
            self.last_steps[key] = max(self.last_steps.get(key, -1), s.last_step)
            if len(chart.series[key].x) > 2 * MAX_POINTS:
                self.last_steps.pop(key, None)  # re-sample from the store on the next read
        self.feed.cursor = self._metrics_cursor()
        self.show_empty()

    def add_chart(self, key: str, x_label: str = "step") -> Chart:
        """A new chart of one of the run's metrics."""
        chart = super().add_chart(key, x_label)
        chart.run_of[key] = self.run_id
        return chart

    # ------------------------------------------------------------ x-axis

    def x_changed(self, old: str) -> bool:
        """Default mode reads each metric against its step metric; every other mode reads steps and maps
        them at draw time (time and metric bases are read once, downsampled)."""
        mode = self._read_mode()
        if mode != self.read_mode:
            self.read_mode = mode
            self.last_steps.clear()
            self.read_buckets = self.buckets
            self.feed.reset(self._metrics_cursor())  # read every series again against the new x, now
        if self.opts.x_mode not in ("default", "step"):
            if self.basis_load is not None:
                self.basis_load.stop()
            x_mode, run_id = self.opts.x_mode, self.run_id

            def load(r: Reader) -> tuple[str, tuple[list[float], list[float]] | None, float | None]:
                rec = r.run(run_id)
                return x_mode, read_basis(r, run_id, x_mode), rec.created_at if rec else None

            self.basis_load = self.live.load(self, load, name="chart-basis")
            return True
        return False

    def basis_loaded(self, mode: str, basis: tuple[list[float], list[float]] | None, t0: float | None) -> None:
        """A run's x basis for a time or metric x-axis arrived: draw against it."""
        if mode != self.opts.x_mode:
            return
        if basis is not None:
            self.opts.bases[self.run_id] = basis
        if t0 is not None:
            self.opts.t0[self.run_id] = t0
        self.bases_loaded += 1
        self.redraw()

    # ------------------------------------------------------------ the custom chart

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`M` only while there is a custom chart (the footer shows it then); no custom chart on the
        full-screen chart's screen."""
        if action == "remove_custom":
            return self.custom is not None
        if action == "custom_chart":
            return self.only is None
        return True

    def shows(self, key: str) -> bool:
        """The custom chart passes the metric filter when one of its metrics does."""
        if self.custom is not None and key == CUSTOM_KEY and self.full_key is None:
            return any(super(RunChartsPanel, self).shows(k) for k in self.custom_keys)
        return super().shows(key)

    def action_custom_chart(self) -> None:
        """Ask the screen for a pick of the custom chart's metrics (none: remove it)."""
        keys = self.metric_keys()
        if not keys:
            self.notify("no metrics logged yet", timeout=2)
            return
        self.post_message(PickRequested("custom chart: metrics to overlay", keys, self.set_custom,
                                        chosen=list(self.custom_keys), many=True))

    def action_remove_custom(self) -> None:
        """Remove the custom chart."""
        self.set_custom([])

    def set_custom(self, keys: list[str] | None) -> None:
        """Show these metrics on the custom chart; [] removes it, None leaves it as it is."""
        if keys is None:
            return
        self.custom_gen += 1
        self.custom_last.clear()
        self.custom_keys = list(keys)
        if not keys:
            self._drop_custom()
        else:
            chart = self.custom or self._mount_custom()
            chart.border_title = Content(safe_text(custom_title(keys), limit=60))
            chart.series = {k: Series() for k in keys}  # in the chosen order: colours follow it
            chart.labels = {k: k for k in keys}
            chart.run_of = {k: self.run_id for k in keys}
            chart.invalidate()
            self.poll_custom()
        self.refresh_bindings()
        self.call_after_refresh(self.apply_visibility)  # once the grid holds it

    def _mount_custom(self) -> Chart:
        chart = Chart(CUSTOM_KEY, self.opts, x_label="step", id="custom-chart")
        header = Static(Text("── custom " + "─" * 80), classes="section", id="head-custom-section")
        grid = Grid(chart, id="custom-section")
        grid.styles.grid_size_columns = self.grid_columns()
        self.mount(header, after="#charts-empty")
        self.mount(grid, after=header)
        self.custom = chart
        return chart

    def _drop_custom(self) -> None:
        if self.custom is None:
            return
        if self.full_key == self.custom.key:
            self.full_key = None
        for node in self.query("#head-custom-section, #custom-section"):
            node.remove()
        self.custom = None
        self.custom_feed.stop()

    def poll_custom(self) -> None:
        """Read the custom chart's metrics from where the chart is (fresh for a newly chosen metric)."""
        if self.custom is None:
            self.custom_feed.stop()
            return
        self.read_buckets = self.buckets
        cursor = (self.custom_gen, {k: self.custom_last.get(k) for k in self.custom_keys})
        if self.custom_feed.started and not self.custom_feed.stopped:
            self.custom_feed.reset(cursor)
        else:
            self.custom_feed.cursor = cursor
            self.custom_feed.start()

    def custom_read(self, gen: int, got: dict[str, tuple[Series, bool]]) -> None:
        """The custom chart's new points; a read for metrics chosen before the last pick is dropped."""
        chart = self.custom
        if chart is None or gen != self.custom_gen:  # read before the last pick: read the chosen ones now
            if chart is not None:
                self.poll_custom()
            return
        for key, (s, fresh) in got.items():
            if fresh:
                chart.set_series(key, s)
            elif s.x or s.special:
                chart.append(key, s)
            self.custom_last[key] = max(self.custom_last.get(key, -1), s.last_step)
            if len(chart.series[key].x) > 2 * MAX_POINTS:
                self.custom_last.pop(key, None)  # re-sample from the store on the next read
        self.custom_feed.cursor = (gen, {k: self.custom_last.get(k) for k in self.custom_keys})
        self.custom_reads += 1
