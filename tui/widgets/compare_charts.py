"""CompareCharts: every metric (or system metric) of several runs overlaid in a ChartGrid, one colour per
run, with the chart controls and grouping (mean line with a min-max band per group). What it reads:
tui/chart_data.py read_compare, through the app's live-data layer (tui/live.py): again every
max(2 s, 2 intervals) while a run is running, and one-off loads of x-axis bases."""

from __future__ import annotations

from typing import Any

from tracktui.store import Reader

from ..chart_data import BUCKETS, read_basis, read_compare
from ..live import Feed, Live
from ..messages import CompareRead
from ..text import safe_text
from .chart import Chart
from .chart_grid import ChartGrid


class CompareCharts(ChartGrid):
    """Metrics of several runs overlaid (system=True: their system metrics against time)."""

    DEFAULT_CSS = """
    CompareCharts Grid { grid-rows: 14; }
    CompareCharts Chart { height: 14; }
    """

    def __init__(self, live: Live, run_ids: list[str], labels: dict[str, str], colors: dict[str, str],
                 system: bool = False, **kwargs: Any):
        super().__init__(empty="reading…", **kwargs)
        self.live = live
        self.run_ids = run_ids
        self.labels = labels
        self.run_colors = colors
        self.system = system
        self.groups: list[tuple[str, str, list[str]]] = []
        self.loaded = False
        self.bases_loaded = 0
        if system:
            self.opts.x_mode = "relative"
        run_ids_now, sys_now = list(run_ids), system
        self.feed = live.feed(self, lambda r, c: (read_compare(r, run_ids_now, sys_now), c),
                              name="compare-system" if system else "compare-charts",
                              interval=max(2.0, 2 * live.interval) if live.interval else None)
        self.basis_load: Feed | None = None

    def on_mount(self) -> None:  # ChartGrid's on_mount runs too (Textual calls each class's handler)
        self.feed.start()

    def reload(self) -> None:
        """Read every run's series again now."""
        if self.feed.stopped:
            self.feed.start()
        else:
            self.feed.poll_now()

    def on_feed_updated(self, message: Feed.Updated) -> None:
        """Series or an x basis arrived."""
        message.stop()
        self.failed = None
        if message.feed is self.feed:
            self.compare_read(message.data)
        elif message.feed is self.basis_load:
            self.bases_loaded_for(*message.data)
        self.update_readout()

    def on_feed_failed(self, message: Feed.Failed) -> None:
        """A read failed: say so in the status line (the layer tries again)."""
        message.stop()
        self.failed = f"{safe_text(message.error, limit=70)}, retrying in {message.retry_in:g} s"
        self.update_readout()

    def compare_read(self, message: CompareRead) -> None:
        """Build or update one chart per metric, one series per run; read again only while a run runs."""
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
        if not any(self.running()):
            self.feed.stop()

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
        if self.basis_load is not None:
            self.basis_load.stop()
        run_ids = list(self.run_ids)

        def load(r: Reader) -> tuple[str, dict[str, tuple[list[float], list[float]] | None]]:
            return mode, {rid: read_basis(r, rid, mode, buckets=2 * BUCKETS) for rid in run_ids}

        self.basis_load = self.live.load(self, load, name="compare-basis")
        return True

    def action_x_axis(self) -> None:
        """Cycle the x-axis (system charts: relative or wall time)."""
        if self.system:
            self.set_x_mode("wall" if self.opts.x_mode == "relative" else "relative")
        else:
            super().action_x_axis()

    def bases_loaded_for(self, mode: str, got: dict[str, tuple[list[float], list[float]] | None]) -> None:
        """Each run's x basis for a time or metric x-axis arrived: draw against them."""
        if mode != self.opts.x_mode:
            return
        for rid, b in got.items():
            if b is not None:
                self.opts.bases[rid] = b
        self.bases_loaded += 1
        self.redraw()
