"""RunScreen: one run in tabs (charts, system, logs, overview, files, media), live."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.lazy import Lazy
from textual.screen import Screen
from textual.widgets import Static, TabbedContent, TabPane
from tracktui.store import Reader, RunRecord

from ..format import STATE_STYLE, duration
from ..live import Feed, Live
from ..messages import ChartFullScreenRequested, ImageFullScreenRequested, PickRequested
from ..text import safe_text
from ..widgets.files_panel import FilesPanel
from ..widgets.footer import KeysFooter
from ..widgets.log_tail import LogTail
from ..widgets.media_panel import MediaPanel
from ..widgets.overview import OverviewPanel
from ..widgets.run_charts import RunChartsPanel
from ..widgets.system_panel import SystemPanel

if TYPE_CHECKING:
    from ..app import TrackTuiApp

TABS = ("charts", "system", "logs", "overview", "files", "media")


def header_text(run: RunRecord, now: float | None = None) -> Text:
    """The run's one-line header: state, name, project, runtime, step, host, git commit."""
    glyph, style = STATE_STYLE.get(run.state, ("?", ""))
    t = Text()
    t.append(f" {glyph} ", style=style)
    t.append(safe_text(run.name, limit=40), style="bold")
    t.append(f" · {safe_text(run.project, limit=30)} · ")
    t.append(run.state, style=style)
    t.append(" ")
    end = run.finished_at or (now if now is not None and run.state == "running" else None)
    t.append(duration(end - run.created_at if end else run.runtime))
    if run.last_step is not None:
        t.append(f" · step {run.last_step:,}")
    if run.host:
        t.append(f" · {safe_text(run.host, limit=30)}")
    md = run.metadata if isinstance(run.metadata, dict) else {}
    git = md.get("git") if isinstance(md.get("git"), dict) else {}
    if git.get("commit"):
        t.append(f" · {safe_text(str(git['commit'])[:7])}")
        if git.get("dirty"):
            t.append(" (dirty)", style="yellow")
    return t


