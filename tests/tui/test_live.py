"""The live-data layer (tui/live.py) on a real SQLite store: reads, failures shown and retried, hidden
panels that read nothing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import tracktui
from textual.app import App, ComposeResult
from textual.widgets import Static
from tracktui.tui.live import Feed, Live

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
    (root / "tracktui.db").unlink()
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
    def __init__(self, root: Path, run_id: str) -> None:
        super().__init__()
        self.live = Live(self, root, interval=0.1)
        self.run_id = run_id

    def compose(self) -> ComposeResult:
        yield StepsPanel(self.live, self.run_id, id="shown")
        hidden = StepsPanel(self.live, self.run_id, id="hidden")
        hidden.display = False
        yield hidden


async def test_a_failed_read_is_shown_retried_and_updates_resume(tmp_path: Path) -> None:
    root = tmp_path / "store"
    run = tracktui.init(dir=root, project="p", id="r1", settings={"capture": False})
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
