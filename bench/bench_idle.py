"""Idle CPU of the terminal app (issue 13): a real `tracktui` process in tmux, nothing writing to its store.

    python bench/bench_idle.py [--seconds 20] [--tracktui PATH]

Builds a store of four finished runs (history, console lines, files) through the SDK, starts `tracktui
--dir STORE` in a detached tmux session at 200x60, and reads the process's CPU time (psutil cpu_times,
user + system, all threads) over --seconds in three views: the runs table; a run's Logs tab just after it
opened; the same run view after every tab has been shown once (the tabs are mounted then, so a panel that
polls while hidden shows here). Prints the CPU of each as a percentage of one core. Target: < 2 %.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import tracktui
from tracktui.store.writer import Writer


def build_store(root: Path) -> None:
    """Four finished runs, each with 2,000 steps of three metrics, console lines and a file."""
    for i in range(4):
        run = tracktui.init(dir=root, project="idle", id=f"idle{i}", name=f"run-{i}",
                            config={"lr": 10 ** -(i + 2)}, settings={"capture": False})
        for s in range(2000):
            run.log({"train/loss": 1 / (s + 1), "train/acc": 1 - 1 / (s + 2), "lr": 0.1})
        w = Writer.for_root(root)
        for j in range(200):
            w.put(("log", run.id, time.time(), "stdout", f"epoch {j} loss={1 / (j + 1):.4f}"))
        w.put(("file", run.id, "notes.txt", b"hello\n"))
        run.finish(exit_code=0)


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


def wait_text(session: str, text: str, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while text not in screen(session):
        if time.monotonic() > end:
            raise SystemExit(f"{text!r} never appeared:\n{screen(session)}")
        time.sleep(0.2)


def cpu_percent(proc: psutil.Process, seconds: float) -> float:
    """CPU time of the process (user + system) over `seconds` of wall time, as % of one core."""
    t0 = proc.cpu_times()
    w0 = time.monotonic()
    time.sleep(seconds)
    t1 = proc.cpu_times()
    wall = time.monotonic() - w0
    return 100 * ((t1.user - t0.user) + (t1.system - t0.system)) / wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--tracktui", default=str(Path(sys.executable).with_name("tracktui")),
                    help="the tracktui command to measure (default: the one beside this Python)")
    args = ap.parse_args()
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "store"
        build_store(root)
        session = f"tracktui-idle-{int(time.time())}"
        tmux("new-session", "-d", "-s", session, "-x", "200", "-y", "60",
             f"exec env TERM=xterm-256color {args.tracktui} --dir {root}")
        try:
            pid = int(tmux("list-panes", "-t", session, "-F", "#{pane_pid}").split()[0])
            proc = psutil.Process(pid)
            wait_text(session, "run-3")
            time.sleep(3)
            results = {"runs table": cpu_percent(proc, args.seconds)}
            tmux("send-keys", "-t", session, "Enter")
            wait_text(session, "3 Logs")
            tmux("send-keys", "-t", session, "3")
            time.sleep(3)
            results["run view, Logs tab"] = cpu_percent(proc, args.seconds)
            for key in "245613":
                tmux("send-keys", "-t", session, key)
                time.sleep(1.5)
            time.sleep(3)
            results["run view, Logs tab, every tab shown once"] = cpu_percent(proc, args.seconds)
        finally:
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    for name, pct in results.items():
        print(f"idle CPU, {name}: {pct:.2f} % of one core over {args.seconds:g} s (target < 2 %)")


if __name__ == "__main__":
    main()
