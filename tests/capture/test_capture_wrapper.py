"""`tracktui run -- CMD`: console, metrics, exit codes as states, signals, and a child that joins."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from capture_helpers import child_env, only_run, tracktui_cmd


def wrap(store: Path, code: str, *opts: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    """`tracktui run OPTS -- python -c code`, sampling every 0.2 s."""
    cmd = tracktui_cmd(store, "run", *opts, "--", sys.executable, "-c", code)
    return subprocess.run(cmd, env=child_env(store, TRACKTUI_SYSTEM_INTERVAL="0.2"), capture_output=True,
                          timeout=60, cwd=cwd)


def test_exit_zero_is_finished_with_console_metrics_config_and_requirements(store: Path, tmp_path: Path):
    code = ("import sys, time\nprint('to out')\nprint('to err', file=sys.stderr)\n"
            "x = bytearray(50 * 2**20)\ntime.sleep(1.0)")
    p = wrap(store, code, "--project", "wp", "--name", "w1", "--tags", "a", "b", "--config", "lr=0.01",
             "layers=[1, 2]", "opt=adam", "hf_token=hf_abcdefghijklmnopqrstuv", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"to out\n" and p.stderr == b"to err\n"  # the terminal sees the same output
    r, rec = only_run(store)
    assert (rec.state, rec.exit_code, rec.project, rec.name) == ("finished", 0, "wp", "w1")
    assert rec.tags == ["a", "b"]
    assert rec.config == {"lr": 0.01, "layers": [1, 2], "opt": "adam", "hf_token": "***"}
    stored = sorted((s, line) for _, _, s, line in r.logs(rec.id))
    assert stored == [("stderr", "to err"), ("stdout", "to out")]
    sysm = r.system(rec.id)
    assert max(v for _, v in sysm["proc.memory.rssMB"]) > 50  # the child's memory, not the wrapper's
    assert rec.metadata["program"] == sys.executable and rec.metadata["args"][0] == "-c"
    assert rec.metadata["wrapped"] is True
    assert "requirements.txt" in [f[0] for f in r.files(rec.id)]


def test_exit_code_three_is_failed_with_the_end_of_stderr(store: Path):
    p = wrap(store, "import sys\nprint('bad input', file=sys.stderr)\nsys.exit(3)")
    assert p.returncode == 3
    r, rec = only_run(store)
    assert (rec.state, rec.exit_code) == ("failed", 3) and rec.error == "bad input"


def test_uncaught_exception_is_failed_with_the_traceback(store: Path):
    p = wrap(store, "def f():\n    raise ValueError('kaput')\nf()")
    assert p.returncode == 1 and b"ValueError: kaput" in p.stderr
    r, rec = only_run(store)
    assert (rec.state, rec.exit_code) == ("failed", 1)
    assert "Traceback" in rec.error and "ValueError: kaput" in rec.error
    assert any("ValueError: kaput" in line for *_, line in r.logs(rec.id))


def test_sigterm_to_the_wrapper_reaches_the_command_and_marks_the_run_killed(store: Path):
    code = "import time\nprint('started', flush=True)\ntime.sleep(60)"
    cmd = tracktui_cmd(store, "run", "--", sys.executable, "-c", code)
    p = subprocess.Popen(cmd, env=child_env(store), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout is not None
    assert p.stdout.readline() == b"started\n"
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 128 + signal.SIGTERM
    r, rec = only_run(store)
    assert (rec.state, rec.exit_code) == ("killed", 143) and rec.error == "killed by SIGTERM"
    assert [line for *_, line in r.logs(rec.id)] == ["started"]


def test_a_child_that_calls_init_joins_the_wrapper_run(store: Path):
    code = ("import tracktui, time\n"
            "run = tracktui.init(project='ignored', config={'batch': 32})\n"
            "for i in range(5):\n    run.log({'loss': 1.0 / (i + 1)})\n"
            "print('child printed')\nrun.summary['best'] = 0.2\nrun.finish()\ntime.sleep(0.6)")
    p = wrap(store, code, "--project", "jp", "--config", "lr=0.1")
    assert p.returncode == 0, p.stderr
    r, rec = only_run(store)  # one run, not two
    assert rec.project == "jp" and rec.state == "finished" and rec.exit_code == 0
    assert rec.config == {"lr": 0.1, "batch": 32}
    assert r.history(rec.id, ["loss"])["loss"] == [(i, pytest.approx(1 / (i + 1))) for i in range(5)]
    assert rec.summary.get("best") == 0.2
    assert [line for *_, line in r.logs(rec.id)] == ["child printed"]  # stored once, by the wrapper
    assert r.keys(rec.id, "system")  # one sampler: the wrapper's
    assert rec.metadata.get("wrapped") is True


def test_joined_child_that_fails_leaves_the_state_to_the_wrapper(store: Path):
    code = ("import tracktui, time\nrun = tracktui.init()\nrun.log({'x': 1})\n"
            "time.sleep(0.2)\nraise SystemExit(5)")
    p = wrap(store, code)
    assert p.returncode == 5
    r, rec = only_run(store)
    assert (rec.state, rec.exit_code) == ("failed", 5)


def test_missing_command_and_no_command(store: Path):
    p = subprocess.run(tracktui_cmd(store, "run", "--", "no-such-command-xyz"), env=child_env(store),
                       capture_output=True, timeout=30)
    assert p.returncode == 127 and b"cannot start" in p.stderr
    r, rec = only_run(store)
    assert rec.state == "failed" and rec.exit_code == 127
    p = subprocess.run(tracktui_cmd(store, "run"), env=child_env(store), capture_output=True, timeout=30)
    assert p.returncode == 2 and b"after --" in p.stderr


def test_on_a_terminal_the_command_sees_a_terminal_and_lines_are_still_clean(store: Path):
    import os
    import pty  # noqa: F401 - skip where there are no ptys

    master, slave = os.openpty()
    code = ("import sys\nprint('tty', sys.stdout.isatty(), sys.stderr.isatty())\n"
            "for i in range(5):\n    sys.stderr.write(f'\\r{i * 25}%')\n"
            "sys.stderr.write('\\n')\nprint('\\x1b[31mred\\x1b[0m')")
    cmd = tracktui_cmd(store, "run", "--", sys.executable, "-c", code)
    env = child_env(store)
    env.pop("PYTHONUNBUFFERED", None)  # unbuffered prints would interleave stdout and stderr on the terminal
    p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    seen = b""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        seen += data
    os.close(master)
    assert p.wait(timeout=30) == 0
    assert b"tty True True" in seen and b"\x1b[31mred" in seen
    r, rec = only_run(store)
    stored = {(s, line) for *_, s, line in r.logs(rec.id)}
    assert stored == {("stdout", "tty True True"), ("stderr", "100%"), ("stdout", "\x1b[31mred\x1b[0m")}


def test_an_unwritable_store_still_runs_the_command(tmp_path: Path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    cmd = tracktui_cmd(not_a_dir, "run", "--", sys.executable, "-c", "print('ran'); raise SystemExit(4)")
    p = subprocess.run(cmd, env=child_env(not_a_dir), capture_output=True, timeout=30)
    assert p.returncode == 4 and p.stdout == b"ran\n"
    assert b"not recording this run" in p.stderr
