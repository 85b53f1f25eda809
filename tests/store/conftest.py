"""The sshfs mount the shared-filesystem tests write through (a real network filesystem on the loopback)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tracktui.store import shared

sys.path.insert(0, str(Path(__file__).parent))
from sshfs_mount import SshfsMount, missing  # noqa: E402


@pytest.fixture
def mount(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """An sshfs mount at tmp_path/net/mnt (skips, saying why, where sshd, sshfs or FUSE is missing); this
    process's cache of shared stores under tmp_path/cache."""
    why = missing()
    if why:
        pytest.skip(why)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for var in ("TRACKTUI_SHARED", "TRACKTUI_DIR", "TRACKTUI_STORE"):
        monkeypatch.delenv(var, raising=False)
    m = SshfsMount(tmp_path / "net")
    try:
        m.start()
    except (RuntimeError, subprocess.SubprocessError, OSError) as e:
        m.stop()
        pytest.skip(f"no sshfs mount here: {e}")
    try:
        yield m
    finally:
        shared.stop_folders()
        m.stop()
