"""The one chart stack: a chart draws (plotext) only when its data, size or options changed and only when it
is on screen; a focus move or a tab switch reuses the kept drawing. Widgets ask for a full-screen chart or a
pick by message and the screen decides."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import tracktui
from textual.app import App, ComposeResult
from textual.widgets import OptionList
from tracktui.tui.app import make_app
from tracktui.tui.messages import ChartFullScreenRequested, PickRequested, Series
from tracktui.tui.screens.chart import ChartScreen
from tracktui.tui.screens.pick import PickScreen
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.widgets.chart import Chart
from tracktui.tui.widgets.chart_grid import ChartGrid
from tracktui.tui.widgets.run_charts import RunChartsPanel

from .conftest import NOW, pin_times, wait_for


def _store(tmp_path: Path, n_metrics: int) -> Path:
    root = tmp_path / "store"
    run = tracktui.init(dir=root, project="p", id="r", name="r", settings={"capture": False})
    for s in range(60):
        run.log({f"{'ab'[m % 2]}/m{m:02d}": math.sin(s / 9 + m) + 2 for m in range(n_metrics)})
    run.finish()
    pin_times(root)
    return root


async def _open(pilot, n: int) -> RunChartsPanel:  # type: ignore[no-untyped-def]
    app = pilot.app
    await wait_for(pilot, lambda: getattr(app.screen, "loaded", False))
    await pilot.press("enter")
    assert isinstance(app.screen, RunScreen)
    panel = app.screen.query_one(RunChartsPanel)
    await wait_for(pilot, lambda: len(panel.charts) == n)
    await wait_for(pilot, lambda: all(c.draws for c in panel.charts.values()))
    await pilot.pause(0.2)
    return panel


def _draws(panel: RunChartsPanel) -> dict[str, int]:
    return {k: c.draws for k, c in panel.charts.items()}


async def test_a_chart_draws_only_when_data_size_or_options_change(tmp_path: Path) -> None:
    app = make_app(store_dir=_store(tmp_path, 4), poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await _open(pilot, 4)
        before = _draws(panel)
        assert set(before.values()) == {1}  # each chart drew once to appear
        charts = list(panel.charts.values())
        charts[0].focus()
        await pilot.press("tab", "tab")  # the border colour changes, nothing else
        await pilot.pause(0.1)
        await pilot.press("3")  # another tab, then back
        await pilot.pause(0.1)
        await pilot.press("1")
        await pilot.pause(0.2)
        assert _draws(panel) == before

        charts[1].append(charts[1].key, Series([60.0], [1.5], last_step=60))
        await pilot.pause(0.2)
        after = _draws(panel)
        assert after[charts[1].key] == 2 and sum(after.values()) == sum(before.values()) + 1

        await pilot.press("y")  # an option: every shown chart draws once more
        await pilot.pause(0.2)
        assert _draws(panel) == {k: v + 1 for k, v in after.items()}

        await pilot.resize_terminal(100, 40)  # another size: drawn again at that size
        await pilot.pause(0.3)
        assert all(c.draws > after[k] + 1 for k, c in panel.charts.items())


async def test_charts_not_on_screen_are_not_drawn(tmp_path: Path) -> None:
    app = make_app(store_dir=_store(tmp_path, 4), poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await _open(pilot, 4)
        before = _draws(panel)
        await pilot.press("3")  # the Logs tab: the charts are hidden
        await pilot.pause(0.1)
        for c in panel.charts.values():
            c.append(c.key, Series([60.0], [1.0], last_step=60))
        panel.action_log_y()
        await pilot.pause(0.2)
        assert _draws(panel) == before  # new data and options while hidden: nothing drawn
        await pilot.press("1")
        await pilot.pause(0.2)
        assert _draws(panel) == {k: v + 1 for k, v in before.items()}  # once each, when shown

        panel.set_filter("^a/")  # filtered out: not drawn on a change
        await pilot.pause(0.1)
        shown = _draws(panel)
        panel.action_smoothing(1)
        await pilot.pause(0.2)
        now = _draws(panel)
        assert all(now[k] == shown[k] + 1 for k in now if k.startswith("a/"))
        assert all(now[k] == shown[k] for k in now if k.startswith("b/"))


async def test_charts_below_the_fold_draw_when_scrolled_to(tmp_path: Path) -> None:
    app = make_app(store_dir=_store(tmp_path, 24), poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: getattr(app.screen, "loaded", False))
        await pilot.press("enter")
        panel = app.screen.query_one(RunChartsPanel)
        await wait_for(pilot, lambda: len(panel.charts) == 24)
        await pilot.pause(0.3)
        drawn = [k for k, c in panel.charts.items() if c.draws]
        assert 0 < len(drawn) < 24  # only what fits in 80x24 drew
        last = list(panel.charts.values())[-1]
        assert last.draws == 0
        panel.scroll_end(animate=False)
        await pilot.pause(0.3)
        assert last.draws == 1


class _Grid(ChartGrid):
    """A chart grid with two charts of fixed points (no store): what the grid asks of its screen."""

    def on_mount(self) -> None:
        for key in ("a/x", "a/y"):
            chart = self.add_chart(key)
            chart.set_series(key, Series([0.0, 1.0, 2.0], [1.0, 2.0, 3.0]))


class _Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.asked: list[Any] = []

    def compose(self) -> ComposeResult:
        yield _Grid()

    def on_chart_full_screen_requested(self, message: ChartFullScreenRequested) -> None:
        self.asked.append(message)

    def on_pick_requested(self, message: PickRequested) -> None:
        self.asked.append(message)


async def test_the_grid_asks_and_the_screen_decides() -> None:
    app = _Host()
    async with app.run_test(size=(100, 30)) as pilot:
        grid = app.query_one(_Grid)
        await wait_for(pilot, lambda: len(grid.charts) == 2)
        grid.charts["a/y"].focus()
        await pilot.press("enter")
        await pilot.pause()
        full = app.asked.pop()
        assert isinstance(full, ChartFullScreenRequested) and full.key == "a/y" and full.grid is grid
        assert grid.full_key is None  # nothing happened until someone decided
        grid.show_full(full.key)  # what the compare screen decides
        await pilot.pause()
        assert [c.key for c in grid.visible_charts()] == ["a/y"]
        await pilot.press("enter")  # back to the grid: the grid's own business
        assert grid.full_key is None and not app.asked

        await pilot.press("X")
        await pilot.pause()
        pick = app.asked.pop()
        assert isinstance(pick, PickRequested) and not pick.many
        assert pick.values[:4] == ["default", "step", "relative", "wall"] and "metric:a/x" in pick.values
        pick.done("step")
        assert grid.opts.x_mode == "step"


async def test_run_view_enter_opens_the_chart_screen_and_x_metric_pick(tmp_path: Path) -> None:
    app = make_app(store_dir=_store(tmp_path, 2), poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await _open(pilot, 2)
        panel.charts["b/m01"].focus()
        await pilot.press("plus")
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, ChartScreen) and screen.key == "b/m01" and screen.opts is panel.opts
        full = screen.query_one(RunChartsPanel)
        await wait_for(pilot, lambda: list(full.charts) == ["b/m01"])
        await pilot.press("enter")  # already full screen: stays
        assert app.screen is screen
        await pilot.press("X")  # the x-metric picker, answered by the chart screen
        await wait_for(pilot, lambda: isinstance(app.screen, PickScreen))
        options = app.screen.query_one(OptionList)
        options.highlighted = 1  # step
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen)
        assert panel.opts.x_mode == "step"  # the run view's options, shared
        await pilot.press("escape")
        assert isinstance(app.screen, RunScreen)


def test_one_chart_widget() -> None:
    """The older generation is gone: every chart of the app is a Chart."""
    import importlib.util

    for old in ("metric_chart", "controlled_chart", "charts_panel"):
        assert importlib.util.find_spec(f"tracktui.tui.widgets.{old}") is None
    assert issubclass(RunChartsPanel, ChartGrid)
    assert Chart.__mro__[1].__name__ == "PlotextPlot"


def _unreadable(root: Path) -> list[tuple[Path, Path]]:
    """Put the store's database aside and leave garbage in its place."""
    moved = []
    for f in sorted(root.glob("tracktui.db*")):
        aside = f.with_name(f.name + ".aside")
        os.replace(f, aside)
        moved.append((aside, f))
    (root / "tracktui.db").write_bytes(b"this is not a database\n" * 512)
    return moved


