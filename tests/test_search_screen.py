"""The app's search screen: F from the runs table, a pattern, enter on a match opens the run at that line."""

from __future__ import annotations

import os
import time

from textual.widgets import DataTable, Input, RichLog, TabbedContent
from tracktui.store.writer import Writer
from tracktui.tui.app import make_app
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.screens.runs import RunsScreen
from tracktui.tui.screens.search import SearchScreen
from tracktui.tui.widgets.log_tail import LogTail

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")


async def wait_for(pilot, cond, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.05)


def _seed(root) -> None:  # type: ignore[no-untyped-def]
    w = Writer(root)
    for i, name in enumerate(("alpha", "bravo")):
        w.save_run({"id": f"run{i}", "project": "p", "name": name, "state": "finished",
                    "created_at": 1.7e9 + i, "notes": "the NCCL hunt" if i else None})
        for s in range(3000):
            line = "NCCL timeout \x1b]0;evil\x07 on rank 3" if (i, s) == (1, 1234) else f"step {s} loss=0.{s}"
            w.put(("log", f"run{i}", 1.7e9 + s, "stdout", line))
    w.close()


async def test_search_screen_opens_the_logs_tab_at_the_matching_line(store_dir) -> None:  # type: ignore[no-untyped-def]
    _seed(store_dir)
    app = make_app(store_dir=store_dir, poll_interval=None)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.loaded)
        await pilot.press("F")
        await wait_for(pilot, lambda: isinstance(app.screen, SearchScreen))
        screen = app.screen
        assert screen.query_one("#search-input", Input).has_focus
        await pilot.press(*"nccl", "enter")
        await wait_for(pilot, lambda: len(screen.matches) == 2)
        assert [(m.run_id, m.stream, m.seq) for m in screen.matches] == [("run1", "notes", None),
                                                                         ("run1", "stdout", 1235)]
        table = screen.query_one(DataTable)
        assert table.row_count == 2 and table.has_focus
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen))
        run = app.screen
        await wait_for(pilot, lambda: run.query_one(TabbedContent).active == "logs" and bool(run.query(LogTail)))
        tail = run.query_one(LogTail)
        await wait_for(pilot, lambda: tail.loaded and tail.query_one(RichLog).scroll_offset.y > 0)
        log = tail.query_one(RichLog)
        assert not tail.follow
        tabs = run.query_one(TabbedContent)
        assert app.focused is not None and tabs.get_pane("logs") in app.focused.ancestors_with_self  # its keys work
        seqs = [r[0] for r in tail.lines]
        assert 1235 in seqs and seqs[0] > 1  # loaded around the match, not the tail of the run
        top = log.scroll_offset.y
        shown = [log.lines[y].text for y in range(top, min(len(log.lines), top + log.size.height))]
        assert any("NCCL timeout" in line for line in shown)  # the matching line is on screen
        assert all("\x1b" not in line and "\x07" not in line for line in shown)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, SearchScreen))
        await pilot.press("up", "enter")  # a notes match opens the run's overview
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen)
                       and app.screen.query_one(TabbedContent).active == "overview")
