"""RunChartsPanel: every metric of one run as a live Chart in a ChartGrid (the chart controls), with the
custom chart of several metrics (`m`, tui/widgets/custom_chart.py); with `only`, the one chart of the
full-screen chart's screen.

Reading (tui/chart_data.py): a thread worker opens its own Reader, reads downsampled series for new keys
and only the new points of known keys, then posts MetricsPolled; the handler updates the charts and
schedules the next read.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.containers import Grid
from textual.content import Content
from textual.widgets import Static
from tracktui.store import Reader, StoreError

from ..chart_data import read_basis, read_custom, read_metrics
from ..messages import MetricsPolled, PickRequested, Series
from ..text import safe_text
from .chart import MAX_POINTS, Chart, ChartOptions
from .chart_grid import ChartGrid
from .custom_chart import CUSTOM_BINDINGS, CUSTOM_KEY, custom_title

if TYPE_CHECKING:
    from ..app import TrackTuiApp

class RunChartsPanel(ChartGrid):
    """Every metric of one run, live, with the chart controls and the custom chart."""

    app: TrackTuiApp

    BINDINGS = CUSTOM_BINDINGS

    def __init__(self, run_id: str, opts: ChartOptions | None = None, only: str | None = None, **kwargs: Any):
        super().__init__(opts=opts, only=only, **kwargs)
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
        self.custom_busy = False  # a read in flight: the next poll skips (appends must not overlap)

    def on_mount(self) -> None:  # ChartGrid's on_mount runs too (Textual calls each class's handler)
        self.poll()

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

    # ------------------------------------------------------------ reading

    def poll(self) -> None:
        """One read, unless paused (the handler schedules the next)."""
        if self.app.paused:
            self.app.waiting_polls.add(self.poll)
            return
        known = {k: (self.last_steps.get(k), self.step_metrics.get(k)) for k in self.charts}
        self._read(self.run_id, known, self.read_mode, self.buckets, self.only)

    @work(thread=True, exclusive=True, group="charts-poll", exit_on_error=False)
    def _read(self, run_id: str, known: dict[str, tuple[int | None, str | None]], x_mode: str,
              buckets: int, only: str | None) -> None:
        try:
            with Reader(self.app.store_root) as r:
                msg = read_metrics(r, run_id, known, x_mode, buckets, only)
        except (sqlite3.Error, OSError, StoreError):  # busy or broken: nothing new, try again next poll
            msg = MetricsPolled(run_id, [], {}, set(), self.defs)
        self.post_message(msg)

    def on_metrics_polled(self, message: MetricsPolled) -> None:
        """Add charts for new keys, replace or extend series, schedule the next read."""
        message.stop()
        if not self.is_attached:
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
        self.show_empty()
        self.update_readout()
        self.poll_custom()
        if self.app.poll_interval:
            self.set_timer(self.app.poll_interval, self.poll)

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
            if not self.app.poll_interval:
                self.poll()
        if self.opts.x_mode not in ("default", "step"):
            self._load_basis(self.opts.x_mode)
            return True
        return False

    @work(thread=True, exclusive=True, group="chart-basis", exit_on_error=False)
    def _load_basis(self, mode: str) -> None:
        with Reader(self.app.store_root) as r:
            basis = read_basis(r, self.run_id, mode)
            rec = r.run(self.run_id)
        self.app.call_from_thread(self._basis_loaded, mode, basis, rec.created_at if rec else None)

    def _basis_loaded(self, mode: str, basis: tuple[list[float], list[float]] | None, t0: float | None) -> None:
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

    def poll_custom(self) -> None:
        """Read the custom chart's new points (a fresh downsampled read for a newly chosen metric)."""
        if self.custom is None or self.custom_busy or self.app.paused:
            return
        self.custom_busy = True
        known = {k: self.custom_last.get(k) for k in self.custom_keys}
        self._read_custom(self.custom_gen, self.run_id, known, self.buckets)

    @work(thread=True, group="custom-chart", exit_on_error=False)
    def _read_custom(self, gen: int, run_id: str, known: dict[str, int | None], buckets: int) -> None:
        got: dict[str, tuple[Series, bool]] = {}
        try:
            with Reader(self.app.store_root) as r:
                got = read_custom(r, run_id, known, buckets)
        except (sqlite3.Error, OSError, StoreError):  # busy or broken: the next poll tries again
            got, gen = {}, -1
        except BaseException:
            self.app.call_from_thread(self._custom_read, -1, {})  # not busy now
            raise
        self.app.call_from_thread(self._custom_read, gen, got)

    def _custom_read(self, gen: int, got: dict[str, tuple[Series, bool]]) -> None:
        self.custom_busy = False
        chart = self.custom
        if chart is None or gen != self.custom_gen:
            if chart is not None and gen != -1:
                self.poll_custom()  # the metrics changed while this read ran: read the new ones now
            return
        for key, (s, fresh) in got.items():
            if fresh:
                chart.set_series(key, s)
            elif s.x or s.special:
                chart.append(key, s)
            self.custom_last[key] = max(self.custom_last.get(key, -1), s.last_step)
            if len(chart.series[key].x) > 2 * MAX_POINTS:
                self.custom_last.pop(key, None)  # re-sample from the store on the next read
        self.custom_reads += 1
        self.update_readout()
