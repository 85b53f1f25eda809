"""PostgreSQL store figures, each against a baseline measured in the same run (issue 12).

    python bench/bench_postgres.py [--url postgresql://postgres@127.0.0.1:5432] [--steps 200000]
                                   [--runs 10000] [--long-steps 1000000] [--metrics 4]

1. SDK throughput: `run.log()` of --steps steps of 3 floats into PostgreSQL, until finish() returns,
   against a raw COPY of the same rows (metric_id, step, value, kind, text) into a scratch table.
2. First paint of --runs runs in the app, and the charts of a --long-steps run drawn, on PostgreSQL and, as
   the baseline, on SQLite holding the same runs (built with bench_tui's builders, copied up with
   `tracktui sync`, whose time is printed too). Target: < 1 s each, as on SQLite.
Each store is a fresh database, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import tracktui
from tracktui.store.sync import copy_store

sys.path.insert(0, str(Path(__file__).parent))
from bench_tui import build_long_run, build_runs_store  # noqa: E402


def sdk_vs_copy(url: str, steps: int) -> dict[str, float]:
    run = tracktui.init(store=url, settings={"capture": False})
    t0 = time.perf_counter()
    for i in range(steps):
        run.log({"a": i * 0.5, "b": 1.0 / (i + 1), "c": float(i % 7)})
    t_log = time.perf_counter() - t0
    run.finish()
    t_sdk = time.perf_counter() - t0
    rows = [(m, i, v, 0, None) for i in range(steps) for m, v in ((1, i * 0.5), (2, 1.0 / (i + 1)), (3, float(i % 7)))]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE copy_baseline (metric_id bigint, step bigint, value double precision, "
                     "kind smallint, text text, PRIMARY KEY (metric_id, step))")
        t0 = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            with cur.copy("COPY copy_baseline FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(r)
        t_copy = time.perf_counter() - t0
    points = steps * 3
    return {"sdk_points_per_s": points / t_sdk, "sdk_log_loop_s": t_log, "sdk_until_finish_s": t_sdk,
            "raw_copy_points_per_s": points / t_copy, "raw_copy_s": t_copy, "sdk_over_copy": t_sdk / t_copy}


async def first_paints(store: str, long_store: str, n_metrics: int) -> dict[str, float]:
    from tracktui.tui.app import make_app
    from tracktui.tui.screens.runs import RunsScreen
    from tracktui.tui.widgets.run_charts import RunChartsPanel

    out: dict[str, float] = {}
    app = make_app(store_dir=store, poll_interval=None)
    t0 = time.perf_counter()
    async with app.run_test(size=(200, 60)) as pilot:
        while not (isinstance(app.screen, RunsScreen) and app.screen.first_paint_at):
            await asyncio.sleep(0.002)
        out["runs_first_paint_s"] = app.screen.first_paint_at - t0
        while not app.screen.loaded:
            await asyncio.sleep(0.005)
        await pilot.pause()
        out["runs_all_loaded_s"] = time.perf_counter() - t0
    app = make_app(store_dir=long_store, poll_interval=None)
    async with app.run_test(size=(200, 60)) as pilot:
        while not (isinstance(app.screen, RunsScreen) and app.screen.loaded):
            await asyncio.sleep(0.005)
        await pilot.pause()
        t0 = time.perf_counter()
        app.open_run("longrun")
        await pilot.pause()
        panel = app.screen.query_one(RunChartsPanel)
        while len(panel.charts) < n_metrics or panel.polls < 1:
            await asyncio.sleep(0.002)
        await pilot.pause()
        out["charts_drawn_s"] = time.perf_counter() - t0
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432")
    p.add_argument("--steps", type=int, default=200_000)
    p.add_argument("--runs", type=int, default=10_000)
    p.add_argument("--long-steps", type=int, default=1_000_000)
    p.add_argument("--metrics", type=int, default=4)
    a = p.parse_args()
    dbs = [f"tracktui_bench_{secrets.token_hex(4)}" for _ in range(3)]
    with psycopg.connect(f"{a.url}/postgres", autocommit=True) as admin:
        for db in dbs:
            admin.execute(f"CREATE DATABASE {db}")
    out: dict[str, object] = {}
    try:
        out["throughput"] = sdk_vs_copy(f"{a.url}/{dbs[0]}", a.steps)
        with tempfile.TemporaryDirectory() as tmp:
            runs_root, long_root = Path(tmp) / "runs", Path(tmp) / "long"
            build_runs_store(runs_root, a.runs)
            build_long_run(long_root, a.long_steps, a.metrics)
            t0 = time.perf_counter()
            copy_store(runs_root, f"{a.url}/{dbs[1]}")
            out["sync_runs_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            copy_store(long_root, f"{a.url}/{dbs[2]}")
            out["sync_long_run_s"] = time.perf_counter() - t0
            out["sqlite"] = asyncio.run(first_paints(str(runs_root), str(long_root), a.metrics))
            out["postgresql"] = asyncio.run(first_paints(f"{a.url}/{dbs[1]}", f"{a.url}/{dbs[2]}", a.metrics))
    finally:
        from tracktui.store import postgres
        from tracktui.store.writer import Writer

        for w in list(Writer._instances.values()):
            w.close(10)
        postgres.close_idle()
        with psycopg.connect(f"{a.url}/postgres", autocommit=True) as admin:
            for db in dbs:
                admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    print(json.dumps({"args": vars(a), **out}, indent=1))


if __name__ == "__main__":
    main()
