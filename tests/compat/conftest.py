"""Fixtures of the compat tests: run a wandb-style script (its import changed to tracktui) in its own process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def run_script(tmp_path: Path) -> Callable[[str], subprocess.CompletedProcess[str]]:
    """run_script(source): write the script, run it with the store in tmp_path/store and its output files in
    tmp_path/out (passed as argv[1]); it must exit 0."""

    def _run(source: str) -> subprocess.CompletedProcess[str]:
        script = tmp_path / "train.py"
        script.write_text(textwrap.dedent(source))
        out = tmp_path / "out"
        out.mkdir(exist_ok=True)
        env = {**os.environ, "TRACKTUI_DIR": str(tmp_path / "store"), "PYTHONWARNINGS": "default"}
        done = subprocess.run([sys.executable, str(script), str(out)], capture_output=True, text=True,
                              timeout=240, env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return done

    return _run
