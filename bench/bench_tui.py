"""Speed and memory of the terminal app (issue 5), headless.

    python bench/bench_tui.py [--runs 10000] [--steps 1000000] [--metrics 10] [--dir D] [--tabs-only]

Builds two stores with raw executemany into the schema (the SDK's own speed is another bench): one with
--runs runs of 20 summary keys, one run with --steps steps of --metrics metrics (and its rollup). Prints:
first paint of the runs table, charts drawn for the big run, the main-thread cost of a refresh with nothing
new, the process RSS, and the CPU a tab key of the run view costs (the footer that rebuilds only when its
keys change against Textual's stock Footer, same run). Targets: < 1 s, < 1 s, < 5 ms, < 250 MB, < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tracktui.store import Reader, schema
from tracktui.store.codec import dumps
from tracktui.store.writer import Writer


def build_runs_store(root: Path, n_runs: int, n_keys: int = 20) -> None:
    """n_runs finished runs with n_keys summary keys and a small config each."""
    conn = schema.connect_writer(root)
    rng = random.Random(0)
    t0 = time.time() - 86400 * 30
    rows = []
    for i in range(n_runs):
        created = t0 + i * 60
        summary = {f"metric/{k:02d}": rng.random() for k in range(n_keys)}
        config = {"lr": 10 ** rng.uniform(-5, -1), "depth": rng.choice([2, 4, 8]), "opt": rng.choice("ab")}
        rows.append((f"r{i:07d}", f"proj{i % 5}", f"run-{i}", "g" if i % 3 else None, "[]", "finished", 0,
                     created, created + 300, created + 300, created + 300, "host-1", dumps(config),
                     dumps(summary), "{}", "[]", 1000, i + 1))
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO runs(id, project, name, run_group, tags, state, exit_code, created_at, "
                     "updated_at, heartbeat_at, finished_at, host, config, summary, metadata, metric_defs, "
                     "last_step, rev) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    conn.execute("COMMIT")
    conn.close()


def build_long_run(root: Path, steps: int, n_metrics: int) -> str:
    """One finished run with `steps` steps of `n_metrics` metrics, history and rollup filled in SQL."""
    conn = schema.connect_writer(root)
    rid = "longrun"
    now = time.time()
    conn.execute("BEGIN")
    conn.execute("INSERT INTO runs(id, project, name, state, created_at, updated_at, finished_at, host, "
                 "config, summary, last_step, rev) VALUES (?, 'long', 'long-run', 'finished', ?, ?, ?, "
                 "'host-1', '{}', '{}', ?, 1)", (rid, now - 3600, now, now, steps - 1))
    for m in range(n_metrics):
        cur = conn.execute("INSERT INTO metrics(run_id, stream, key) VALUES (?, 'history', ?)",
                           (rid, f"train/m{m}"))
        mid = cur.lastrowid
        conn.execute(
            "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ?) "
            "INSERT INTO history(metric_id, step, value, kind) "
            "SELECT ?, i, 1.0 / (i + 1) + (i % 97) / 1000.0 * ?, 0 FROM s", (steps - 1, mid, m + 1))
    conn.execute("INSERT INTO runs(id, project, name, state, created_at, updated_at, finished_at, host, "
                 "config, summary, rev) VALUES ('emptyrun', 'long', 'empty-run', 'finished', ?, ?, ?, "
                 "'host-1', '{}', '{}', 2)", (now - 7200, now - 7000, now - 7000))
    conn.execute("WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ?) "
                 "INSERT INTO steps(run_id, step, ts) SELECT ?, i, ? + i * 0.001 FROM s",
                 (steps - 1, rid, now - 3600))
    conn.execute(f"INSERT INTO history_rollup SELECT metric_id, step >> {schema.ROLLUP_SHIFT}, min(step), "
                 "max(step), count(*), min(value), max(value), sum(value), 0 FROM history GROUP BY 1, 2")
    conn.execute("COMMIT")
    conn.close()
    return rid


WRITER = """
import sys, time, math, tracktui
root, rate, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
run = tracktui.init(dir=root, project="busy", config={"rate": rate})
print("ready", flush=True)
t0 = time.perf_counter(); n = 0
while (now := time.perf_counter()) - t0 < seconds:
    due = int((now - t0) * rate)
    while n < due:
        run.log({"train/loss": 1 / (n + 1), "train/acc": math.sin(n / 1000)})
        n += 1
    time.sleep(0.005)
