"""SearchScreen: search every run's console lines, names, notes and tags; enter opens the match.

Opened with `F` (find) from the runs table. Type a pattern and press enter; the matches (at most LIMIT)
list run, stream, line number, time and text. Enter on a console line opens that run's Logs tab at that
line; on a name, notes or tags match, the run's Overview. What matches is store.search's rule.
"""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static
from tracktui.store import Reader, StoreError
from tracktui.store.search import Match, search

from ..text import safe_text

if TYPE_CHECKING:
    from ..app import TrackTuiApp

LIMIT = 1000


class SearchDone(Message):
    """The matches of one search (error: why it failed)."""

    def __init__(self, pattern: str, matches: list[Match], error: str | None, seconds: float):
        super().__init__()
        self.pattern = pattern
        self.matches = matches
        self.error = error
        self.seconds = seconds


class SearchScreen(Screen[None]):
    """Search across runs."""

    app: TrackTuiApp

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "edit", "Edit search", key_display="/"),
    ]

    DEFAULT_CSS = """
    SearchScreen #search-input { height: 3; }
    SearchScreen #search-status { height: 1; background: $panel; }
    SearchScreen DataTable { height: 1fr; }
    """

    def __init__(self, project: str | None = None):
        super().__init__()
        self.project = project
        self.matches: list[Match] = []

    def compose(self) -> ComposeResult:
        yield Input(placeholder="search every run's console, names, notes and tags (enter searches)",
                    id="search-input")
        yield Static(Text(" type a pattern, enter searches; enter on a match opens it; escape goes back"),
                     id="search-status")
        table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True)
        yield table

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("run", "where", "time", "text")
        self.query_one("#search-input", Input).focus()

    @on(Input.Submitted, "#search-input")
    def submitted(self, event: Input.Submitted) -> None:
        """Run the search in a thread."""
        pattern = event.value
        if not pattern.strip():
            return
        self.query_one("#search-status", Static).update(Text(f" searching for {safe_text(pattern, limit=60)}…"))
        self._search(pattern)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search(self, pattern: str) -> None:
        t = time.perf_counter()
        matches: list[Match] = []
        error = None
        try:
            with Reader(self.app.store_root) as r:
                matches = list(search(r, pattern, project=self.project, limit=LIMIT))
        except (sqlite3.Error, OSError, StoreError, ValueError) as e:
            error = safe_text(str(e), limit=200)
        self.post_message(SearchDone(pattern, matches, error, time.perf_counter() - t))

    def on_search_done(self, message: SearchDone) -> None:
        """Show the matches."""
        self.matches = message.matches
        table = self.query_one(DataTable)
        table.clear()
        fixed = self.app.fixed_now is not None
        for i, m in enumerate(message.matches):
            ts = time.gmtime(m.ts) if fixed else time.localtime(m.ts)
            where = f"{m.stream} #{m.seq}" if m.seq is not None else m.stream
            table.add_row(Text(safe_text(m.run_name, limit=30)), Text(safe_text(where, limit=16)),
                          Text(time.strftime("%Y-%m-%d %H:%M:%S", ts)), Text(safe_text(m.text, limit=300)),
                          key=str(i))
        status = Text(f" {len(message.matches)}{'+' if len(message.matches) >= LIMIT else ''} matches for "
                      f"{safe_text(message.pattern, limit=60)}")
        if message.error:
            status = Text(f" search failed: {message.error}", style="bold red")
        self.query_one("#search-status", Static).update(status)
        if message.matches:
            table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Open the match: a console line in the run's Logs tab at that line, else the run's Overview."""
        m = self.matches[int(event.row_key.value or 0)]
        if m.seq is not None:
            self.app.open_run(m.run_id, tab="logs", at_seq=m.seq)
        else:
            self.app.open_run(m.run_id, tab="overview")

    def action_edit(self) -> None:
        """Back to the search line."""
        self.query_one("#search-input", Input).focus()

    def action_back(self) -> None:
        """Back to the runs table."""
        self.app.pop_screen()
