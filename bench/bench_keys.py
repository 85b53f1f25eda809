"""From a key to its content on a real terminal's screen: the app in tmux, keys sent with send-keys, the
screen read with capture-pane until the content the key asks for is there (issue 13, scope 3).

    python bench/bench_keys.py [--sizes 200x60,80x24] [--writers 8] [--points 2000] [--rounds 3]
                               [--idle-seconds 20] [--profile] [--dir D]

The store: the demo's three finished runs (python -m tracktui.cli.demo --finished), and with writers, N
processes that each log --points points a second through the SDK (log() of two metrics at points/2 steps a
second, a console line every 100 steps, system capture on), started before the app so that a live run is
on top of the runs table. For each size, with and without the writers, the bench opens the app, presses

    runs table   down / up (until the cursor row moved; the table binds no j/k), s (until the sorted
                 column's arrow moved), / (until the filter line shows), a run's name typed (until
                 "(1 of N match)"), escape
    run view     enter on the top run, then the tab keys 1-6 (SCREENS.md) in two orders, each until the
                 tab's own content is on screen (a chart's title, "samples held", "follow:", "last step",
                 the Files and the Media panes); the first showing of each tab is reported apart

and prints p50/p95 per key group, the app's CPU per tab switch (psutil cpu_times of the app process from the
key until 0.5 s later, less what the app burned in the same time while idle just before), and the app's
idle CPU (% of a core over --idle-seconds on the runs table and on the run view, no writers). Baseline in
the same run: tmux's own key-to-screen time (`cat` echoing a key in a pane of the same server), so that the
figures can be read net of the measuring. Targets (issue 13): tab switch p95 < 100 ms, any other key p95 <
50 ms, < 30 ms CPU per tab switch, idle < 2% of a core.

--profile runs the app under pyinstrument (pip install pyinstrument; `pip install -e ".[bench]"`) and
profiles one tab switch with the writers on, main thread, from the key until its content is on screen and
0.3 s more; it prints the profile's top entries by own time and the call tree.

Needs tmux. The machine's load counts: the writers, the app and this script share the same cores (the load
average is printed with the figures).

Why not bench_tui.py's key figures: they are `Pilot.press()` wall times of a headless app. press() returns
only after Textual's wait_for_idle() saw the whole process (its worker threads too) use under 1 ms of CPU in
a 20 ms sleep, twice, and every widget of the screen had emptied its queue: at least 40 ms of sleeping, plus
whatever unrelated work (live polls, lazy mounts, the footer's rebuild) runs meanwhile; and its CPU figure
is process_time() over press() and two pause()s, every thread included. What a person waits for is the part
from the key to the first frame that shows the tab's content, which only a real terminal shows: this bench.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil

SERVER = f"bench-keys-{os.getpid()}"
SESSION = "app"
POLL_TIMEOUT = 5.0  # seconds a key may take before the bench calls it lost (its screen is kept)
LOST_DIR: Path | None = None
SETTLE = 0.5  # seconds of CPU counted after a tab's content is on screen
TAB_NAMES = {"1": "charts", "2": "system", "3": "logs", "4": "overview", "5": "files", "6": "media"}
# What only that tab draws (plain text of the screen): it is absent before the key and present after.
TAB_MARKERS = {
    "1": re.compile(r"─ train/loss\b"),  # the title of the first chart's box
    "2": re.compile(r"samples held|No system metrics"),
    "3": re.compile(r"\blines\s+follow: "),
    "4": re.compile(r"\blast step\b"),
    "5": re.compile(r"requirements\.txt|No files|no files"),
    "6": re.compile(r"─ media ─|No media|no media"),
}

WRITER = r"""
import math, os, sys, time, tracktui
root, points, stop = sys.argv[1], float(sys.argv[2]), sys.argv[3]
steps_per_s = points / 2  # two metrics a step
run = tracktui.init(dir=root, project="busy", config={"points_per_s": points, "writer": os.getpid()})
open(f"{stop}.ready.{os.getpid()}", "w").close()
t0 = time.perf_counter(); n = 0
while not os.path.exists(stop):
    due = int((time.perf_counter() - t0) * steps_per_s)
    while n < due:
        run.log({"train/loss": 1 / (n + 1) + 0.01 * math.sin(n / 50), "train/acc": 1 - 1 / (n + 2)})
        if n % 100 == 0:
            print(f"step {n} loss={1 / (n + 1):.5f}", flush=True)
        n += 1
    time.sleep(0.005)
