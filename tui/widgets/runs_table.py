"""RunsTable: the runs as a DataTable; sorting, filtering, selection and in-place live updates.

The table keeps a model (run id -> RunRecord) and shows a filtered, sorted view of it. Every cell is a
rich Text built from safe_text, so nothing from the store is read as markup or reaches the terminal raw.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, DuplicateKey, Row, RowDoesNotExist, RowKey
from tracktui.store import RunRecord

from ..format import age, duration, flatten, scalar, state_text, value_text
from ..query import Query
from ..text import safe_text

BASE_COLUMNS = ("state", "name", "project", "group", "tags", "created", "runtime", "host")
DEFAULT_BASE = ("state", "name", "project", "group", "created", "runtime")
LABELS = {"sel": " ", "state": "st", "name": "name", "project": "project", "group": "group", "tags": "tags",
          "created": "created", "runtime": "runtime", "host": "host"}
WIDTH_CAP = {"name": 28, "tags": 20, "project": 16, "group": 14, "host": 16}
WIDTH_SAMPLE = 200  # rows of the view that size the columns
SELECT_MARK = Text("*", style="bold reverse")
_TEXT_SORT = ("state", "name", "project", "group", "tags", "host")


def column_label(col: str) -> str:
    """The header text of a column id: base names as they are, config./summary. keys without the prefix."""
    if col in LABELS:
        return LABELS[col]
    return safe_text(col.partition(".")[2], limit=24)


class LazyCell:
    """A cell whose Text is built when the table first draws it (10,000 rows paint like 50)."""

    __slots__ = ("table", "run", "col", "_text", "_epoch")

    def __init__(self, table: RunsTable, run: RunRecord, col: str):
        self.table = table
        self.run = run
        self.col = col
        self._text: Text | None = None
        self._epoch = table.age_epoch

    def __rich__(self) -> Text:
        if self._text is None or (self.col == "created" and self._epoch != self.table.age_epoch):
            self._text = self.table.cell(self.run, self.col)  # ages move on: built again when drawn
            self._epoch = self.table.age_epoch
        return self._text

    def __str__(self) -> str:
        return str(self.__rich__())


def default_columns(runs: Iterable[RunRecord], n_config: int = 4, n_summary: int = 6) -> list[str]:
    """Base columns, the config keys whose values differ between runs, the most common numeric summaries."""
    runs = list(runs)
    seen: dict[str, set[str]] = {}
    counts: Counter[str] = Counter()
    for r in runs[:2000]:
        for k, v in flatten(r.config).items():
            if isinstance(v, (int, float, str, bool)) or v is None:
                seen.setdefault(k, set()).add(repr(v))
        for k, v in r.summary.items():
            v = scalar(v)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and not k.startswith("_"):
                counts[k] += 1
    differ = [k for k, vals in seen.items() if len(vals) > 1][:n_config]
    common = [k for k, _ in counts.most_common(n_summary)]
    return [*DEFAULT_BASE, *(f"config.{k}" for k in differ), *(f"summary.{k}" for k in sorted(common))]


def all_columns(runs: Iterable[RunRecord]) -> list[str]:
    """Every column the picker offers: base columns, config keys, summary keys."""
    cfg: dict[str, None] = {}
    summ: dict[str, None] = {}
    for r in runs:
        for k in flatten(r.config):
            cfg[k] = None
        for k in r.summary:
            summ[k] = None
    return [*BASE_COLUMNS, *(f"config.{k}" for k in sorted(cfg)), *(f"summary.{k}" for k in sorted(summ))]


def raw_value(run: RunRecord, col: str) -> Any:
    """A run's value in a column, for sorting (None where missing)."""
    if col == "state":
        return run.state
    if col == "tags":
        return ",".join(run.tags) or None
    if col == "created":
        return run.created_at
    if col == "runtime":
        return run.runtime
    if col in ("name", "project", "group", "host"):
        return getattr(run, col)
    src, _, key = col.partition(".")
    data = run.config if src == "config" else run.summary
    if key in data:
        return scalar(data[key])
    if src == "config":
        return scalar(flatten(data).get(key))
    return None


