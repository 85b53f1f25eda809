"""Shared fixtures: a fresh store root per test, and no run left open between tests."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tracktui import lifecycle


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    """An empty store root (not yet created)."""
    return tmp_path / "store"


@pytest.fixture(autouse=True)
def _no_open_run():
    yield
    for run in reversed(lifecycle.active_runs()):  # a run left open would be what the next init() returns
        run.finish()


def run_script(code: str, store: Path, *args: str, timeout: float = 60, check: bool = True,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a Python snippet in a fresh interpreter with TRACKTUI_DIR=store."""
    full_env = {**os.environ, "TRACKTUI_DIR": str(store), **(env or {})}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                          timeout=timeout, env=full_env)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc
