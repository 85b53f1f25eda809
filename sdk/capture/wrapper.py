"""`tracktui run [--project P] [--name N] [--tags T ...] [--config k=v ...] -- CMD ARGS...`

Wraps any command: its console (through a pty when ours is a terminal, else pipes; copied byte for byte),
system metrics of the command's process tree, git and requirements of the working directory, and its exit
code as the run's state (a signal: killed). A command that calls tracktui.init() itself joins this run
(TRACKTUI_RUN_ID and TRACKTUI_JOIN=1 in its environment): what it logs and what the wrapper captures land
in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import Any

from .redact import redact_value

# Sent to the command too. Ctrl-C and Ctrl-\\ reach it straight from the terminal (same process group): the
# wrapper ignores those instead of sending them a second time.
FORWARDED = (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)
FROM_TERMINAL = (signal.SIGINT, signal.SIGQUIT)


def parse_config(pairs: Sequence[str]) -> dict[str, Any]:
    """key=value pairs as a config dict (JSON values where they parse); secret-looking values masked."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, eq, raw = pair.partition("=")
        if not eq or not key:
            raise ValueError(f"--config takes KEY=VALUE, got {pair!r}")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        out[key] = redact_value(key, value)
    return out


def main(args: argparse.Namespace, dir: str | None = None, default_project: str | None = None) -> int:
    """Run the command, record it, return its exit code (128+N for a signal, as a shell does)."""
    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        print("tracktui run: give the command after --, e.g. tracktui run -- python train.py",
              file=sys.stderr)
        return 2
    try:
        config = parse_config(args.config)
    except ValueError as e:
        print(f"tracktui run: {e}", file=sys.stderr)
        return 2

    from .. import lifecycle
    from . import start

    try:
        run = lifecycle.init(project=args.run_project or default_project, name=args.name, tags=args.tags,
                             config=config, notes=args.notes, dir=dir, settings={"capture": False})
    except Exception as e:  # noqa: BLE001 - tracking must not stop the command
        print(f"tracktui run: not recording this run ({e}); running the command anyway", file=sys.stderr)
        return _run_plain(cmd)
    env = dict(os.environ)
    env.update(TRACKTUI_RUN_ID=run.id, TRACKTUI_JOIN="1", TRACKTUI_PROJECT=run.project)
    url = getattr(run._root, "url", None)  # a PostgreSQL store: the child needs the URL as given
    env["TRACKTUI_STORE"] = url if url is not None else str(run._root)
    if url is None:
        env["TRACKTUI_DIR"] = str(run._root)
    outputs = [_output_for(1), _output_for(2)]  # (the child's end, our end, is a pty)
    if not all(is_pty for _, _, is_pty in outputs):
        # On pipes a Python child would hold its prints in a block buffer: ask it not to. On a pty it is
        # line-buffered already, and unbuffered writes would split its lines between stdout and stderr.
        env.setdefault("PYTHONUNBUFFERED", "1")
    try:
        child = subprocess.Popen(cmd, env=env, stdout=outputs[0][0], stderr=outputs[1][0])
    except OSError as e:
        for child_end, ours, _ in outputs:
            os.close(child_end)
            os.close(ours)
        print(f"tracktui run: cannot start {cmd[0]!r}: {e}", file=sys.stderr)
        run.finish(exit_code=127, _state="failed", _error=f"cannot start {cmd[0]!r}: {e}")
        return 127
    for child_end, _, _ in outputs:
        os.close(child_end)  # the child holds them now: EOF (or EIO on a pty) when it and its children exit

    received: list[int] = []

    def forward(signum: int, frame: Any) -> None:
        received.append(signum)
        try:
            child.send_signal(signum)
        except OSError:
            pass

    def ignore(signum: int, frame: Any) -> None:
        received.append(signum)

    previous = {}

    def resize(signum: int, frame: Any) -> None:
        for fd, (_, ours, is_pty) in zip((1, 2), outputs, strict=True):
            if is_pty:
                _copy_winsize(fd, ours)

    handlers = [(s, forward) for s in FORWARDED] + [(s, ignore) for s in FROM_TERMINAL]
    if any(o[2] for o in outputs):
        handlers.append((signal.SIGWINCH, resize))
    for sig, handler in handlers:
        try:
            previous[sig] = signal.signal(sig, handler)
        except (OSError, ValueError):
            pass

    session = start(run, None, pid=child.pid, command=cmd)
    capture = session.console if session is not None else None
    from .console import ConsoleCapture, copy_pipe

    if capture is None:  # capture could not start: still copy the output through
        capture = ConsoleCapture(run.id, lambda record: None)
    readers = []
    for (_, ours, _), out_fd, name in zip(outputs, (1, 2), ("stdout", "stderr"), strict=True):
        t = threading.Thread(target=copy_pipe, args=(ours, out_fd, name, capture),
                             name=f"tracktui-run-{name}", daemon=True)
        t.start()
        readers.append(t)

    rc = _wait(child)
    for t in readers:
        t.join(5.0)  # a grandchild that keeps the pipes open does not hold us forever
    for (_, ours, _), t in zip(outputs, readers, strict=True):
        if not t.is_alive():
            os.close(ours)
    for sig, prev in previous.items():
        try:
            signal.signal(sig, prev)
        except (OSError, ValueError):
            pass

    if rc < 0:
        code, state = 128 - rc, "killed"
    else:
        code, state = rc, ("finished" if rc == 0 else "failed")
    error = None
    if state == "failed":
        capture.pump()
        tail = list(capture.stderr_tail)
        error = "\n".join(tail) if tail else f"exited with code {rc}"
    elif state == "killed":
        try:
            error = f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            error = f"killed by signal {-rc}"
    _adopt_summary(run)
    run.finish(exit_code=code, _state=state, _error=error)
    return code


def _adopt_summary(run: Any) -> None:
    """Take the summary a joined command wrote, so that finishing the wrapper's run keeps it."""
    from tracktui.store import codec

    try:
        row = run._writer_for_this_process().run_row(run.id)
        if row and row["summary"]:
            run.summary._data.update(codec.loads(row["summary"]))
    except Exception:  # noqa: BLE001 - the wrapper's own (empty) summary is written instead
        pass


def _run_plain(cmd: list[str]) -> int:
    """The command without recording, for when the store cannot be written."""
    try:
        rc = subprocess.call(cmd)
    except OSError as e:
        print(f"tracktui run: cannot start {cmd[0]!r}: {e}", file=sys.stderr)
        return 127
    return 128 - rc if rc < 0 else rc


def _output_for(fd: int) -> tuple[int, int, bool]:
    """Where the command writes what we show on fd: a pty when fd is a terminal (so the command sees one:
    colours, line buffering, progress bars as without tracktui), else a pipe. TRACKTUI_RUN_PTY=0: pipes."""
    if os.environ.get("TRACKTUI_RUN_PTY", "1") != "0" and _isatty(fd):
        try:
            import termios

            master, slave = os.openpty()
            try:
                termios.tcsetattr(slave, termios.TCSANOW, termios.tcgetattr(fd))
            except (termios.error, OSError):
                pass
            _copy_winsize(fd, master)
            return slave, master, True
        except (ImportError, OSError):
            pass
    r, w = os.pipe()
    return w, r, False


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def _copy_winsize(src: int, dst: int) -> None:
    try:
        import fcntl
        import termios

        size = fcntl.ioctl(src, termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(dst, termios.TIOCSWINSZ, size)
    except (ImportError, OSError):
        pass


def _wait(child: subprocess.Popen[bytes]) -> int:
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:  # the child got the same Ctrl-C: wait for it to decide
            continue