run.finish()
with open(f"{stop}.steps.{os.getpid()}", "w") as f:
    f.write(str(n))
"""

# The app, with pyinstrument started by SIGUSR1 and stopped (its report written) by SIGUSR2.
PROFILED_APP = r"""
import signal, sys
from pyinstrument import Profiler
out = sys.argv.pop(1)
state = {}

def start(signum, frame):
    state["p"] = Profiler(interval=0.0005, async_mode="disabled")
    state["p"].start()

def stop(signum, frame):
    p = state.pop("p")
    p.stop()
    with open(out + ".txt", "w") as f:
        f.write(p.output_text(unicode=True, color=False, show_all=False))
    import json
    own = {}
    def walk(fr, parent_key):
        key = f"{fr.function} ({fr.file_path_short}:{fr.line_no})"
        if fr.function.startswith("["):  # pyinstrument's [self] and [await] leaves: the parent's own time
            key = parent_key
        t = fr.time - sum(c.time for c in fr.children)
        own[key] = own.get(key, 0.0) + t
        for c in fr.children:
            walk(c, key)
    root = p.last_session.root_frame()
    if root is not None:
        walk(root, "root")
    with open(out + ".json", "w") as f:
        json.dump({"duration": p.last_session.duration, "own": own}, f)

signal.signal(signal.SIGUSR1, start)
signal.signal(signal.SIGUSR2, stop)
from tracktui.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def tmux(*args: str, check: bool = True) -> str:
    return subprocess.run(["tmux", "-L", SERVER, *args], capture_output=True, text=True, check=check).stdout


def screen(escapes: bool = False) -> str:
    return tmux("capture-pane", "-p", *(["-e"] if escapes else []), "-t", SESSION)


def wait_for(pred: Callable[[str], bool], escapes: bool = False, timeout: float = POLL_TIMEOUT) -> float | None:
    """Poll the screen until pred(text) holds; the time it was seen (perf_counter), None on timeout."""
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        text = screen(escapes)
        if pred(text):
            return time.perf_counter()
    return None


def key(k: str, pred: Callable[[str], bool], escapes: bool = False, literal: bool = False) -> float | None:
    """Send k, return the seconds until pred holds on screen (None: not within POLL_TIMEOUT)."""
    t0 = time.perf_counter()
    tmux("send-keys", "-t", SESSION, *(["-l"] if literal else []), k)
    t1 = wait_for(pred, escapes)
    if t1 is None and LOST_DIR is not None:  # what was on screen instead, for the report
        (LOST_DIR / f"lost-{time.time_ns()}-{re.sub(r'[^A-Za-z0-9]', '_', k)}.txt").write_text(screen(escapes))
    return None if t1 is None else t1 - t0


def app_process(pane_pid: int) -> psutil.Process:
    """The Python process of the app: the pane's process or its only Python descendant."""
    p = psutil.Process(pane_pid)
    for proc in [p, *p.children(recursive=True)]:
        if "python" in os.path.basename(proc.exe() if proc.is_running() else "").lower() or \
                any("tracktui" in a for a in proc.cmdline()[:3]):
            return proc
    return p


