"""PickManyScreen: choose several of a list (the metrics of a custom chart, what is drawn on images)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static

from ..text import safe_text


class PickManyScreen(ModalScreen[list[str] | None]):
    """A modal multi-select list: space toggles, enter dismisses with the chosen values (in list order),
    escape with None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("enter", "confirm", "Confirm", priority=True),  # before the list's own enter (a toggle)
    ]

    DEFAULT_CSS = """
    PickManyScreen { align: center middle; }
    PickManyScreen > Vertical { width: 64; max-width: 100%; height: auto; max-height: 80%;
                                border: round $accent; background: $surface; }
    PickManyScreen SelectionList { height: auto; max-height: 30; }
    PickManyScreen #pick-hint { color: $text-muted; }
    """

    def __init__(self, title: str, values: list[str], selected: list[str] | None = None,
                 hint: str = " space select · enter confirm (none: remove) · escape cancel"):
        super().__init__()
        self.title_text = title
        self.hint = hint
        self.values = values
        self.selected = set(selected or [])

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f" {self.title_text}", style="bold"))
            yield SelectionList[int](*[(Text(safe_text(v, limit=56)), i, v in self.selected)
                                       for i, v in enumerate(self.values)])
            yield Static(Text(self.hint), id="pick-hint")

    def chosen(self) -> list[str]:
        """The selected values, in list order."""
        picked = set(self.query_one(SelectionList).selected)
        return [v for i, v in enumerate(self.values) if i in picked]

    def action_confirm(self) -> None:
        """Done: the selected values (possibly none)."""
        self.dismiss(self.chosen())

    def action_cancel(self) -> None:
        """Nothing changes."""
        self.dismiss(None)
