"""The run view's custom chart: `m` picks several metrics of the run, the chart overlays them (their own
points, read by step), the chart controls apply to it, `M` or an empty pick removes it; hostile keys are
drawn as plain text."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from textual.widgets import SelectionList, Static
from tracktui.store import Reader
from tracktui.tui.app import make_app
from tracktui.tui.screens.help import HelpScreen
from tracktui.tui.screens.pick_many import PickManyScreen
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.widgets.run_charts import RunChartsPanel

from .conftest import HOSTILE, NOW, wait_for


async def _open(pilot) -> RunChartsPanel:  # type: ignore[no-untyped-def]
    app = pilot.app
    await wait_for(pilot, lambda: getattr(app.screen, "loaded", False))
    await pilot.press("enter")
    assert isinstance(app.screen, RunScreen)
    panel = app.screen.query_one(RunChartsPanel)
    await wait_for(pilot, lambda: len(panel.charts) >= 4)
    await pilot.pause(0.1)
    return panel


async def _pick(pilot, keys: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Press m, toggle these keys with space (moving the highlight with the arrow keys), confirm."""
    await pilot.press("m")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, PickManyScreen))
    screen = pilot.app.screen
    sel = screen.query_one(SelectionList)
    for key in keys:
        target = screen.values.index(key)
        while sel.highlighted != target:
            await pilot.press("down" if (sel.highlighted or 0) < target else "up")
        await pilot.press("space")
    await pilot.press("enter")
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, PickManyScreen))


def _points(root: Path, run_id: str, key: str) -> tuple[list[float], list[float]]:
    with Reader(root) as r:
        pts = r.history(run_id, [key])[key]
    return [float(s) for s, _ in pts], [float(v) for _, v in pts]


async def test_custom_chart_overlays_metrics_and_is_removed(seeded: Path) -> None:
    app = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await _open(pilot)
        assert panel.custom is None and not panel.query("#custom-section")
        await _pick(pilot, ["train/loss", "val/acc"])
        await wait_for(pilot, lambda: panel.custom is not None and panel.custom_reads >= 1)
        chart = panel.custom
        assert chart is not None
        assert list(chart.series) == ["train/loss", "val/acc"]
        # val/acc: its six logged points, by step (its own chart has them by its step metric, epoch)
        xs, ys = _points(seeded, panel.run_id, "val/acc")
        assert len(xs) == 6 and (chart.series["val/acc"].x, chart.series["val/acc"].y) == (xs, ys)
        assert panel.charts["val/acc"].series["val/acc"].x == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        # train/loss: 300 points, downsampled like its own chart (the store's buckets, chart width)
        own = panel.charts["train/loss"].series["train/loss"]
        got = chart.series["train/loss"]
        with Reader(seeded) as r:
            s = r.sampled(panel.run_id, "train/loss", buckets=panel.buckets)
        assert got.y == list(s.mean) == own.y and got.x == own.x and len(got.x) == len(s.mean) > 20
        # the custom section comes first in the grid
        sections = [n for n in panel.children if n.has_class("section")]
        assert sections[0].id == "head-custom-section"
        assert "custom" in str(sections[0].render())
        assert panel.control_charts()[0] is chart
        await pilot.pause(0.2)
        assert set(chart.drawn) == {"train/loss", "val/acc"}  # two lines, each with its legend label
        assert chart.drawn["val/acc"][0] == [0.0, 50.0, 100.0, 150.0, 200.0, 250.0]

        # the chart controls apply to it
        await pilot.press("y")
        await pilot.pause(0.2)
        assert chart.opts.log_y and chart.dropped == 0
        await pilot.press("right")
        await pilot.pause(0.2)
        vals = panel.readout_values()
        assert f"{chart.key} train/loss" in vals and f"{chart.key} val/acc" in vals
        await pilot.press("y")

        # m again shows the chosen ones selected; an empty pick removes the chart
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, PickManyScreen))
        assert app.screen.chosen() == ["train/loss", "val/acc"]
        await pilot.press("escape")  # cancel: unchanged
        await pilot.pause(0.1)
        assert panel.custom is chart
        await _pick(pilot, ["train/loss", "val/acc"])  # toggles both off
        await pilot.pause(0.1)
        assert panel.custom is None and not panel.query("#custom-section")

        # M removes it too
        await _pick(pilot, ["train/acc", "train/loss"])
        await wait_for(pilot, lambda: panel.custom is not None and panel.custom_reads >= 2)
        assert list(panel.custom.series) == ["train/acc", "train/loss"]  # list order, not pick order
        # ? lists both keys (M while there is a custom chart, as the footer does)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        console = Console(width=100, record=True, file=io.StringIO())
        for st in app.screen.query(Static):
            console.print(st.content)
        helptext = console.export_text()
        assert "custom chart: overlay several metrics" in helptext and "remove the custom chart" in helptext
        await pilot.press("escape")
        await pilot.pause(0.1)

        await pilot.press("M")
        await pilot.pause(0.1)
        assert panel.custom is None and not panel.query("#head-custom-section")
        assert not panel.query("#custom-chart")


