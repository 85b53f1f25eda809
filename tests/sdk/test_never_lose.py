"""No value, step, fork or fault may lose a run: the writer isolates bad records, retries a stuck store,
SIGTERM ends the process in bounded time, a forked or spawned child never ends its parent's run."""

from __future__ import annotations

import math
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import tracktui
from tracktui.store import Reader
from tracktui.store.paths import db_path

from tests.conftest import run_script


def only_run(store):
    with Reader(store) as r:
        return r.runs()[0]


def history(store, run_id, key):
    with Reader(store) as r:
        return r.history(run_id, [key])[key]


def rollup(store, run_id, key):
    """(n finite, vmin, vmax, n_special) summed over the key's rollup buckets, straight from the table."""
    conn = sqlite3.connect(db_path(store))
    try:
        return conn.execute(
            "SELECT sum(n), min(vmin), max(vmax), sum(n_special) FROM history_rollup JOIN metrics m "
            "ON m.id = metric_id WHERE m.run_id = ? AND m.key = ?", (run_id, key)).fetchone()
    finally:
        conn.close()


# ---------------------------------------------------------------- the writer never stops


def test_nan_or_inf_then_a_finite_value_in_one_batch(store_dir):
    run = tracktui.init(dir=store_dir)
    run.log({"best": math.inf, "loss": math.nan})  # step 0: a NaN loss, as real training has
    run.log({"best": 1.0, "loss": 0.5})
    run.log({"best": -math.inf, "loss": 0.25})
    run.finish()
    run2 = tracktui.init(dir=store_dir)
    run2.log({"after": 1})
    run2.finish()
    assert [v for _, v in history(store_dir, run.id, "best")] == [math.inf, 1.0, -math.inf]
    loss = [v for _, v in history(store_dir, run.id, "loss")]
    assert math.isnan(loss[0]) and loss[1:] == [0.5, 0.25]
    assert rollup(store_dir, run.id, "best") == (1, 1.0, 1.0, 2)
    assert rollup(store_dir, run.id, "loss") == (2, 0.25, 0.5, 1)
    assert only_run(store_dir).state == "finished"
    assert history(store_dir, run2.id, "after") == [(0, 1.0)]


def test_a_record_sqlite_refuses_is_dropped_alone_and_reported(store_dir, caplog):
    """Straight to the writer, past log()'s own checks: the writer's last line of defence."""
    run = tracktui.init(dir=store_dir)
    w = run._writer
    run.log({"a": 1.0})
    w.put(("history", run.id, 1, time.time(), [("ok", 1.0, 0, None), ("bad\udcff", 2.0, 0, None)], False))
    w.put(("history", run.id, 2**63, time.time(), [("huge", 1.0, 0, None)], False))
    w.put(("log", run.id, time.time(), "stdout", "a line \udcff"))
    run.log({"a": 2.0})
    run.summary["note\udcff"] = "text \udcff"  # JSON escapes it: stored and read back as it was
    run.finish()
    assert [v for _, v in history(store_dir, run.id, "a")] == [1.0, 2.0]
    assert history(store_dir, run.id, "ok") == [(1, 1.0)]
    rec = only_run(store_dir)
    assert rec.state == "finished" and rec.summary["note\udcff"] == "text \udcff"
    text = caplog.text
    assert "'bad\\udcff' at step 1" in text and "could not be stored" in text
    assert "at step 9223372036854775808" in text


