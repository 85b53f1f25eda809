"""Pilot tests of the runs table: sorting, filtering, selection, navigation, live updates."""

from __future__ import annotations

from pathlib import Path

import tracktui
from tracktui.store.writer import Writer
from tracktui.tui.app import make_app
from tracktui.tui.query import QueryError, parse
from tracktui.tui.screens.help import HelpScreen
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.screens.runs import RunsScreen
from tracktui.tui.widgets.log_tail import LogTail
from tracktui.tui.widgets.run_charts import RunChartsPanel
from tracktui.tui.widgets.runs_table import RunsTable

from .conftest import NOW, wait_for


async def _loaded(pilot) -> RunsTable:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RunsScreen) and pilot.app.screen.loaded)
    await pilot.pause()
    return pilot.app.screen.query_one(RunsTable)


async def test_sort_by_key_and_direction_nan_last(seeded: Path) -> None:
    app = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(160, 30)) as pilot:
        table = await _loaded(pilot)
        assert table.sort_col == "created" and table.order == ["run3", "run2", "run1", "run0"]
        table.set_sort("summary.val/best", desc=True)
        assert table.order == ["run3", "run1", "run0", "run2"]  # NaN (run2) last
        await pilot.press("S")
        assert not table.sort_desc
        assert table.order == ["run0", "run1", "run3", "run2"]  # still last ascending
        before = table.sort_col
        await pilot.press("s")
        assert table.sort_col != before
        label = str(table.columns[table.sort_col].label)  # type: ignore[index]
        assert label.endswith(("▲", "▼"))


async def test_header_click_sorts(seeded: Path) -> None:
    app = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(160, 30)) as pilot:
        table = await _loaded(pilot)
        x = sum(c.get_render_width(table) for c in table.ordered_columns[:2]) + 1  # "name" header
        await pilot.click(RunsTable, offset=(x, 0))
        assert table.sort_col == "name" and table.order == ["run0", "run1", "run2", "run3"]
        await pilot.click(RunsTable, offset=(x, 0))
        assert table.sort_desc and table.order[0] == "run3"


async def test_filter_and_malformed_query(seeded: Path) -> None:
    app = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(160, 30)) as pilot:
        table = await _loaded(pilot)
        await pilot.press("slash", *"config.lr<5e-3 state=finished")
        assert sorted(table.order) == ["run0", "run1", "run3"]
        await pilot.press("space", *"summary.val/best>0.905")
        assert sorted(table.order) == ["run1", "run3"]
        inp = app.screen.query_one("#filter")
        inp.value = "summary.val/best>0.905 foo<="  # malformed: unknown field, no value
        await pilot.pause()
        err = app.screen.query_one("#filter-error")
        assert err.display and "foo" in str(err.render())
        assert sorted(table.order) == ["run1", "run3"]  # the last good view stays
        await pilot.press("ctrl+u", *"name~(")
        assert "regex" in str(err.render())
        await pilot.press("ctrl+u", *"charlie")
        assert table.order == ["run2"] and not err.display
        await pilot.press("escape", "escape")
        assert len(table.order) == 4


def test_query_language() -> None:
    for bad in ("foo=1", "state=", "name~(", "'open", "config.=1"):
        try:
            parse(bad)
        except QueryError:
            continue
        raise AssertionError(f"{bad!r} should not parse")
    assert parse("").tests == ()


async def test_selection_survives_filtering(seeded: Path) -> None:
    app = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(160, 30)) as pilot:
        table = await _loaded(pilot)
        await pilot.press("space", "down", "space")
        assert table.selected == {"run3", "run2"}
        await pilot.press("slash", *"delta", "enter")
        assert table.order == ["run3"]
        await pilot.press("escape")
        assert table.selected == {"run3", "run2"} and len(table.order) == 4
        assert str(table.get_cell("run2", "sel")).strip() == "*"


async def test_navigation_open_tabs_help_back_quit(seeded: Path) -> None:
    app = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(pilot)
        await pilot.press("down", "enter")
        assert isinstance(app.screen, RunScreen) and app.screen.run_id == "run2"
        await wait_for(pilot, lambda: app.screen.query_one(RunChartsPanel).charts)
        charts = app.screen.query_one(RunChartsPanel).charts
        assert {"train/loss", "train/acc", "val/acc", "epoch"} <= set(charts)
        for key, tab in (("3", "logs"), ("4", "overview"), ("5", "files"), ("1", "charts")):
            await pilot.press(key)
            assert app.screen.query_one("TabbedContent").active == tab
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, RunsScreen)
        await pilot.press("q")
    assert app.return_code == 0 or app.return_code is None