class RunScreen(Screen[None]):
    """One run, live."""

    app: TrackTuiApp

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("1", "tab('charts')", "Tabs", key_display="1-6"),
        Binding("2", "tab('system')", "System", show=False),
        Binding("3", "tab('logs')", "Logs", show=False),
        Binding("4", "tab('overview')", "Overview", show=False),
        Binding("5", "tab('files')", "Files", show=False),
        Binding("6", "tab('media')", "Media", show=False),
    ]

    def __init__(self, live: Live, run_id: str, tab: str | None = None, at_seq: int | None = None):
        super().__init__()
        self.live = live
        self.run_id = run_id
        self.feed = live.feed(self, self._read, name="run", cursor=0)  # cursor: the last alert's seq
        self.error: str | None = None
        self._header_shown: tuple[str, list[Any]] | None = None
        self.first_tab = tab
        self.at_seq = at_seq
        self.record: RunRecord | None = None
        self.alerts: list[tuple[int, float, str]] = []  # the run's alert lines (seq, ts, line), oldest first

    def compose(self) -> ComposeResult:
        yield Static(Text(f" {self.run_id}"), id="run-header")
        with TabbedContent(id="run-tabs"):
            with TabPane("1 Charts", id="charts"):
                yield RunChartsPanel(self.live, self.run_id)
            with TabPane("2 System", id="system"):
                yield SystemPanel(self.live, self.run_id)
            with TabPane("3 Logs", id="logs"):
                # the panes behind tabs mount after the charts paint
                yield Lazy(LogTail(self.live, self.run_id, at_seq=self.at_seq))
            with TabPane("4 Overview", id="overview"):
                yield Lazy(OverviewPanel(now=self.live.fixed_now, source=lambda: (self.record, self.alerts)))
            with TabPane("5 Files", id="files"):
                yield Lazy(FilesPanel(self.live, self.run_id))
            with TabPane("6 Media", id="media"):
                yield Lazy(MediaPanel(self.live, self.run_id))
        yield KeysFooter()

    def on_mount(self) -> None:
        self.feed.start()
        if self.first_tab and self.first_tab != "charts":
            # not the charts' focus first: focusing a pane after the switch would switch back to it
            self.call_after_refresh(self.action_tab, self.first_tab)
        else:
            self.call_after_refresh(self.query_one(RunChartsPanel).focus)

    def on_chart_full_screen_requested(self, message: ChartFullScreenRequested) -> None:
        """enter on a chart: a stored metric gets a screen of its own (live, the same chart options); any
        other chart (the custom chart) fills the charts tab."""
        from .chart import ChartScreen

        message.stop()
        if message.run_id is not None:
            self.app.push_screen(ChartScreen(message.run_id, message.key, message.grid.opts))
        else:
            message.grid.show_full(message.key)

    def on_pick_requested(self, message: PickRequested) -> None:
        """A chart asks for a pick (x-axis metric, the custom chart's metrics), the media tab for the sets and
        classes drawn on images."""
        from .chart import answer_pick

        answer_pick(self, message)

    def on_image_full_screen_requested(self, message: ImageFullScreenRequested) -> None:
        """enter on a table's image cell in the media tab: the image on a screen of its own."""
        from .image_full import answer_image

        answer_image(self, message)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """Focus the content of the shown tab, so its keys work and show in the footer."""
        pane = event.pane
        tabs = self.query_one(TabbedContent)
        if tabs.active != pane.id:  # a quicker next tab key moved on: focusing this pane would switch back to it
            return
        target = {"charts": RunChartsPanel, "system": SystemPanel, "logs": LogTail, "overview": OverviewPanel,
                  "files": FilesPanel, "media": MediaPanel}.get(pane.id or "")
        found = pane.query(target) if target is not None else []
        if found:
            widget = found.first()
            if target is LogTail:
                widget.query_one("RichLog").focus()
            elif target is FilesPanel:
                widget.query_one("OptionList").focus()
            elif target is MediaPanel:  # once the pane is shown (focusing it while hidden made the pty run flaky)
                keys = widget.query_one("#media-keys")
                # ...and only if it is still shown: a quick next tab key must not have its focus taken back
                self.call_after_refresh(lambda: tabs.active == "media" and keys.focus())
            else:
                widget.focus()

    def on_screen_resume(self) -> None:
        self.live.wake()

    def _read(self, r: Reader, since: int) -> tuple[tuple[RunRecord | None, list[tuple[int, float, str]]], int]:
        """(worker thread) The run's record and its alert lines after `since`."""
        rec = r.run(self.run_id)
        alerts = r.alerts(self.run_id, since_seq=since)
        return (rec, alerts), max([since, *(a[0] for a in alerts)])

    def on_feed_failed(self, message: Feed.Failed) -> None:
        """Say in the header why the run cannot be read (the layer tries again)."""
        self.error = message.text
        self._show_header()

    def on_feed_updated(self, message: Feed.Updated) -> None:
        """Update the header and the overview."""
        rec, alerts = message.data
        self.error = None
        if rec is None:
            self._show_header()
            return
        old = self.record
        self.record = rec
        self._show_header()
        last = self.alerts[-1][0] if self.alerts else 0
        new_alerts = [a for a in alerts if a[0] > last]
        self.alerts.extend(new_alerts)
        if old is None or old.rev != rec.rev or old.state != rec.state or new_alerts:
            for overview in self.query(OverviewPanel):  # not there until its lazy mount
                overview.show(rec, self.alerts)

    def _show_header(self) -> None:
        t = header_text(self.record, self.live.fixed_now) if self.record is not None else Text(f" {self.run_id}")
        if self.error:
            t.append(f"  ⚠ {safe_text(self.error, limit=160)}", style="bold red")
        if (t.plain, t.spans) != self._header_shown:  # an unchanged header is not laid out again each poll
            self._header_shown = (t.plain, list(t.spans))
            self.query_one("#run-header", Static).update(t)

    def update_status(self) -> None:
        """Pause and resume change nothing visible here beyond the notification."""

    def action_tab(self, tab: str) -> None:
        """Show a tab."""
        tabs = self.query_one(TabbedContent)
        if tabs.active != tab:  # else the focus, moved off the hidden pane, lands in it again and
            self.set_focus(None)  # switches back to it (6 from Files showed Files again)
        tabs.active = tab
        if tab == "files":
            for files in self.query(FilesPanel):
                files.reload()

    def action_back(self) -> None:
        """Back to the runs."""
        self.app.pop_screen()
