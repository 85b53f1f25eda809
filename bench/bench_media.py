"""Media benchmark: time on the calling thread, total time to durable, and store size.

    python bench/bench_media.py [--quick]

Cases (issue 4): 1,000 images of 64x64 over 1,000 steps; one 10,000-row table; 10,000 histograms
(10 keys x 1,000 steps, 1,000 values each); plus 20 images of 1024x1024 to show that PNG encoding happens on
the writer thread. Baselines measured in the same run: the same images PNG-encoded inline with Pillow
(what the calling thread would pay without the writer), and 1,000 steps of one scalar.
"""

from __future__ import annotations

import argparse
import io
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tracktui
from PIL import Image as PILImage


def _size(root: Path) -> int:
    """Bytes of the store once the WAL is checkpointed into the database."""
    conn = sqlite3.connect(root / "tracktui.db")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return sum(p.stat().st_size for p in root.iterdir() if p.is_file())


def _case(name: str, body: Callable[[object], None]) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        run = tracktui.init(project="bench", dir=root)
        t0 = time.perf_counter()
        body(run)
        t_call = time.perf_counter() - t0
        run.finish()
        t_durable = time.perf_counter() - t0
        size = _size(root)
    print(
        f"{name:<44} calling thread {t_call:8.3f} s   to durable {t_durable:8.3f} s   "
        f"store {size / 2**20:8.2f} MiB"
    )
    return t_call, t_durable, size


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="a tenth of each case")
    n = 100 if ap.parse_args().quick else 1000
    rng = np.random.default_rng(0)
    small = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(n)]
    big = [rng.integers(0, 256, (1024, 1024, 3), dtype=np.uint8) for _ in range(max(2, n // 50))]
    hist_data = [rng.normal(size=1000) for _ in range(10)]

    def scalars(run: object) -> None:
        for i in range(n):
            run.log({"loss": 1.0 / (i + 1)})  # type: ignore[attr-defined]

    def images(run: object) -> None:
        for a in small:
            run.log({"img": tracktui.Image(a), "loss": 0.1})  # type: ignore[attr-defined]

    def big_images(run: object) -> None:
        for a in big:
            run.log({"big": tracktui.Image(a)})  # type: ignore[attr-defined]

    def table(run: object) -> None:
        t = tracktui.Table(columns=["id", "label", "score", "ok"])
        for i in range(10 * n):
            t.add_data(i, f"label-{i % 7}", i / 3.0, i % 2 == 0)
        run.log({"table": t})  # type: ignore[attr-defined]

    def histograms(run: object) -> None:
        for _ in range(n):
            run.log({f"h{k}": tracktui.Histogram(hist_data[k]) for k in range(10)})  # type: ignore[attr-defined]

    def inline_png(arrays: list[np.ndarray]) -> float:
        t0 = time.perf_counter()
        for a in arrays:
            buf = io.BytesIO()
            PILImage.fromarray(a).save(buf, format="PNG")
        return time.perf_counter() - t0

    print(f"tracktui media benchmark (n={n})")
    base_call, _, _ = _case(f"baseline: {n} steps of one scalar", scalars)
    call, durable, _ = _case(f"{n} images 64x64 over {n} steps", images)
    png_small = inline_png(small)
    print(
        f"{'baseline: PNG-encoding them inline':<44} {png_small:8.3f} s  "
        f"(calling thread / inline PNG = {call / png_small:.2f}; vs scalars x{call / base_call:.1f})"
    )
    call_big, _, _ = _case(f"{len(big)} images 1024x1024", big_images)
    png_big = inline_png(big)
    print(
        f"{'baseline: PNG-encoding them inline':<44} {png_big:8.3f} s  "
        f"(calling thread / inline PNG = {call_big / png_big:.2f})"
    )
    _case(f"one table of {10 * n} rows", table)
    _case(f"{10 * n} histograms (10 keys x {n} steps)", histograms)


if __name__ == "__main__":
    main()
