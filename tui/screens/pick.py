"""PickScreen: choose one of a list (the x-axis metric, the group-by key)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ..text import safe_text


class PickScreen(ModalScreen[str | None]):
    """A modal list; dismisses with the chosen value, or None on escape."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    PickScreen { align: center middle; }
    PickScreen > Vertical { width: 60; max-width: 100%; height: auto; max-height: 80%;
                            border: round $accent; background: $surface; }
    PickScreen OptionList { height: auto; max-height: 30; }
    """

    def __init__(self, title: str, values: list[str], labels: list[str] | None = None):
        super().__init__()
        self.title_text = title
        self.values = values
        self.labels = labels or values

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f" {self.title_text}", style="bold"))
            yield OptionList(*[Option(Text(safe_text(lbl, limit=56)), id=str(i))
                               for i, lbl in enumerate(self.labels)])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Chosen."""
        self.dismiss(self.values[int(event.option.id or 0)])

    def action_cancel(self) -> None:
        """Nothing chosen."""
        self.dismiss(None)