run.finish()
print(n, flush=True)
"""


async def key_latency(root: Path, writers: int, rate: float, seconds: float) -> dict[str, float]:
    """Key presses answered while `writers` processes log `rate` points a second each (polling on)."""
    import subprocess

    from tracktui.tui.app import make_app
    from tracktui.tui.screens.run import RunScreen
    from tracktui.tui.screens.runs import RunsScreen
    from tracktui.tui.widgets.runs_table import RunsTable

    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(root), str(rate), str(seconds)],
                              stdout=subprocess.PIPE, text=True) for _ in range(writers)]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    lat: list[float] = []
    tab_lat: list[float] = []
    app = make_app(store_dir=root, poll_interval=1.0)
    async with app.run_test(size=(200, 60)) as pilot:
        while not (isinstance(app.screen, RunsScreen) and app.screen.loaded):
            await asyncio.sleep(0.01)
        table = app.screen.query_one(RunsTable)
        t_end = time.perf_counter() + seconds * 0.6
        while time.perf_counter() < t_end:
            for key in ("down", "up"):
                t = time.perf_counter()
                await pilot.press(key)  # returns once the app has handled the key and refreshed
                lat.append(time.perf_counter() - t)
            await asyncio.sleep(0.1)
        await pilot.press("enter")
        while not isinstance(app.screen, RunScreen):
            await asyncio.sleep(0.01)
        await asyncio.sleep(1.5)
        for key in ("3", "1") * 5:
            t = time.perf_counter()
            await pilot.press(key)
            tab_lat.append(time.perf_counter() - t)
            await asyncio.sleep(0.2)
        assert table.row_count >= writers
    written = sum(int((p.communicate()[0] or "0").split()[-1]) for p in procs)
    lat.sort()
    tab_lat.sort()
    return {"writers": writers, "points_written": written,
            "runs_key_latency_median_ms": lat[len(lat) // 2] * 1000,
            "runs_key_latency_p95_ms": lat[int(len(lat) * 0.95)] * 1000,
            "runs_key_latency_max_ms": lat[-1] * 1000,
            "run_tab_key_latency_median_ms": tab_lat[len(tab_lat) // 2] * 1000,
            "run_tab_key_latency_max_ms": tab_lat[-1] * 1000}


async def tab_switch(root: Path, rounds: int, stock_footer: bool) -> dict[str, float]:
    """CPU and wall time of the run view's tab keys (1-6), with tracktui's footer or Textual's stock one."""
    import tracktui.tui.screens.run as run_screen
    from textual.widgets import Footer
    from tracktui.tui.app import make_app
    from tracktui.tui.screens.runs import RunsScreen
    from tracktui.tui.widgets.footer import KeysFooter
    from tracktui.tui.widgets.run_charts import RunChartsPanel

    run_screen.KeysFooter = Footer if stock_footer else KeysFooter  # type: ignore[misc]
    cpu: list[float] = []
    wall: list[float] = []
    try:
        app = make_app(store_dir=root, poll_interval=None)
        async with app.run_test(size=(200, 60)) as pilot:
            while not (isinstance(app.screen, RunsScreen) and app.screen.loaded):
                await asyncio.sleep(0.01)
            app.open_run("tabs")
            while not isinstance(app.screen.focused, RunChartsPanel):
                await asyncio.sleep(0.01)
            for key in "234561":  # the lazy panes mount on their first showing: not what is timed
                await pilot.press(key)
                await asyncio.sleep(0.3)
            for _ in range(rounds):
                for key in "3142561":
                    c, t = time.process_time(), time.perf_counter()
                    await pilot.press(key)
                    await pilot.pause()  # the footer rebuilds after the refresh
                    await pilot.pause()
                    cpu.append(time.process_time() - c)
                    wall.append(time.perf_counter() - t)
                    await asyncio.sleep(0.05)
    finally:
        run_screen.KeysFooter = KeysFooter  # type: ignore[misc]
    name = "stock_footer" if stock_footer else "keys_footer"
    return {f"tab_switch_cpu_median_ms_{name}": statistics.median(cpu) * 1000,
            f"tab_switch_wall_median_ms_{name}": statistics.median(wall) * 1000}


