"""ChartScreen: one metric of a run on the whole screen, live, sampled to the screen's width."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from ..text import safe_text
from ..widgets.charts_panel import ChartsPanel
from ..widgets.footer import KeysFooter


class ChartScreen(Screen[None]):
    """A full-screen chart (its own panel and poll, so points keep arriving)."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    DEFAULT_CSS = """
    ChartScreen #chart-title { height: 1; background: $panel; }
    """

    def __init__(self, run_id: str, key: str):
        super().__init__()
        self.run_id = run_id
        self.key = key

    def compose(self) -> ComposeResult:
        yield Static(Text(f" {safe_text(self.key, limit=100)}", style="bold"), id="chart-title")
        yield ChartsPanel(self.run_id, only=self.key, classes="full")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(ChartsPanel).focus()
