"""Shared-filesystem mode against local mode, measured in the same run, through a real sshfs mount.

    python bench/bench_shared.py [--writers 8,2] [--points 100000] [--runs 1000] [--sections 1,2,3,4,5]
                                 [--paced 8x200,8x1000] [--paced-seconds 30] [--keys 5]

Prints:
1. log() p50 (and p99) in shared mode on the sshfs mount vs local mode (SQLite on local disk); target: within
   2x. The same loop, the same process, one after the other; and the CPU per point of each (the writer
   thread and finish() included).
2. N writer processes x P points each through sshfs, for each N of --writers: wall time and throughput
   (with the same processes into one local SQLite store as a baseline), the lag: the time from the last
   writer's finish() until a reader (a Reader polling the store's root, folding in the background) shows
   every run's last point (target: 3 s), and the reader's backlog when the last writer finished.
3. Fold rate: the store of the first N folded into a fresh local cache, records and points per second,
   against the same records already decoded through the local writer's handlers.
4. First paint (reader ready) of a shared store of R runs (R writer directories): a Reader's first runs()
   with a cold cache (everything folded) and a warm one (only what is new).
5. Latency at training's pace (--paced WxR,...: W writer processes each logging R steps a second of --keys
   keys for --paced-seconds, publishing every second as the SDK does; each step carries the wall time it was
   logged, and each writer notes when each publication landed): a reader process (a Reader on the store
   root: the fold thread, as the app) polls every run for new steps every 0.1 s; the time from logged and
   from published to visible in the reader, p50/p95/max over every step of the run, and the reader's CPU.
   (The app reads every second: on screen is up to 1 s later than visible here.)

Needs sshd, sshfs and FUSE (as tests/store/test_shared.py); everything lives in a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import shutil
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


PACED_WRITER = textwrap.dedent("""
    import json, os, sys, threading, time
    import tracktui
    from tracktui.store import segments
    store, run_id, rate, seconds, keys, side = sys.argv[1:]
    rate, n, keys = float(rate), int(float(rate) * float(seconds)), int(keys)
    published = []  # (wall time a publication landed, the last step it holds)
    publish_file = segments.publish_file

    def noting(d, name, data):  # the writer's own publish_file, noting when each publication landed
        out = publish_file(d, name, data)
        at = data.rfind(b'["H",')  # the last history line: ["H","<run id>",<step>,... (no comma in the id)
        if at >= 0:
            published.append((time.time(), int(data[at + 5:at + 200].split(b",", 2)[1])))
        return out

    segments.publish_file = noting
    run = tracktui.init(project="paced", id=run_id, name=run_id, dir=store,
                        settings={"console": "off", "system": False, "git": False, "requirements": False})
    names = [f"metric_{i}" for i in range(1, keys)]
    (writer,) = [t for t in threading.enumerate() if t.name == "tracktui-writer"]

    def thread_cpu():  # the writer thread's CPU seconds (Linux: /proc)
        f = open(f"/proc/self/task/{writer.native_id}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

    took = []
    clock = time.perf_counter_ns
    c0, w0, t0 = time.process_time(), thread_cpu(), time.monotonic()
    for step in range(n):
        wait = t0 + step / rate - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        d = {"logged_at": time.time()}
        for i, k in enumerate(names):
            d[k] = step * 0.5 + i + 1.0
        a = clock()
        run.log(d)
        took.append(clock() - a)
    wcpu = thread_cpu() - w0
    run.finish()
    took.sort()
    json.dump({"published": published, "cpu": time.process_time() - c0, "wall": time.monotonic() - t0,
               "steps": n, "thread_cpu": wcpu, "log_p50": took[n // 2] / 1e3}, open(side, "w"))
""")

PACED_READER = textwrap.dedent("""
    import json, resource, sys, time
    from pathlib import Path
    from tracktui.store import shared
    from tracktui.store.reader import Reader
    store, out = Path(sys.argv[1]), sys.argv[4]
    runs, steps, limit = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[5])
    deadline = time.time() + limit
    while not (store / shared.MARKER).exists() and time.time() < deadline:
        time.sleep(0.05)
    t0, ru0 = time.time(), resource.getrusage(resource.RUSAGE_SELF)
    cursor, seen = {}, []  # run id -> last step seen; (run id, step, logged at, visible at)
    with Reader(store) as r:  # a shared root: its fold thread keeps the local cache current, as in the app
        while time.time() < deadline:
            for run in r.runs(project="paced"):
                got = r.history(run.id, ["logged_at"], since_step=cursor.get(run.id, -1)).get("logged_at")
                if got:
                    now = time.time()
                    seen += [(run.id, s, v, now) for s, v in got]
                    cursor[run.id] = got[-1][0]
            if len(cursor) == runs and all(c == steps - 1 for c in cursor.values()):
                break
            time.sleep(0.1)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    json.dump({"seen": seen, "wall": time.time() - t0, "cpu": ru.ru_utime + ru.ru_stime - ru0.ru_utime - ru0.ru_stime},
              open(out, "w"))
""")


def paced(tmp: Path, m: SshfsMount, env: dict[str, str], k: int, rate: float, seconds: float, keys: int) -> None:
    """5. k writers at rate steps/s of keys keys through sshfs; a reader process measures logged/published ->
    visible."""
    import bisect
    import json

    tag = f"p{k}x{int(rate)}"
    store = m.mnt / tag
    (tmp / "paced-writer.py").write_text(PACED_WRITER)
    (tmp / "paced-reader.py").write_text(PACED_READER)
    steps = int(rate * seconds)
    reader_out = tmp / f"{tag}-reader.json"
    reader = subprocess.Popen([sys.executable, str(tmp / "paced-reader.py"), str(store), str(k), str(steps),
                               str(reader_out), str(seconds + 120)], env=env)
    procs = [subprocess.Popen([sys.executable, str(tmp / "paced-writer.py"), str(store), f"{tag}-{i}", str(rate),
                               str(seconds), str(keys), str(tmp / f"{tag}-{i}.json")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for i in range(k)]
    for p in procs:
        _, err = p.communicate(timeout=seconds + 600)
        if p.returncode != 0:
            raise SystemExit(f"writer failed: {err[-2000:]}")
    if reader.wait(timeout=180) != 0:
        raise SystemExit("reader failed")
    rd = json.loads(reader_out.read_text())
    sides = {f"{tag}-{i}": json.loads((tmp / f"{tag}-{i}.json").read_text()) for i in range(k)}
    logged, published = [], []
    pubs = {rid: ([t for t, _ in sorted(sd["published"])], sorted(sd["published"])) for rid, sd in sides.items()}
    for rid, step, at, visible in rd["seen"]:
        logged.append(visible - at)
        times, pub = pubs[rid]
        # the first publication holding the step (steps are published in order)
        i = bisect.bisect_left([s for _, s in pub], step)
        if i < len(pub):
            published.append(visible - pub[i][0])

    def q(xs: list[float]) -> str:
        xs = sorted(xs)
        if not xs:
            return "none"
        return (f"p50 {xs[len(xs) // 2]:.2f} s, p95 {xs[int(len(xs) * 0.95)]:.2f} s, max {xs[-1]:.2f} s")

    wcpu = sum(sd["cpu"] for sd in sides.values())
    tcpu = sum(sd["thread_cpu"] for sd in sides.values())
    log_p50 = statistics.median(sd["log_p50"] for sd in sides.values())
    achieved = sum(sd["steps"] / sd["wall"] for sd in sides.values()) / k
    print(f"{k} writers x {rate:,.0f} steps/s x {keys} keys for {seconds:.0f} s (achieved {achieved:,.0f} steps/s "
          f"each), sshfs: {len(rd['seen']):,} of {k * steps:,} steps seen")
    print(f"  logged -> visible in the reader: {q(logged)}")
    print(f"  published -> visible:            {q(published)}")
    print(f"  reader CPU {rd['cpu']:.1f} s in {rd['wall']:.1f} s ({100 * rd['cpu'] / rd['wall']:.0f}% of a core); "
          f"writer processes {wcpu:.1f} s ({1e6 * wcpu / (k * steps * keys):.2f} us per point, the pacing loop "
          f"included), of which their writer threads {tcpu:.1f} s ({1e6 * tcpu / (k * steps * keys):.2f} us per "
          f"point); log() p50 {log_p50:.1f} us (a process woken from sleep for each step runs slower than in a "
          "tight loop)")
    shutil.rmtree(store, ignore_errors=True)


def p50_log(store: Path, n: int) -> tuple[float, float, float]:
    """log() p50 and p99, and the process's CPU per point (its writer thread's included, finish() too), in
    microseconds, in this process, into the store at root."""
    import tracktui

    run = tracktui.init(project="p50", dir=str(store),
                        settings={"console": "off", "system": False, "git": False, "requirements": False})
    times = []
    clock = time.perf_counter_ns
    cpu = time.process_time()
    for step in range(n):
        t0 = clock()
        run.log({"loss": step * 0.5, "acc": step}, step=step)
        times.append(clock() - t0)
    run.finish()
    cpu = time.process_time() - cpu
    times.sort()
    return statistics.median(times) / 1e3, times[int(len(times) * 0.99)] / 1e3, cpu / (2 * n) * 1e6


def finish_times(procs: list[subprocess.Popen[str]]) -> list[float]:
    """Wait for writer processes; the wall time each printed when its finish() returned."""
    ends = []
    for p in procs:
        out, err = p.communicate(timeout=3600)
        if p.returncode != 0:
            raise SystemExit(f"writer failed: {err[-2000:]}")
        ends.append(float(out.strip().splitlines()[-1]))
    return ends


def writers(store: Path, k: int, n: int, env: dict[str, str], tag: str) -> tuple[float, float]:
    """k writer processes of n points; (seconds from start to the last exit, wall time of the last finish())."""
    script = store.parent / f"writer-{tag}.py"
    script.write_text(WRITER)
    t0 = time.time()
    procs = [subprocess.Popen([sys.executable, str(script), str(store), f"{tag}{i}", str(n)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for i in range(k)]
    ends = finish_times(procs)
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
    ap.add_argument("--sections", default="1,2,3,4,5", help="which sections to run, comma-separated")
    ap.add_argument("--paced", default="8x200,8x1000", help="section 5: WRITERSxSTEPS_PER_SECOND, comma-separated")
    ap.add_argument("--paced-seconds", type=float, default=30.0)
    ap.add_argument("--keys", type=int, default=5, help="keys per step in section 5 (the logged time one of them)")
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
        shutil.rmtree(tmp, ignore_errors=True)


def run_all(args: argparse.Namespace, tmp: Path, env: dict[str, str]) -> None:
    with SshfsMount(tmp / "net") as m:
        print(f"sshfs mount: {m.mnt} ({m.fstype()}), {os.cpu_count()} CPUs")
        from tracktui.store import shared

        if 1 in args.sections:
            # 1. log() p50
            local_p50, local_p99, local_cpu = p50_log(tmp / "local-p50", args.p50_points)
            shared_p50, shared_p99, shared_cpu = p50_log(m.mnt / "shared-p50", args.p50_points)
            assert shared.is_shared(m.mnt / "shared-p50")
            print(f"log() p50: local {local_p50:.2f} us, shared (sshfs) {shared_p50:.2f} us, ratio "
                  f"{shared_p50 / local_p50:.2f}x (target <= 2x); p99 local {local_p99:.1f} us, shared "
                  f"{shared_p99:.1f} us")
            print(f"  CPU per point (2 keys a step, the writer thread's included): local {local_cpu:.2f} us, "
                  f"shared {shared_cpu:.2f} us")
        stores = []
        if 2 in args.sections:
            for k in args.writers:
                stores.append((k, many_writers(args, tmp, m, env, k)))
        if 3 in args.sections:
            fold_rate(tmp, *stores[0], args.points)
        if 4 in args.sections:
            first_paint(args, m)
        if 5 in args.sections:
            for spec in args.paced.split(","):
                k, rate = spec.lower().split("x")
                paced(tmp, m, env, int(k), float(rate), args.paced_seconds, args.keys)


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
    ends = finish_times(procs)
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
