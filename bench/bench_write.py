"""Write speed of the SDK into each engine, against baselines measured in the same run (issue 12).

    python bench/bench_write.py [--steps 100000] [--keys 10] [--pg postgresql://postgres@127.0.0.1:5432]
                                [--profile] [--repeat 3]

SQLite:
  1. flat out: `run.log()` of --steps steps of --keys floats, until finish() returns, against a plain
     executemany of the same rows into a table without indexes (one transaction, WAL, synchronous NORMAL).
     Also the share of the loop spent inside log() and the longest call (back-pressure).
  2. paced: the same loop at half the flat-out rate (the writer keeps up): the longest call and p99.9.
PostgreSQL (with --pg; a fresh database, dropped at the end): the same loop until finish() returns, against a
raw COPY of the same rows into a table with the same primary key.
--profile prints the writer thread's top functions (cProfile) for the flat-out SQLite run.
Each figure is the best of --repeat runs (machines are noisy); the ratio uses the best of each side. The CPU
time ratio (SQLite) is the figure a loaded machine blurs least: wall time there follows the other load.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import secrets
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import tracktui
from tracktui.store.writer import Writer


def _data(keys: int) -> list[dict[str, float]]:
    names = [f"metric/{i}" for i in range(keys)]
    return [{k: random.random() for k in names} for _ in range(1000)]


def sdk_loop(store: str, steps: int, data: list[dict[str, float]], pace: float | None = None,
             profile: cProfile.Profile | None = None) -> dict[str, float]:
    """log() steps times (pace: seconds per step, busy-waited), then finish(); timings of the calls."""
    run = tracktui.init(store=store, project="bench", settings={"capture": False})
    if profile is not None:
        w = run._writer
        orig = Writer._write_pending

        def profiled(self: Writer) -> None:
            profile.enable()
            try:
                orig(self)
            finally:
                profile.disable()

        w._write_pending = profiled.__get__(w)  # type: ignore[method-assign]
    pc = time.perf_counter
    cpu0 = time.process_time()
    calls: list[float] = []
    append = calls.append
    log = run.log
    t0 = pc()
    nxt = t0
    for i in range(steps):
        if pace is not None:
            nxt += pace
            while pc() < nxt:
                pass
        t = pc()
        log(data[i % 1000])
        append(pc() - t)
    t_loop = pc() - t0
    run.finish()
    total = pc() - t0
    cpu = time.process_time() - cpu0
    calls.sort()
    return {"total_s": total, "cpu_s": cpu, "loop_s": t_loop, "in_log_s": sum(calls), "max_call_s": calls[-1],
            "p999_call_s": calls[int(len(calls) * 0.999)], "p50_call_us": calls[len(calls) // 2] * 1e6}


def sqlite_baseline(path: Path, steps: int, data: list[dict[str, float]]) -> tuple[float, float]:
    """Seconds (wall, CPU of this process) for a plain executemany of the same rows into an unindexed table,
    one transaction."""
    rows = [(m, s, v, 0, None) for s in range(steps) for m, v in enumerate(data[s % 1000].values())]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE plain (metric_id INTEGER, step INTEGER, value REAL, kind INTEGER, text TEXT)")
    t0, cpu0 = time.perf_counter(), time.process_time()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO plain VALUES (?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    took, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    conn.close()
    return took, cpu


def pg_baseline(url: str, steps: int, data: list[dict[str, float]]) -> float:
    """Seconds for a raw COPY of the same rows into a table with history's primary key."""
    import psycopg

    rows = [(m, s, v, 0, None) for s in range(steps) for m, v in enumerate(data[s % 1000].values())]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS copy_baseline")
        conn.execute("CREATE TABLE copy_baseline (metric_id bigint, step bigint, value double precision, "
                     "kind smallint, text text, PRIMARY KEY (metric_id, step))")
        t0 = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            with cur.copy("COPY copy_baseline FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(r)
        took = time.perf_counter() - t0
        conn.execute("DROP TABLE copy_baseline")
    return took


def _close_writers() -> None:
    for w in list(Writer._instances.values()):
        w.close(30)
    Writer._instances.clear()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--keys", type=int, default=10)
    ap.add_argument("--pg", help="a PostgreSQL server URL without a database (a scratch one is made)")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    data = _data(a.keys)
    points = a.steps * a.keys
    best: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        flat = []
        raw = []
        for i in range(a.repeat):
            prof = cProfile.Profile() if a.profile and i == 0 else None
            flat.append(sdk_loop(str(root / f"flat{i}"), a.steps, data, profile=prof))
            _close_writers()
            raw.append(sqlite_baseline(root / f"plain{i}.db", a.steps, data))
            if prof is not None:
                s = io.StringIO()
                pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(18)
                best["profile"] = s.getvalue()
        f = min(flat, key=lambda r: r["total_s"])
        r, r_cpu = min(raw)
        f_cpu = min(x["cpu_s"] for x in flat)
        print(f"SQLite, {a.steps:,} steps x {a.keys} floats ({points:,} points), best of {a.repeat}:")
        print(f"  log() until finish()      {points / f['total_s']:12,.0f} points/s  ({f['total_s']:.2f} s wall, "
              f"{f_cpu:.2f} s CPU, both threads)")
        print(f"  plain executemany         {points / r:12,.0f} points/s  ({r:.2f} s wall, {r_cpu:.2f} s CPU, "
              "unindexed table)")
        print(f"  ratio                     {r / f['total_s']:12.2f}   (target >= 0.5); by CPU time "
              f"{r_cpu / f_cpu:.2f} (what a loaded machine cannot blur)")
        print(f"  in log() {f['in_log_s'] / f['loop_s']:.0%} of the loop; longest call "
              f"{f['max_call_s'] * 1000:.1f} ms, p50 {f['p50_call_us']:.1f} µs (flat out: back-pressure included)")
        rate = a.steps / f["total_s"]
        paced = [sdk_loop(str(root / f"paced{i}"), a.steps // 2, data, pace=2.0 / rate) for i in range(a.repeat)]
        _close_writers()
        p = min(paced, key=lambda x: x["max_call_s"])
        worst = max(x["max_call_s"] for x in paced)
        print(f"  paced at half that rate ({rate / 2:,.0f} steps/s, the writer keeps up): longest call "
              f"{p['max_call_s'] * 1000:.1f} ms (worst run {worst * 1000:.1f} ms), p99.9 "
              f"{p['p999_call_s'] * 1e6:.0f} µs   (target < 100 ms)")
    if a.pg:
        import psycopg

        db = f"tracktui_bench_{secrets.token_hex(4)}"
        with psycopg.connect(f"{a.pg}/postgres", autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {db}")
        try:
            url = f"{a.pg}/{db}"
            sdk = []
            copy = []
            for _ in range(a.repeat):
                sdk.append(sdk_loop(url, a.steps, data))
                _close_writers()
                copy.append(pg_baseline(url, a.steps, data))
            s = min(sdk, key=lambda x: x["total_s"])
            c = min(copy)
            print(f"PostgreSQL, {points:,} points, best of {a.repeat}:")
            print(f"  log() until finish()      {points / s['total_s']:12,.0f} points/s  ({s['total_s']:.2f} s)")
            print(f"  raw COPY                  {points / c:12,.0f} points/s  ({c:.2f} s, primary key)")
            print(f"  ratio                     {c / s['total_s']:12.2f}")
            print(f"  longest log() call {s['max_call_s'] * 1000:.1f} ms")
        finally:
            from tracktui.store import postgres

            _close_writers()
            postgres.close_idle()
            with psycopg.connect(f"{a.pg}/postgres", autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    if "profile" in best:
        print("\nwriter thread, flat-out SQLite run (cProfile, by own time):")
        print(best["profile"])


if __name__ == "__main__":
    main()
