"""RunsScreen: the home screen, a live table of the store's runs with a filter line."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static
from tracktui.store import Reader, RunRecord

from .. import prefs
from ..live import Feed, Live
from ..messages import RunsPolled
from ..query import QueryError, parse
from ..text import safe_text
from ..widgets.footer import KeysFooter
from ..widgets.runs_table import RunsTable, all_columns, default_columns

if TYPE_CHECKING:
    from ..app import TrackTuiApp

FIRST_PAGE = 200  # newest runs painted first, while the whole store loads
RECHECK_RUNNING = 5.0  # seconds between re-reads of running runs (crashed is derived from a stale heartbeat)

EMPTY_HELP = """No runs here yet.

Log a first run from Python:

    import tracktui
    run = tracktui.init(project="demo", config={"lr": 1e-3})
    for step in range(100):
        run.log({"train/loss": 1 / (step + 1)})
    run.finish()

or start a simulated one with:  tracktui demo
"""


class RunsScreen(Screen[None]):
    """The runs of the store: sort, filter, select, open."""

    app: TrackTuiApp
    AUTO_FOCUS = "#runs"

    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("o", "columns", "Columns"),
        Binding("c", "compare", "Compare", tooltip="compare the selected runs (or the cursor run and the selected)"),
        Binding("F", "search_runs", "Find in all runs", show=False,
                tooltip="search every run's console lines, names, notes and tags"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self, live: Live) -> None:
        super().__init__()
        self.live = live
        self.feed = live.feed(self, self._read, name="runs", cursor=0)
        self.loaded = False
        self._last_recheck = 0.0
        self._running_ids: frozenset[str] = frozenset()  # ids of running runs (re-read now and then)
        self._status_shown: tuple[str, list[Any]] | None = None
        self._columns_chosen = False
        self.error: str | None = None
        self.snapshot: str | None = None  # why the store is read as a frozen snapshot (None: live)
        self.first_paint_at: float | None = None  # perf_counter() when runs were first on screen (bench)

    def compose(self) -> ComposeResult:
        yield Static(id="status")
        with Vertical(id="filter-bar"):
            yield Input(placeholder="filter: words, state=running config.lr<1e-3 summary.val/acc>0.9",
                        id="filter")
            yield Static(id="filter-error")
        yield RunsTable(id="runs")
        yield Static(Text(EMPTY_HELP), id="empty")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one(RunsTable)
        table.now = self.live.fixed_now
        saved = prefs.load(self.live.store_root).get("columns")
        if isinstance(saved, list) and all(isinstance(c, str) for c in saved) and saved:
            self._columns_chosen = True
            table.shown_columns = [c for c in saved if c != "sel"]
        table.rebuild(columns=True)
        self.query_one("#filter-bar").display = False
        self.query_one("#empty").display = False
        self.update_status()
        self.feed.start()

    # ---------------------------------------------------------------- live data

    def _read(self, r: Reader, cursor: int) -> tuple[tuple[list[RunRecord], int, str | None], int]:
        """(worker thread) Runs changed since `cursor`, running runs re-read every RECHECK_RUNNING s."""
        first = not self.feed.loaded
        top = r.max_rev()
        snapshot = r.snapshot
        if first and top > FIRST_PAGE:
            head = r.runs(project=self.live.project, limit=FIRST_PAGE)
            painted = threading.Event()
            self.post_message(RunsPolled(head, 0, first=True, partial=True, painted=painted))
            painted.wait(timeout=2.0)  # decoding the rest holds the GIL: let the first page paint
        runs = r.runs(project=self.live.project, since_rev=cursor) if top > cursor or first else []
        now = time.monotonic()
        if not first and now - self._last_recheck >= RECHECK_RUNNING:
            self._last_recheck = now
            got = {x.id for x in runs}
            for rid in self._running_ids:
                if rid not in got:
                    rec = r.run(rid)
                    if rec is not None:
                        runs.append(rec)
        return (runs, top, snapshot), max(top, cursor)

    def on_runs_polled(self, message: RunsPolled) -> None:
        """The first page of a big store, painted while the rest loads."""
        table = self.query_one(RunsTable)
        table.model = {r.id: r for r in message.runs}
        if not self._columns_chosen and table.model:
            self._columns_chosen = True
            table.shown_columns = default_columns(table.model.values())
        table.rebuild(columns=True)
        self.update_status()
        self.call_after_refresh(self._painted, message.painted)

    def on_feed_failed(self, message: Feed.Failed) -> None:
        """Say the store cannot be read (the layer tries again)."""
        self.error = message.text
        self.update_status()

    def on_feed_updated(self, message: Feed.Updated) -> None:
        """Merge the read runs into the table."""
        runs, _top, snapshot = message.data
        table = self.query_one(RunsTable)
        self.error = None
        if snapshot != self.snapshot:
            self.snapshot = snapshot
            if snapshot:
                self.app.notify(safe_text(snapshot), title="read-only store", severity="warning", timeout=12,
                                markup=False)
        if message.first or not self.loaded:
            self.loaded = True
            for r in runs:
                table.model[r.id] = r
            if not self._columns_chosen and table.model:
                self._columns_chosen = True
                table.shown_columns = default_columns(table.model.values())
            table.rebuild(columns=True)
        elif runs:
            if not self._columns_chosen:
                self._columns_chosen = True
                table.model.update({r.id: r for r in runs})
                table.shown_columns = default_columns(table.model.values())
                table.rebuild(columns=True)
            else:
                table.merge(runs)
        else:
            table.tick()
        self._running_ids = frozenset(rid for rid, r in table.model.items() if r.state == "running")
        self.update_status()
        if self.first_paint_at is None:
            self.call_after_refresh(self._painted, None)

    def on_screen_resume(self) -> None:
        self.live.wake()

    def _painted(self, event: threading.Event | None) -> None:
        if self.first_paint_at is None:
            self.first_paint_at = time.perf_counter()
        if event is not None:
            event.set()

    # ---------------------------------------------------------------- view

    def update_status(self) -> None:
        """The top line: store, counts, live or paused; the empty-state text."""
        table = self.query_one(RunsTable)
        n_running = table.state_counts.get("running", 0)
        n_crashed = table.state_counts.get("crashed", 0)
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(" tracktui ", style="bold reverse")
        t.append(f"  {len(table.model)} runs")
        if n_running:
            t.append(f" · {n_running} running", style="dodger_blue1")
        if n_crashed:
            t.append(f" · {n_crashed} crashed", style="magenta")
        if table.selected:
            t.append(f" · {len(table.selected)} selected", style="bold")
        if table.query_filter is not None and table.query_filter.text.strip():
            t.append(f"   ({len(table.order)} of {len(table.model)} match)", style="bold")
        if table.hidden_left or table.hidden_right:
            off = table.hidden_left + table.hidden_right
            arrows = ("←" if table.hidden_left else "") + ("→" if table.hidden_right else "")
            t.append(f"   {off} column{'s' if off > 1 else ''} off screen ({arrows})", style="bold")
        if self.error:
            t.append(f"   ⚠ {safe_text(self.error, limit=160)}", style="bold red")
        elif not self.loaded:
            t.append("   loading…", style="yellow")
        paused = self.live.paused
        if self.snapshot and not paused:
            t.append("   read-only snapshot", style="yellow")
        else:
            t.append("   paused" if paused else "   live", style="yellow" if paused else "green")
        if self.live.project:
            t.append(f"   project: {safe_text(self.live.project)}")
        t.append(f"   store: {safe_text(self.app.store_label)}", style="dim")
        if (t.plain, t.spans) != self._status_shown:  # an unchanged line is not laid out again each poll
            self._status_shown = (t.plain, list(t.spans))
            self.query_one("#status", Static).update(t)
        empty = self.loaded and not table.model
        self.query_one("#empty").display = empty
        table.display = not empty

    def on_runs_table_columns_shifted(self, message: RunsTable.ColumnsShifted) -> None:
        """Say which columns are off screen."""
        self.update_status()

    def on_runs_table_selection_changed(self, message: RunsTable.SelectionChanged) -> None:
        """Show the selection count."""
        self.update_status()

    # ---------------------------------------------------------------- filter

    def action_filter(self) -> None:
        """Show the filter line and focus it."""
        self.query_one("#filter-bar").display = True
        self.query_one("#filter", Input).focus()

    def action_clear_filter(self) -> None:
        """Escape: leave the filter line, or clear the filter."""
        inp = self.query_one("#filter", Input)
        if inp.has_focus:
            self.query_one(RunsTable).focus()
            if not inp.value.strip():
                self.query_one("#filter-bar").display = False
            return
        if inp.value:
            inp.value = ""
        self.query_one("#filter-bar").display = False

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        """Apply the query as it is typed; a malformed one shows its error and keeps the last good view."""
        err = self.query_one("#filter-error", Static)
        try:
            q = parse(event.value)
        except QueryError as e:
            err.update(Text(f"  ✗ {safe_text(str(e))}", style="bold red"))
            err.display = True
            return
        err.update("")
        err.display = False
        table = self.query_one(RunsTable)
        table.set_filter(q if event.value.strip() else None)
        self.update_status()

    @on(Input.Submitted, "#filter")
    def filter_submitted(self) -> None:
        """Enter in the filter line goes back to the table."""
        self.query_one(RunsTable).focus()

    # ---------------------------------------------------------------- open, columns

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row opens the run."""
        event.stop()
        self.action_open_run()

    def action_search_runs(self) -> None:
        """Search across runs (tui/screens/search.py)."""
        from .search import SearchScreen

        self.app.push_screen(SearchScreen(self.app.project))

    def action_open_run(self) -> None:
        """Open the run under the cursor."""
        table = self.query_one(RunsTable)
        rid = table.cursor_run_id()
        if rid is not None:
            self.app.open_run(rid)

    def action_compare(self) -> None:
        """Compare the selected runs, with the cursor run first when it is not among them."""
        from .compare import CompareScreen

        table = self.query_one(RunsTable)
        rid = table.cursor_run_id()
        ids = [r for r in table.order if r in table.selected]
        if rid is not None and rid not in table.selected:
            ids.insert(0, rid)
        if ids:
            self.app.push_screen(CompareScreen(self.live, ids))

    def action_columns(self) -> None:
        """Pick the columns (remembered for this store)."""
        from .columns import ColumnPicker

        table = self.query_one(RunsTable)
        choices = all_columns(table.model.values())
        for c in table.shown_columns:
            if c not in choices:
                choices.append(c)

        def chosen(cols: list[str] | None) -> None:
            if cols is None:
                return
            shown = table.shown_columns
            order = [c for c in shown if c in cols] + [c for c in cols if c not in shown]
            self._columns_chosen = True
            table.set_columns(order)
            prefs.save(self.live.store_root, columns=order)

        self.app.push_screen(ColumnPicker(choices, table.shown_columns), chosen)
