"""Snapshot tests of every screen over a seeded store with fixed timestamps and polling off.

Review changes with `pytest tests/tui/test_snapshots.py --snapshot-update` and the HTML report."""

from __future__ import annotations

from pathlib import Path

from tracktui.tui.app import make_app
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.screens.runs import RunsScreen
from tracktui.tui.widgets.files_panel import FilesPanel
from tracktui.tui.widgets.log_tail import LogTail
from tracktui.tui.widgets.overview import OverviewPanel
from tracktui.tui.widgets.run_charts import RunChartsPanel

from .conftest import NOW, wait_for

SIZE = (120, 40)


def _app(root: Path):  # type: ignore[no-untyped-def]
    app = make_app(store_dir=root, poll_interval=None, fixed_now=NOW)
    app.store_label_text = "~/store"  # tmp_path differs between runs
    return app


async def _runs_loaded(pilot) -> None:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RunsScreen) and pilot.app.screen.loaded)
    await pilot.pause(0.2)  # the table sizes its columns when idle
    await pilot.pause()


async def _open_run(pilot, tab: str | None = None) -> None:  # type: ignore[no-untyped-def]
    await _runs_loaded(pilot)
    await pilot.press("enter")
    screen = pilot.app.screen
    assert isinstance(screen, RunScreen)
    panel = screen.query_one(RunChartsPanel)
    await wait_for(pilot, lambda: screen.record is not None and len(panel.charts) >= 4)
    if tab:
        await pilot.press(tab)
    if tab == "3":  # a panel reads once it is on screen
        await wait_for(pilot, lambda: any(t.loaded for t in screen.query(LogTail)))
    if tab == "5":
        await wait_for(pilot, lambda: any(f.files for f in screen.query(FilesPanel)))
    if tab == "4":  # the pane mounts lazily: wait until it shows the run, however busy the machine
        await wait_for(pilot, lambda: any(o.run is not None and o.is_mounted for o in screen.query(OverviewPanel)))
    if tab:  # until the shown pane has the focus: focused tables and trees draw their cursor row
        from textual.widgets import TabbedContent

        tabs = screen.query_one(TabbedContent)
        await wait_for(pilot, lambda: pilot.app.focused is not None and tabs.active_pane is not None
                       and tabs.active_pane in pilot.app.focused.ancestors)
    if tab == "4":  # the lazily mounted overview gets the focus on its panel or on its tree depending on timing:
        from textual.widgets import Tree  # take the tree, as a user pressing tab would, so its cursor row shows

        tree = screen.query_one(OverviewPanel).query_one(Tree)

        def tree_focused() -> bool:
            if not tree.has_focus:
                tree.focus()  # again, should the tab's own focusing have come after ours
            if tree.cursor_line < 0:
                tree.cursor_line = 0  # a tree focused before its nodes were added has no cursor row yet
            return tree.has_focus and tree.cursor_line == 0

        await wait_for(pilot, tree_focused, timeout=30)
    await pilot.pause(0.3)
    await pilot.pause()


def test_runs_screen(seeded: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(seeded), terminal_size=SIZE, run_before=_runs_loaded)


def test_runs_screen_80x24_filtered(seeded: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _runs_loaded(pilot)
        await pilot.press("space", "slash", *"state=finished config.lr<5e-3", "enter")
        await pilot.pause()

    assert snap_compare(_app(seeded), terminal_size=(80, 24), run_before=before)


def test_runs_screen_bad_query(seeded: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _runs_loaded(pilot)
        await pilot.press("slash", *"summary.x<")
        await pilot.pause()

    assert snap_compare(_app(seeded), terminal_size=SIZE, run_before=before)


def test_help_screen(seeded: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _runs_loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(_app(seeded), terminal_size=SIZE, run_before=before)


def test_run_charts(seeded: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(seeded), terminal_size=SIZE, run_before=lambda p: _open_run(p))


def test_run_logs(seeded: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(seeded), terminal_size=SIZE, run_before=lambda p: _open_run(p, "3"))


def test_run_overview(seeded: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(seeded), terminal_size=SIZE, run_before=lambda p: _open_run(p, "4"))


def test_run_files(seeded: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(seeded), terminal_size=SIZE, run_before=lambda p: _open_run(p, "5"))
