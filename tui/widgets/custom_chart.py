"""The run view's custom chart: several metrics of one run overlaid (`m` picks them, `M` removes it).

The chart sits in a "custom" section at the top of the charts grid. Its series are read by step (whatever
step metric a metric has), so the metrics share one x; the panel's chart options (x-axis, smoothing, log y,
cursor) apply to it as to every other chart. It lives as long as the panel does: nothing is stored.
"""

from __future__ import annotations

import sqlite3

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.containers import Grid
from textual.content import Content
from textual.widgets import Static
from tracktui.store import Reader, StoreError

from ..messages import Series
from ..text import safe_text
from .charts_panel import read_series
from .controlled_chart import ControlledChart
from .metric_chart import MAX_POINTS

CUSTOM_BINDINGS = [
    Binding("m", "custom_chart", "Custom", show=False,
            tooltip="custom chart: overlay several metrics of this run (space selects, enter confirms)"),
    Binding("M", "remove_custom", "Remove custom", tooltip="remove the custom chart"),
]


CUSTOM_KEY = "custom chart"  # the chart's key: full screen and the cursor read-out name it so


def custom_title(keys: list[str]) -> str:
    """The custom chart's title."""
    return "custom: " + ", ".join(keys)


class CustomChart:
    """Mixin of RunChartsPanel: the custom chart, its picker and its reads."""

    custom: ControlledChart | None
    custom_keys: list[str]

    def init_custom(self) -> None:
        """Set up the custom chart state (call from __init__)."""
        self.custom = None
        self.custom_keys = []
        self.custom_last: dict[str, int] = {}  # metric -> last step read
        self.custom_gen = 0  # bumped on every change of the chosen metrics: older reads are dropped
        self.custom_reads = 0
        self.custom_busy = False  # a read in flight: the next poll skips (appends must not overlap)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`M` only while there is a custom chart (the footer shows it then)."""
        if action == "remove_custom":
            return self.custom is not None
        return True

    def shows(self, key: str) -> bool:
        """The custom chart passes the metric filter when one of its metrics does."""
        if self.custom is not None and key == CUSTOM_KEY and self.full_key is None:  # type: ignore[attr-defined]
            shows = super().shows  # type: ignore[misc]
            return any(shows(k) for k in self.custom_keys)
        return super().shows(key)  # type: ignore[misc]

    def action_custom_chart(self) -> None:
        """Pick the metrics of the custom chart (none: remove it)."""
        from ..screens.pick_many import PickManyScreen

        if self.only:  # type: ignore[attr-defined]
            return
        keys = self.metric_keys()  # type: ignore[attr-defined]
        if not keys:
            self.notify("no metrics logged yet", timeout=2)  # type: ignore[attr-defined]
            return
        self.app.push_screen(  # type: ignore[attr-defined]
            PickManyScreen("custom chart: metrics to overlay", keys, self.custom_keys), self.set_custom)

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
            chart.run_of = {k: self.run_id for k in keys}  # type: ignore[attr-defined]
            chart.invalidate()
            self.poll_custom()
        self.refresh_bindings()  # type: ignore[attr-defined]
        self.call_after_refresh(self.apply_visibility)  # type: ignore[attr-defined]  # once the grid holds it

    def _mount_custom(self) -> ControlledChart:
        chart = ControlledChart(CUSTOM_KEY, self.opts, x_label="step", id="custom-chart")  # type: ignore[attr-defined]
        chart.smoothing, chart.log_y = self.opts.smoothing, self.opts.log_y  # type: ignore[attr-defined]
        header = Static(Text("── custom " + "─" * 80), classes="section", id="head-custom-section")
        grid = Grid(chart, id="custom-section")
        grid.styles.grid_size_columns = self.grid_columns()  # type: ignore[attr-defined]
        self.mount(header, after="#charts-empty")  # type: ignore[attr-defined]
        self.mount(grid, after=header)  # type: ignore[attr-defined]
        self.custom = chart
        return chart

    def _drop_custom(self) -> None:
        if self.custom is None:
            return
        if self.full_key == self.custom.key:  # type: ignore[attr-defined]
            self.full_key = None
        for node in self.query("#head-custom-section, #custom-section"):  # type: ignore[attr-defined]
            node.remove()
        self.custom = None

    def poll_custom(self) -> None:
        """Read the custom chart's new points (a fresh downsampled read for a newly chosen metric)."""
        if self.custom is None or self.custom_busy or self.app.paused:  # type: ignore[attr-defined]
            return
        self.custom_busy = True
        known = {k: self.custom_last.get(k) for k in self.custom_keys}
        self._read_custom(self.custom_gen, self.run_id, known, self.buckets)  # type: ignore[attr-defined]

    @work(thread=True, group="custom-chart", exit_on_error=False)
    def _read_custom(self, gen: int, run_id: str, known: dict[str, int | None], buckets: int) -> None:
        got: dict[str, tuple[Series, bool]] = {}
        try:
            with Reader(self.app.store_root) as r:  # type: ignore[attr-defined]
                for key, since in known.items():
                    s = read_series(r, run_id, key, None, buckets, since)
                    if s is not None:
                        got[key] = s
        except (sqlite3.Error, OSError, StoreError):  # busy or broken: the next poll tries again
            got, gen = {}, -1
        except BaseException:
            self.app.call_from_thread(self._custom_read, -1, {})  # type: ignore[attr-defined]  # not busy now
            raise
        self.app.call_from_thread(self._custom_read, gen, got)  # type: ignore[attr-defined]

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
        self.update_readout()  # type: ignore[attr-defined]
