"""Helpers for the capture tests: real subprocesses against a real store in tmp_path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tracktui.store import Reader

ROOT = Path(__file__).resolve().parents[2]


def child_env(store: Path, **extra: str) -> dict[str, str]:
    """An environment for a child process: no inherited tracktui variables, the store set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKTUI_", "SLURM_"))}
    env["TRACKTUI_DIR"] = str(store)
    env.update(extra)
    return env


def run_python(code: str, store: Path, *args: str, cwd: Path | None = None, timeout: float = 60,
               **env: str) -> subprocess.CompletedProcess[bytes]:
    """Run `python -c code args...` with the store as TRACKTUI_DIR."""
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=child_env(store, **env),
                          capture_output=True, timeout=timeout)


def tracktui_cmd(store: Path, *args: str) -> list[str]:
    """The `tracktui --dir store ARGS...` command line, run through this interpreter."""
    return [sys.executable, "-c", "import sys; from tracktui.cli.main import main; sys.exit(main())",
            "--dir", str(store), *args]


def only_run(store: Path) -> tuple[Reader, object]:
    """The reader and the single run of a store."""
    r = Reader(store)
    runs = r.runs()
    assert len(runs) == 1, runs
    return r, runs[0]
