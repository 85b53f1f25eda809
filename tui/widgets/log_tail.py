"""LogTail: the live console of a run, stdout and stderr told apart, with follow and search.

Lines are data: keep_sgr() leaves only colour sequences, which Rich's ANSI decoder turns into styles;
everything else (OSC 8 links, OSC 52, titles, screen clears, DCS, C1) was removed before.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, RichLog, Static
from tracktui.store import Reader
from tracktui.store.codec import ALERT_STREAM, parse_alert

from ..live import Feed, Live
from ..text import keep_sgr, safe_text

if TYPE_CHECKING:
    from ..app import TrackTuiApp

MAX_LINES = 5000
FIRST_TAIL = 2000


def log_line(ts: float, stream: str, line: str, fixed_tz: bool = False) -> Text:
    """One console line: time, a stream mark (stderr in red with 'E'), the sanitised, coloured text."""
    stamp = time.strftime("%H:%M:%S", time.gmtime(ts) if fixed_tz else time.localtime(ts))
    t = Text(stamp + " ", style="dim")
    if stream == "stderr":
        t.append("E│ ", style="bold red")
    elif stream == ALERT_STREAM:  # run.alert(): level, title and text from its JSON line
        a = parse_alert(line)
        t.append("!│ ", style="bold yellow")
        t.append(f"{safe_text(a['level'], limit=8)} ", style="bold yellow")
        line = f"{a['title']}: {a['text']}" if a["title"] else a["text"]
    else:
        t.append(" │ ", style="dim")
    body = Text.from_ansi(keep_sgr(line), end="")
    for span in body.spans:  # belt and braces: no links out of a log line, ever
        style = span.style
        if not isinstance(style, str) and style.link:
            body.stylize(style.__class__(link=None), span.start, span.end)
    t.append_text(body)
    return t


class LogTail(Vertical):
    """The console of a run, live."""

    app: TrackTuiApp

    BINDINGS = [
        Binding("f", "follow", "Follow"),
        Binding("slash", "search", "Search", key_display="/"),
        Binding("g", "top", "Top"),
        Binding("G", "bottom", "Bottom"),
        Binding("escape", "clear_search", "Clear search", show=False),
    ]

    DEFAULT_CSS = """
    LogTail { height: 1fr; }
    LogTail #log-status { height: 1; background: $panel; }
    LogTail #log-search { height: 1; border: none; padding: 0 1; display: none; }
    LogTail RichLog { height: 1fr; }
    """

    def __init__(self, live: Live, run_id: str, at_seq: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.live = live
        self.run_id = run_id
        self.feed = live.feed(self, self._read, name="logs", cursor=0)
        self.error: str | None = None  # why the last read failed (the layer retries)
        self.at_seq = at_seq  # open at this line (a search match), marked, not following
        self.lines: deque[tuple[int, float, str, str]] = deque(maxlen=MAX_LINES)
        self.seq = 0
        self.follow = at_seq is None
        self.search = ""
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Static(id="log-status")
        yield Input(placeholder="search the log (enter applies, escape clears)", id="log-search")
        yield RichLog(max_lines=MAX_LINES, wrap=False, markup=False, highlight=False, auto_scroll=True)

    def on_mount(self) -> None:
        self.update_status()
        self.feed.start()

    def update_status(self) -> None:
        """Line count, follow and search state."""
        t = Text(f" {len(self.lines)} lines", style="bold")
        t.append("   follow: ")
        t.append("on" if self.follow else "off", style="green" if self.follow else "yellow")
        if self.search:
            t.append(f"   search: {safe_text(self.search, limit=40)}", style="bold cyan")
        t.append("   E│ = stderr", style="dim")
        if self.error:
            t.append(f"   ⚠ {safe_text(self.error, limit=160)}", style="bold red")
        self.query_one("#log-status", Static).update(t)

    # ------------------------------------------------------------ live data

    def _read(self, r: Reader, seq: int) -> tuple[list[tuple[int, float, str, str]], int]:
        """(worker thread) The last FIRST_TAIL lines at first, then the lines after `seq`."""
        if self.feed.loaded:
            lines = r.logs(self.run_id, since_seq=seq, limit=MAX_LINES)
        elif self.at_seq is not None:  # open at a line (a search match)
            lines = r.logs(self.run_id, since_seq=max(0, self.at_seq - FIRST_TAIL // 2), limit=FIRST_TAIL)
        else:
            lines = r.logs_tail(self.run_id, FIRST_TAIL)
        return lines, max([seq, *(row[0] for row in lines)])

    def on_feed_failed(self, message: Feed.Failed) -> None:
        message.stop()
        self.error = message.text
        self.update_status()

    def on_feed_updated(self, message: Feed.Updated) -> None:
        """Append new lines (those matching the search, if one is set)."""
        message.stop()
        self.loaded = True
        log = self.query_one(RichLog)
        at = None
        written = 0
        for row in message.data:
            if row[0] <= self.seq:
                continue
            self.lines.append(row)
            self.seq = row[0]
            if self._matches(row[3]):
                if row[0] == self.at_seq and message.first:
                    at = written  # the first load fills an empty log: its line number
                written += 1
                log.write(self._render_line(row), scroll_end=self.follow)
        if at is not None:
            log.auto_scroll = False
            self._scroll_to_line(at, 100)
        if message.data or self.error:
            self.error = None
            self.update_status()

    def _scroll_to_line(self, y: int, tries: int) -> None:
        """Show line y near the top, once the log has laid it out (RichLog defers writes until it has a size)."""
        log = self.query_one(RichLog)
        if len(log.lines) > y and log.max_scroll_y >= min(y - 3, len(log.lines) - log.size.height):
            log.scroll_to(y=max(0, y - 3), animate=False)
        elif tries > 0:
            self.set_timer(0.05, lambda: self._scroll_to_line(y, tries - 1))

    def _matches(self, line: str) -> bool:
        return not self.search or self.search.lower() in safe_text(keep_sgr(line)).lower()

    def _render_line(self, row: tuple[int, float, str, str]) -> Text:
        t = log_line(row[1], row[2], row[3], fixed_tz=self.live.fixed_now is not None)
        if self.search:
            t.highlight_words([self.search], style="reverse", case_sensitive=False)
        if row[0] == self.at_seq:
            t.stylize("reverse")
        return t

    def _redraw(self) -> None:
        log = self.query_one(RichLog)
        log.clear()
        for row in self.lines:
            if self._matches(row[3]):
                log.write(self._render_line(row), scroll_end=False)
        if self.follow:
            log.scroll_end(animate=False)
        self.update_status()

    # ------------------------------------------------------------ actions

    def action_follow(self) -> None:
        """Follow the tail on or off."""
        self.follow = not self.follow
        log = self.query_one(RichLog)
        log.auto_scroll = self.follow
        if self.follow:
            log.scroll_end(animate=False)
        self.update_status()

    def action_search(self) -> None:
        """Show only lines containing a text."""
        inp = self.query_one("#log-search", Input)
        inp.display = True
        inp.focus()

    @on(Input.Submitted, "#log-search")
    def search_submitted(self, event: Input.Submitted) -> None:
        """Apply the search."""
        self.search = event.value.strip()
        self.query_one(RichLog).focus()
        if not self.search:
            event.input.display = False
        self._redraw()

    def action_clear_search(self) -> None:
        """Clear the search (escape again goes back)."""
        inp = self.query_one("#log-search", Input)
        if not self.search and not inp.has_focus:
            self.app.pop_screen()
            return
        inp.value = ""
        inp.display = False
        self.search = ""
        self.query_one(RichLog).focus()
        self._redraw()

    def action_top(self) -> None:
        """Jump to the first line (stops following)."""
        self.follow = False
        log = self.query_one(RichLog)
        log.auto_scroll = False
        log.scroll_home(animate=False)
        self.update_status()

    def action_bottom(self) -> None:
        """Jump to the last line."""
        self.query_one(RichLog).scroll_end(animate=False)

