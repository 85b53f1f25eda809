"""Many processes at once, and writers killed at random moments: nothing lost, integrity kept."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import time

from tracktui.store import Reader
from tracktui.store.paths import db_path

from tests.conftest import run_script

WRITER = """
import sys, tracktui
n, tag = int(sys.argv[1]), sys.argv[2]
run = tracktui.init(project="conc", name=tag)
for i in range(n):
    run.log({"a": i, "b": -i, "c": float(i) / 3})
run.finish()
"""


def integrity(store) -> str:
    conn = sqlite3.connect(db_path(store))
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_eight_processes_logging_at_once(store_dir):
    n = 20_000
    env = {**os.environ, "TRACKTUI_DIR": str(store_dir)}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(n), f"w{i}"], env=env, stderr=subprocess.PIPE,
                              text=True) for i in range(8)]
    errors = [p.communicate(timeout=240)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    assert not any("locked" in e for e in errors), errors
    assert integrity(store_dir) == "ok"
    with Reader(store_dir) as r:
        runs = r.runs()
        assert len(runs) == 8 and {x.state for x in runs} == {"finished"}
        for rec in runs:
            hist = r.history(rec.id)
            assert [len(hist[k]) for k in ("a", "b", "c")] == [n, n, n]
            assert hist["b"][-1] == (n - 1, -(n - 1.0))


def test_sixteen_processes_create_the_store_at_once(tmp_path):
    store_dir = tmp_path / "deep" / "er" / "store"  # three directories to make, by whoever is first
    go = tmp_path / "go"
    env = {**os.environ, "TRACKTUI_DIR": str(store_dir)}
    code = ("import os, time, tracktui\n"
            f"while not os.path.exists({str(go)!r}): time.sleep(0.001)\n"  # all start together
            "r = tracktui.init(project='race'); r.log({'x': 1}); r.finish()")
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE, text=True)
             for _ in range(16)]
    time.sleep(1.0)
    go.touch()
    errors = [p.communicate(timeout=120)[1] for p in procs]
    failed = [(p.returncode, e) for p, e in zip(procs, errors, strict=True) if p.returncode != 0]
    assert not failed, failed
    assert integrity(store_dir) == "ok"
    with Reader(store_dir) as r:
        runs = r.runs()
        assert len(runs) == 16 and all(r.history(x.id)["x"] == [(0, 1.0)] for x in runs)


KILLED = """
import sys, tracktui
run = tracktui.init(project="kill")
i = 0
while True:
    run.log({"x": i, "y": i * 2})
    i += 1
    if i % 500 == 0:
        run._writer.flush()          # durable up to here
        print(run.id, i, flush=True)
"""


def test_writers_killed_at_random_moments(store_dir):
    rng = random.Random(7)
    env = {**os.environ, "TRACKTUI_DIR": str(store_dir)}
    flushed: dict[str, int] = {}
    for _ in range(12):
        proc = subprocess.Popen([sys.executable, "-c", KILLED], env=env, stdout=subprocess.PIPE, text=True)
        run_id, count = proc.stdout.readline().split()
        deadline = time.monotonic() + rng.uniform(0.0, 0.4)
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line:
                run_id, count = line.split()
        proc.kill()
        proc.wait(10)
        flushed[run_id] = int(count)
    assert integrity(store_dir) == "ok"
    with Reader(store_dir) as r:
        for run_id, count in flushed.items():
            rec = r.run(run_id)
            assert rec.state == "crashed"
            xs = r.history(run_id, ["x"])["x"]
            assert len(xs) >= count and [s for s, _ in xs[:count]] == list(range(count))
    run_script("import tracktui; tracktui.init(project='after').log({'ok': 1})", store_dir)  # still writable
