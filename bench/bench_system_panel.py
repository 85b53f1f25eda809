"""Benchmark of the system panel's poll: the first read of a long run and the incremental reads after it.

    python bench/bench_system_panel.py [--quick] [--samples N] [--gpus G]

A run of N samples (2 s apart: 10 h is 18,000) with G fake GPUs is written through the real Writer;
the panel's read (read_samples: keys, one query per distinct cursor, downsampling of a first read) is
timed cold, then incrementally with one new sample. Baseline in the same run: a bare Reader.system()
of every key (no thinning).
"""

from __future__ import annotations

import argparse
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
    print(f"baseline Reader.system (all keys, raw):   {base * 1000:8.1f} ms")
    print(f"first poll (read + downsample):           {first * 1000:8.1f} ms  ({first / base:.2f}x baseline)")
    print(f"incremental poll (1 new sample a key):    {inc * 1000:8.2f} ms  ({inc / base:.4f}x baseline)")
    print(f"points held per key after the first poll: {held} (of {n})")


if __name__ == "__main__":
    main()