async def test_empty_store_shows_how_to_start(tmp_path: Path) -> None:
    app = make_app(store_dir=tmp_path / "nothing", poll_interval=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await _loaded(pilot)
        assert app.screen.query_one("#empty").display
        assert "tracktui demo" in str(app.screen.query_one("#empty").render())


async def test_column_picker_is_remembered(seeded: Path) -> None:
    app = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await _loaded(pilot)
        assert "summary.val/best" in table.shown_columns
        await pilot.press("o")
        sl = app.screen.query_one("SelectionList")
        sl.deselect("summary.val/best")
        sl.select("host")
        await pilot.press("enter")
        assert "summary.val/best" not in table.shown_columns and "host" in table.shown_columns
    app2 = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
    async with app2.run_test(size=(120, 40)) as pilot:
        table = await _loaded(pilot)
        assert "host" in table.shown_columns and "summary.val/best" not in table.shown_columns


async def test_live_rows_and_points_appear_without_moving_cursor(seeded: Path) -> None:
    app = make_app(store_dir=seeded, poll_interval=0.1)
    async with app.run_test(size=(160, 40)) as pilot:
        table = await _loaded(pilot)
        table.set_sort("name", desc=False)
        assert table.cursor_run_id() == "run3"  # the cursor moved with its run
        table.move_cursor(row=2)
        assert table.cursor_run_id() == "run2"
        run = tracktui.init(dir=seeded, project="mnist", id="live", name="aardvark")
        run.log({"train/loss": 1.0})
        await wait_for(pilot, lambda: "live" in table.order)
        assert table.order[0] == "live"  # sorted in, sort kept
        assert table.cursor_run_id() == "run2"  # the cursor stays on its run
        assert str(table.get_cell("live", "state")).endswith("running")
        await pilot.press("slash", *"aardvark", "enter")
        await pilot.press("enter")
        assert isinstance(app.screen, RunScreen) and app.screen.run_id == "live"
        panel = app.screen.query_one(RunChartsPanel)
        await wait_for(pilot, lambda: "train/loss" in panel.charts)
        for s in range(1, 40):
            run.log({"train/loss": 1.0 / (s + 1)})
        run._writer.flush()  # type: ignore[union-attr]
        await wait_for(pilot, lambda: panel.last_steps.get("train/loss", 0) >= 39)
        assert len(panel.charts["train/loss"].series["train/loss"].y) == 40
        await pilot.press("3")
        tail = app.screen.query_one(LogTail)
        Writer.for_root(seeded).put(("log", "live", 0.0, "stdout", "hello from the run"))
        await wait_for(pilot, lambda: any(r[3] == "hello from the run" for r in tail.lines))
        await pilot.press("p")
        assert app.paused
        run.finish()
        await pilot.press("p")
        await wait_for(pilot, lambda: app.screen.record is not None and app.screen.record.state == "finished")


async def test_killed_writer_shows_as_crashed(seeded: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import signal
    import subprocess
    import sys

    from tracktui.tui.screens import runs as runs_screen

    monkeypatch.setattr(runs_screen, "RECHECK_RUNNING", 0.2)
    code = ("import sys, time, tracktui; run = tracktui.init(dir=sys.argv[1], project='mnist', id='doomed'); "
            "run.log({'x': 1.0}); print('ready', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(seeded)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        app = make_app(store_dir=seeded, poll_interval=0.1)
        async with app.run_test(size=(160, 30)) as pilot:
            table = await _loaded(pilot)
            await wait_for(pilot, lambda: "doomed" in table.model)
            assert table.model["doomed"].state == "running"
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            # no write marks the death: the table re-reads running runs and derives 'crashed'
            await wait_for(pilot, lambda: table.model["doomed"].state == "crashed")
            assert str(table.get_cell("doomed", "state")) == "☠ crashed"
            assert "1 crashed" in str(app.screen.query_one("#status").render())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_command_palette_lists_screen_actions(seeded: Path) -> None:
    app = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await _loaded(pilot)
        commands = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Sort", "Filter", "Columns", "Pause", "Help", "Select"} <= commands
        before = table.sort_col
        await pilot.press("ctrl+p", *"Flip sort")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: table.sort_col == before and not table.sort_desc)


async def test_chart_controls_filter_and_full_screen(seeded: Path) -> None:
    from tracktui.tui.screens.chart import ChartScreen

    app = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(pilot)
        await pilot.press("enter")
        panel = app.screen.query_one(RunChartsPanel)
        await wait_for(pilot, lambda: len(panel.charts) >= 4)
        assert panel.charts["val/acc"].x_label == "epoch"  # define_metric("val/*", step_metric="epoch")
        epochs = panel.charts["val/acc"].series["val/acc"].x
        assert epochs == sorted(epochs) and max(epochs) == 5
        await pilot.press("x")
        await pilot.pause()
        panel.poll()  # polling is off in this test: one poll re-reads with the step as x
        await wait_for(pilot, lambda: panel.charts["val/acc"].x_label == "step")
        assert max(panel.charts["val/acc"].series["val/acc"].x) == 250
        await pilot.press("plus", "plus", "y")
        assert panel.opts.smoothing == 0.6 and all(c.opts.log_y for c in panel.charts.values())
        await pilot.press("slash", *"train")
        assert {k for k, c in panel.charts.items() if c.display} == {"train/loss", "train/acc"}
        await pilot.press("enter", "enter")
        assert isinstance(app.screen, ChartScreen) and app.screen.key in ("train/loss", "train/acc")
        full = app.screen.query_one(RunChartsPanel)
        await wait_for(pilot, lambda: list(full.charts) == [app.screen.key])
        assert full.charts[app.screen.key].size.height > 20  # the chart fills the screen
        await pilot.press("escape")
        assert isinstance(app.screen, RunScreen)
        await pilot.press("escape")  # clears the metric filter first
        assert all(c.display for c in panel.charts.values())
        await pilot.press("escape")
        assert isinstance(app.screen, RunsScreen)


async def test_unreadable_store_is_reported_not_fatal(tmp_path: Path) -> None:
    root = tmp_path / "broken"
    root.mkdir()
    (root / "tracktui.db").write_bytes(b"this is not a database" * 100)
    app = make_app(store_dir=root, poll_interval=0.1)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.error is not None)
        status = str(app.screen.query_one("#status").render())
        assert "store unreadable: " in status and "retrying in 2 s" in status
        await pilot.pause(0.3)  # it keeps polling without crashing
        assert app.is_running


async def test_read_only_store_is_shown_as_a_snapshot(tmp_path: Path) -> None:
    from tests.readonly_helpers import make_store, read_only_mount

    src = tmp_path / "store"
    make_store(src)
    with read_only_mount(src, tmp_path / "mnt") as mnt:
        app = make_app(store_dir=mnt, poll_interval=0.1)
        async with app.run_test(size=(160, 30)) as pilot:
            table = await _loaded(pilot)
            assert [r.name for r in table.model.values()] == ["clean-0"]
            status = str(app.screen.query_one("#status").render())
            assert "read-only snapshot" in status and " live" not in status
            assert [n.title for n in app._notifications] == ["read-only store"]
            await pilot.pause(0.3)  # it keeps polling (a writer may appear) and says it once
            assert len(app._notifications) == 1 and app.is_running


async def test_created_column_of_finished_runs_ages(tmp_path: Path) -> None:
    """Only running rows were updated: a finished run stayed "created 0s ago" for ever."""
    import re

    tracktui.init(dir=tmp_path, project="p", name="done", settings={"capture": False}).finish()
    app = make_app(store_dir=tmp_path, poll_interval=0.2)

    def shown_age() -> int:
        m = re.search(r"(\d+)s ago", app.export_screenshot().replace("&#160;", " "))
        assert m is not None
        return int(m.group(1))

    async with app.run_test(size=(120, 20)) as pilot:
        await _loaded(pilot)
        await pilot.pause(0.3)
        first = shown_age()
        await pilot.pause(2.2)
        await wait_for(pilot, lambda: shown_age() >= first + 2, timeout=3)


async def test_narrow_screen_shows_whole_columns_and_counts_the_rest(seeded: Path) -> None:
    """At 80x24 a number was cut by the screen edge (0.003 as 0.00): only whole columns are drawn."""
    from textual.widgets import Static

    app = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _loaded(pilot)
        await pilot.pause(0.2)
        assert table.hidden_right > 0
        status = str(app.screen.query_one("#status", Static).render())
        assert f"{table.hidden_right} columns off screen (→)" in status
        shown = [c.key.value for c in table.ordered_columns]
        assert sum(c.get_render_width(table) for c in table.ordered_columns) <= 80
        for rid in table.order:  # every value of every shown column is on screen whole
            for col in shown:
                text = str(table.get_cell(rid, col))
                assert text.strip() in app.export_screenshot().replace("&#160;", " ") or col == "sel"
        await pilot.press(*["right"] * table.hidden_right)
        assert table.hidden_right == 0 and table.hidden_left > 0
        assert sum(c.get_render_width(table) for c in table.ordered_columns) <= 80
        status = str(app.screen.query_one("#status", Static).render())
        assert "off screen (←)" in status
        await pilot.press("left")
        assert table.hidden_right == 1