def build_tabs_run(root: Path) -> None:
    """One small run with metrics, logs and files (every tab of the run view has something to show)."""
    import tracktui

    run = tracktui.init(dir=root, project="tabs", id="tabs", name="tabs", settings={"capture": False})
    for s in range(300):
        run.log({f"train/m{m}": 1 / (s + 1) + m for m in range(6)})
    w = Writer.for_root(root)
    for i in range(50):
        w.put(("log", run.id, time.time(), "stdout", f"epoch {i} loss={1 / (i + 1):.4f}"))
    w.put(("file", run.id, "requirements.txt", b"torch==2.3\nnumpy==1.26\n"))
    run.finish()


def rss_mb() -> float:
    """This process's resident memory."""
    import psutil

    return psutil.Process().memory_info().rss / 1e6


async def measure(runs_root: Path, long_root: Path, long_id: str, n_metrics: int) -> dict[str, float]:
    """Drive the app headless and time what a user waits for."""
    from tracktui.tui.app import make_app
    from tracktui.tui.live import Feed
    from tracktui.tui.messages import MetricsPolled
    from tracktui.tui.screens.runs import RunsScreen
    from tracktui.tui.widgets.run_charts import RunChartsPanel
    from tracktui.tui.widgets.runs_table import RunsTable

    out: dict[str, float] = {}
    # 0. baseline: the same app on an empty store (Textual's own start-up, same machine, same run)
    app = make_app(store_dir=runs_root.parent / "empty", poll_interval=None)
    t0 = time.perf_counter()
    async with app.run_test(size=(200, 60)) as pilot:
        while not (isinstance(app.screen, RunsScreen) and app.screen.loaded):
            await asyncio.sleep(0.005)
        await pilot.pause()
        out["empty_store_first_paint_s"] = time.perf_counter() - t0
    # 1. first paint of the runs table on the big store
    app = make_app(store_dir=runs_root, poll_interval=None)
    t0 = time.perf_counter()
    async with app.run_test(size=(200, 60)) as pilot:
        while not (isinstance(app.screen, RunsScreen) and app.screen.first_paint_at):
            await asyncio.sleep(0.002)
        # the refresh after the first rows were added has run: the newest runs are on screen
        out["runs_first_paint_s"] = app.screen.first_paint_at - t0
        while not app.screen.loaded:
            await asyncio.sleep(0.005)
        await pilot.pause()
        out["runs_all_loaded_painted_s"] = time.perf_counter() - t0
        table = app.screen.query_one(RunsTable)
        assert table.row_count > 0
        # 3a. a refresh with nothing new: the main-thread handler's cost (the read is on a thread)
        screen = app.screen
        times = []
        for _ in range(50):
            t = time.perf_counter()
            screen.on_feed_updated(Feed.Updated(screen.feed, ([], 0, None), first=False))
            times.append(time.perf_counter() - t)
        out["runs_refresh_nothing_new_ms"] = statistics.median(times) * 1000
        with Reader(runs_root) as r:
            t = time.perf_counter()
            for _ in range(50):
                r.max_rev()
            out["runs_poll_read_nothing_new_ms"] = (time.perf_counter() - t) / 50 * 1000
        t = time.perf_counter()
        await pilot.press("s")
        out["runs_resort_s"] = time.perf_counter() - t
        out["rss_after_runs_mb"] = rss_mb()

    # 2. charts of the 1M-step run drawn
    app = make_app(store_dir=long_root, poll_interval=None)
    async with app.run_test(size=(200, 60)) as pilot:
        while not (isinstance(app.screen, RunsScreen) and app.screen.loaded):
            await asyncio.sleep(0.005)
        await pilot.pause()
        t0 = time.perf_counter()
        app.open_run(long_id)
        await pilot.pause()
        panel = app.screen.query_one(RunChartsPanel)
        while len(panel.charts) < n_metrics or panel.polls < 1:
            await asyncio.sleep(0.002)
        await pilot.pause()  # the charts are rendered on this refresh
        out["charts_drawn_s"] = time.perf_counter() - t0
        # baseline: opening a run with no metrics on the same warm app
        t0 = time.perf_counter()
        app.pop_screen()
        app.open_run("emptyrun")
        await pilot.pause()
        while app.screen.query_one(RunChartsPanel).polls < 1:
            await asyncio.sleep(0.002)
        await pilot.pause()
        out["empty_run_opened_s"] = time.perf_counter() - t0
        app.pop_screen()
        app.open_run(long_id)
        await pilot.pause()
        panel = app.screen.query_one(RunChartsPanel)
        while len(panel.charts) < n_metrics or panel.polls < 1:
            await asyncio.sleep(0.002)
        await pilot.pause()
        chart = next(iter(panel.charts.values()))
        out["points_per_chart"] = len(next(iter(chart.series.values())).x)
        times = []
        for _ in range(20):
            t = time.perf_counter()
            panel.on_metrics_polled(MetricsPolled(long_id, list(panel.charts), {}, set(), panel.defs))
            times.append(time.perf_counter() - t)
        out["charts_refresh_nothing_new_ms"] = statistics.median(times) * 1000
        known = {k: (panel.last_steps.get(k), None) for k in panel.charts}
        with Reader(long_root) as r:
            from tracktui.tui.chart_data import read_series

            t = time.perf_counter()
            for k, (last, _) in known.items():
                read_series(r, long_id, k, None, panel.buckets, last)
            out["charts_poll_read_nothing_new_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        for c in panel.charts.values():
            c.version += 1  # drop the cached drawing: time plotext itself
            c.render()
        out["render_all_charts_ms"] = (time.perf_counter() - t) * 1000
        out["rss_with_run_open_mb"] = rss_mb()
    return out


def measure_all(base: Path, args: argparse.Namespace) -> dict[str, float]:
    """Build the big stores and time the runs table and the charts."""
    runs_root, long_root = base / "runs", base / "long"
    t = time.perf_counter()
    if not (runs_root / "tracktui.db").exists():
        build_runs_store(runs_root, args.runs)
    if not (long_root / "tracktui.db").exists():
        build_long_run(long_root, args.steps, args.metrics)
    print(f"stores built in {time.perf_counter() - t:.1f} s under {base}", file=sys.stderr)
    with Reader(runs_root) as r:
        t = time.perf_counter()
        n = len(r.runs())
        read = time.perf_counter() - t
    out = asyncio.run(measure(runs_root, long_root, "longrun", args.metrics))
    return {"runs": n, "steps": args.steps, "metrics": args.metrics, "reader_runs_all_s": read, **out}


def main() -> int:
    """Build the stores, measure, print."""
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=10_000)
    p.add_argument("--steps", type=int, default=1_000_000)
    p.add_argument("--metrics", type=int, default=10)
    p.add_argument("--dir", help="where to build the stores (default: a temporary directory)")
    p.add_argument("--writers", type=int, default=8, help="processes logging during the key-latency test")
    p.add_argument("--rate", type=float, default=10_000, help="points a second per writer")
    p.add_argument("--seconds", type=float, default=10.0, help="length of the key-latency test")
    p.add_argument("--tab-rounds", type=int, default=3, help="rounds of the tab keys 3142561 timed")
    p.add_argument("--tabs-only", action="store_true", help="only the tab-key figures (a small store)")
    args = p.parse_args()
    base = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="bench_tui_"))
    out: dict[str, float] = {}
    if not args.tabs_only:
        out = measure_all(base, args)
    tabs_root = base / f"tabs-{time.time_ns()}"
    build_tabs_run(tabs_root)
    for stock in (True, False, True, False):  # interleaved: the machine's load hits both alike
        for k, v in asyncio.run(tab_switch(tabs_root, args.tab_rounds, stock)).items():
            out[k] = min(out.get(k, v), v)
    out["tab_switch_cpu_ratio_keys_vs_stock"] = (out["tab_switch_cpu_median_ms_keys_footer"]
                                                 / out["tab_switch_cpu_median_ms_stock_footer"])
    if args.writers and not args.tabs_only:
        busy = base / f"busy-{time.time_ns()}"
        out.update(asyncio.run(key_latency(busy, args.writers, args.rate, args.seconds)))
    for k, v in out.items():
        print(f"{k:34s} {v:.4g}" if isinstance(v, float) else f"{k:34s} {v}")
    print(json.dumps(out))
    sqlite3.connect(":memory:").close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
