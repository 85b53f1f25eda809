"""The live-data layer (tui/live.py) on a real SQLite store: reads, failures shown and retried, hidden
panels that read nothing; and on SQLite and PostgreSQL, a commit that wakes the feeds before their interval."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import tracktui
from textual.app import App, ComposeResult
from textual.widgets import Static
from tracktui.store.location import resolve_store
from tracktui.store.writer import Writer
from tracktui.tui.app import make_app
from tracktui.tui.live import Feed, Live
from tracktui.tui.screens.compare import CompareScreen
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.screens.runs import RunsScreen
from tracktui.tui.widgets.log_tail import LogTail
from tracktui.tui.widgets.runs_table import RunsTable
from tracktui.tui.widgets.system_panel import SystemPanel

from .conftest import wait_for


def unreadable(root: Path) -> list[tuple[Path, Path]]:
    """Put the store's database aside and leave garbage in its place; returns what restore() puts back."""
    moved = []
    for f in sorted(root.glob("tracktui.db*")):
        aside = f.with_name(f.name + ".aside")
        os.replace(f, aside)
        moved.append((aside, f))
    (root / "tracktui.db").write_bytes(b"this is not a database\n" * 512)
    return moved


def restore(root: Path, moved: list[tuple[Path, Path]]) -> None:
    """Put the database back as it was (dropping anything a failed read left beside the garbage)."""
    for f in root.glob("tracktui.db*"):
        if not f.name.endswith(".aside"):
            f.unlink()
    for aside, f in moved:
        os.replace(aside, f)


class StepsPanel(Static):
    """The smallest panel on the layer: the last step of one run, or the error line."""

    def __init__(self, live: Live, run_id: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.run_id = run_id
        self.feed = live.feed(self, self._read, name=f"steps-{kw.get('id')}", cursor=-1)
        self.shown: list[str] = []

    def _read(self, reader: Any, cursor: int) -> tuple[int, int]:
        got = reader.step_range(self.run_id, "x")
        last = -1 if got is None else got[1]
        return last, last

    def on_mount(self) -> None:
        self.feed.start()

    def on_feed_updated(self, message: Feed.Updated) -> None:
        self.shown.append(f"step {message.data}")
        self.update(self.shown[-1])

    def on_feed_failed(self, message: Feed.Failed) -> None:
        self.shown.append(message.text)
        self.update(message.text)


class LiveApp(App[None]):
    def __init__(self, root: Any, run_id: str, interval: float = 0.1) -> None:
        super().__init__()
        self.live = Live(self, root, interval=interval)
        self.run_id = run_id

    def compose(self) -> ComposeResult:
        yield StepsPanel(self.live, self.run_id, id="shown")
        hidden = StepsPanel(self.live, self.run_id, id="hidden")
        hidden.display = False
        yield hidden


async def test_a_failed_read_is_shown_retried_and_updates_resume(tmp_path: Path) -> None:
    root = tmp_path / "store"
    run = tracktui.init(dir=root, project="p", id="r1", settings={"capture": False}, reinit="create_new")
    for s in range(5):
        run.log({"x": s})
    app = LiveApp(root, "r1")
    async with app.run_test() as pilot:
        panel = app.query_one("#shown", StepsPanel)
        await wait_for(pilot, lambda: "step 4" in panel.shown, timeout=10)
        moved = unreadable(root)
        await wait_for(pilot, lambda: any(s.startswith("store unreadable: ") and s.endswith("retrying in 2 s")
                                          for s in panel.shown), timeout=10)
        restore(root, moved)
        for s in range(5, 9):
            run.log({"x": s})
        run.finish()
        await wait_for(pilot, lambda: "step 8" in panel.shown, timeout=15)
        assert app.live.reads["steps-hidden"] == 0  # a panel not on screen reads nothing
        hidden = app.query_one("#hidden", StepsPanel)
        hidden.display = True
        app.live.wake()
        await wait_for(pilot, lambda: "step 8" in hidden.shown, timeout=10)
        assert app.live.reads["steps-hidden"] >= 1


def _failing(text: str | None) -> bool:
    return text is not None and text.startswith("store unreadable: ") and text.endswith("retrying in 2 s")


async def test_every_panel_shows_a_failed_read_then_updates_again(tmp_path: Path) -> None:
    """The runs table, a run's Logs and System tabs and the Compare screen, each while the store is garbage
    for a moment: the error line, then data written after the store came back."""
    root = tmp_path / "store"
    runs = [tracktui.init(dir=root, project="p", id=f"r{i}", name=f"run-{i}", settings={"capture": False},
                          reinit="create_new")
            for i in range(2)]
    for run in runs:
        run.log({"loss": 0.5})
    w = Writer.for_root(root)
    w.put(("log", "r0", time.time(), "stdout", "line before"))
    w.put(("system", "r0", time.time(), [("cpu", 10.0)]))
    assert w.flush(10)
    app = make_app(store_dir=root, poll_interval=0.2)
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            # the runs table
            await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.loaded, timeout=15)
            home = app.screen
            assert isinstance(home, RunsScreen)
            table = home.query_one(RunsTable)
            moved = unreadable(root)
            await wait_for(pilot, lambda: _failing(home.error), timeout=15)
            assert "store unreadable: " in str(home.query_one("#status").render())
            restore(root, moved)
            late = tracktui.init(dir=root, project="p", id="r2", name="run-2", settings={"capture": False},
                                 reinit="create_new")
            late.finish()
            await wait_for(pilot, lambda: "r2" in table.model and home.error is None, timeout=15)

            # a run's Logs tab
            app.open_run("r0")
            await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), timeout=10)
            screen = app.screen
            assert isinstance(screen, RunScreen)
            await wait_for(pilot, lambda: screen.record is not None, timeout=15)
            await pilot.press("3")
            await wait_for(pilot, lambda: any(t.loaded for t in screen.query(LogTail)), timeout=15)
            logs = screen.query_one(LogTail)
            assert any(row[3] == "line before" for row in logs.lines)
            moved = unreadable(root)
            await wait_for(pilot, lambda: _failing(logs.error), timeout=15)
            assert "store unreadable: " in str(logs.query_one("#log-status").render())
            restore(root, moved)
            w.put(("log", "r0", time.time(), "stdout", "line after"))
            assert w.flush(10)
            await wait_for(pilot, lambda: any(row[3] == "line after" for row in logs.lines), timeout=15)
            assert logs.error is None

            # its System tab
            await pilot.press("2")
            system = screen.query_one(SystemPanel)
            await wait_for(pilot, lambda: system.store.latest("cpu") == 10.0, timeout=15)
            moved = unreadable(root)
            await wait_for(pilot, lambda: _failing(system.error), timeout=15)
            assert "store unreadable: " in str(system.query_one("#sys-status").render())
            restore(root, moved)
            w.put(("system", "r0", time.time() + 1, [("cpu", 42.0)]))
            assert w.flush(10)
            await wait_for(pilot, lambda: system.store.latest("cpu") == 42.0, timeout=15)
            assert system.error is None

            # panels not on screen read nothing: the Logs tab behind System, the runs table behind the run
            reads = dict(app.live.reads)
            await pilot.pause(1.0)  # five intervals
            assert app.live.reads["logs"] == reads["logs"] and app.live.reads["runs"] == reads["runs"]
            assert app.live.reads["system"] > reads["system"]  # while the shown one goes on

            # the Compare screen
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is home)
            app.push_screen(CompareScreen(app.live, ["r0", "r1"]))
            await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.loaded, timeout=15)
            compare = app.screen
            assert isinstance(compare, CompareScreen)
            moved = unreadable(root)
            await wait_for(pilot, lambda: _failing(compare.error), timeout=15)
            assert "store unreadable: " in str(compare.query_one("#compare-header").render())
            restore(root, moved)
            runs[1].log({"loss": 0.125})
            runs[1].summary["note"] = "after"
            await wait_for(pilot, lambda: compare.records["r1"].summary.get("note") == "after", timeout=15)
            assert compare.error is None
    finally:
        for run in runs:
            run.finish()


