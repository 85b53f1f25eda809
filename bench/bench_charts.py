"""What the run view's charts cost the main thread (issue 13, scope 3), headless (200x60 by default).

    python bench/bench_charts.py [--metrics 12] [--steps 3000] [--rounds 10] [--size 200x60]

Builds one run through the SDK (--metrics metrics over --steps steps) and opens its Charts tab with live
updates off. Prints, as JSON:
- plotext_builds_*: how many times plotext drew a chart during each action (the costly part of a chart:
  milliseconds each); a redraw should happen only when a chart's data, size or options changed, and never
  for a chart that is not on screen;
- styles_applied_tab_to_charts: nodes Textual restyled for the `1` key;
- *_cpu_ms: median main-process CPU of each action (process_time, so 2 loaded cores slow it down but do not
  lend it time):
  - open_run: opening the run view until its charts are drawn and 0.5 s more (once, not a median);
  - tab_to_charts: the `1` key from the System tab, to the charts painted;
  - tab_away: the `2` key from the Charts tab;
  - focus_next_chart: `tab` from one chart to the next (the border colour changes, nothing else);
  - redraw_one_chart: one chart's data changed (the chart is drawn again);
  - option_change: `y` (log y on every chart), then `y` again: every visible chart redraws;
  - data_while_hidden: every chart's data changed while the System tab is shown (nothing should be drawn).
Baseline: the same script on the commit before the chart stack was rebuilt (see the branch's report).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

BUILDS = [0]
STYLED = [0]


def count_builds() -> None:
    """Count plotext's figure builds (every chart draw goes through Plot.build) and Textual's style
    applications (a node restyled: what a tab switch mostly costs)."""
    from textual.css.stylesheet import Stylesheet
    from textual_plotext.plot import Plot

    orig = Plot.build
    orig_apply = Stylesheet.apply

    def build(self: Any) -> Any:
        BUILDS[0] += 1
        return orig(self)

    def apply(self: Any, node: Any, *args: Any, **kwargs: Any) -> Any:
        STYLED[0] += 1
        return orig_apply(self, node, *args, **kwargs)

    Plot.build = build  # type: ignore[method-assign]
    Stylesheet.apply = apply  # type: ignore[method-assign]


def build_run(root: Path, n_metrics: int, steps: int) -> None:
    """One finished run with n_metrics metrics in three sections."""
    import tracktui

    run = tracktui.init(dir=root, project="bench", id="charts", name="charts", settings={"capture": False})
    for s in range(steps):
        run.log({f"{('train', 'val', 'sys')[m % 3]}/m{m}": math.sin(s / 50 + m) + m for m in range(n_metrics)})
    run.finish()


def chart_classes() -> tuple[type, type]:
    """The chart widget and the run charts panel (before: ControlledChart / RunChartsPanel)."""
    from tracktui.tui.widgets.run_charts import RunChartsPanel

    try:
        from tracktui.tui.widgets.chart import Chart
    except ImportError:  # the older stack
        from tracktui.tui.widgets.controlled_chart import ControlledChart as Chart
    return Chart, RunChartsPanel


async def measure(root: Path, rounds: int, size: tuple[int, int]) -> dict[str, float]:
    from tracktui.tui.app import make_app
    from tracktui.tui.screens.runs import RunsScreen

    chart_cls, panel_cls = chart_classes()
    out: dict[str, float] = {}
    app = make_app(store_dir=root, poll_interval=None)
    async with app.run_test(size=size) as pilot:
        while not (isinstance(app.screen, RunsScreen) and app.screen.loaded):
            await asyncio.sleep(0.01)
        await pilot.pause(0.3)
        b, c = BUILDS[0], time.process_time()
        app.open_run("charts")
        while not app.screen.query(panel_cls):
            await asyncio.sleep(0.01)
        panel = app.screen.query_one(panel_cls)
        while len(panel.charts) < EXPECTED[0]:
            await asyncio.sleep(0.01)
        await pilot.pause(0.5)
        out["open_run_cpu_ms"] = round((time.process_time() - c) * 1000, 2)  # includes 0.5 s of idle app
        out["plotext_builds_open_run"] = BUILDS[0] - b
        for key in "2":  # the System pane mounts on its first showing: not what is timed
            await pilot.press(key)
            await asyncio.sleep(0.3)
        await pilot.press("1")
        await asyncio.sleep(0.5)
        charts = list(panel.charts.values())
        shown = [c for c in charts if c.region.intersection(panel.region)]
        out["charts"] = len(charts)
        out["charts_on_screen"] = len(shown)

        async def timed(name: str, act: Callable[[], Awaitable[None]], settle: float = 0.05) -> None:
            cpu, builds = [], []
            for _ in range(rounds):
                b, c = BUILDS[0], time.process_time()
                await act()
                await pilot.pause()
                await pilot.pause()
                cpu.append(time.process_time() - c)
                builds.append(BUILDS[0] - b)
                await asyncio.sleep(settle)
                await pilot.pause()
            out[f"{name}_cpu_ms"] = round(statistics.median(cpu) * 1000, 2)
            out[f"plotext_builds_{name}"] = statistics.median(builds)

        async def go_system() -> None:
            await pilot.press("2")
            await asyncio.sleep(0.05)
            await pilot.pause()

        async def tab_pair() -> None:  # timed part: only the `1`
            await pilot.press("1")

        # tab away and back: time `1`, with `2` before it untimed
        cpu, builds, styled = [], [], []
        for _ in range(rounds):
            await go_system()
            b, st, c = BUILDS[0], STYLED[0], time.process_time()
            await tab_pair()
            await pilot.pause()
            await pilot.pause()
            cpu.append(time.process_time() - c)
            builds.append(BUILDS[0] - b)
            styled.append(STYLED[0] - st)
            await asyncio.sleep(0.05)
        out["tab_to_charts_cpu_ms"] = round(statistics.median(cpu) * 1000, 2)
        out["plotext_builds_tab_to_charts"] = statistics.median(builds)
        out["styles_applied_tab_to_charts"] = statistics.median(styled)

        cpu, builds = [], []
        for _ in range(rounds):
            b, c = BUILDS[0], time.process_time()
            await pilot.press("2")
            await pilot.pause()
            await pilot.pause()
            cpu.append(time.process_time() - c)
            builds.append(BUILDS[0] - b)
            await asyncio.sleep(0.05)
            await pilot.press("1")
            await asyncio.sleep(0.05)
            await pilot.pause()
        out["tab_away_cpu_ms"] = round(statistics.median(cpu) * 1000, 2)
        out["plotext_builds_tab_away"] = statistics.median(builds)

        shown[0].focus()
        await pilot.pause()

        async def focus_next() -> None:
            await pilot.press("tab")

        await timed("focus_next_chart", focus_next)
        shown[0].focus()
        await pilot.pause()

        async def redraw_one() -> None:
            shown[0].invalidate()

        await timed("redraw_one_chart", redraw_one)

        async def option() -> None:
            await pilot.press("y")

        await timed("option_change", option)
        if rounds % 2:
            await pilot.press("y")
            await pilot.pause()

        await go_system()

        async def data_hidden() -> None:
            for c in charts:
                c.invalidate()

        await timed("data_while_hidden", data_hidden)
        await pilot.press("1")
        await pilot.pause()
    return out


EXPECTED = [0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--metrics", type=int, default=12)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--size", default="200x60", help="terminal size, WxH")
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    EXPECTED[0] = args.metrics
    count_builds()
    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "store"
        build_run(root, args.metrics, args.steps)
        out = asyncio.run(measure(root, args.rounds, (size[0], size[1])))
    out.update({"metrics": args.metrics, "steps": args.steps, "rounds": args.rounds, "size": args.size})
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
