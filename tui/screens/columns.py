"""ColumnPicker: a modal list of every column, the shown ones ticked."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static
from textual.widgets.selection_list import Selection

from ..text import safe_text
from ..widgets.footer import KeysFooter


class ColumnPicker(ModalScreen[list[str] | None]):
    """Tick the columns to show; enter applies, escape cancels."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("enter", "apply", "Apply", priority=True),
    ]

    DEFAULT_CSS = """
    ColumnPicker { align: center middle; }
    ColumnPicker > Vertical { width: 60; max-width: 100%; height: 80%; border: round $accent;
                              background: $surface; }
    ColumnPicker SelectionList { height: 1fr; }
    """

    def __init__(self, choices: list[str], shown: list[str]):
        super().__init__()
        self.choices = choices
        self.shown = shown

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(" Columns: space ticks, enter applies, escape cancels", style="bold"))
            yield SelectionList[str](
                *(Selection(Text(safe_text(c, limit=80)), c, c in self.shown) for c in self.choices)
            )
        yield KeysFooter()

    def action_apply(self) -> None:
        """Close with the ticked columns, in the order offered."""
        ticked = set(self.query_one(SelectionList).selected)
        self.dismiss([c for c in self.choices if c in ticked])

    def action_cancel(self) -> None:
        """Close without a change."""
        self.dismiss(None)
