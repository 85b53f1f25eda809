"""Shared-filesystem mode against local mode, measured in the same run, through a real sshfs mount.

    python bench/bench_shared.py [--writers 8,2] [--points 100000] [--runs 1000] [--sections 1,2,3,4]

Prints:
1. log() p50 (and p99) in shared mode on the sshfs mount vs local mode (SQLite on local disk); target: within
   2x. The same loop, the same process, one after the other.
2. N writer processes x P points each through sshfs, for each N of --writers: wall time and throughput
   (with the same processes into one local SQLite store as a baseline), the lag: the time from the last
   writer's finish() until a reader (a Reader polling the store's root, folding in the background) shows
   every run's last point (target: 3 s), and the reader's backlog when the last writer finished.
3. Fold rate: the store of the first N folded into a fresh local cache, records and points per second,
   against the same records already decoded through the local writer's handlers.
4. First paint (reader ready) of a shared store of R runs (R writer directories): a Reader's first runs()
   with a cold cache (everything folded) and a warm one (only what is new).

Needs sshd, sshfs and FUSE (as tests/store/test_shared.py); everything lives in a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "store"))

from sshfs_mount import SshfsMount, missing  # noqa: E402

WRITER = textwrap.dedent("""
    import sys, time
    import tracktui
    store, run_id, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    run = tracktui.init(project="bench", id=run_id, name=run_id, dir=store,
                        settings={"console": "off", "system": False, "git": False, "requirements": False})
    for step in range(n):
        run.log({"loss": step * 0.5}, step=step)
    run.finish()
    print(time.time(), flush=True)
