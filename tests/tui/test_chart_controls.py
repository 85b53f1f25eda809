"""Chart controls of the run view: state after key presses over a small seeded store (fixed timestamps,
polling off): x-axis, smoothing, log y, full screen, metric filter, grid columns, cursor read-out, NaN marks."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import tracktui
from textual.containers import Grid
from textual.widgets import OptionList
from tracktui.tui.app import make_app
from tracktui.tui.screens.chart import ChartScreen
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.widgets.run_charts import RunChartsPanel

from .conftest import FIXED, NOW, pin_times, wait_for


@pytest.fixture
def line_store(tmp_path: Path) -> Path:
    """One run: a/y = step and a/z = 2*step over steps 0..40, b/w with a NaN at step 20 and +Inf at 30
    (few enough steps that the charts hold every point)."""
    root = tmp_path / "lines"
    run = tracktui.init(dir=root, project="p", id="line", name="line", settings={"capture": False})
    for s in range(41):
        w = math.nan if s == 20 else math.inf if s == 30 else float(s % 7)
        run.log({"a/y": float(s), "a/z": 2.0 * s, "b/w": w})
    run.finish()
    pin_times(root)  # step s at FIXED + s seconds; the run created at FIXED
    return root


async def _open(pilot) -> RunChartsPanel:  # type: ignore[no-untyped-def]
    app = pilot.app
    await wait_for(pilot, lambda: getattr(app.screen, "loaded", False))
    await pilot.press("enter")
    assert isinstance(app.screen, RunScreen)
    panel = app.screen.query_one(RunChartsPanel)
    await wait_for(pilot, lambda: len(panel.charts) == 3)
    await pilot.pause(0.2)
    return panel


def _status(panel: RunChartsPanel) -> str:
    return str(panel.query_one("#chart-status").render())


async def test_x_axis_cycle_and_metric_picker(line_store: Path) -> None:
    app = make_app(store_dir=line_store, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await _open(pilot)
        y = panel.charts["a/y"]
        assert y.x_range() == (0.0, 40.0)
        await pilot.press("x")
        assert panel.opts.x_mode == "step"
        await pilot.press("x")
        await wait_for(pilot, lambda: panel.bases_loaded >= 1)
        await pilot.pause(0.1)
        assert panel.opts.x_mode == "relative" and "relative time" in _status(panel)
        assert y.x_range() == (0.0, 40.0)  # steps were one second apart from the run's start
        assert "x: relative time" in str(y.border_subtitle)
        await pilot.press("x")
        await wait_for(pilot, lambda: panel.bases_loaded >= 2)
        await pilot.pause(0.1)
        assert panel.opts.x_mode == "wall" and y.x_range() == (FIXED, FIXED + 40)
        await pilot.press("X")
        options = app.screen.query_one(OptionList)
        options.highlighted = [str(o.prompt) for o in options.options].index("a/z")
        await pilot.press("enter")
        await wait_for(pilot, lambda: panel.bases_loaded >= 3)
        await pilot.pause(0.1)
        assert panel.opts.x_mode == "metric:a/z"
        assert y.x_range() == (0.0, 80.0)  # a/y against a/z, joined by step
        await pilot.press("x")
        assert panel.opts.x_mode == "default"


async def test_smoothing_log_cursor_readout(line_store: Path) -> None:
    app = make_app(store_dir=line_store, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await _open(pilot)
        await pilot.press("right")  # the cursor starts in the middle of the x range
        await pilot.pause(0.1)
        assert panel.opts.cursor == 20
        vals = panel.readout_values()
        assert vals["a/y"] == 20.0 and vals["a/z"] == 40.0
        assert "cursor:" in _status(panel) and "a/y 20" in _status(panel)
        await pilot.press("right", "right")
        await pilot.pause(0.1)
        assert panel.readout_values()["a/y"] == 22.0  # 22/40 of 0..40
        await pilot.press("plus", "plus")
        await pilot.pause(0.1)
        assert panel.opts.smoothing == 0.6 and "smoothing: 0.60" in _status(panel)
        acc, n, want = 0.0, 0, 0.0
        for v in range(23):  # a hand-written debiased EMA up to step 22
            n += 1
            acc = 0.6 * acc + 0.4 * v
            want = acc / (1 - 0.6**n)
        assert panel.readout_values()["a/y"] == pytest.approx(want)
        raw_drawn = panel.charts["a/y"].drawn["a/y"][1]
        assert raw_drawn[0] == 0.0 and raw_drawn[10] < 10.0  # smoothed line lags the raw one
        await pilot.press("minus", "minus", "minus")
        assert panel.opts.smoothing == 0.0
        await pilot.press("y")
        await pilot.pause(0.1)
        assert panel.opts.log_y and "y: log" in _status(panel)
        assert panel.charts["a/y"].dropped == 1  # the 0 at step 0 is not drawn on a log axis, but counted
        assert "1 ≤0 hidden" in str(panel.charts["a/y"].border_subtitle)
        await pilot.press("y")
        assert not panel.opts.log_y


async def test_nan_and_inf_are_marked_not_drawn(line_store: Path) -> None:
    app = make_app(store_dir=line_store, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await _open(pilot)
        w = panel.charts["b/w"]
        await pilot.pause(0.1)
        assert sorted((x, str(v)) for x, v in w.series["b/w"].special) == [(20.0, "nan"), (30.0, "inf")]
        assert w.specials_drawn == 2 and "2 NaN/Inf" in str(w.border_subtitle)
        xs, ys = w.drawn["b/w"]
        assert 20.0 not in xs and 30.0 not in xs and all(math.isfinite(v) for v in ys)


async def test_full_screen_filter_columns(line_store: Path) -> None:
    app = make_app(store_dir=line_store, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await _open(pilot)
        await pilot.press("plus", "y")
        panel.charts["a/z"].focus()
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, ChartScreen) and screen.key == "a/z"
        full = screen.query_one(RunChartsPanel)
        await wait_for(pilot, lambda: list(full.charts) == ["a/z"])
        await pilot.pause(0.1)
        assert full.opts is panel.opts  # the same x-axis, smoothing, log y and cursor
        assert full.charts["a/z"].size.height > 20  # it fills the screen
        await pilot.press("minus")
        assert panel.opts.smoothing == 0.0
        await pilot.press("escape")
        assert app.screen is not screen and app.screen.query_one(RunChartsPanel) is panel
        await pilot.press("y")
        await pilot.press("slash", *"^a/", "enter")
        await pilot.pause(0.1)
        assert sorted(c.key for c in panel.visible_charts()) == ["a/y", "a/z"]
        assert "filter: ^a/" in _status(panel)
        await pilot.press("slash", "ctrl+u", *"b|(", "enter")  # a bad regex keeps the last good filter
        assert panel.metric_filter is not None and panel.metric_filter.pattern == "b|"
        await pilot.press("escape")  # closes the box
        assert panel.metric_filter is not None
        await pilot.press("escape")  # clears the filter
        assert panel.metric_filter is None and len(panel.visible_charts()) == 3
        await pilot.press("right_square_bracket")
        await pilot.pause(0.1)
        cols = panel.col_override
        assert cols == panel.auto_columns() + 1
        assert all(g.styles.grid_size_columns == cols for g in panel.query(Grid))
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert panel.col_override == cols - 2 and panel.columns == cols - 2


async def test_help_lists_every_chart_key(line_store: Path) -> None:
    app = make_app(store_dir=line_store, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 50)) as pilot:
        await _open(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        text = app.export_screenshot().replace("&#160;", " ")
        for k in ("x-axis", "EMA", "log / linear", "full screen", "filter metrics", "chart columns",
                  "chart cursor", "any logged metric"):
            assert k in text, k