async def test_p_pauses_every_read_and_resumes_them(tmp_path: Path) -> None:
    root = tmp_path / "store"
    tracktui.init(dir=root, project="p", id="r0", settings={"capture": False}, reinit="create_new").finish()
    app = make_app(store_dir=root, poll_interval=0.1)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.loaded, timeout=15)
        await pilot.press("p")
        await pilot.pause(0.3)  # a read in flight when p was pressed ends
        before = app.live.reads["runs"]
        await pilot.pause(0.6)
        assert app.live.reads["runs"] == before and "paused" in str(app.screen.query_one("#status").render())
        await pilot.press("p")
        await wait_for(pilot, lambda: app.live.reads["runs"] > before)


def _watchers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "tracktui live watch"]


async def test_a_commit_wakes_the_feeds_early_through_one_thread(any_store: str) -> None:
    """With an interval far longer than the test, a point logged by the SDK still shows within seconds: the
    one watching thread of the app (two panels, one thread) sees the commit (LISTEN/NOTIFY on PostgreSQL,
    data_version on SQLite) and the panel on screen reads; the hidden one reads nothing; the thread ends
    with the app."""
    run = tracktui.init(store=any_store, project="p", id="w1", settings={"capture": False}, reinit="create_new")
    run.log({"x": 0.0}, step=0)
    run._writer.flush()
    before = len(_watchers())
    app = LiveApp(resolve_store(any_store), "w1", interval=600.0)
    try:
        async with app.run_test() as pilot:
            panel = app.query_one("#shown", StepsPanel)
            await wait_for(pilot, lambda: "step 0" in panel.shown, timeout=15)
            assert len(_watchers()) == before + 1
            await pilot.pause(0.6)  # past CHANGE_GAP: the next commit makes the panel read at once
            reads = app.live.reads["steps-shown"]
            run.log({"x": 1.0}, step=1)
            run._writer.flush()
            await wait_for(pilot, lambda: "step 1" in panel.shown, timeout=20)
            assert app.live.changes >= 1 and app.live.reads["steps-shown"] > reads
            assert app.live.reads["steps-hidden"] == 0  # a commit does not make a hidden panel read
        end = time.monotonic() + 10
        while len(_watchers()) > before and time.monotonic() < end:
            time.sleep(0.05)
        assert len(_watchers()) == before
    finally:
        run.finish()
