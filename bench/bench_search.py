"""Search across runs: latency of `tracktui grep`'s query and the size the full-text index adds.

    python bench/bench_search.py [--runs 1000] [--lines 10000000] [--dir DIR]

Builds a store of RUNS runs and LINES console lines (raw SQL into a store at the schema before search, so
generating it is fast), measures its size, migrates it (the migration indexes every existing line, as an
upgrade does), measures it again, then times searches through store.search (what `tracktui grep` and the
app's search screen call). Then the writer's cost: console lines per second through the real writer
(store.writer.Writer) into a store with the index, against one without it (the same store with the index's
triggers dropped), in the same run.

Targets (issue 15): a search answers in under 200 ms; the index costs under 30% more store size.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tracktui.store import schema
from tracktui.store.paths import db_path
from tracktui.store.reader import Reader
from tracktui.store.search import search

RARE = "RuntimeError: CUDA out of memory. Tried to allocate 20.00 MiB (GPU 0; 79.35 GiB total capacity)"
WORDS = ("warning dataloader worker checkpoint saved loading shard tokenizer gradient overflow skipping "
         "scheduler validation accuracy throughput evaluating model parameters optimizer state resumed").split()


def lines(rng: random.Random, n: int):
    """Training-log-like lines: mostly numeric progress lines, some prose, a rare error."""
    for i in range(n):
        r = rng.random()
        if r < 0.70:
            yield (f"epoch {i // 10_000} step {i} loss={rng.random():.4f} lr={rng.random() * 1e-3:.3e} "
                   f"grad_norm={rng.random() * 5:.3f} it/s={rng.random() * 30:.2f}")
        elif r < 0.9999:
            yield " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 14)))
        else:
            yield RARE


def build(root: Path, runs: int, n_lines: int) -> float:
    """A store at the schema before search (MIGRATIONS[:-1]) holding runs and lines; returns seconds."""
    conn = sqlite3.connect(schema.prepare_root(root), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    for script in schema.MIGRATIONS[:-1]:
        for statement in schema._statements(script):
            conn.execute(statement)
    conn.execute(f"PRAGMA application_id={schema.APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version={len(schema.MIGRATIONS) - 1}")
    rng = random.Random(15)
    t0 = time.perf_counter()
    ids = [f"{rng.getrandbits(128):032x}" for _ in range(runs)]
    conn.executemany(
        "INSERT INTO runs(id, project, name, tags, notes, state, created_at, updated_at) "
        "VALUES (?, ?, ?, '[\"bench\"]', ?, 'finished', ?, ?)",
        [(rid, f"proj{i % 10}", f"run-{i}", f"notes of run {i}", 1.7e9 + i, 1.7e9 + i) for i, rid in enumerate(ids)])
    per_run = max(1, n_lines // runs)
    gen = lines(rng, n_lines)
    for i, rid in enumerate(ids):
        base = 1.7e9 + i * 10_000
        conn.executemany("INSERT INTO logs(run_id, seq, ts, stream, line) VALUES (?, ?, ?, 'stdout', ?)",
                         ((rid, s, base + s * 0.01, line) for s, line in zip(range(1, per_run + 1), gen, strict=False)))
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.perf_counter() - t0


def size(root: Path) -> int:
    return sum(os.path.getsize(p) for p in (db_path(root), Path(f"{db_path(root)}-wal")) if p.exists())


def timed(reader: Reader, pattern: str, limit: int | None, project: str | None = None,
          repeat: int = 5) -> tuple[float, int]:
    """Median seconds of a search and its number of matches."""
    times, n = [], 0
    for _ in range(repeat):
        t = time.perf_counter()
        n = sum(1 for _ in search(reader, pattern, project=project, limit=limit))
        times.append(time.perf_counter() - t)
    return statistics.median(times), n


def writer_rate(root: Path, n: int, indexed: bool) -> float:
    """Console lines per second stored by the real writer thread."""
    from tracktui.store.writer import Writer

    conn = schema.connect_writer(root)
    if not indexed:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%fts%'"):
            conn.execute(f"DROP TRIGGER {name}")
    conn.close()
    rng = random.Random(1)
    w = Writer(root)
    rid = f"{rng.getrandbits(128):032x}"
    w.save_run({"id": rid, "project": "w", "name": "w", "state": "running", "created_at": time.time()})
    t = time.perf_counter()
    for line in lines(rng, n):
        w.put(("log", rid, time.time(), "stdout", line))
    w.flush()
    dt = time.perf_counter() - t
    w.close()
    return n / dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--lines", type=int, default=10_000_000)
    ap.add_argument("--writer-lines", type=int, default=200_000)
    ap.add_argument("--dir", help="where to build the store (default: a temporary directory)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp) / "store"
        dt = build(root, args.runs, args.lines)
        before = size(root)
        print(f"store: {args.runs:,} runs, {args.lines:,} console lines, built in {dt:.1f} s; "
              f"{before / 1e6:,.1f} MB without the index")
        t = time.perf_counter()
        schema.connect_writer(root).close()  # the migration indexes the existing lines
        mig = time.perf_counter() - t
        conn = sqlite3.connect(db_path(root), isolation_level=None)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        after = size(root)
        print(f"migration (indexes every existing line): {mig:.1f} s; store {after / 1e6:,.1f} MB: "
              f"index overhead {100 * (after - before) / before:.1f}% (target < 30%)")
        reader = Reader(root)
        cases = [
            ("rare phrase, every match", RARE[:31], None, None),
            ("rare word prefix, every match", "capac", None, None),
            ("common word, first 100", "checkpoint", 100, None),
            ("common word, first 1000", "checkpoint saved", 1000, None),
            ("common word, one project, first 100", "tokenizer", 100, "proj3"),
            ("word + number, first 100", "step 12345", 100, None),
            ("two words, no line has both in order, every match", "memory accuracy", None, None),
            ("no letters (scans every line), first 100", "0.5000", 100, None),
        ]
        for label, pattern, limit, project in cases:
            repeat = 1 if "scans" in label else 5
            sec, n = timed(reader, pattern, limit, project, repeat)
            print(f"search {pattern!r:36} {label:52} {sec * 1000:9.1f} ms  {n:>6} matches")
        reader.close()
    for indexed in (False, True):
        with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
            rate = writer_rate(Path(tmp) / "store", args.writer_lines, indexed)
            print(f"writer: {rate:,.0f} console lines/s {'with' if indexed else 'without'} the index "
                  f"({args.writer_lines:,} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
