"""End states of real processes: finished, failed, killed, crashed; fork; interpreter exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import tracktui
from tracktui.store import Reader, derive_state

from tests.conftest import run_script


def only_run(store):
    runs = tracktui.Api(store).runs()
    assert len(runs) == 1
    return runs[0]


def test_interpreter_exit_finishes_and_flushes(store_dir):
    run_script("""
        import tracktui
        run = tracktui.init(project="p")
        for i in range(5000):
            run.log({"x": i})
    """, store_dir)
    rec = only_run(store_dir)
    assert rec.state == "finished" and rec.last_step == 4999
    assert len(rec.history()) == 5000


def test_uncaught_exception_marks_failed_with_traceback(store_dir):
    proc = run_script("""
        import tracktui
        run = tracktui.init()
        run.log({"x": 1})
        def train():
            raise ValueError("diverged")
        train()
    """, store_dir, check=False)
    assert proc.returncode == 1 and "ValueError: diverged" in proc.stderr  # the user still sees it
    rec = only_run(store_dir)
    assert rec.state == "failed" and rec.exit_code == 1
    assert "in train" in rec.error and "ValueError: diverged" in rec.error


def test_sys_exit_nonzero_marks_failed(store_dir):
    proc = run_script("import sys, tracktui; tracktui.init(); sys.exit(3)", store_dir, check=False)
    assert proc.returncode == 3
    rec = only_run(store_dir)
    assert rec.state == "failed" and rec.exit_code == 3


def test_keyboard_interrupt_marks_killed(store_dir):
    proc = run_script("import tracktui; tracktui.init(); raise KeyboardInterrupt", store_dir, check=False)
    assert proc.returncode != 0
    assert only_run(store_dir).state == "killed"


def _start_logger(store, extra: str = "") -> subprocess.Popen[str]:
    code = textwrap.dedent("""
        import sys, time, tracktui
        EXTRA
        run = tracktui.init()
        i = 0
        while True:
            run.log({"x": i})
            i += 1
            if i % 1000 == 0:
                run._writer.flush()
                print(i, flush=True)
            time.sleep(0.00001)
    """).replace("EXTRA", extra)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "TRACKTUI_DIR": str(store)})


def test_sigterm_marks_killed_after_flushing_then_dies_by_the_signal(store_dir):
    proc = _start_logger(store_dir)
    flushed = int(proc.stdout.readline())
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == -signal.SIGTERM
    assert time.monotonic() - t0 < 3
    rec = only_run(store_dir)
    assert rec.state == "killed" and rec.exit_code == 128 + signal.SIGTERM
    assert rec.last_step >= flushed - 1


def test_sigterm_runs_the_previous_handler(store_dir):
    extra = "import signal\nsignal.signal(signal.SIGTERM, lambda s, f: (print('mine', flush=True), sys.exit(7)))"
    proc = _start_logger(store_dir, extra)
    proc.stdout.readline()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 7
    assert "mine" in proc.stdout.read()
    assert only_run(store_dir).state == "killed"


@pytest.mark.parametrize("how", ["sigkill", "os_exit"])
def test_a_vanished_process_reads_as_crashed(store_dir, how):
    if how == "sigkill":
        proc = _start_logger(store_dir)
        proc.stdout.readline()
        proc.kill()
        proc.wait(10)
    else:
        run_script("import os, tracktui; r = tracktui.init(); r.log({'x': 1}); r._writer.flush(); os._exit(0)",
                   store_dir)
    rec = only_run(store_dir)
    assert rec.state == "crashed"
    assert len(rec.history()) >= 1


def test_crash_on_another_host_is_derived_from_a_stale_heartbeat():
    now = time.time()
    assert derive_state("running", "elsewhere", 123, None, now - 5, now) == "running"
    assert derive_state("running", "elsewhere", 123, None, now - 600, now) == "crashed"
    assert derive_state("finished", "elsewhere", 123, None, now - 600, now) == "finished"
    # same host, pid alive but a different process (pid reused): crashed
    me = os.getpid()
    assert derive_state("running", os.uname().nodename, me, 1.0, now, now) == "crashed"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_logs_through_its_own_connection(store_dir):
    run_script("""
        import os, multiprocessing as mp, tracktui
        run = tracktui.init()
        run.log({"parent": 1})
        def child():
            for i in range(100):
                run.log({"child": i}, step=1000 + i)
        ctx = mp.get_context("fork")
        p = ctx.Process(target=child)
        p.start(); p.join()
        assert p.exitcode == 0, p.exitcode
        run.log({"parent": 2})
        run.finish()
    """, store_dir)
    with Reader(store_dir) as r:
        rec = r.runs()[0]
        hist = r.history(rec.id)
        assert rec.state == "finished"
        assert [v for _, v in hist["child"]] == [float(i) for i in range(100)]
        assert [v for _, v in hist["parent"]] == [1.0, 2.0]
        assert r._connection().execute("PRAGMA integrity_check").fetchone()[0] == "ok"
