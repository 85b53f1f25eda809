"""HelpScreen: every key of the screen below it, and what the state glyphs mean."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from ..format import STATE_STYLE, state_text

GLOBAL_KEYS = [
    ("q", "quit (from the runs table)"), ("escape", "back one screen"), ("?", "this help"),
    ("p", "pause or resume live updates"), ("tab", "next pane"), ("ctrl+p", "command palette"),
]


class HelpScreen(ModalScreen[None]):
    """The keys of the screen it was opened from."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 76; max-width: 100%; height: 90%; border: round $accent;
                                  background: $surface; padding: 0 1; }
    """

    def __init__(self, under: Screen[Any]):
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=True, header_style="bold", expand=True)
        table.add_column("key", style="bold cyan", no_wrap=True)
        table.add_column("action")
        seen: set[tuple[str, str]] = set()
        for key, active in self.under.active_bindings.items():
            b = active.binding
            desc = b.tooltip or b.description
            if not desc or not (b.show or type(active.node).__module__.startswith("tracktui")):
                continue
            k = b.key_display or key
            if (k, desc) in seen:
                continue
            seen.add((k, desc))
            table.add_row(Text(k), Text(desc))
        for k, desc in GLOBAL_KEYS:
            if (k, desc) not in seen:
                table.add_row(Text(k), Text(desc))
        states = Table(box=None, show_header=False)
        states.add_column()
        for s in STATE_STYLE:
            states.add_row(state_text(s))
        with VerticalScroll():
            yield Static(Text(f"Keys: {type(self.under).__name__.removesuffix('Screen')}", style="bold"))
            yield Static(table)
            yield Static(Text("\nRun states (glyph, word, colour):", style="bold"))
            yield Static(states)
            yield Static(Text("\nescape or ? closes", style="dim"))

    async def action_dismiss(self, result: Any = None) -> None:
        """Close the help."""
        self.dismiss()
