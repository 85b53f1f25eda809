"""ChartScreen: one metric of a run on the whole screen, live, with the chart controls and the run view's
chart options (x-axis, smoothing, log y, cursor) shared; enter on a chart of the run view opens it.

answer_pick() is how every screen answers a widget's PickRequested.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from ..messages import ChartFullScreenRequested, PickRequested
from ..text import safe_text
from ..widgets.chart import ChartOptions
from ..widgets.footer import KeysFooter
from ..widgets.run_charts import RunChartsPanel
from .pick import PickScreen
from .pick_many import PickManyScreen

if TYPE_CHECKING:
    from ..app import TrackTuiApp


def answer_pick(screen: Screen[Any], message: PickRequested) -> None:
    """Show the picker a widget asked for; its choice goes to the widget's callback."""
    message.stop()
    if message.many:
        hint = {} if message.hint is None else {"hint": message.hint}
        screen.app.push_screen(PickManyScreen(message.title, message.values, message.chosen, **hint), message.done)
    else:
        screen.app.push_screen(PickScreen(message.title, message.values, message.labels), message.done)


class ChartScreen(Screen[None]):
    """A full-screen chart (its own panel and reads, so points keep arriving)."""

    app: TrackTuiApp

    BINDINGS = [Binding("escape", "back", "Back")]

    DEFAULT_CSS = """
    ChartScreen #chart-title { height: 1; background: $panel; }
    """

    def __init__(self, run_id: str, key: str, opts: ChartOptions | None = None):
        super().__init__()
        self.run_id = run_id
        self.key = key
        self.opts = opts if opts is not None else ChartOptions()

    def compose(self) -> ComposeResult:
        yield Static(Text(f" {safe_text(self.key, limit=100)}", style="bold"), id="chart-title")
        yield RunChartsPanel(self.app.live, self.run_id, opts=self.opts, only=self.key)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(RunChartsPanel).focus()

    def on_pick_requested(self, message: PickRequested) -> None:
        """The x-axis metric picker."""
        answer_pick(self, message)

    def on_chart_full_screen_requested(self, message: ChartFullScreenRequested) -> None:
        """Already full screen."""
        message.stop()

    def action_back(self) -> None:
        """Back to the run view."""
        self.app.pop_screen()
