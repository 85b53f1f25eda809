"""Stores this process cannot write, made for real: a read-only bind mount, chattr +i, another user.

Each helper skips the test, saying why, where the machine does not allow it (not root, no mount
permission, a filesystem without the immutable attribute, no `nobody` user).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_script


def make_store(store: Path, runs: int = 1) -> None:
    """A store written by a process that then exited cleanly (its -wal checkpointed and removed)."""
    run_script(f"""
        import tracktui
        for i in range({runs}):
            run = tracktui.init(project="ro", name=f"clean-{{i}}", config={{"lr": 0.1}})
            for step in range(20):
                run.log({{"loss": 1.0 / (step + 1)}})
            run.finish()
    """, store)


def kill_a_writer(store: Path, name: str = "killed", steps: int = 30) -> None:
    """A run whose process is SIGKILLed after its writes were committed: they stay in the -wal."""
    run_script(f"""
        import os, signal, tracktui
        run = tracktui.init(project="ro", name={name!r})
        for step in range({steps}):
            run.log({{"loss": float(step)}})
        run._writer.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    """, store, check=False)


def _need_root(what: str) -> None:
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip(f"{what} needs root on Linux")


@contextlib.contextmanager
def read_only_mount(src: Path, mnt: Path) -> Iterator[Path]:
    """src bind-mounted read-only at mnt for the duration."""
    _need_root("a read-only bind mount")
    mnt.mkdir(exist_ok=True)
    bind = subprocess.run(["mount", "--bind", str(src), str(mnt)], capture_output=True, text=True)
    if bind.returncode != 0:
        pytest.skip(f"mount --bind is not permitted here: {bind.stderr.strip()}")
    try:
        ro = subprocess.run(["mount", "-o", "remount,ro,bind", str(mnt)], capture_output=True, text=True)
        if ro.returncode != 0:
            pytest.skip(f"remounting read-only is not permitted here: {ro.stderr.strip()}")
        with pytest.raises(OSError):
            (mnt / "probe").write_text("x")  # the premise: nothing can be written there
        yield mnt
    finally:
        if subprocess.run(["umount", str(mnt)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


@contextlib.contextmanager
def immutable(*paths: Path) -> Iterator[None]:
    """chattr +i on paths for the duration (root itself cannot write them then)."""
    _need_root("chattr +i")
    done: list[Path] = []
    try:
        for p in paths:
            r = subprocess.run(["chattr", "+i", str(p)], capture_output=True, text=True)
            if r.returncode != 0:
                pytest.skip(f"chattr +i is not supported here: {r.stderr.strip()}")
            done.append(p)
        yield
    finally:
        for p in done:
            subprocess.run(["chattr", "-i", str(p)], capture_output=True)


# Imports everything the reads need, then drops to `nobody` (the interpreter may live where nobody
# cannot read), then reads the store given as argv[1] with the Reader, the Api and `tracktui ls`.
AS_NOBODY = """
import json, os, pwd, sys
import tracktui, tracktui.api
from tracktui.store import Reader, StoreError
from tracktui.cli import main as cli
cli.build_parser()
pw = pwd.getpwnam("nobody")
os.setgroups([])
os.setgid(pw.pw_gid)
os.setuid(pw.pw_uid)
store = sys.argv[1]
out = {"uid": os.getuid()}
try:
    with Reader(store) as r:
        out["runs"] = sorted(x.name for x in r.runs())
        out["snapshot"] = r.snapshot
    out["api"] = sorted(x.name for x in tracktui.api.Api(store).runs())
except StoreError as e:
    out["error"] = str(e)
print(json.dumps(out), flush=True)
sys.exit(cli.main(["--dir", store, "ls"]))
"""


def read_as_nobody(store: Path) -> subprocess.CompletedProcess[str]:
    """Read the store in a child process running as the unprivileged user `nobody`."""
    _need_root("switching to the user nobody")
    try:
        import pwd

        pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("there is no user 'nobody' on this machine")
    return subprocess.run([sys.executable, "-c", AS_NOBODY, str(store)], capture_output=True, text=True,
                          timeout=120)
