"""SDK and store speed: log() latency, sustained throughput vs raw SQLite, finish(), memory, import, init.

    python bench/bench_sdk.py [--quick]

Prints figures and the targets of the foundation issue. Throughput is compared with a baseline measured
in the same run (plain executemany of the same rows in one transaction), since machines are noisy.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

KEYS = [f"metric/{i}" for i in range(10)]


def child(code: str, store: Path, extra_env: dict[str, str] | None = None) -> str:
    env = {**os.environ, "TRACKTUI_DIR": str(store), **(extra_env or {})}
    # Measure what users get: compiled bytecode cached in __pycache__ (a shell may have turned that off).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env,
                         check=True, timeout=1200)
    return out.stdout.strip()


def prime(store: Path) -> None:
    """Run every SDK module once so their bytecode is cached, as it is after a script's first start."""
    child("import tracktui; tracktui.init(project='prime').finish()", store)


def bench_import(store: Path) -> None:
    code = """
        import time, subprocess, sys
        def t(c):
            best = 1e9
            for _ in range(7):
                s = time.perf_counter(); subprocess.run([sys.executable, "-c", c], check=True)
                best = min(best, time.perf_counter() - s)
            return best
        print(t("import tracktui"), t("pass"))
    """
    with_import, bare = (float(x) * 1000 for x in child(code, store).split())
    print(f"import tracktui           {max(0.0, with_import - bare):8.1f} ms over a bare interpreter "
          f"({with_import:.1f} vs {bare:.1f} ms, best of 7)   (target < 150 ms)")


def bench_init(store: Path, capture: bool = True) -> None:
    code = """
        import time
        t = time.perf_counter(); import tracktui; t_import = time.perf_counter() - t
        t = time.perf_counter(); run = tracktui.init(project="bench"); cold = time.perf_counter() - t
        run.finish()
        t = time.perf_counter(); run = tracktui.init(project="bench"); warm = time.perf_counter() - t
        run.finish()
        print(cold, warm)
    """
    env = {} if capture else {"TRACKTUI_CAPTURE": "0"}
    cold, warm = (float(x) * 1000 for x in child(code, store, env).split())
    what = "all captures on " if capture else "captures off    "
    target = "150" if capture else "50"
    print(f"init(), {what}  {cold:8.1f} ms first in the process (loads the store modules), {warm:.1f} ms again"
          f"   (target < {target} ms)")


def bench_latency(store: Path, n: int) -> None:
    code = f"""
        import time, tracktui, random
        run = tracktui.init(project="bench")
        keys = {KEYS!r}
        data = [{{k: random.random() for k in keys}} for _ in range(1000)]
        ns = []
        pc = time.perf_counter_ns
        for i in range({n}):
            d = data[i % 1000]
            t = pc(); run.log(d); ns.append(pc() - t)
        run.finish()
        ns.sort()
        print(ns[len(ns) // 2], ns[int(len(ns) * 0.99)])
    """
    p50, p99 = (int(x) / 1000 for x in child(code, store).split())
    print(f"log() 10 floats           p50 {p50:6.2f} µs  p99 {p99:6.2f} µs   (targets 5 µs / 50 µs)")


def bench_throughput(store: Path, steps: int) -> None:
    code = f"""
        import time, random, sqlite3, tracktui
        from tracktui.store.paths import db_path
        keys = {KEYS!r}
        data = [{{k: random.random() for k in keys}} for _ in range(1000)]
        run = tracktui.init(project="bench")
        t0 = time.perf_counter()
        for i in range({steps}):
            run.log(data[i % 1000])
        t_log = time.perf_counter() - t0
        t1 = time.perf_counter()
        run.finish()
        t_finish = time.perf_counter() - t1
        total = time.perf_counter() - t0
        points = {steps} * len(keys)
        # Baseline: the same rows into the same table, plain executemany in one transaction.
        conn = sqlite3.connect(db_path(run._root), isolation_level=None)
        conn.execute("PRAGMA synchronous=NORMAL")
        rows = [(10_000_000 + m, s, data[s % 1000][k], 0, None) for s in range({steps}) for m, k in enumerate(keys)]
        t2 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO history(metric_id, step, value, kind, text) VALUES (?, ?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
        raw = time.perf_counter() - t2
        print(points / total, points / raw, t_log, t_finish)
    """
    ours, raw, t_log, t_finish = (float(x) for x in child(code, store).split())
    print(f"throughput to durable     {ours:10,.0f} points/s   (target >= 300,000)")
    print(f"raw executemany baseline  {raw:10,.0f} points/s   ratio {ours / raw:.2f} (target >= 0.5)")
    print(f"  log loop {t_log:.2f} s, then finish() {t_finish * 1000:.0f} ms for {steps * 10:,} points "
          f"(target < 1 s after 1M points)")


def bench_memory(store: Path, steps: int) -> None:
    code = f"""
        import random, tracktui
        def rss():
            for line in open("/proc/self/status"):
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) / 1024
        keys = {KEYS!r}
        data = [{{k: random.random() for k in keys}} for _ in range(1000)]
        run = tracktui.init(project="bench")
        run.log(data[0])
        before = rss(); peak = before
        for i in range({steps}):
            run.log(data[i % 1000])
            if i % 20000 == 0:
                peak = max(peak, rss())
        run.finish()
        print(before, max(peak, rss()))
    """
    before, peak = (float(x) for x in child(code, store).split())
    print(f"RSS growth, {steps * 10:,} points  {peak - before:8.1f} MB (from {before:.0f} MB)   (target < 100 MB)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run, not the targets)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        prime(root / "p")
        bench_import(root / "a")
        bench_init(root / "b", capture=False)
        bench_init(root / "b2", capture=True)
        bench_latency(root / "c", 20_000 if args.quick else 200_000)
        bench_throughput(root / "d", 10_000 if args.quick else 100_000)
        bench_memory(root / "e", 20_000 if args.quick else 1_000_000)


if __name__ == "__main__":
    main()
