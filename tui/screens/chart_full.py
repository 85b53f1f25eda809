"""ControlledChartScreen: the full-screen chart of the run view with the chart controls and the run view's
options (x-axis, smoothing, log y, cursor) carried over."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from ..text import safe_text
from ..widgets.controlled_chart import ChartOptions
from ..widgets.footer import KeysFooter
from ..widgets.run_charts import RunChartsPanel
from .chart import ChartScreen


class ControlledChartScreen(ChartScreen):
    """One metric of a run on the whole screen, live, with the chart controls."""

    def __init__(self, run_id: str, key: str, opts: ChartOptions):
        super().__init__(run_id, key)
        self.opts = opts

    def compose(self) -> ComposeResult:
        yield Static(Text(f" {safe_text(self.key, limit=100)}", style="bold"), id="chart-title")
        yield RunChartsPanel(self.run_id, opts=self.opts, only=self.key, classes="full")
        yield KeysFooter()
