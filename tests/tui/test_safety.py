"""Hostile strings (markup, OSC 52/0/8, CSI, DCS, 8-bit C1) in every field, through every screen: no
exception, markup shown as text, and none of the sequences in what is written to a real terminal."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tracktui.tui.app import make_app
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.screens.runs import RunsScreen
from tracktui.tui.widgets.log_tail import LogTail
from tracktui.tui.widgets.run_charts import RunChartsPanel

from .conftest import wait_for

# What must never reach the terminal: the sequences' introducers and the payloads they carried.
FORBIDDEN = [b"\x1b]52", b"\x1b]0;", b"\x1b]8;", b"\x1bP", b"\xc2\x9b", b"\xc2\x9d", b"\xc2\x90", b"\xc2\x9c",
             b"\x1b[2J", b"SE9TVElMRQ", b"PWNED-TITLE", b"DCS-PAYLOAD", b"C1-TITLE"]


async def test_hostile_strings_render_as_text_everywhere(hostile_store: Path) -> None:
    app = make_app(store_dir=hostile_store, poll_interval=None)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.loaded)
        await pilot.pause()
        svg = app.export_screenshot()
        assert "[@click=app.quit]" in svg.replace("&#160;", " ")  # shown as text, not run as an action
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("escape", "slash", *"[/]", "enter", "escape", "escape")
        for row in (0,):  # every run holds every hostile string; the pty test opens two
            app.screen.query_one("RunsTable").move_cursor(row=row)
            await pilot.press("enter")
            assert isinstance(app.screen, RunScreen)
            await wait_for(pilot, lambda: len(app.screen.query_one(RunChartsPanel).charts) >= 4)
            for tab in "2345613":
                await pilot.press(tab)
                await pilot.pause()
            await wait_for(pilot, lambda: any(t.loaded for t in app.screen.query(LogTail)))  # read once shown
            app.export_screenshot()
            await pilot.press("slash", *"[link", "enter", "escape", "escape", "escape")
            await pilot.press("question_mark", "escape")
            assert isinstance(app.screen, RunsScreen)
        assert app.is_running  # no [@click=app.quit] was ever clicked


def _run_in_pty(root: Path, steps: list[tuple[bytes, bytes | None]],
                size: tuple[int, int] = (160, 50)) -> bytes:
    """Run the app in a pseudo-terminal with the real driver, type keys (each waiting for what it should
    draw), return every byte the app wrote."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor")
    code = ("import sys; from tracktui.tui.app import make_app; "
            "make_app(store_dir=sys.argv[1], poll_interval=0.3).run()")
    proc = subprocess.Popen([sys.executable, "-c", code, str(root)], stdin=slave, stdout=slave, stderr=slave,
                            env=env, start_new_session=True)
    os.close(slave)
    out = bytearray()

    def drain_until(marker: bytes | None, timeout: float) -> None:
        start = len(out)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if marker is not None and marker in out[start:]:
                return
            r, _, _ = select.select([master], [], [], 0.05)
            if r:
                try:
                    out.extend(os.read(master, 65536))
                except OSError:
                    return
        assert marker is None, f"{marker!r} was not drawn"

    try:
        drain_until(b"finished", 60)
        for key, marker in steps:
            os.write(master, key)
            # a lone ESC must be read alone, or it joins the next key as an alt- sequence: give it time
            drain_until(marker, 45 if marker else (1.5 if key == b"\x1b" else 0.3))
        proc.wait(timeout=60)
        drain_until(None, 0.2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return bytes(out)


STEPS: list[tuple[bytes, bytes | None]] = [
    (b"\r", b"1 Charts"), (b"1", b"train/loss"), (b"3", "E│".encode()), (b"4", b"summary"),
    (b"6", b"no media logged"), (b"5", b"requirements.txt"), (b"2", b"samples held"), (b"?", b"Keys:"),
    (b"\x1b", None), (b"\x1b", b"runs"), (b"\x1b[B", None), (b"\r", b"1 Charts"), (b"3", "E│".encode()),
    # one escape leaves the Logs tab (a second one would wait for a redraw of an unchanged screen)
    (b"\x1b", b"runs"), (b"/", None), (b"[", None), (b"/", None), (b"]", None),
    (b"\r", None),
    (b"\x1b", None), (b"\x1b", None), (b"o", b"Columns:"), (b"\x1b", None), (b"q", None),
]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
def test_no_control_sequence_reaches_the_terminal(hostile_store: Path, tmp_path: Path) -> None:
    out = _run_in_pty(hostile_store, STEPS)  # every screen and tab is drawn (each step waits for it)
    assert b"\x1b[?1049h" in out  # through the real driver (alternate screen)
    found = [f for f in FORBIDDEN if f in out]
    assert not found, f"terminal received {found}"