""")


def p50_log(store: Path, n: int) -> tuple[float, float]:
    """log() p50 and p99 in microseconds, in this process, into the store at root."""
    import tracktui

    run = tracktui.init(project="p50", dir=str(store),
                        settings={"console": "off", "system": False, "git": False, "requirements": False})
    times = []
    clock = time.perf_counter_ns
    for step in range(n):
        t0 = clock()
        run.log({"loss": step * 0.5, "acc": step}, step=step)
        times.append(clock() - t0)
    run.finish()
    times.sort()
    return statistics.median(times) / 1e3, times[int(len(times) * 0.99)] / 1e3


def writers(store: Path, k: int, n: int, env: dict[str, str], tag: str) -> tuple[float, float]:
    """k writer processes of n points; (seconds from start to the last exit, wall time of the last finish())."""
    script = store.parent / f"writer-{tag}.py"
    script.write_text(WRITER)
    t0 = time.time()
    procs = [subprocess.Popen([sys.executable, str(script), str(store), f"{tag}{i}", str(n)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for i in range(k)]
    ends = []
    for p in procs:
        out, err = p.communicate(timeout=3600)
        if p.returncode != 0:
            raise SystemExit(f"writer failed: {err[-2000:]}")
        ends.append(float(out.strip().splitlines()[-1]))
    return time.time() - t0, max(ends)


def make_runs(store: Path, runs: int, steps: int) -> None:
    """R finished runs, each in a writer directory of its own, written as writers publish them."""
    from tracktui.store import segments
    from tracktui.store.shared import MARKER, SEGMENTS_DIR

    store.mkdir(parents=True, exist_ok=True)
    (store / MARKER).write_text('{"tracktui_shared": 1}\n')
    now = time.time()
    for i in range(runs):
        d = store / SEGMENTS_DIR / f"host{i % 8}" / f"{1000 + i}-bench"
        d.mkdir(parents=True, exist_ok=True)
        rid = f"r{i:05d}"
        recs = [("run_insert", {"id": rid, "project": "many", "name": rid, "state": "running", "created_at": now,
                                "heartbeat_at": now, "config": '{"i": %d}' % i, "host": f"host{i % 8}"})]
        recs += [("history", rid, s, now, [("loss", s * 0.5, 0, None)], False) for s in range(steps)]
        recs.append(("run", rid, {"state": "finished", "finished_at": now, "summary": '{"loss": 1.0}'}))
        data = segments._header() + b"".join(segments.line(0, segments.encode_record(r)) for r in recs)
        segments.publish_file(d, "0000000000-0000000000.seg", data)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--writers", default="8,2", help="writer counts of section 2, comma-separated (3 folds the first)")
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--p50-points", type=int, default=50_000)
    ap.add_argument("--sections", default="1,2,3,4", help="which sections to run, comma-separated")
    args = ap.parse_args()
    args.writers = [int(x) for x in str(args.writers).split(",") if x.strip()]
    args.sections = {int(x) for x in args.sections.split(",") if x.strip()}
    if 3 in args.sections:
        args.sections.add(2)  # the fold rate folds section 2's store
    why = missing()
    if why:
        raise SystemExit(f"cannot run: {why}")
    tmp = Path(tempfile.mkdtemp(prefix="bench-shared-"))
    os.environ["XDG_CACHE_HOME"] = str(tmp / "cache")
    for k in ("TRACKTUI_SHARED", "TRACKTUI_DIR", "TRACKTUI_STORE"):
        os.environ.pop(k, None)
    env = {**os.environ}
    try:
        run_all(args, tmp, env)
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


def run_all(args: argparse.Namespace, tmp: Path, env: dict[str, str]) -> None:
    with SshfsMount(tmp / "net") as m:
        print(f"sshfs mount: {m.mnt} ({m.fstype()}), {os.cpu_count()} CPUs")
        from tracktui.store import shared

        if 1 in args.sections:
            # 1. log() p50
            local_p50, local_p99 = p50_log(tmp / "local-p50", args.p50_points)
            shared_p50, shared_p99 = p50_log(m.mnt / "shared-p50", args.p50_points)
            assert shared.is_shared(m.mnt / "shared-p50")
            print(f"log() p50: local {local_p50:.2f} us, shared (sshfs) {shared_p50:.2f} us, ratio "
                  f"{shared_p50 / local_p50:.2f}x (target <= 2x); p99 local {local_p99:.1f} us, shared "
                  f"{shared_p99:.1f} us")
        stores = []
        if 2 in args.sections:
            for k in args.writers:
                stores.append((k, many_writers(args, tmp, m, env, k)))
        if 3 in args.sections:
            fold_rate(tmp, *stores[0], args.points)
        if 4 in args.sections:
            first_paint(args, m)


def many_writers(args: argparse.Namespace, tmp: Path, m: SshfsMount, env: dict[str, str], k: int) -> Path:
    """2. k writers x n points, locally (baseline) and through sshfs, a reader watching; the shared store."""
    from tracktui.store import schema, shared
    from tracktui.store.reader import Reader

    n = args.points
    lt, _ = writers(tmp / f"local-many-{k}", k, n, env, f"l{k}-")
    store = m.mnt / f"many-{k}"
    seen_at = None
    backlog = None
    t_start = time.time()
    script = tmp / "writer-s.py"
    script.write_text(WRITER)
    procs = [subprocess.Popen([sys.executable, str(script), str(store), f"s{k}-{i}", str(n)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for i in range(k)]
    while True:  # a reader watches while they write: the Reader folds in the background
        if backlog is None and all(p.poll() is not None for p in procs):
            # the writers are done: how many of their points the cache holds yet
            conn = schema.connect_reader(shared.cache_root(store))
            (held,) = conn.execute("SELECT count(*) FROM history").fetchone() if conn is not None else (0,)
            if conn is not None:
                conn.close()
            backlog = k * n - held
        if store.exists() and (store / shared.MARKER).exists():
            with Reader(store) as r:
                runs = r.runs(project="bench")
            if len(runs) == k and all(x.last_step == n - 1 for x in runs):
                seen_at = time.time()
                break
        time.sleep(0.05)
    ends = []
    for p in procs:
        out, err = p.communicate(timeout=3600)
        if p.returncode != 0:
            raise SystemExit(f"writer failed: {err[-2000:]}")
        ends.append(float(out.strip().splitlines()[-1]))
    shared.stop_folders()
    st = max(ends) - t_start
    print(f"{k} writers x {n} points: local SQLite {lt:.1f} s ({k * n / lt:,.0f} points/s); "
          f"shared via sshfs {st:.1f} s ({k * n / st:,.0f} points/s)")
    print(f"  lag ({k} writers): the reader showed every run's last point {seen_at - max(ends):+.2f} s after the "
          f"last finish() returned (target 3 s); points not yet folded when the writers had exited: "
          f"{backlog if backlog is not None else 0:,} of {k * n:,}")
    return store


def fold_rate(tmp: Path, k: int, store: Path, n: int) -> None:
    """3. The store of k writers folded into a fresh cache, against the local writer's handlers."""
    from tracktui.store import schema, segments
    from tracktui.store.engine import SQLITE
    from tracktui.store.writer import insert_run, write_batch

    t0 = time.perf_counter()
    res = segments.fold(store, tmp / f"fresh-cache-{k}")
    ft = time.perf_counter() - t0
    # baseline: the same records, already decoded, through the local writer's handlers into a fresh store
    recs = []
    for _, d in segments.writer_dirs(store):
        for sf in segments.seg_files(d):
            recs += [r for _, r in segments.parse(sf.path.read_bytes()).records]
    conn = schema.connect_writer(tmp / f"baseline-{k}")
    for r in recs:
        if r[0] == "run_insert":
            insert_run(conn, r[1])
    rest = [r for r in recs if r[0] != "run_insert"]
    ids: dict = {}
    t0 = time.perf_counter()
    for i in range(0, len(rest), 20_000):
        write_batch(conn, SQLITE, ids, rest[i:i + 20_000])
    bt = time.perf_counter() - t0
    conn.close()
    print(f"fold ({k} writers' store): {res.records:,} records ({res.segments} segments) in {ft:.2f} s = "
          f"{res.records / ft:,.0f} records/s ({k * n / ft:,.0f} points/s); baseline, the same records already "
          f"decoded through the local writer's handlers: {len(rest) / bt:,.0f} records/s (fold = {bt / ft:.2f} "
          "of it)")


def first_paint(args: argparse.Namespace, m: SshfsMount) -> None:
    """4. A Reader's first runs() of R runs with a cold cache and a warm one."""
    from tracktui.store import shared
    from tracktui.store.reader import Reader

    many = m.mnt / "runs"
    make_runs(many, args.runs, 100)
    shared._detected.clear()
    t0 = time.perf_counter()
    with Reader(many) as r:
        got = r.runs()
    cold = time.perf_counter() - t0
    assert len(got) == args.runs, len(got)
    shared._folders.clear()  # another reader process, later: the cache is there
    t0 = time.perf_counter()
    with Reader(many) as r:
        got = r.runs()
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    with Reader(shared.cache_root(many)) as r:
        r.runs()
    base = time.perf_counter() - t0
    print(f"first paint (reader ready, runs() of {args.runs} runs x 100 steps): cold cache {cold:.2f} s, warm "
          f"cache {warm:.3f} s (of which listing {args.runs} writer directories over sshfs); the same runs() "
          f"on the local cache alone {base:.3f} s")


if __name__ == "__main__":
    main()
