"""The real `tracktui` console script in tmux: it starts, shows the runs, opens one, goes back, quits."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def _console_script() -> str:
    script = Path(sys.executable).parent / "tracktui"
    if script.exists():
        return str(script)
    found = shutil.which("tracktui")
    if found is None:
        pytest.skip("the tracktui console script is not installed")
    return found


class Tmux:
    """One tmux server of our own (-L), so nothing touches the user's sessions."""

    def __init__(self) -> None:
        self.sock = f"tracktui-test-{uuid.uuid4().hex[:8]}"

    def __call__(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.sock, *args], check=True, capture_output=True,
                              text=True).stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "main")

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        end = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > end:
                raise AssertionError(f"{text!r} not on screen:\n{screen}")
            time.sleep(0.2)

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True)


def test_tracktui_in_tmux(seeded: Path) -> None:
    tmux = Tmux()
    env = f"env TERM=xterm-256color TZ=UTC TRACKTUI_DIR={seeded}"
    try:
        command = f"{env} {_console_script()}; sleep 30"  # the pane stays to be read after the app quits
        tmux("new-session", "-d", "-s", "main", "-x", "120", "-y", "40", command)
        screen = tmux.wait_for("4 runs")
        assert "✓ finished" in screen and "✗ failed" in screen and "delta" in screen
        tmux("send-keys", "-t", "main", "Enter")
        tmux.wait_for("1 Charts")
        screen = tmux.wait_for("delta · mnist · finished")  # the run's header line
        assert "delta" in screen.splitlines()[0]
        tmux.wait_for("train/loss")
        tmux("send-keys", "-t", "main", "3")
        tmux.wait_for("plain line")
        tmux("send-keys", "-t", "main", "Escape")
        tmux.wait_for("4 runs")
        tmux("send-keys", "-t", "main", "q")
        end = time.monotonic() + 10
        while "4 runs" in tmux.screen() and time.monotonic() < end:
            time.sleep(0.2)
        assert "4 runs" not in tmux.screen()  # the app quit and gave the terminal back
    finally:
        tmux.kill()


def test_cli_demo_help() -> None:
    out = subprocess.run([_console_script(), "demo", "--help"], capture_output=True, text=True,
                         env=dict(os.environ))
    assert out.returncode == 0 and "--steps" in out.stdout
