"""The compare screen over the seeded store: opening from the runs table, tabs, colours that stay with their
run, summary sort and bars, config diff toggle, grouping bands, chart controls, hostile strings."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable
from tracktui.tui.app import make_app
from tracktui.tui.screens.compare import CompareScreen, config_diff, group_runs, rich_color
from tracktui.tui.screens.runs import RunsScreen
from tracktui.tui.widgets.compare_charts import CompareCharts

from .conftest import NOW, wait_for
from .test_safety import FORBIDDEN


async def _compare(pilot, keys: tuple[str, ...] = ("space", "down", "space", "down", "space", "c")
                   ) -> CompareScreen:  # type: ignore[no-untyped-def]
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.loaded)
    await pilot.pause(0.1)
    await pilot.press(*keys)
    screen = app.screen
    assert isinstance(screen, CompareScreen)
    charts = screen.query_one("#compare-charts", CompareCharts)
    await wait_for(pilot, lambda: screen.loaded and charts.loaded)
    await pilot.pause(0.2)
    return screen


async def test_open_from_selection_tabs_and_colours(seeded: Path) -> None:
    app = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _compare(pilot)
        assert screen.run_ids == ["run3", "run2", "run1"]  # newest first, as the table shows them
        charts = screen.query_one("#compare-charts", CompareCharts)
        assert set(charts.charts) == {"train/loss", "train/acc", "val/acc", "epoch"}
        assert len(set(screen.run_colors.values())) == 3
        for chart in charts.charts.values():  # one colour per run on every chart
            assert chart.run_colors == screen.run_colors
            assert chart.labels == {"run3": "delta", "run2": "charlie", "run1": "bravo"}
        assert screen.legend == [("delta", "cyan"), ("charlie", "orange"), ("bravo", "green")]
        assert rich_color("orange") == "dark_orange"  # Rich's name for plotext's orange
        assert screen.bar_colors == {r: screen.run_colors[r] for r in screen.run_ids}  # summary bars too
        assert charts.charts["val/acc"].x_label == "epoch"  # define_metric's step metric is the default x
        assert charts.charts["val/acc"].x_range() == (0.0, 5.0)
        for key, tab in (("2", "summary"), ("3", "config"), ("4", "system"), ("1", "charts")):
            await pilot.press(key)
            assert screen.query_one("TabbedContent").active == tab
        await pilot.press("escape")
        assert isinstance(app.screen, RunsScreen)


async def test_cursor_run_alone_and_chart_controls(seeded: Path) -> None:
    app = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _compare(pilot, ("down", "space", "up", "c"))  # cursor run first, then the selected
        assert screen.run_ids == ["run3", "run2"]
        charts = screen.query_one("#compare-charts", CompareCharts)
        await pilot.press("plus", "y", "right")
        await pilot.pause(0.1)
        assert charts.opts.smoothing == 0.3 and charts.opts.log_y and charts.opts.cursor == 20
        vals = charts.readout_values()
        assert {"train/loss delta", "train/loss charlie"} <= set(vals)
        assert vals["train/loss charlie"] == pytest.approx(vals["train/loss delta"] * 3 / 4, rel=1e-6)
        await pilot.press("x", "x")
        await wait_for(pilot, lambda: charts.bases_loaded >= 1)
        await pilot.pause(0.1)
        assert charts.opts.x_mode == "relative"
        lo, hi = charts.charts["train/loss"].x_range()  # type: ignore[misc]
        assert 0 <= lo < 2 and 297 < hi <= 299  # steps were pinned one second apart


async def test_summary_sort_bars_and_config_toggle(seeded: Path) -> None:
    app = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _compare(pilot)
        await pilot.press("2")
        table = screen.query_one("#summary-table", DataTable)
        col = ["run", *screen.summary_keys()].index("val/best")
        table.move_cursor(column=col)
        await pilot.pause(0.1)
        assert screen.bar_key() == "val/best"
        await pilot.press("s")
        assert screen.summary_order == ["run3", "run1", "run2"]  # 0.93, 0.91, then NaN last
        await pilot.press("S")
        assert screen.summary_order == ["run1", "run3", "run2"]  # NaN stays last
        assert table.cursor_column == col and screen.bar_key() == "val/best"  # the cursor stays on its column
        await pilot.pause(0.1)
        text = app.export_screenshot().replace("&#160;", " ")
        assert "Summary: val/best" in text and "× NaN/Inf" in text and "0.93" in text
        await pilot.press("3")
        rows = screen.query_one("#config-table", DataTable)
        assert rows.row_count == 2  # lr and model.depth differ; opt does not
        assert "2 of 3 keys differ" in str(screen.query_one("#config-title").render())
        await pilot.press("a")
        assert rows.row_count == 3
        await pilot.press("a")
        assert rows.row_count == 2


async def test_grouping_draws_mean_and_band(seeded: Path) -> None:
    app = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
    keys = ("space", "down", "space", "down", "space", "down", "space", "c")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _compare(pilot, keys)
        assert len(screen.run_ids) == 4
        await pilot.press("g")
        assert screen.group_by == "group"
        assert "group by: group" in str(screen.query_one("#compare-header").render())
        charts = screen.query_one("#compare-charts", CompareCharts)
        chart = charts.charts["train/loss"]
        await pilot.pause(0.2)
        assert list(chart.bands) == ["group=sweep1"]
        gx, mean, lo, hi = chart.bands["group=sweep1"]
        assert len(gx) > 20
        for m, a, b in zip(mean, lo, hi, strict=True):  # runs i = 0..3 log (1 + i) * base: mean 2.5, max 4
            assert m == pytest.approx(2.5 * a) and b == pytest.approx(4 * a)
        await pilot.press("g")
        assert screen.group_by == "lr" and len(chart.groups) == 4
        await pilot.press("g", "g")
        assert screen.group_by == "none" and chart.groups == []


def test_config_diff_and_group_runs_helpers(seeded: Path) -> None:
    from tracktui.store import Reader

    with Reader(seeded) as r:
        runs = [r.run(f"run{i}") for i in range(4)]
    keys, total = config_diff(runs)  # type: ignore[arg-type]
    assert keys == ["lr", "model.depth"] and total == 3
    assert config_diff(runs, show_all=True)[0] == ["lr", "model.depth", "opt"]  # type: ignore[arg-type]
    assert group_runs(runs, "model.depth") == {"model.depth=4": ["run0", "run1"],  # type: ignore[arg-type]
                                               "model.depth=8": ["run2", "run3"]}


async def test_hostile_strings_through_compare(hostile_store: Path) -> None:
    app = make_app(store_dir=hostile_store, poll_interval=None)
    keys = ("space", "down", "space", "down", "space", "down", "space", "c")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await _compare(pilot, keys)
        for key in ("g", "g", "g", "2", "s", "3", "a", "4", "1", "x", "plus", "right"):
            await pilot.press(key)
            await pilot.pause()
        svg = app.export_screenshot()
        assert "[@click=app.quit]" in svg.replace("&#160;", " ")  # shown as text
        assert not any(f.decode("latin-1") in svg for f in FORBIDDEN if not f.startswith(b"\xc2"))
        await pilot.press("slash", *"[link", "enter", "escape", "escape")
        await pilot.press("question_mark", "escape", "escape")
        assert isinstance(app.screen, RunsScreen) and app.is_running
        assert screen.group_by not in ("", None)


async def test_system_tab_overlays_system_metrics_against_time(seeded: Path) -> None:
    from tracktui.store.writer import Writer

    from .conftest import FIXED

    w = Writer.for_root(seeded)
    for i, rid in enumerate(("run3", "run2")):
        t0 = FIXED + 60 * int(rid[-1])  # pin_times put each run's start here
        for n in range(10):
            w.put(("system", rid, t0 + 2.0 * n, [("cpu.percent", 10.0 * (i + 1)), ("memory_percent", 50.0 + n)]))
    w.flush()
    app = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _compare(pilot, ("down", "space", "up", "c"))
        await pilot.press("4")
        system = screen.query_one("#compare-system", CompareCharts)
        await wait_for(pilot, lambda: system.loaded)
        await pilot.pause(0.2)
        assert set(system.charts) == {"cpu.percent", "memory_percent"}
        cpu = system.charts["cpu.percent"]
        assert set(cpu.series) == {"run3", "run2"} and cpu.run_colors == screen.run_colors
        assert cpu.x_range() == (0.0, 18.0)  # seconds since each run's start
        await pilot.press("right")
        await pilot.pause(0.1)
        vals = system.readout_values()
        assert vals["cpu.percent delta"] == 10.0 and vals["cpu.percent charlie"] == 20.0
        await pilot.press("x")
        await pilot.pause(0.1)
        assert system.opts.x_mode == "wall"
        assert cpu.x_range() == (FIXED + 60 * 2, FIXED + 60 * 3 + 18.0)


async def test_summary_bars_show_aggregated_metrics(tmp_path: Path) -> None:
    """define_metric(summary="min") stores {"min": v}: the bar shows v, as the table above it does."""
    import tracktui

    ids = []
    for i, loss in enumerate((0.25, 0.5)):
        run = tracktui.init(dir=tmp_path, project="p", name=f"r{i}", settings={"capture": False})
        run.define_metric("train/loss", summary="min")
        for s in range(3):
            run.log({"train/loss": loss * (3 - s)})
        run.finish()
        ids.append(run.id)
    app = make_app(store_dir=tmp_path, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(CompareScreen(app.live, ids))
        screen = app.screen
        await wait_for(pilot, lambda: screen.loaded)
        await pilot.press("2")
        table = screen.query_one("#summary-table", DataTable)
        table.move_cursor(column=["run", *screen.summary_keys()].index("train/loss"))
        await pilot.pause(0.1)
        assert screen.bar_key() == "train/loss"
        assert set(screen.bar_colors) == set(ids)  # a bar for every run, none shown as "–"
        text = app.export_screenshot().replace("&#160;", " ")
        assert "0.25" in text and "0.5" in text