async def test_custom_chart_full_screen_and_filter(seeded: Path) -> None:
    app = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await _open(pilot)
        await _pick(pilot, ["train/loss", "val/acc"])
        await wait_for(pilot, lambda: panel.custom is not None and panel.custom_reads >= 1)
        chart = panel.custom
        assert chart is not None
        chart.focus()
        await pilot.press("enter")  # the custom chart fills the panel
        await pilot.pause(0.1)
        assert isinstance(app.screen, RunScreen) and panel.full_key == chart.key
        assert [c for c in panel.control_charts() if c.display] == [chart]
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert panel.full_key is None and isinstance(app.screen, RunScreen)
        panel.set_filter("train/acc")  # none of the custom chart's metrics match: hidden with its section
        await pilot.pause(0.1)
        assert not chart.display and not panel.query_one("#head-custom-section").display
        panel.set_filter("^val/")  # one of them matches
        await pilot.pause(0.1)
        assert chart.display and panel.query_one("#head-custom-section").display
        assert not panel.charts["train/loss"].display


async def test_custom_chart_hostile_keys(hostile_store: Path) -> None:
    app = make_app(store_dir=hostile_store, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await _open(pilot)
        await wait_for(pilot, lambda: all(h in panel.charts for h in HOSTILE))
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, PickManyScreen))
        sel = app.screen.query_one(SelectionList)
        for i in range(sel.option_count):  # the picker's labels are plain, printable text
            prompt = sel.get_option_at_index(i).prompt
            assert not any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in str(prompt))
        await pilot.press("escape")
        await pilot.pause(0.1)
        panel.set_custom(list(HOSTILE))
        await wait_for(pilot, lambda: panel.custom is not None and panel.custom_reads >= 1)
        await pilot.pause(0.2)
        chart = panel.custom
        assert chart is not None and set(chart.series) == set(HOSTILE)
        for key in HOSTILE:
            assert chart.series[key].x == [0.0, 100.0, 200.0]
        assert app.is_running  # [@click=app.quit] stayed text
        title = str(chart.border_title)
        assert not any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in title)
        for line in chart.render_lines(chart.region.reset_offset):  # the drawn chart with its legend
            text = "".join(seg.text for seg in line)
            assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text


async def test_custom_chart_follows_a_live_run(tmp_path: Path) -> None:
    import tracktui

    root = tmp_path / "live"
    run = tracktui.init(dir=root, project="p", id="live", name="live", settings={"capture": False})
    try:
        for s in range(10):
            run.log({"a/loss": 10.0 - s, "b/loss": 20.0 - s})
        app = make_app(store_dir=root, poll_interval=0.1, fixed_now=NOW)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: getattr(app.screen, "loaded", False))
            await pilot.press("enter")
            panel = app.screen.query_one(RunChartsPanel)
            await wait_for(pilot, lambda: len(panel.charts) == 2)
            await _pick(pilot, ["a/loss", "b/loss"])
            await wait_for(pilot, lambda: panel.custom is not None and len(panel.custom.series["b/loss"].x) == 10)
            for s in range(10, 25):
                run.log({"a/loss": 10.0 - s, "b/loss": 20.0 - s})
            chart = panel.custom
            assert chart is not None
            await wait_for(pilot, lambda: chart.series["b/loss"].x[-1:] == [24.0], timeout=10)
            for key in ("a/loss", "b/loss"):  # appended once each: no point read twice
                xs, ys = _points(root, "live", key)
                assert (chart.series[key].x, chart.series[key].y) == (xs, ys)
    finally:
        run.finish()