def sort_key(v: Any) -> tuple[int, Any]:
    """Numbers before text, each in order; used with missing/NaN split off beforehand."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return (0, v)
    if isinstance(v, bool):
        return (0, int(v))
    return (1, str(v).lower())


def is_missing(v: Any) -> bool:
    """None and NaN sort last in both directions."""
    return v is None or (isinstance(v, float) and math.isnan(v))


class RunsTable(DataTable[Text]):
    """The runs of the store as a table."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Open"),
        Binding("space", "toggle_select", "Select", key_display="space"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("S", "flip_sort", "Flip sort", show=False),
    ]

    DEFAULT_CSS = """
    RunsTable { height: 1fr; }
    """

    def __init__(self, **kwargs: Any):
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.model: dict[str, RunRecord] = {}
        self.selected: set[str] = set()
        self.query_filter: Query | None = None
        self.sort_col = "created"
        self.sort_desc = True
        self.shown_columns: list[str] = list(DEFAULT_BASE)
        self.order: list[str] = []
        self.state_counts: Counter[str] = Counter()
        self._cells: dict[str, tuple[int, list[LazyCell]]] = {}
        self._cells_key: tuple[Any, ...] | None = None
        self.running: set[str] = set()
        self.now: float | None = None  # a fixed clock for snapshots; None means time.time()
        self.col_offset = 0  # columns after the first ones scrolled off to the left (←/→)
        self.hidden_left = 0
        self.hidden_right = 0
        self.age_epoch = 0  # raised when the "created" ages shown may have changed (tick)

    # ---------------------------------------------------------------- model

    def cell(self, run: RunRecord, col: str) -> Text:
        """The Text of one cell."""
        if col == "sel":
            return SELECT_MARK if run.id in self.selected else Text(" ")
        if col == "state":
            return state_text(run.state)
        if col == "name":
            return Text(safe_text(run.name, limit=WIDTH_CAP["name"]), style="bold")
        if col in ("project", "group", "host"):
            return Text(safe_text(getattr(run, col) or "", limit=WIDTH_CAP[col]))
        if col == "tags":
            return Text(safe_text(",".join(run.tags), limit=WIDTH_CAP["tags"]), style="italic")
        if col == "created":
            return Text(age(run.created_at, self.now))
        if col == "runtime":
            end = run.finished_at
            if end is None and run.state == "running":
                end = self.now if self.now is not None else time.time()
            rt = (end - run.created_at) if end is not None else run.runtime
            return Text(duration(rt), justify="right")
        v = raw_value(run, col)
        if v is None:
            return Text("-", style="dim", justify="right")
        numeric = isinstance(v, (int, float)) and not isinstance(v, bool)
        return Text(value_text(v, limit=16), justify="right" if numeric else "left")

    def row_cells(self, run: RunRecord) -> list[Text]:
        """All cells of a run's row, in column order."""
        return [self.cell(run, c) for c in ("sel", *self.shown_columns)]

    def compute_order(self) -> list[str]:
        """Ids of the runs that pass the filter, in sort order, missing values last."""
        q = self.query_filter
        runs = [r for r in self.model.values() if q is None or q(r)]
        col = self.sort_col
        present: list[tuple[Any, str]] = []
        missing: list[str] = []
        for r in runs:
            v = raw_value(r, col)
            if is_missing(v):
                missing.append(r.id)
            else:
                present.append((sort_key(v), r.id))
        present.sort(key=lambda t: t[0], reverse=self.sort_desc)
        return [rid for _, rid in present] + missing

    # ---------------------------------------------------------------- view

    def cursor_run_id(self) -> str | None:
        """The id of the run under the cursor."""
        if not self.order or self.row_count == 0:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except CellDoesNotExist:
            return None

    def rebuild(self, columns: bool = False) -> None:
        """Show the view again (after a sort, filter or column change), keeping the cursor on its run.

        Column widths are computed here from the first rows of the view (not measured by the table when
        idle), so a first paint is complete and the same every time.
        """
        keep = self.cursor_run_id()
        scroll_y = self.scroll_y
        self.count_states()
        self.order = self.compute_order()
        cells_of = {rid: [LazyCell(self, self.model[rid], "sel"), *self._cells_of(self.model[rid])]
                    for rid in self.order}
        all_cols = ["sel", *self.shown_columns]
        widths = []
        sample = self.order[:WIDTH_SAMPLE]
        for i, col in enumerate(all_cols):
            label = column_label(col) + ((" ▼" if self.sort_desc else " ▲") if col == self.sort_col else "")
            widths.append((label, max([len(label), *(cells_of[rid][i].__rich__().cell_len for rid in sample)])))
        shown = self.fit_columns([w for _, w in widths])
        rows = [([cells_of[rid][i] for i in shown], rid) for rid in self.order]
        self.clear(columns=True)
        for i in shown:
            label, width = widths[i]
            self.add_column(Text(label, style="bold"), key=all_cols[i], width=width)
        self.add_rows_fast(rows)
        if keep is not None and keep in self.model and keep in self.order:
            self.move_cursor(row=self.order.index(keep), animate=False, scroll=False)
            self.scroll_to(y=scroll_y, animate=False, immediate=True)

    def fit_columns(self, widths: list[int]) -> list[int]:
        """Indexes of the columns shown whole in the table's width: the selection mark and the first two
        columns stay, the others start at col_offset (←/→ move it); hidden_left/right count the rest."""
        avail = (self.size.width or self.app.size.width) - 1  # the vertical scrollbar's cell
        pad = 2 * self.cell_padding
        pinned = list(range(min(3, len(widths))))
        rest = list(range(len(pinned), len(widths)))
        used = sum(widths[i] + pad for i in pinned)
        self.col_offset = max(0, min(self.col_offset, len(rest) - 1)) if rest else 0
        shown = list(pinned)
        for i in rest[self.col_offset:]:
            if used + widths[i] + pad > avail:
                break
            shown.append(i)
            used += widths[i] + pad
        self.hidden_left = self.col_offset
        self.hidden_right = len(widths) - len(shown) - self.col_offset
        return shown

    def on_resize(self) -> None:
        """Another width shows more or fewer whole columns."""
        if self.model:
            self.rebuild(columns=True)
            self.post_message(self.ColumnsShifted(self))

    def action_cursor_right(self) -> None:
        """Show the next column on the right (whole columns only)."""
        if self.hidden_right:
            self.col_offset += 1
            self.rebuild(columns=True)
            self.post_message(self.ColumnsShifted(self))

    def action_cursor_left(self) -> None:
        """Show the previous column on the left."""
        if self.col_offset:
            self.col_offset -= 1
            self.rebuild(columns=True)
            self.post_message(self.ColumnsShifted(self))

    def _cells_of(self, run: RunRecord) -> list[LazyCell]:
        """A run's cells after the selection mark, reused across rebuilds while the run, the columns and
        the minute (ages) stay the same; a re-sort of 10,000 runs then allocates almost nothing."""
        key = (tuple(self.shown_columns), int(time.time() // 60) if self.now is None else self.now)
        if key != self._cells_key:
            self._cells.clear()
            self._cells_key = key
        hit = self._cells.get(run.id)
        if hit is not None and hit[0] == run.rev and run.state != "running":
            return hit[1]
        cells = [LazyCell(self, run, c) for c in self.shown_columns]
        self._cells[run.id] = (run.rev, cells)
        return cells

    def add_rows_fast(self, rows: list[tuple[list[LazyCell], str]]) -> None:
        """Add rows with their keys in one go.

        DataTable.add_row sorts the columns and re-validates the cursor for every row (about 1 s for
        10,000 runs); this fills the same private structures once per batch, and falls back to add_row
        should a Textual upgrade rename them.
        """
        try:
            # plain str keys: DataTable's keys hash and compare as their strings (StringKey), and a dict
            # of str keys is built without calling a Python __hash__ per cell
            cols = [c.key.value for c in self.ordered_columns]
            start = self.row_count
            locations, data, table_rows, new_rows = self._row_locations, self._data, self.rows, self._new_rows
            for i, (cells, key) in enumerate(rows):
                rk = RowKey(key)
                if rk in locations:
                    raise DuplicateKey(key)
                locations[rk] = start + i
                data[rk] = dict(zip(cols, cells, strict=True))
                table_rows[rk] = Row(rk, 1, None, False)
                new_rows.add(rk)
        except AttributeError:  # pragma: no cover - a Textual without these internals
            for cells, key in rows:
                self.add_row(*cells, key=key)
            return
        self._require_update_dimensions = True
        self._update_count += 1
        self.cursor_coordinate = self.cursor_coordinate
        if start == 0 and rows and self.columns and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()
        self.check_idle()

    def _update_dimensions(self, new_rows: Iterable[Any]) -> None:
        """Every column has a width and every row one line: only the virtual size needs computing.

        DataTable would measure every cell of every new row here (seconds for 10,000 runs); this
        overrides its private hook, so check it when upgrading Textual.
        """
        width = sum(c.get_render_width(self) for c in self.columns.values()) + self._row_label_column_width
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(width, self._total_row_height + header)

    def count_states(self) -> None:
        """Count runs per state and remember the running ones (the status line and tick use them)."""
        self.state_counts = Counter(r.state for r in self.model.values())
        self.running = {rid for rid, r in self.model.items() if r.state == "running"}

    def merge(self, runs: list[RunRecord]) -> None:
        """New or changed runs from a poll: update rows in place, re-order only when the order changed."""
        changed: list[RunRecord] = []
        for r in runs:
            old = self.model.get(r.id)
            if old is None or old.rev != r.rev or old.state != r.state:
                changed.append(r)
            self.model[r.id] = r
        if not changed:
            return
        self.count_states()
        order = self.compute_order()
        if order != self.order:
            self.rebuild()
            return
        for r in changed:
            if r.id not in self.order:
                continue
            for col, cell in zip(("sel", *self.shown_columns), self.row_cells(r), strict=True):
                try:
                    self.update_cell(r.id, col, cell)
                except (CellDoesNotExist, RowDoesNotExist):
                    pass

    def tick(self) -> None:
        """Advance the runtime of running rows and the age of every row (no store read)."""
        self.tick_ages()
        if "runtime" not in self.shown_columns:
            return
        for rid in self.running:
            try:
                self.update_cell(rid, "runtime", self.cell(self.model[rid], "runtime"))
            except (CellDoesNotExist, RowDoesNotExist):  # filtered out
                pass

    def tick_ages(self) -> None:
        """Redraw the "created" column when its texts may have changed: each second while a run is less
        than a minute old ("12s ago"), else each minute. Only the rows on screen are built again."""
        if "created" not in self.shown_columns or not self.model or self.now is not None:
            return
        now = time.time()
        youngest = now - max(r.created_at for r in self.model.values())
        epoch = int(now) if youngest < 60 else int(now // 60)
        if epoch != self.age_epoch:
            self.age_epoch = epoch
            self._clear_caches()
            self.refresh()

    def set_filter(self, query: Query | None) -> None:
        """Show only runs the query matches (selection is kept)."""
        self.query_filter = query
        self.rebuild()

    def set_columns(self, cols: list[str]) -> None:
        """Show these columns (after the state/selection marks)."""
        self.shown_columns = [c for c in cols if c != "sel"]
        if self.sort_col not in self.shown_columns:
            self.sort_col, self.sort_desc = ("created", True) if "created" in self.shown_columns else (
                self.shown_columns[0] if self.shown_columns else "created", False)
        self.rebuild(columns=True)

    def set_sort(self, col: str, desc: bool) -> None:
        """Sort by a column, in a direction."""
        self.sort_col, self.sort_desc = col, desc
        self.rebuild(columns=True)

    # ---------------------------------------------------------------- actions

    def action_toggle_select(self) -> None:
        """Select or unselect the run under the cursor."""
        rid = self.cursor_run_id()
        if rid is None:
            return
        self.selected.symmetric_difference_update({rid})
        self.update_cell(rid, "sel", self.cell(self.model[rid], "sel"))
        self.post_message(self.SelectionChanged(self))

    def action_cycle_sort(self) -> None:
        """Sort by the next column."""
        cols = list(self.shown_columns)
        i = (cols.index(self.sort_col) + 1) % len(cols) if self.sort_col in cols else 0
        col = cols[i]
        self.set_sort(col, desc=col not in _TEXT_SORT)

    def action_flip_sort(self) -> None:
        """Flip the sort direction."""
        self.set_sort(self.sort_col, not self.sort_desc)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        """A click on a header sorts by it, a second click flips the direction."""
        event.stop()
        col = str(event.column_key.value)
        if col == "sel":
            return
        if col == self.sort_col:
            self.action_flip_sort()
        else:
            self.set_sort(col, desc=col not in _TEXT_SORT)

    class ColumnsShifted(Message):
        """←/→ showed other columns."""

        def __init__(self, table: RunsTable):
            super().__init__()
            self.table = table

    class SelectionChanged(Message):
        """The set of selected runs changed."""

        def __init__(self, table: RunsTable):
            super().__init__()
            self.table = table
