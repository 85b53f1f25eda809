"""CompareCharts: every metric (or system metric) of several runs overlaid in a ChartGrid, one colour per
run, with the chart controls and grouping (mean line with a min-max band per group). What it reads:
tui/chart_data.py read_compare."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work
from tracktui.store import Reader

from ..chart_data import BUCKETS, read_basis, read_compare
from ..messages import CompareRead
from .chart import Chart
from .chart_grid import ChartGrid

if TYPE_CHECKING:
    from ..app import TrackTuiApp


class CompareCharts(ChartGrid):
    """Metrics of several runs overlaid (system=True: their system metrics against time)."""

    app: TrackTuiApp

    DEFAULT_CSS = """
    CompareCharts Grid { grid-rows: 14; }
    CompareCharts Chart { height: 14; }
    """

    def __init__(self, run_ids: list[str], labels: dict[str, str], colors: dict[str, str], system: bool = False,
                 **kwargs: Any):
        super().__init__(empty="reading…", **kwargs)
        self.run_ids = run_ids
        self.labels = labels
        self.run_colors = colors
        self.system = system
        self.groups: list[tuple[str, str, list[str]]] = []
        self.loaded = False
        self.bases_loaded = 0
        if system:
            self.opts.x_mode = "relative"

    def on_mount(self) -> None:  # ChartGrid's on_mount runs too (Textual calls each class's handler)
        self.reload()

    def reload(self) -> None:
        """Read every run's series again (unless live updates are paused: then on resume)."""
        if self.app.paused:
            self.app.waiting_polls.add(self.reload)
            return
        self._read(list(self.run_ids), self.system)

    @work(thread=True, exclusive=True, group="compare-read", exit_on_error=False)
    def _read(self, run_ids: list[str], system: bool) -> None:
        with Reader(self.app.store_root) as r:
            msg = read_compare(r, run_ids, system)
        self.post_message(msg)

    def on_compare_read(self, message: CompareRead) -> None:
        """Build or update one chart per metric, one series per run."""
        message.stop()
        if not self.is_attached:
            return
        self.opts.t0.update(message.t0)
        for key, per_run in message.series.items():
            chart = self.charts.get(key) or self.add_chart(key)
            chart.series = {rid: per_run[rid] for rid in self.run_ids if rid in per_run}
            chart.labels = {rid: self.labels.get(rid, rid) for rid in chart.series}
            chart.run_colors = {rid: self.run_colors[rid] for rid in chart.series}
            chart.run_of = {rid: rid for rid in chart.series}
            chart.default_bases = message.default_bases.get(key, {})
            chart.x_label = message.step_metrics.get(key, "time" if self.system else "step")
            chart.groups = self.groups
            chart.invalidate()
        self.show_empty("no metrics logged" if not self.system else "no system metrics recorded")
        self.loaded = True
        self.apply_visibility()
        if self.app.poll_interval and any(self.running()):
            self.set_timer(max(2.0, self.app.poll_interval * 2), self.reload)

    def running(self) -> list[str]:
        """Runs still running (the screen re-reads while any is)."""
        states = getattr(self.screen, "states", {})
        return [rid for rid in self.run_ids if states.get(rid) == "running"]

    def add_chart(self, key: str, x_label: str = "step") -> Chart:
        """A chart of one metric of every run."""
        chart = super().add_chart(key, x_label)
        chart.time_axis = self.system
        return chart

    def set_labels(self, labels: dict[str, str]) -> None:
        """The runs' names arrived: the legends use them."""
        self.labels = labels
        for c in self.charts.values():
            c.labels = {rid: labels.get(rid, rid) for rid in c.series}
            c.invalidate()

    def set_groups(self, groups: list[tuple[str, str, list[str]]]) -> None:
        """Draw groups (label, colour, run ids) as a mean line with a min-max band; [] draws every run."""
        self.groups = groups
        for c in self.charts.values():
            c.groups = groups
        self.redraw()

    def x_changed(self, old: str) -> bool:
        """Time and metric x-axes need each run's basis (read once, downsampled)."""
        mode = self.opts.x_mode
        if self.system or mode in ("default", "step"):
            return False
        self._load_bases(mode, list(self.run_ids))
        return True

    def action_x_axis(self) -> None:
        """Cycle the x-axis (system charts: relative or wall time)."""
        if self.system:
            self.set_x_mode("wall" if self.opts.x_mode == "relative" else "relative")
        else:
            super().action_x_axis()

    @work(thread=True, exclusive=True, group="compare-basis", exit_on_error=False)
    def _load_bases(self, mode: str, run_ids: list[str]) -> None:
        with Reader(self.app.store_root) as r:
            got = {rid: read_basis(r, rid, mode, buckets=2 * BUCKETS) for rid in run_ids}
        self.app.call_from_thread(self._bases_loaded, mode, got)

    def _bases_loaded(self, mode: str, got: dict[str, tuple[list[float], list[float]] | None]) -> None:
        if mode != self.opts.x_mode:
            return
        for rid, b in got.items():
            if b is not None:
                self.opts.bases[rid] = b
        self.bases_loaded += 1
        self.redraw()
