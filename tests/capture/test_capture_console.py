"""Console capture: tee, progress bars, invalid bytes, long lines, the per-run cap, crashes."""

from __future__ import annotations

import sys
from pathlib import Path

import tracktui
from capture_helpers import only_run, run_python
from tracktui.capture.console import ConsoleCapture, collapse_cr
from tracktui.store import Reader


def lines(store: Path, run_id: str, stream: str | None = None) -> list[str]:
    """The stored console lines of a run (of one stream)."""
    rows = Reader(store).logs(run_id, limit=10**7)
    return [line for _, _, s, line in rows if stream is None or s == stream]


def test_collapse_cr_shows_what_a_terminal_shows():
    assert collapse_cr(" 10%|#  \r 50%|#####\r100%|##########") == "100%|##########"
    assert collapse_cr("abcdef\rxy") == "xycdef"
    assert collapse_cr("done\r") == "done"


def test_tqdm_style_bar_is_stored_as_its_final_state(store: Path):
    run = tracktui.init(dir=store, settings={"system": False, "git": False, "requirements": False})
    for i in range(0, 1001):
        sys.stderr.write(f"\r{i / 10:5.1f}%|{'#' * (i // 100):10s}| {i}/1000")
    sys.stderr.write("\n")
    print("after the bar")
    run.finish()
    assert lines(store, run.id, "stderr") == ["100.0%|##########| 1000/1000"]
    assert lines(store, run.id, "stdout") == ["after the bar"]


def test_output_before_a_crash_is_in_the_store(store: Path):
    code = ("import tracktui, sys, time\nrun = tracktui.init(project='c')\n"
            "print('step 1 ok'); print('warning here', file=sys.stderr)\nraise RuntimeError('boom')")
    p = run_python(code, store)
    assert p.returncode == 1
    assert b"step 1 ok" in p.stdout and b"boom" in p.stderr  # the terminal saw it all
    r, rec = only_run(store)
    assert rec.state == "failed"
    out = lines(store, rec.id)
    assert out[:2] == ["step 1 ok", "warning here"]
    assert any("RuntimeError: boom" in line for line in out)  # the traceback went through the tee


def test_output_is_stored_while_running_even_if_the_process_is_killed(store: Path):
    code = ("import tracktui, os, signal, time\nrun = tracktui.init(project='k')\n"
            "print('before the kill', flush=True)\ntime.sleep(1.5)\nos.kill(os.getpid(), signal.SIGKILL)")
    p = run_python(code, store)
    assert p.returncode == -9
    r, rec = only_run(store)
    assert rec.state == "crashed"
    assert "before the kill" in lines(store, rec.id)


def test_fd_mode_captures_child_processes_and_replaces_invalid_utf8(store: Path):
    code = ("import tracktui, os, subprocess, sys\n"
            "run = tracktui.init(project='fd', settings={'console': 'fd'})\n"
            "print('from python')\n"
            "os.write(1, b'raw \\xff\\xfe bytes\\n')\n"
            "subprocess.run(['sh', '-c', 'echo from a child; echo child err >&2'])\n"
            "run.finish()\nprint('after finish')")
    p = run_python(code, store)
    assert p.returncode == 0, p.stderr
    assert b"raw \xff\xfe bytes" in p.stdout  # the terminal gets the bytes unchanged
    assert b"from a child" in p.stdout and b"after finish" in p.stdout
    r, rec = only_run(store)
    out = lines(store, rec.id)
    assert "from python" in out and "from a child" in out and "child err" in out
    assert "raw \ufffd\ufffd bytes" in out
    assert "after finish" not in out


def test_invalid_text_from_python_streams_never_breaks_the_store(store: Path):
    run = tracktui.init(dir=store, settings={"system": False, "git": False, "requirements": False})
    sys.stderr.write("lone surrogate \udcff here\n")  # what surrogateescape turns bad bytes into
    run.log({"x": 1})
    run.finish()
    assert lines(store, run.id, "stderr") == ["lone surrogate ? here"]
    assert Reader(store).run(run.id).state == "finished"


def test_long_lines_are_cut_and_say_so():
    recs: list[tuple] = []
    c = ConsoleCapture("r", recs.append, max_bytes=10**6, max_line=100)
    c.feed("stdout", "x" * 250 + "\n")
    c.feed("stdout", "y" * 60)
    c.feed("stdout", "y" * 60 + "\n")
    c.pump(final=True)
    assert [r[4] for r in recs] == ["x" * 100 + " … [150 characters cut]",
                                    "y" * 100 + " … [20 characters cut]"]


def test_a_flood_keeps_the_beginning_and_the_end_within_the_cap(store: Path):
    cap = 1_000_000
    run = tracktui.init(dir=store, settings={"console_max_bytes": cap, "system": False, "git": False,
                                             "requirements": False})
    n = 8000  # ~8 MB of output: eight times the cap
    for i in range(n):
        print(f"line {i:06d} " + "." * 1000)
    run.finish()
    out = lines(store, run.id)
    stored = sum(len(x) + 1 for x in out)
    assert stored <= cap + 2_000, stored
    assert out[0].startswith("line 000000") and out[-1].startswith(f"line {n - 1:06d}")
    marker = [x for x in out if x.startswith("[tracktui: console output passed")]
    assert len(marker) == 1
    k = out.index(marker[0])
    head, tail = out[:k], out[k + 1:]
    assert len(head) > 400 and len(tail) > 400
    # the head is contiguous from the start, the tail contiguous up to the end
    assert [int(x[5:11]) for x in head] == list(range(len(head)))
    assert [int(x[5:11]) for x in tail] == list(range(n - len(tail), n))


def test_a_forked_worker_passes_output_through_without_queueing_it(store: Path):
    code = ("import os, sys, tracktui\n"
            "run = tracktui.init(project='f',\n"
            "                    settings={'system': False, 'git': False, 'requirements': False})\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    print('from the worker'); sys.stdout.flush()\n"
            "    from tracktui.capture import console\n"
            "    os._exit(0 if not any(t._on for t in console._all_tees) else 9)\n"
            "_, status = os.waitpid(pid, 0)\n"
            "print('worker exit', os.waitstatus_to_exitcode(status))\nrun.finish()")
    p = run_python(code, store)
    assert p.returncode == 0, p.stderr
    assert b"from the worker" in p.stdout  # the terminal still sees it
    r, rec = only_run(store)
    assert lines(store, rec.id) == ["worker exit 0"]


def test_sigterm_stores_the_output_and_marks_the_run_killed(store: Path):
    import signal
    import subprocess

    from capture_helpers import child_env

    code = ("import tracktui, time\nrun = tracktui.init(project='t')\n"
            "print('working', flush=True)\ntime.sleep(60)")
    p = subprocess.Popen([sys.executable, "-c", code], env=child_env(store), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    assert p.stdout is not None and p.stdout.readline() == b"working\n"
    p.send_signal(signal.SIGTERM)
    try:
        _, err = p.communicate(timeout=90)  # the run is flushed within 2 s; a busy machine adds to that
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
        raise AssertionError(f"no exit 90 s after SIGTERM; stderr: {err.decode(errors='replace')[-2000:]}") from None
    assert p.returncode == -signal.SIGTERM, err
    r, rec = only_run(store)
    assert rec.state == "killed" and lines(store, rec.id) == ["working"]
