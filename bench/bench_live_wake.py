"""From a commit to the app's panel: how long a new point waits before the live layer reads it.

    python bench/bench_live_wake.py [--points 20] [--interval 1.0] [--store URL]

One run logs a point at a random moment (the SDK's writer, flushed: the commit is done), and a headless app
holding one panel on tui/live.py's layer (interval --interval, as the app's once-a-second poll) waits for the
panel to receive it. Twice in the same run: the baseline with the layer's commit watcher switched off (the
panel reads on its interval only), then as the app runs (one thread in Reader.wait_for_change wakes the
feeds). Prints median and max latency of each and their ratio, and the reads each made. --store: a
PostgreSQL URL (LISTEN/NOTIFY) instead of a temporary SQLite store (data_version).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import tracktui
from textual.app import App, ComposeResult
from textual.widgets import Static
from tracktui.store.location import resolve_store
from tracktui.tui.live import Feed, Live


class NoWatch(Live):
    """The layer as it was: reads on the interval only."""

    def start_watch(self) -> None:
        pass


class Panel(Static):
    def __init__(self, live: Live, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.feed = live.feed(self, self._read, name="steps", cursor=-1)
        self.seen: dict[int, float] = {}  # step -> monotonic time the panel got it

    def _read(self, reader: Any, cursor: int) -> tuple[int, int]:
        got = reader.step_range(self.run_id, "x")
        last = -1 if got is None else got[1]
        return last, last

    def on_mount(self) -> None:
        self.feed.start()

    def on_feed_updated(self, message: Feed.Updated) -> None:
        self.seen.setdefault(message.data, time.monotonic())


class BenchApp(App[None]):
    def __init__(self, live_class: type[Live], store: Any, run_id: str, interval: float) -> None:
        super().__init__()
        self.live = live_class(self, store, interval=interval)
        self.run_id = run_id

    def compose(self) -> ComposeResult:
        yield Panel(self.live, self.run_id)


async def measure(live_class: type[Live], store: str, points: int, interval: float) -> tuple[list[float], int]:
    run = tracktui.init(store=store, project="wake", settings={"capture": False}, reinit="create_new")
    run.log({"x": 0.0}, step=0)
    await asyncio.to_thread(run._writer.flush)
    app = BenchApp(live_class, resolve_store(store), run.id, interval)
    latencies = []
    async with app.run_test(headless=True) as pilot:
        panel = app.query_one(Panel)
        while 0 not in panel.seen:
            await pilot.pause(0.01)
        for step in range(1, points + 1):
            await asyncio.sleep(random.uniform(0.6, 0.6 + interval))  # a random phase of the interval
            run.log({"x": float(step)}, step=step)
            await asyncio.to_thread(run._writer.flush)
            committed = time.monotonic()
            end = committed + 10 * interval + 5
            while step not in panel.seen and time.monotonic() < end:
                await asyncio.sleep(0.002)
            latencies.append(panel.seen.get(step, float("inf")) - committed)
        reads = app.live.reads["steps"]
    run.finish()
    return latencies, reads


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=20)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--store", help="a PostgreSQL URL (default: a temporary SQLite store)")
    args = ap.parse_args()
    random.seed(1)
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or os.fspath(Path(tmp) / "store")
        results = {}
        for label, cls in (("interval only (baseline)", NoWatch), ("woken by commits", Live)):
            results[label] = asyncio.run(measure(cls, store, args.points, args.interval))
    engine = "PostgreSQL" if args.store else "SQLite"
    base = statistics.median(results["interval only (baseline)"][0])
    for label, (lat, reads) in results.items():
        med = statistics.median(lat)
        print(f"{engine}, {label}: commit to panel median {med * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms "
              f"over {len(lat)} points, {reads} reads; median {med / base:.2f} x baseline")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