def cpu_s(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system


SGR = re.compile(r"\x1b\[[0-9;:]*m")


def cursor_row(text: str, cursor_bg: str) -> int | None:
    """Index of the first screen line whose first cell carries the runs table's cursor background."""
    for i, line in enumerate(text.splitlines()):
        m = re.match(r"((?:\x1b\[[0-9;:]*m)*)", line)
        if m and cursor_bg in m.group(1) and SGR.sub("", line).strip():
            return i
    return None


def run_names(text: str) -> list[str]:
    """The run names down the runs table, in screen order."""
    return re.findall(r"\b([a-z]+-[a-z]+-\d+)\b", text)


def baseline(n: int = 20) -> list[float]:
    """tmux's own key-to-screen time: `cat` in a pane of the same server echoes a key."""
    tmux("new-session", "-d", "-s", "echo", "-x", "80", "-y", "24", "cat")
    time.sleep(0.5)
    out = []
    for i in range(n):
        ch = "abcdefghij"[i % 10]
        t0 = time.perf_counter()
        tmux("send-keys", "-t", "echo", "-l", ch)
        while not tmux("capture-pane", "-p", "-t", "echo").rstrip().endswith(ch * 1 if i == 0 else ch):
            if time.perf_counter() - t0 > POLL_TIMEOUT:
                break
        out.append(time.perf_counter() - t0)
        tmux("send-keys", "-t", "echo", "Enter")
        time.sleep(0.05)
    tmux("kill-session", "-t", "echo")
    return out


class App:
    """The app in a tmux session of the bench's own server."""

    def __init__(self, store: Path, size: tuple[int, int], profile_out: Path | None = None):
        if profile_out is not None:
            cmd = [sys.executable, "-c", PROFILED_APP, str(profile_out), "--dir", str(store)]
        else:
            cmd = [sys.executable, "-m", "tracktui.cli", "--dir", str(store)]
        tmux("new-session", "-d", "-s", SESSION, "-x", str(size[0]), "-y", str(size[1]),
             " ".join(shlex_quote(c) for c in cmd))
        self.proc = app_process(int(tmux("display", "-p", "-t", SESSION, "#{pane_pid}").strip()))
        if wait_for(lambda s: " name " in s and "st " in s, timeout=60) is None:
            raise RuntimeError("the runs table did not appear:\n" + screen())
        time.sleep(1.0)  # the first poll and the footer settle

    def close(self) -> None:
        tmux("kill-session", "-t", SESSION, check=False)
        try:
            self.proc.wait(10)
        except psutil.Error:
            pass


def shlex_quote(s: str) -> str:
    import shlex

    return shlex.quote(s)


def background_rate(proc: psutil.Process, seconds: float = 2.0) -> float:
    """CPU seconds per second the app burns with no key pressed (polling, live updates)."""
    c, t = cpu_s(proc), time.perf_counter()
    time.sleep(seconds)
    return (cpu_s(proc) - c) / (time.perf_counter() - t)


def runs_table_keys(app: App, rounds: int, out: dict[str, list[float]]) -> None:
    """j/k, s, / and a filter typed, escape: each until its effect is on screen."""
    text = screen(escapes=True)
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if " name " in SGR.sub("", line))
    first = SGR.sub("", lines[header + 1])
    m = re.match(r"((?:\x1b\[[0-9;:]*m)*)", lines[header + 1])
    bg = re.findall(r"48;5;\d+|48;2;\d+;\d+;\d+", m.group(1) if m else "")
    if not bg or not first.strip():
        raise RuntimeError("cannot find the runs table's cursor:\n" + text)
    cursor_bg = bg[-1]
    row = cursor_row(text, cursor_bg)
    for _ in range(rounds * 3):
        for k, target in (("Down", row + 1), ("Up", row)):
            out.setdefault("runs down/up", []).append(
                key(k, lambda s, t=target: cursor_row(s, cursor_bg) == t, escapes=True) or float("nan"))
            time.sleep(0.1)
    for _ in range(rounds * 2):
        before = next(line for line in screen().splitlines() if " name " in line)
        order = run_names(screen())
        # the arrow moves to the next column, or leaves the header when that column is off screen (80x24),
        # or the rows change order; when the sorted column is off screen and the order happens to be the
        # same, nothing on screen changes: counted as lost
        out.setdefault("runs s (sort)", []).append(key("s", lambda s, b=before, o=order: run_names(s) != o or any(
            " name " in line and line != b for line in s.splitlines())) or float("nan"))
        time.sleep(0.2)
    names = [m.group(1) for line in screen().splitlines() if " demo " in line
             for m in [re.search(r"\b([a-z]+-[a-z]+-\d+)\b", line)] if m]
    if not names:
        raise RuntimeError("no demo run on screen to filter for:\n" + screen())
    name = names[0]
    for _ in range(rounds):
        out.setdefault("runs / (filter opens)", []).append(
            key("/", lambda s: "filter:" in s) or float("nan"))
        out.setdefault("runs filter typed", []).append(
            key(name, lambda s: re.search(r"\(1 of \d+ match\)", s) is not None, literal=True) or float("nan"))
        tmux("send-keys", "-t", SESSION, "Escape")  # the first escape leaves the filter line, keeping it
        time.sleep(0.5)
        out.setdefault("runs escape (filter cleared)", []).append(
            key("Escape", lambda s: "match)" not in s) or float("nan"))
        time.sleep(0.2)


