"""CompareScreen: several runs side by side — charts overlaid, summary, config diff, system metrics."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Static, TabbedContent, TabPane
from tracktui.store import Reader, RunRecord

from ..format import flatten, scalar, value_text
from ..live import Feed, Live
from ..messages import ChartFullScreenRequested, PickRequested
from ..plotting import color as series_color
from ..plotting import rich_color
from ..text import safe_text
from ..widgets.compare_charts import CompareCharts
from ..widgets.footer import KeysFooter

if TYPE_CHECKING:
    from ..app import TrackTuiApp

TABS = ("charts", "summary", "config", "system")
__all__ = ["CompareScreen", "config_diff", "group_runs", "rich_color", "summary_number"]


def config_diff(runs: list[RunRecord], show_all: bool = False) -> tuple[list[str], int]:
    """Flattened config keys whose values differ between the runs (all keys with show_all), and the count
    of all keys."""
    flat = [flatten(r.config if isinstance(r.config, dict) else {}) for r in runs]
    keys: list[str] = []
    for f in flat:
        keys += [k for k in f if k not in keys]
    missing = object()

    def differs(k: str) -> bool:
        vals = [repr(f.get(k, missing)) for f in flat]
        return len(set(vals)) > 1

    return [k for k in keys if show_all or differs(k)], len(keys)


def group_runs(runs: list[RunRecord], by: str) -> dict[str, list[str]]:
    """Run ids grouped by 'group' or by a flattened config key (absent: '(none)')."""
    out: dict[str, list[str]] = {}
    for r in runs:
        if by == "group":
            v: Any = r.group
        else:
            v = flatten(r.config if isinstance(r.config, dict) else {}).get(by)
        label = f"{by}=" + ("(none)" if v is None else value_text(v, 30))
        out.setdefault(label, []).append(r.id)
    return out


def summary_number(v: Any) -> float | None:
    """A summary value as a number for sorting and bars (None when it is not one); an aggregate such as
    {"min": 0.03} (define_metric(summary=...)) gives the value the table shows."""
    v = scalar(v)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


class CompareScreen(Screen[None]):
    """The runs chosen in the runs table, compared."""

    app: TrackTuiApp

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("1", "tab('charts')", "Tabs", key_display="1-4"),
        Binding("2", "tab('summary')", "Summary", show=False),
        Binding("3", "tab('config')", "Config diff", show=False),
        Binding("4", "tab('system')", "System", show=False),
        Binding("g", "group", "Group", tooltip="group runs by `group` or a config key: mean line, min-max band"),
        Binding("a", "all_config", "All keys", tooltip="config diff: show every key / only those that differ"),
        Binding("s", "sort_summary", "Sort", show=False, tooltip="summary: sort runs by the column at the cursor"),
        Binding("S", "flip_summary", "Flip sort", show=False, tooltip="summary: flip the sort direction"),
    ]

    DEFAULT_CSS = """
    CompareScreen #compare-header { height: 1; background: $panel; }
    CompareScreen TabbedContent { height: 1fr; }
    CompareScreen TabPane { padding: 0; }
    CompareScreen #summary-table, CompareScreen #config-table { height: 1fr; }
    CompareScreen #summary-bars { height: auto; max-height: 50%; padding: 0 1; }
    CompareScreen #config-title { height: 1; padding: 0 1; }
    """

    def __init__(self, live: Live, run_ids: list[str]):
        super().__init__()
        self.live = live
        self.run_ids = list(dict.fromkeys(run_ids))
        self.feed = live.feed(self, self._read, name="compare-runs")
        self.error: str | None = None
        self.run_colors = {rid: series_color(i) for i, rid in enumerate(self.run_ids)}
        self.labels: dict[str, str] = {rid: rid for rid in self.run_ids}
        self.records: dict[str, RunRecord] = {}
        self.states: dict[str, str] = {}
        self.group_by = "none"
        self.show_all_config = False
        self.sort_key: str | None = None
        self.sort_desc = True
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Static(Text(f" Compare {len(self.run_ids)} runs"), id="compare-header")
        with TabbedContent(id="compare-tabs"):
            with TabPane("1 Charts", id="charts"):
                yield CompareCharts(self.app.live, self.run_ids, self.labels, self.run_colors, id="compare-charts")
            with TabPane("2 Summary", id="summary"), Vertical():
                yield DataTable(id="summary-table", cursor_type="column", zebra_stripes=True)
                yield Static(id="summary-bars")
            with TabPane("3 Config diff", id="config"), Vertical():
                yield Static(id="config-title")
                yield DataTable(id="config-table", cursor_type="row", zebra_stripes=True)
            with TabPane("4 System", id="system"):
                yield CompareCharts(self.app.live, self.run_ids, self.labels, self.run_colors, system=True,
                                    id="compare-system")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.feed.start()
        self.call_after_refresh(self.query_one("#compare-charts").focus)

    def on_screen_resume(self) -> None:
        self.live.wake()

    def _read(self, r: Reader, cursor: Any) -> tuple[list[RunRecord], Any]:
        """(worker thread) The records of the compared runs."""
        return [rec for rec in (r.run(rid) for rid in self.run_ids) if rec is not None], cursor

    def on_feed_failed(self, message: Feed.Failed) -> None:
        """Say in the header why the runs cannot be read (the layer tries again)."""
        message.stop()
        self.error = message.text
        self.update_header()

    def on_feed_updated(self, message: Feed.Updated) -> None:
        """Fill the legend, the summary and the config diff (again where a run changed)."""
        message.stop()
        runs: list[RunRecord] = message.data
        was_failing, self.error = self.error is not None, None
        if self.loaded and [(r.id, r.rev, r.state) for r in runs] == \
                [(r.id, r.rev, r.state) for r in self.records.values()]:
            if was_failing:
                self.update_header()
            return
        self.records = {r.id: r for r in runs}
        self.states = {r.id: r.state for r in runs}
        for r in runs:
            self.labels[r.id] = r.name or r.id
        self.update_header()
        self.fill_summary()
        self.fill_config()
        self.loaded = True
        for charts in self.query(CompareCharts):
            charts.set_labels(self.labels)

    def on_chart_full_screen_requested(self, message: ChartFullScreenRequested) -> None:
        """enter on a chart: it fills its tab (escape or enter: back to the grid)."""
        message.stop()
        message.grid.show_full(message.key)

    def on_pick_requested(self, message: PickRequested) -> None:
        """A chart asks for a pick (the x-axis metric)."""
        from .chart import answer_pick

        answer_pick(self, message)

    def runs(self) -> list[RunRecord]:
        """The compared records in compare order."""
        return [self.records[rid] for rid in self.run_ids if rid in self.records]

    # ------------------------------------------------------------ header and grouping

    def update_header(self) -> None:
        """Compare N runs, the legend (one colour per run, or per group) and the grouping."""
        t = Text(f" Compare {len(self.run_ids)} runs  ", style="bold")
        groups = self.current_groups()
        items = ([(label, color) for label, color, _ in groups] if groups else
                 [(self.labels.get(rid, rid), self.run_colors[rid]) for rid in self.run_ids])
        self.legend = items
        for label, color in items:
            t.append(" ■ ", style=rich_color(color))
            t.append(safe_text(label, limit=24))
        t.append(f"   group by: {safe_text(self.group_by, limit=30)} (g)", style="dim")
        if self.error:
            t.append(f"   ⚠ {safe_text(self.error, limit=160)}", style="bold red")
        self.query_one("#compare-header", Static).update(t)

    def group_options(self) -> list[str]:
        """none, group, then each config key that differs."""
        keys, _ = config_diff(self.runs())
        return ["none", "group", *keys]

    def current_groups(self) -> list[tuple[str, str, list[str]]]:
        """(label, colour, run ids) of each group, or [] when not grouping."""
        if self.group_by == "none":
            return []
        grouped = group_runs(self.runs(), self.group_by)
        return [(label, series_color(i), ids) for i, (label, ids) in enumerate(grouped.items())]

    def set_group_by(self, by: str) -> None:
        """Group the charts by `group` or a config key ('none': one line per run)."""
        self.group_by = by
        groups = self.current_groups()
        for charts in self.query(CompareCharts):
            charts.set_groups(groups)
        self.update_header()

    def action_group(self) -> None:
        """Cycle the grouping: none, group, each config key that differs."""
        opts = self.group_options()
        i = opts.index(self.group_by) if self.group_by in opts else 0
        self.set_group_by(opts[(i + 1) % len(opts)])

    # ------------------------------------------------------------ summary

    def summary_keys(self) -> list[str]:
        """Summary keys of any compared run, in first-seen order (internal '_' keys left out)."""
        keys: list[str] = []
        for r in self.runs():
            keys += [k for k in (r.summary or {}) if k not in keys and not str(k).startswith("_")]
        return keys

    def fill_summary(self) -> None:
        """Runs as rows, summary keys as columns; sorted by the chosen column."""
        table = self.query_one("#summary-table", DataTable)
        table.clear(columns=True)
        keys = self.summary_keys()
        table.add_column(Text("run", style="bold"), key="__run")
        for k in keys:
            arrow = (" ▼" if self.sort_desc else " ▲") if k == self.sort_key else ""
            table.add_column(Text(safe_text(k, limit=30) + arrow), key=k)
        runs = self.runs()
        if self.sort_key is not None:
            key = self.sort_key

            def sk(r: RunRecord) -> tuple[int, float]:
                v = summary_number((r.summary or {}).get(key))
                if v is None or math.isnan(v):
                    return (1, 0.0)  # missing and NaN last in both directions
                return (0, -v if self.sort_desc else v)

            runs = sorted(runs, key=sk)
        for r in runs:
            cells: list[Any] = [Text("■ ", style=rich_color(self.run_colors[r.id])) + Text(safe_text(self.labels[r.id],
                                                                                               limit=30))]
            for k in keys:
                v = (r.summary or {}).get(k)
                cells.append(Text(value_text(v, 20) if k in (r.summary or {}) else "–",
                                  justify="right" if summary_number(v) is not None else "left"))
            table.add_row(*cells, key=r.id)
        self.summary_order = [r.id for r in runs]
        if self.sort_key in keys:
            table.move_cursor(column=keys.index(self.sort_key) + 1)
        self.update_bars()

    def bar_key(self) -> str | None:
        """The summary column at the cursor (else the sort column, else the first)."""
        table = self.query_one("#summary-table", DataTable)
        keys = self.summary_keys()
        if not keys:
            return None
        col = table.cursor_column
        if 1 <= col <= len(keys):
            return keys[col - 1]
        return self.sort_key or keys[0]

    def update_bars(self) -> None:
        """A bar per run of the summary value at the cursor column, in each run's colour."""
        key = self.bar_key()
        bars = self.query_one("#summary-bars", Static)
        if key is None:
            bars.update(Text("no summary values", style="dim"))
            return
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column(justify="right", no_wrap=True)
        vals = {r.id: summary_number((r.summary or {}).get(key)) for r in self.runs()}
        finite = [abs(v) for v in vals.values() if v is not None and math.isfinite(v)]
        top = max(finite) if finite else 0.0
        width = 40
        self.bar_colors: dict[str, str] = {}
        for rid in getattr(self, "summary_order", self.run_ids):
            v = vals.get(rid)
            name = Text(safe_text(self.labels.get(rid, rid), limit=24))
            if v is None:
                grid.add_row(name, Text(""), Text("–", style="dim"))
            elif not math.isfinite(v):
                grid.add_row(name, Text("× NaN/Inf", style="red"), Text(value_text(v, 12), style="red"))
            else:
                n = width * abs(v) / top if top else 0.0
                full = int(n)
                bar = "█" * full + ("▌" if n - full >= 0.5 else "")
                self.bar_colors[rid] = self.run_colors[rid]
                grid.add_row(name, Text(bar, style=rich_color(self.run_colors[rid])), Text(f"{v:.4g}"))
        title = Text(f"Summary: {safe_text(key, limit=40)}  (←/→ picks the column, s sorts)", style="bold")
        bars.update(_stack(title, grid))

    def on_data_table_cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        """The summary bars follow the cursor column."""
        if event.data_table.id == "summary-table":
            self.update_bars()

    def action_sort_summary(self) -> None:
        """Sort the runs by the summary column at the cursor."""
        key = self.bar_key()
        if key is None:
            return
        if self.sort_key == key:
            self.sort_desc = not self.sort_desc
        self.sort_key = key
        self.fill_summary()

    def action_flip_summary(self) -> None:
        """Flip the summary sort."""
        self.sort_desc = not self.sort_desc
        self.fill_summary()

    # ------------------------------------------------------------ config diff

    def fill_config(self) -> None:
        """Config keys that differ (or all) as rows, runs as columns."""
        runs = self.runs()
        keys, total = config_diff(runs, self.show_all_config)
        differ, _ = config_diff(runs)
        title = self.query_one("#config-title", Static)
        what = "all keys; a shows only those that differ" if self.show_all_config else "a shows all"
        title.update(Text(f"Config diff ({len(differ)} of {total} keys differ; {what})", style="bold"))
        table = self.query_one("#config-table", DataTable)
        table.clear(columns=True)
        table.add_column(Text("key", style="bold"), key="__key")
        for r in runs:
            table.add_column(Text("■ ", style=rich_color(self.run_colors[r.id])) + Text(safe_text(r.name, limit=20)),
                             key=r.id)
        flat = [flatten(r.config if isinstance(r.config, dict) else {}) for r in runs]
        for k in keys:
            mark = "bold" if k in differ else ""
            table.add_row(Text(safe_text(k, limit=40), style=mark),
                          *[Text(value_text(f[k], 24)) if k in f else Text("–", style="dim") for f in flat])

    def action_all_config(self) -> None:
        """Show every config key, or only those that differ."""
        self.show_all_config = not self.show_all_config
        self.fill_config()

    # ------------------------------------------------------------ tabs

    def action_tab(self, tab: str) -> None:
        """Show a tab and focus its content."""
        self.query_one(TabbedContent).active = tab
        target = {"charts": "#compare-charts", "summary": "#summary-table", "config": "#config-table",
                  "system": "#compare-system"}[tab]
        self.query_one(target).focus()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """Focus the content of a tab chosen with the mouse."""
        pid = event.pane.id or ""
        if pid in TABS:
            target = self.query_one({"charts": "#compare-charts", "summary": "#summary-table",
                                     "config": "#config-table", "system": "#compare-system"}[pid])
            tabs = self.query_one(TabbedContent)
            # only while it is still shown: a quicker next tab key must not have its focus taken back
            self.call_after_refresh(lambda: tabs.active == pid and target.focus())

    def update_status(self) -> None:
        """Pause and resume change nothing visible here beyond the notification."""

    def action_back(self) -> None:
        """Back to the runs."""
        self.app.pop_screen()


def _stack(title: Text, body: Any) -> Table:
    t = Table.grid()
    t.add_row(title)
    t.add_row(body)
    return t
