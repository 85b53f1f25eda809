"""RunChartsPanel: the run view's ChartsPanel with the chart controls (tui/widgets/controlled_chart.py)."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.containers import Grid
from tracktui.store import Reader

from .charts_panel import ChartsPanel, chart_id, section_grid
from .controlled_chart import (
    CONTROL_BINDINGS,
    ESCAPE_BINDING,
    ChartControls,
    ChartOptions,
    ControlledChart,
    filter_box,
    status_line,
)
from .custom_chart import CUSTOM_BINDINGS, CustomChart


def read_basis(r: Reader, run_id: str, mode: str, buckets: int = 512) -> tuple[list[float], list[float]] | None:
    """A run's step -> x basis for an x mode: sampled step times, or a metric's downsampled values."""
    if mode in ("wall", "relative"):
        steps, times = r.step_times_sampled(run_id, points=buckets)
        return [float(s) for s in steps], times
    if mode.startswith("metric:"):
        s = r.sampled(run_id, mode[len("metric:"):], buckets=buckets)
        return [float(a + b) / 2 for a, b in zip(s.first_step, s.last_step, strict=True)], list(s.mean)
    return None


class RunChartsPanel(CustomChart, ChartControls, ChartsPanel):
    """Every metric of one run, with x-axis, smoothing, log y, full screen, filter, columns and cursor;
    `m` adds a custom chart of several of them (tui/widgets/custom_chart.py)."""

    BINDINGS = [*CONTROL_BINDINGS, ESCAPE_BINDING, *CUSTOM_BINDINGS]

    DEFAULT_CSS = """
    RunChartsPanel #chart-status { dock: bottom; height: 1; background: $panel; }
    RunChartsPanel #metric-filter { dock: bottom; }
    """

    def __init__(self, run_id: str, opts: ChartOptions | None = None, **kwargs: Any):
        super().__init__(run_id, **kwargs)
        self.init_controls()
        self.init_custom()
        if opts is not None:  # the full-screen chart shares the run view's options
            self.opts = opts
            self.smoothing, self.log_y = opts.smoothing, opts.log_y
            self.x_mode = "auto" if opts.x_mode == "default" else "step"
        self.bases_loaded = 0

    def compose(self) -> Any:
        yield from super().compose()
        yield status_line()
        yield filter_box()

    # Textual calls the handler of every class in the MRO: these run before ChartsPanel's own, not instead.
    def on_mount(self) -> None:
        self.update_readout()

    def on_resize(self) -> None:
        self.call_after_refresh(self.apply_visibility)  # after ChartsPanel's handler sets its columns

    @property
    def columns(self) -> int:
        """Charts per grid row: one on the full-screen chart's screen, else as chosen or as many as fit."""
        return 1 if self.only else self.grid_columns()

    def apply_visibility(self) -> None:
        """As the mixin's, except on the full-screen chart's screen, where the one chart fills the height."""
        if self.only:
            for grid in self.query(Grid):
                grid.styles.grid_size_columns = 1
                grid.styles.grid_rows = str(max(12, self.size.height - 1))
            self.update_readout()
            return
        super().apply_visibility()

    def action_full_screen(self) -> None:
        """The focused chart (or the first shown) on a screen of its own, live, with these chart options."""
        from ..screens.chart_full import ControlledChartScreen

        if self.only:
            return
        chart = self.focused_chart()
        if self.full_key is not None or (chart is not None and chart is self.custom):
            ChartControls.action_full_screen(self)  # the custom chart fills this panel (enter/escape: back)
        elif chart is not None:
            self.app.push_screen(ControlledChartScreen(self.run_id, chart.key, self.opts))

    def control_charts(self) -> list[ControlledChart]:
        """The run's charts (the custom chart first)."""
        custom = [self.custom] if self.custom is not None else []
        return custom + [c for c in self.charts.values() if isinstance(c, ControlledChart)]

    def metric_keys(self) -> list[str]:
        """Every logged metric of the run."""
        return sorted(self.charts)

    def _add_chart(self, key: str, x_label: str) -> ControlledChart:
        grid, _ = section_grid(self, key, before="#chart-status")
        chart = ControlledChart(key, self.opts, x_label=x_label, id=chart_id(key))
        chart.run_of[key] = self.run_id
        chart.smoothing, chart.log_y = self.opts.smoothing, self.opts.log_y
        chart.display = self.shows(key)
        grid.mount(chart)
        self.charts[key] = chart
        self.apply_columns()
        return chart

    def x_changed(self, old: str) -> bool:
        """Default mode reads each metric against its step metric; every other mode reads steps and maps
        them at draw time (time and metric bases are read once, downsampled)."""
        new = self.opts.x_mode
        parent_mode = "auto" if new == "default" else "step"
        if parent_mode != self.x_mode:
            self.x_mode = parent_mode
            self.last_steps.clear()
            if not self.app.poll_interval:
                self.poll()
        if new not in ("default", "step"):
            self._load_basis(new)
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
        self._redraw()

    def on_metrics_polled(self, message: Any) -> None:
        """Refresh the read-out (ChartsPanel's handler, called after this one, adds the points); read the
        custom chart's new points."""
        self.update_readout()
        self.poll_custom()
