"""Benchmark of the system panel's poll: the first read of a long run and the incremental reads after it.

    python bench/bench_system_panel.py [--quick] [--samples N] [--gpus G]

A run of N samples (2 s apart: 10 h is 18,000) with G fake GPUs is written through the real Writer;
the panel's read (read_samples: keys, one query per distinct cursor, downsampling of a first read) is
timed cold, then incrementally with one new sample. Baseline in the same run: a bare Reader.system()
of every key (no thinning).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import tracktui
from tracktui.store import Reader
from tracktui.store.writer import Writer
from tracktui.tui.widgets.system_series import SeriesStore, read_samples


def sample(n: int, gpus: int) -> list[tuple[str, float]]:
    """One fake sample: 13 host keys and 12 per GPU (the capture's keys)."""
    host = ("cpu", "proc.cpu.threads", "proc.memory.rssMB", "proc.memory.percent", "cpu.percent",
            "memory_percent", "proc.memory.availableMB", "disk./.usagePercent", "disk./.usageGB", "disk.in",
            "disk.out", "network.sent", "network.recv")
    items = [(k, float(n % 97)) for k in host]
    for i in range(gpus):
        items += [(f"gpu.{i}.{f}", float((n + i) % 89)) for f in (
            "gpu", "memory", "memoryAllocated", "memoryAllocatedBytes", "temp", "powerWatts",
            "enforcedPowerLimitWatts", "powerPercent", "smClock", "memoryClock", "fanSpeed")]
        items.append((f"gpu.process.{i}.memoryAllocatedBytes", float(n)))
    return items


def timed(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    """Median seconds of fn()."""
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


async def redraw(root: Path, run_id: str, size: tuple[int, int]) -> tuple[float, float, int, int]:
    """Seconds to redraw every chart of the panel (median of 5): points thinned to the chart's width,
    and the baseline drawing every point held; also the number of charts and the points held per key."""
    from textual.app import App, ComposeResult
    from tracktui.tui.live import Live
    from tracktui.tui.widgets.system_cells import SysChart
    from tracktui.tui.widgets.system_panel import SystemPanel

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield SystemPanel(Live(self, root, interval=None), run_id)

    app = Host()
    async with app.run_test(size=size) as pilot:
        panel = app.query_one(SystemPanel)
        while panel.polls < 1:
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        charts = list(app.query(SysChart))

        def draw_all() -> None:
            for c in charts:
                c.render()

        thinned = timed(draw_all, 5)
        SysChart.points_per_column = 10**9
        try:
            full = timed(draw_all, 5)
        finally:
            SysChart.points_per_column = 1
        held = max(len(p) for p in panel.store.points.values())
    return thinned, full, len(charts), held


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--samples", type=int, default=None)
    ap.add_argument("--gpus", type=int, default=4)
    a = ap.parse_args()
    n = a.samples or (3000 if a.quick else 18_000)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        run = tracktui.init(dir=root, project="bench", settings={"capture": False})
        w = Writer.for_root(root)
        t0 = time.time() - 2 * n
        t = time.perf_counter()
        for s in range(n):
            w.put(("system", run.id, t0 + 2 * s, sample(s, a.gpus)))
        w.flush(600)
        print(f"wrote {n} samples x {len(sample(0, a.gpus))} keys in {time.perf_counter() - t:.1f} s")
        with Reader(root) as r:
            base = timed(lambda: r.system(run.id), 3)
            first = timed(lambda: read_samples(r, run.id, {}), 3)
            keys, pts = read_samples(r, run.id, {})
            store = SeriesStore()
            for k, p in pts.items():
                store.add(k, p)
            held = max(len(p) for p in store.points.values())
            w.put(("system", run.id, t0 + 2 * n, sample(n, a.gpus)))
            w.flush(10)
            inc = timed(lambda: read_samples(r, run.id, dict(store.last_ts)), 20)
        run.finish()
        thinned, full, charts, held_ui = asyncio.run(redraw(root, run.id, (200, 60)))
    print(f"baseline Reader.system (all keys, raw):   {base * 1000:8.1f} ms")
    print(f"first poll (read + downsample):           {first * 1000:8.1f} ms  ({first / base:.2f}x baseline)")
    print(f"incremental poll (1 new sample a key):    {inc * 1000:8.2f} ms  ({inc / base:.4f}x baseline)")
    print(f"points held per key after the first poll: {held} (of {n})")
    print(f"redraw of all {charts} charts at 200x60, points thinned to 1 a column: {thinned * 1000:7.1f} ms "
          f"(baseline every held point, {held_ui} a key: {full * 1000:.1f} ms, {thinned / full:.2f}x)")


if __name__ == "__main__":
    main()