def test_the_store_locked_by_another_process_delays_but_loses_and_doubles_nothing(store_dir, caplog):
    run = tracktui.init(dir=store_dir)
    run.log({"x": 0.0})
    run._writer.flush()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sqlite3, sys, time
        c = sqlite3.connect({str(db_path(store_dir))!r}, isolation_level=None)
        c.execute("BEGIN EXCLUSIVE"); print("locked", flush=True); time.sleep(3); c.execute("COMMIT")
    """)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    for i in range(1, 3000):
        run.log({"x": float(i), "y": math.nan if i % 7 == 0 else float(-i)})
    assert holder.wait(30) == 0
    run.finish()
    xs = history(store_dir, run.id, "x")
    assert [s for s, _ in xs] == list(range(3000)) and [v for _, v in xs] == [float(i) for i in range(3000)]
    assert rollup(store_dir, run.id, "x") == (3000, 0.0, 2999.0, 0)
    nan_steps = len(range(7, 3000, 7))
    assert rollup(store_dir, run.id, "y") == (2999 - nan_steps, -2999.0, -1.0, nan_steps)


@pytest.fixture
def small_tmpfs(tmp_path):
    """A real filesystem that fills up: a 1 MiB tmpfs (root only), grown again with grow()."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.decode().strip()}): the disk-full test needs root")

    def grow():
        subprocess.run(["mount", "-o", "remount,size=256m", str(mnt)], check=True)

    yield SimpleNamespace(path=mnt, grow=grow)
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_disk_full_keeps_everything_queued_until_there_is_room(small_tmpfs, caplog):
    store = small_tmpfs.path / "store"
    run = tracktui.init(dir=store, settings={"capture": False})
    grown = threading.Event()

    def grow_when_full():
        deadline = time.monotonic() + 60
        while "full" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        small_tmpfs.grow()
        grown.set()

    t = threading.Thread(target=grow_when_full)
    t.start()
    n = 40_000  # ~4 MiB of history: far more than 1 MiB; log() waits on back-pressure while the disk is full
    for i in range(n):
        run.log({"a": float(i), "b": float(i) / 3, "c": "t" * 20})
    t.join()
    run.finish()
    assert grown.is_set() and "database or disk is full" in caplog.text
    assert rollup(store, run.id, "a") == (n, 0.0, float(n - 1), 0)
    assert [v for _, v in history(store, run.id, "a")] == [float(i) for i in range(n)]
    assert only_run(store).state == "finished"


@pytest.mark.parametrize("filters", ["-W error", "-W ignore", "ignore-userwarning"])
def test_no_warning_filter_hides_lost_data_or_kills_the_writer(store_dir, filters):
    code = """
        import sys, time, warnings, tracktui
        if "ignore-userwarning" in sys.argv:
            warnings.filterwarnings("ignore", category=UserWarning)
        run = tracktui.init()
        run.log({"a": 1.0})
        run._writer.put(("history", run.id, 10**19, time.time(), [("huge", 1.0, 0, None)], False))
        run.log({"a": 2.0})
        run.finish()
    """
    flags = [] if filters == "ignore-userwarning" else filters.split()
    proc = subprocess.run([sys.executable, *flags, "-c", textwrap.dedent(code), filters], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "TRACKTUI_DIR": str(store_dir)})
    assert proc.returncode == 0, proc.stderr
    assert "'huge' at step 10000000000000000000 could not be stored" in proc.stderr
    rec = only_run(store_dir)
    assert rec.state == "finished" and [v for _, v in history(store_dir, rec.id, "a")] == [1.0, 2.0]


# ---------------------------------------------------------------- SIGTERM ends the process, always


LOGGER = """
    import sys, time, tracktui
    run = tracktui.init(settings={"capture": False})
    payload = {f"k{j}": float(j) for j in range(int(sys.argv[1]))}
    for i in range(300):
        run.log({"x": i})
    run._writer.flush()
    print("ready", flush=True)
    i = 0
    while True:
        run.log(payload)
        i += 1
"""


def _sigterm_after(proc: subprocess.Popen[str], wait: float = 1.0, ready: bool = False) -> float:
    if not ready:
        assert proc.stdout.readline().strip() == "ready"
    time.sleep(wait)  # long enough for the queue to fill and log() to wait on back-pressure
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(30)
    elapsed = time.monotonic() - t0
    assert rc == -signal.SIGTERM, proc.stderr.read()
    return elapsed


def _start(store: Path, keys: int = 1) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(LOGGER), str(keys)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "TRACKTUI_DIR": str(store)})


def test_sigterm_while_another_process_holds_the_lock(store_dir):
    proc = _start(store_dir)
    assert proc.stdout.readline().strip() == "ready"
    conn = sqlite3.connect(db_path(store_dir), isolation_level=None, timeout=60)
    conn.execute("BEGIN EXCLUSIVE")
    try:
        elapsed = _sigterm_after(proc, ready=True)
    finally:
        conn.execute("COMMIT")
        conn.close()
    assert elapsed < 2.0 + 1.5  # the documented 2 s, plus the interpreter's own exit
    rec = only_run(store_dir)
    assert rec.state == "crashed" and rec.last_step >= 299  # the end could not be written; the data before was
    said = proc.stderr.read()
    assert re.search(r"was not fully written within \d\.\d s;", said), said  # "2.0 s", not "1.99994 s"


