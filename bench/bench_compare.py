"""Speed of the comparison view and of the chart controls (issue 6), headless.

    python bench/bench_compare.py [--runs 20] [--steps 1000000] [--dir D]

Builds one store with raw SQL into the schema (history, steps and the history_rollup rows, as
bench_tui.py does): --runs runs of --steps steps of train/loss (run 0 also logs epoch), plus a 1,000-step
run as the baseline. Prints, as JSON: the compare charts drawn for all the runs (target < 1 s), and
switching x-axis and smoothing on a --steps run (target < 200 ms each), each next to the same action on
the 1,000-step run (the ratio shows the cost follows the chart's width, not the run's length).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from tracktui.store import schema
from tracktui.store.codec import dumps


def add_run(conn, rid: str, steps: int, i: int, t0: float, epoch: bool = False) -> None:  # type: ignore[no-untyped-def]
    """One finished run: train/loss (and epoch) over `steps` steps, its step times and its rollup."""
    conn.execute("INSERT INTO runs(id, project, name, run_group, state, created_at, updated_at, finished_at, host, "
                 "config, summary, metric_defs, last_step, rev) VALUES (?, 'cmp', ?, ?, 'finished', ?, ?, ?, "
                 "'host-1', ?, ?, '[]', ?, ?)",
                 (rid, f"run-{rid}", f"g{i % 2}", t0, t0 + steps * 0.01, t0 + steps * 0.01,
                  dumps({"lr": 10.0 ** -(1 + i % 4), "depth": 2 + i % 3}), dumps({"train/loss": 1.0 / (i + 2)}),
                  steps - 1, i + 1))
    keys = [("train/loss", "(1.0 + ?) / (i + 1) + (i % 97) / 1000.0")]
    if epoch:
        keys.append(("epoch", "(i / 1000) + 0 * ?"))
    for key, expr in keys:
        mid = conn.execute("INSERT INTO metrics(run_id, stream, key) VALUES (?, 'history', ?)", (rid, key)).lastrowid
        conn.execute("WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ?) "
                     f"INSERT INTO history(metric_id, step, value, kind) SELECT ?, i, {expr}, 0 FROM s",
                     (steps - 1, mid, i))
        conn.execute(f"INSERT INTO history_rollup SELECT metric_id, step >> {schema.ROLLUP_SHIFT}, min(step), "
                     "max(step), count(*), min(value), max(value), sum(value), 0 FROM history "
                     "WHERE metric_id = ? GROUP BY 1, 2", (mid,))
    conn.execute("WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ?) "
                 "INSERT INTO steps(run_id, step, ts) SELECT ?, i, ? + i * 0.01 FROM s", (steps - 1, rid, t0))


def build(root: Path, runs: int, steps: int) -> list[str]:
    """The store: `runs` long runs and the 1,000-step baseline run 'small'."""
    conn = schema.connect_writer(root)
    t0 = time.time() - 86400
    ids = []
    conn.execute("BEGIN")
    for i in range(runs):
        rid = f"r{i:03d}"
        add_run(conn, rid, steps, i, t0 + i * 60, epoch=(i == 0))
        ids.append(rid)
    add_run(conn, "small", 1000, 0, t0 - 3600, epoch=True)
    conn.execute("COMMIT")
    conn.close()
    return ids


async def until(cond, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    """Spin the event loop until cond() holds."""
    end = time.perf_counter() + timeout
    while not cond():
        if time.perf_counter() > end:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.001)


def drawn(panel) -> bool:  # type: ignore[no-untyped-def]
    """Every visible chart has drawn with the panel's current options."""
    return all(c.is_current() for c in panel.visible_charts())


async def switch_times(pilot, rid: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Open one run's charts, then time each x-axis and smoothing switch until every chart has redrawn."""
    from tracktui.tui.widgets.run_charts import RunChartsPanel

    app = pilot.app
    out: dict[str, float] = {}
    app.open_run(rid)
    await pilot.pause()
    panel = app.screen.query_one(RunChartsPanel)
    await until(lambda: len(panel.charts) >= 2)
    await pilot.pause()
    await until(lambda: drawn(panel))

    async def timed(action, done) -> float:  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        action()
        await until(lambda: done() and drawn(panel))
        await pilot.pause()
        return time.perf_counter() - t

    polls = panel.polls
    out["x_step_s"] = await timed(lambda: panel.set_x_mode("step"), lambda: panel.polls > polls)
    for mode in ("relative", "wall", "metric:epoch"):
        n = panel.bases_loaded
        out[f"x_{mode.replace('metric:', 'metric_')}_s"] = await timed(
            lambda mode=mode: panel.set_x_mode(mode), lambda n=n: panel.bases_loaded > n)
    out["smoothing_s"] = await timed(lambda: panel.action_smoothing(2), lambda: True)
    out["smoothing_off_s"] = await timed(lambda: panel.action_smoothing(-2), lambda: True)
    app.pop_screen()
    await pilot.pause()
    return out


async def measure(root: Path, ids: list[str]) -> dict[str, float]:
    """Drive the app headless and time what a user waits for."""
    from tracktui.tui.app import make_app
    from tracktui.tui.screens.compare import CompareScreen

    out: dict[str, float] = {}
    app = make_app(store_dir=root, poll_interval=None)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause(0.5)
        t0 = time.perf_counter()
        app.push_screen(CompareScreen(app.live, ids))
        await pilot.pause()
        charts = app.screen.query_one("#compare-charts")
        await until(lambda: charts.loaded and app.screen.loaded)
        await pilot.pause()
        await until(lambda: drawn(charts))
        out[f"compare_{len(ids)}_runs_charts_drawn_s"] = time.perf_counter() - t0
        for name, keys in (("smoothing", ("plus",)), ("x_relative", ("x", "x")), ("log_y", ("y",))):
            t = time.perf_counter()
            await pilot.press(*keys)
            await until(lambda name=name: drawn(charts) and (not name.startswith("x_") or charts.bases_loaded))
            await pilot.pause()
            out[f"compare_{len(ids)}_runs_{name}_s"] = time.perf_counter() - t
        app.pop_screen()
        await pilot.pause()

        for rid, label in ((ids[0], "big"), ("small", "baseline_1k")):
            for k, v in (await switch_times(pilot, rid)).items():
                out[f"{label}_{k}"] = v
    for k in list(out):
        if k.startswith("big_"):
            base = out.get("baseline_1k_" + k[4:])
            if base:
                out["ratio_" + k[4:] + "_vs_1k"] = out[k] / base
    return out


def main() -> int:
    """Build, measure, print JSON."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--steps", type=int, default=1_000_000)
    ap.add_argument("--dir", type=Path, default=None)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = a.dir or Path(tmp) / "store"
        t = time.perf_counter()
        ids = build(root, a.runs, a.steps)
        build_s = time.perf_counter() - t
        res = asyncio.run(measure(root, ids))
    res = {"runs": a.runs, "steps": a.steps, "build_s": round(build_s, 1),
           **{k: round(v, 4) for k, v in res.items()}}
    json.dump(res, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
