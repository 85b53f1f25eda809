"""Benchmark of the media viewers: what a scrub, a table sort and a heatmap cost in the terminal app.

    python bench/bench_media_view.py [--quick]

Figures (median of several tries), each beside a baseline measured in the same run:
- MediaPanel load of a 512×512 image (read + decode) and its half-block rendering at 200×60 cells, against
  the bare blob read;
- a 100,000-row table sorted by a column in the store (first MAX_ROWS_SHOWN rows), against reading the
  same rows unsorted;
- the histogram heatmap: reading 200 of 2,000 steps' histograms and drawing 200 rows × 150 columns.
No target is asserted: a step should feel instant (well under 100 ms on a laptop).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _median_ms(fn: Any, tries: int) -> float:
    times = []
    for _ in range(tries):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="smaller inputs, fewer tries")
    args = p.parse_args()
    import numpy as np
    import tracktui
    from tracktui.store import Reader
    from tracktui.store import media as smedia
    from tracktui.tui.widgets.media_histogram import HistogramHeatmap
    from tracktui.tui.widgets.media_image import decode, half_block_rows
    from tracktui.tui.widgets.media_panel import _histograms

    rows_n = 20_000 if args.quick else 100_000
    hist_steps = 400 if args.quick else 2000
    tries = 3 if args.quick else 7
    root = Path(tempfile.mkdtemp(prefix="tracktui-bench-media-"))
    rng = np.random.default_rng(0)
    run = tracktui.init(dir=root, project="bench", id="bench-media", settings={"capture": False})
    run.log({"img": tracktui.Image(rng.integers(0, 255, (512, 512, 3), dtype=np.uint8))}, step=0)
    table = tracktui.Table(columns=["i", "score", "name"],
                           data=[[i, float(rng.random()), f"row{i}"] for i in range(rows_n)])
    run.log({"tbl": table}, step=0)
    for s in range(hist_steps):
        run.log({"w": tracktui.Histogram(rng.normal(s / 100, 1, 1000), num_bins=64)}, step=s)
    run.finish()

    with Reader(root) as r:
        item = smedia.media_items(r, run.id, "img")[0]
        blob_ms = _median_ms(lambda: smedia.blob(r, item.sha256), tries)
        decode_ms = _median_ms(lambda: decode(smedia.blob(r, item.sha256)), tries)
        img = decode(smedia.blob(r, item.sha256))
        draw_ms = _median_ms(lambda: half_block_rows(img, 200, 60), tries)
        plain_ms = _median_ms(lambda: smedia.table_rows(r, run.id, "tbl", 0, limit=1000), tries)
        sort_ms = _median_ms(lambda: smedia.table_rows(r, run.id, "tbl", 0, limit=1000, order_by=1,
                                                       descending=True), tries)
        steps = smedia.media_steps(r, run.id, "w")
        read_ms = _median_ms(lambda: _histograms(r, run.id, "w", steps, None), tries)
        hs = _histograms(r, run.id, "w", steps, None)
    heat = HistogramHeatmap()
    heat.histograms = hs
    heat_ms = _median_ms(lambda: heat.build(160, 202), tries)
    print(f"image 512x512: blob read {blob_ms:.1f} ms; read+decode {decode_ms:.1f} ms "
          f"({decode_ms / max(blob_ms, 1e-6):.1f}x the read); half-block draw at 200x60 cells "
          f"{draw_ms:.1f} ms")
    print(f"table {rows_n:,} rows: first 1,000 unsorted {plain_ms:.1f} ms; sorted by a float column "
          f"{sort_ms:.1f} ms ({sort_ms / max(plain_ms, 1e-6):.1f}x)")
    print(f"heatmap: read {len(hs)} of {hist_steps:,} steps' histograms {read_ms:.1f} ms; draw 200 rows x "
          f"150 columns {heat_ms:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