def run_view_keys(app: App, rounds: int, out: dict[str, list[float]], cpu: list[float], bg_rate: float) -> None:
    """enter on the top run, then the tab keys: the first showing of each tab, then rounds of two orders."""
    out.setdefault("open run (enter)", []).append(
        key("Enter", lambda s: TAB_MARKERS["1"].search(s) is not None) or float("nan"))
    time.sleep(1.0)
    for k in "234561":
        out.setdefault("tab first showing", []).append(
            key(k, lambda s, k=k: TAB_MARKERS[k].search(s) is not None) or float("nan"))
        time.sleep(0.5)
    current = "1"
    for _ in range(rounds):
        for k in "234561" + "415263":
            if k == current:
                continue
            assert TAB_MARKERS[k].search(screen()) is None, f"tab {k}'s marker is on screen before its key"
            c0 = cpu_s(app.proc)
            t0 = time.perf_counter()
            lat = key(k, lambda s, k=k: TAB_MARKERS[k].search(s) is not None)
            out.setdefault("tab switch", []).append(lat or float("nan"))
            out.setdefault(f"tab {k} {TAB_NAMES[k]}", []).append(lat or float("nan"))
            time.sleep(max(0.0, t0 + (lat or 0) + SETTLE - time.perf_counter()))
            cpu.append(cpu_s(app.proc) - c0 - bg_rate * (time.perf_counter() - t0))
            current = k
            time.sleep(0.1)


def idle_cpu(app: App, seconds: float) -> float:
    """% of a core the app uses over `seconds` with no key pressed."""
    c, t = cpu_s(app.proc), time.perf_counter()
    time.sleep(seconds)
    return 100 * (cpu_s(app.proc) - c) / (time.perf_counter() - t)


def pct(xs: list[float], q: float) -> float:
    xs = sorted(x for x in xs if x == x)
    if not xs:
        return float("nan")
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def start_writers(store: Path, n: int, points: float, stop: Path) -> list[subprocess.Popen[str]]:
    """n writer processes, each logging `points` points a second into the store until `stop` exists."""
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(store), str(points), str(stop)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True) for _ in range(n)]
    end = time.perf_counter() + 120
    while not all(Path(f"{stop}.ready.{p.pid}").exists() for p in procs):
        if time.perf_counter() > end or any(p.poll() is not None for p in procs):
            raise RuntimeError("a writer did not start")
        time.sleep(0.05)
    return procs


def stop_writers(procs: list[subprocess.Popen[str]], stop: Path, seconds: float) -> float:
    """Stop them; the points a second they sustained, all together."""
    stop.touch()
    steps = 0
    for p in procs:
        if p.wait(timeout=120) != 0:
            raise RuntimeError(f"a writer failed with exit code {p.returncode}")
        steps += int(Path(f"{stop}.steps.{p.pid}").read_text())
    return 2 * steps / seconds