def test_sigterm_while_the_disk_is_full(small_tmpfs):
    store = small_tmpfs.path / "store"
    proc = _start(store, keys=50)
    elapsed = _sigterm_after(proc, wait=3.0)
    assert elapsed < 2.0 + 1.5
    assert only_run(store).last_step >= 299


def test_sigterm_while_the_writer_cannot_keep_up(store_dir):
    proc = _start(store_dir, keys=2000)  # 2,000 keys a step: the queue fills and log() waits
    elapsed = _sigterm_after(proc)
    assert elapsed < 2.0 + 1.5
    rec = only_run(store_dir)
    assert rec.state in ("killed", "crashed") and rec.last_step >= 299


# ---------------------------------------------------------------- fork and spawn


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize("how", ["multiprocessing", "os.fork"])
def test_a_forked_child_that_exits_leaves_the_run_to_its_parent(store_dir, how):
    start = {
        "multiprocessing": "p = mp.get_context('fork').Process(target=child); p.start(); p.join()",
        "os.fork": "pid = os.fork()\nif pid == 0:\n    child(); sys.exit(0)\nos.waitpid(pid, 0)",
    }[how]
    code = textwrap.dedent("""
        import os, sys, time, multiprocessing as mp, tracktui
        run = tracktui.init()
        run.log({"parent": 1})
        def child():
            for i in range(50):
                run.log({"child": i}, step=1000 + i)
        START
        run.log({"parent": 2})
        run._writer.flush()
        print("ready", flush=True)
        time.sleep(60)
    """).replace("START", start)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "TRACKTUI_DIR": str(store_dir)})
    try:
        assert proc.stdout.readline().strip() == "ready"
        rec = only_run(store_dir)
        assert rec.state == "running", "the child's exit ended its parent's run"
        with Reader(store_dir) as r:
            hist = r.history(rec.id)
        assert [v for _, v in hist["child"]] == [float(i) for i in range(50)]  # the child flushed its data
        assert [v for _, v in hist["parent"]] == [1.0, 2.0]
    finally:
        proc.kill()
        proc.wait(10)
    assert only_run(store_dir).state == "crashed"  # kill -9 of the owner: crashed, not "finished"


def test_a_spawned_child_resuming_the_run_does_not_end_it(store_dir, tmp_path):
    script = tmp_path / "train.py"  # spawn imports the main module again: it must be a file
    script.write_text(textwrap.dedent("""
        import multiprocessing as mp, tracktui
        from tracktui.store import Reader

        def child(run_id):
            r = tracktui.init(id=run_id, resume="allow")
            r.log({"child": 1.0}, step=500)
            r.finish()

        if __name__ == "__main__":
            run = tracktui.init(id="owner-run")
            run.log({"parent": 1.0})
            p = mp.get_context("spawn").Process(target=child, args=(run.id,))
            p.start(); p.join()
            assert p.exitcode == 0
            run._writer.flush()
            with Reader() as r:  # TRACKTUI_DIR (run.dir is the run's own files directory)
                assert r.runs()[0].state == "running", r.runs()[0].state
            run.log({"parent": 2.0})
            run.finish()
    """))
    run_script(f"import runpy; runpy.run_path({str(script)!r}, run_name='__main__')", store_dir)
    rec = only_run(store_dir)
    assert rec.state == "finished"
    with Reader(store_dir) as r:
        hist = r.history(rec.id)
    assert [v for _, v in hist["parent"]] == [1.0, 2.0] and hist["child"] == [(500, 1.0)]


def test_a_killed_child_that_is_a_zombie_reads_as_crashed(store_dir):
    proc = subprocess.Popen([sys.executable, "-c", "import time, tracktui; r = tracktui.init(); "
                             "r.log({'x': 1}); r._writer.flush(); print('ready', flush=True); time.sleep(60)"],
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "TRACKTUI_DIR": str(store_dir)})
    assert proc.stdout.readline().strip() == "ready"
    os.kill(proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{proc.pid}/stat").read_text().split(")")[-1].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    try:
        assert only_run(store_dir).state == "crashed"  # not reaped yet, but gone
    finally:
        proc.wait(10)