def _restore(root: Path, moved: list[tuple[Path, Path]]) -> None:
    (root / "tracktui.db").unlink()
    for aside, f in moved:
        os.replace(aside, f)


async def test_run_charts_show_a_failed_read_keep_updating_and_sleep_when_hidden(tmp_path: Path) -> None:
    root = tmp_path / "store"
    run = tracktui.init(dir=root, project="p", id="r", name="r", settings={"capture": False})
    try:
        for s in range(5):
            run.log({"a/loss": 10.0 - s})
        app = make_app(store_dir=root, poll_interval=0.1, fixed_now=NOW)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: getattr(app.screen, "loaded", False))
            await pilot.press("enter")
            panel = app.screen.query_one(RunChartsPanel)
            await wait_for(pilot, lambda: panel.last_steps.get("a/loss") == 4, timeout=10)

            await pilot.press("3")  # another tab: the charts do not read
            await pilot.pause(0.3)
            reads = app.live.reads["charts"]
            await pilot.pause(0.6)
            assert app.live.reads["charts"] == reads
            await pilot.press("1")
            await wait_for(pilot, lambda: app.live.reads["charts"] > reads, timeout=10)

            moved = _unreadable(root)
            await wait_for(pilot, lambda: (panel.failed or "").startswith("store unreadable: "), timeout=10)
            await pilot.pause(0.2)
            status = str(panel.query_one("#chart-status").render())
            assert "store unreadable" in status and "retrying in 2 s" in status
            _restore(root, moved)
            for s in range(5, 9):
                run.log({"a/loss": 10.0 - s})
            run.finish()
            await wait_for(pilot, lambda: panel.last_steps.get("a/loss") == 8, timeout=15)
            await pilot.pause(0.2)
            assert panel.failed is None and "store unreadable" not in str(panel.query_one("#chart-status").render())
            assert panel.charts["a/loss"].series["a/loss"].y == [10.0 - s for s in range(9)]
    finally:
        run.finish()