def profile_one_switch(store: Path, base: Path, size: tuple[int, int]) -> dict[str, object]:
    """One tab switch (Charts -> Logs -> Charts warmed, then Logs, profiled) with pyinstrument."""
    out = base / "profile"
    app = App(store, size, profile_out=out)
    try:
        tmux("send-keys", "-t", SESSION, "Enter")
        wait_for(lambda s: TAB_MARKERS["1"].search(s) is not None)
        for k in "2345613":
            key(k, lambda s, k=k: TAB_MARKERS[k].search(s) is not None)
            time.sleep(0.4)
        time.sleep(1.0)
        app.proc.send_signal(signal.SIGUSR1)
        time.sleep(0.2)
        lat = key("1", lambda s: TAB_MARKERS["1"].search(s) is not None)
        time.sleep(0.3)
        app.proc.send_signal(signal.SIGUSR2)
        for _ in range(100):
            if (base / "profile.json").exists():
                break
            time.sleep(0.1)
        time.sleep(0.3)
    finally:
        app.close()
    data = json.loads((base / "profile.json").read_text())
    top = sorted(data["own"].items(), key=lambda kv: -kv[1])[:20]
    return {"latency_s": lat, "duration_s": data["duration"], "top_own": top,
            "tree": (base / "profile.txt").read_text()}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="200x60,80x24")
    p.add_argument("--writers", type=int, default=8)
    p.add_argument("--points", type=float, default=2000, help="points a second per writer")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--idle-seconds", type=float, default=20)
    p.add_argument("--profile", action="store_true", help="profile one tab switch with the writers on")
    p.add_argument("--dir", help="where to build the store (default: a temporary directory)")
    args = p.parse_args()
    if shutil.which("tmux") is None:
        print("bench_keys: needs tmux", file=sys.stderr)
        return 2
    base = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="bench_keys_"))
    global LOST_DIR
    LOST_DIR = base
    base.mkdir(parents=True, exist_ok=True)
    store = base / "store"
    sizes = [tuple(int(x) for x in s.split("x")) for s in args.sizes.split(",")]
    subprocess.run([sys.executable, "-m", "tracktui.cli.demo", "--dir", str(store), "--finished"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results: dict[str, dict[str, object]] = {}
    writers: list[subprocess.Popen[str]] = []
    stop = base / "stop-writers"
    try:
        base_lat = baseline()
        print(f"tmux baseline (cat echo): p50 {pct(base_lat, 0.5) * 1000:.1f} ms  p95 "
              f"{pct(base_lat, 0.95) * 1000:.1f} ms", file=sys.stderr)
        results["machine"] = {"cores": os.cpu_count(), "load_average_at_start": os.getloadavg()}
        for n_writers in (0, args.writers) if args.writers else (0,):
            t_writers = time.perf_counter()
            if n_writers:
                writers = start_writers(store, n_writers, args.points, stop)
                time.sleep(2.0)
            for size in sizes:
                name = f"{size[0]}x{size[1]} writers={n_writers}"
                print(f"-- {name}", file=sys.stderr)
                lat: dict[str, list[float]] = {}
                cpu: list[float] = []
                app = App(store, size)
                try:
                    row: dict[str, object] = {}
                    if not n_writers and size == sizes[0]:
                        row["idle_cpu_runs_table_pct"] = idle_cpu(app, args.idle_seconds)
                    row["background_cpu_pct_runs_table"] = 100 * background_rate(app.proc)
                    # the run view first, on the top run (the newest: a live writer's run when writers log)
                    tmux("send-keys", "-t", SESSION, "Enter")
                    wait_for(lambda s: TAB_MARKERS["1"].search(s) is not None)
                    time.sleep(1.0)
                    bg = background_rate(app.proc)  # the run view polls more than the runs table
                    row["background_cpu_pct_run_view"] = 100 * bg
                    tmux("send-keys", "-t", SESSION, "Escape")
                    wait_for(lambda s: " name " in s and "st " in s)
                    time.sleep(0.5)
                    run_view_keys(app, args.rounds, lat, cpu, bg)
                    if not n_writers and size == sizes[0]:
                        tmux("send-keys", "-t", SESSION, "1")
                        time.sleep(1.0)
                        row["idle_cpu_run_view_charts_pct"] = idle_cpu(app, args.idle_seconds)
                    tmux("send-keys", "-t", SESSION, "Escape")
                    wait_for(lambda s: " name " in s and "st " in s)
                    time.sleep(0.5)
                    runs_table_keys(app, args.rounds, lat)
                finally:
                    app.close()
                row.update({g: {"n": len(v), "p50_ms": pct(v, 0.5) * 1000, "p95_ms": pct(v, 0.95) * 1000,
                                "lost": sum(1 for x in v if x != x)} for g, v in lat.items()})
                row["tab_switch_cpu_ms"] = {"p50": pct(cpu, 0.5) * 1000, "p95": pct(cpu, 0.95) * 1000,
                                            "mean": statistics.fmean(cpu) * 1000 if cpu else float("nan")}
                results[name] = row
            if n_writers and args.profile:
                results["profile"] = profile_one_switch(store, base, sizes[0])
            if n_writers:
                results[f"writers={n_writers}"] = {
                    "points_per_s_sustained": stop_writers(writers, stop, time.perf_counter() - t_writers)}
                writers = []
    finally:
        if writers:
            stop.touch()
            for w in writers:
                try:
                    w.wait(30)
                except subprocess.TimeoutExpired:
                    w.kill()
        tmux("kill-server", check=False)
    results["machine"]["load_average_at_end"] = os.getloadavg()  # type: ignore[index]
    report(results, base_lat)
    print(json.dumps({"baseline_ms": [x * 1000 for x in base_lat], **{k: v for k, v in results.items()
                                                                       if k != "profile"}}, default=str))
    return 0


def report(results: dict[str, dict[str, object]], base_lat: list[float]) -> None:
    """Figures per configuration and against the targets."""
    print(f"\ntmux's own key-to-screen (cat echo, same server): p50 {pct(base_lat, .5) * 1000:.1f} ms, "
          f"p95 {pct(base_lat, .95) * 1000:.1f} ms (included in every figure below)")
    print("targets: tab switch p95 < 100 ms; other keys p95 < 50 ms; < 30 ms CPU per tab switch; idle < 2%\n")
    for name, row in results.items():
        if name in ("profile", "machine") or name.startswith("writers="):
            continue
        print(f"== {name}")
        for g, v in row.items():
            if isinstance(v, dict) and "p95_ms" in v:
                target = 100 if g.startswith("tab") or g.startswith("open run") else 50
                verdict = "ok" if v["p95_ms"] < target else "MISSED"
                if g.startswith("tab ") and g != "tab switch":
                    verdict = ""
                print(f"  {g:32s} n={v['n']:3d}  p50 {v['p50_ms']:7.1f} ms  p95 {v['p95_ms']:7.1f} ms"
                      f"{'  lost ' + str(v['lost']) if v['lost'] else ''}  {verdict}")
        c = row.get("tab_switch_cpu_ms")
        if isinstance(c, dict):
            print(f"  {'CPU per tab switch (net)':32s}        p50 {c['p50']:7.1f} ms  p95 {c['p95']:7.1f} ms"
                  f"  mean {c['mean']:.1f} ms  {'ok' if c['p50'] < 30 else 'MISSED'} (target < 30 ms)")
        for k in ("idle_cpu_runs_table_pct", "idle_cpu_run_view_charts_pct"):
            if k in row:
                v = float(row[k])  # type: ignore[arg-type]
                print(f"  {k:32s} {v:.2f}% of a core  {'ok' if v < 2 else 'MISSED'} (target < 2%)")
        for k in ("background_cpu_pct_runs_table", "background_cpu_pct_run_view"):
            print(f"  {k:32s} {float(row[k]):.1f}% of a core")  # type: ignore[arg-type]
    for name, row in results.items():
        if name.startswith("writers="):
            print(f"{name}: {row['points_per_s_sustained']:.0f} points/s sustained by all writers together")
    m = results["machine"]
    print(f"machine: {m['cores']} cores, load average {m['load_average_at_start']} at the start, "
          f"{m['load_average_at_end']} at the end (other processes' load lengthens every wall-clock figure; "
          f"the CPU figures are the app's own)")
    prof = results.get("profile")
    if prof:
        print(f"\nprofile of one tab switch (3 Logs -> 1 Charts) with writers, main thread: key to screen "
              f"{float(prof['latency_s'] or 0) * 1000:.0f} ms, profiled {float(prof['duration_s']) * 1000:.0f} ms")
        print("top entries by own time:")
        for fn, t in prof["top_own"]:  # type: ignore[union-attr]
            print(f"  {t * 1000:7.1f} ms  {fn}")
        print("\ncall tree:")
        print(prof["tree"])


if __name__ == "__main__":
    sys.exit(main())
