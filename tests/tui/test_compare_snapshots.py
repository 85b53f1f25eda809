"""Snapshots of the compare screen and of the run charts with chart controls on (seeded store, fixed
timestamps, polling off). Review changes with `pytest tests/tui/test_compare_snapshots.py --snapshot-update`."""

from __future__ import annotations

from pathlib import Path

from tracktui.tui.app import make_app
from tracktui.tui.screens.compare import CompareScreen
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.screens.runs import RunsScreen
from tracktui.tui.widgets.compare_charts import CompareCharts
from tracktui.tui.widgets.run_charts import RunChartsPanel

from .conftest import NOW, wait_for

SIZE = (120, 40)


def _app(root: Path):  # type: ignore[no-untyped-def]
    app = make_app(store_dir=root, poll_interval=None, fixed_now=NOW)
    app.store_label_text = "~/store"
    return app


async def _loaded(pilot) -> None:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RunsScreen) and pilot.app.screen.loaded)
    await pilot.pause(0.2)


async def _compare(pilot, *keys: str) -> None:  # type: ignore[no-untyped-def]
    await _loaded(pilot)
    await pilot.press("space", "down", "space", "down", "space", "c")
    screen = pilot.app.screen
    assert isinstance(screen, CompareScreen)
    charts = screen.query_one("#compare-charts", CompareCharts)
    await wait_for(pilot, lambda: screen.loaded and charts.loaded)
    await pilot.press(*keys)
    await pilot.pause(0.3)
    await pilot.pause()


def test_compare_charts(seeded: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _compare(pilot, "plus", "plus", "right")

    assert snap_compare(_app(seeded), terminal_size=SIZE, run_before=before)


def test_compare_summary(seeded: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _compare(pilot, "2")

    assert snap_compare(_app(seeded), terminal_size=SIZE, run_before=before)


def test_compare_grouped_config_diff(seeded: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _compare(pilot, "g", "g", "3")

    assert snap_compare(_app(seeded), terminal_size=SIZE, run_before=before)


def test_run_charts_smoothed(seeded: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _loaded(pilot)
        await pilot.press("enter")
        screen = pilot.app.screen
        assert isinstance(screen, RunScreen)
        panel = screen.query_one(RunChartsPanel)
        await wait_for(pilot, lambda: len(panel.charts) >= 4)
        await pilot.press("plus", "plus", "plus", "y", "right", "right")
        await pilot.pause(0.3)
        await pilot.pause()

    assert snap_compare(_app(seeded), terminal_size=SIZE, run_before=before)
