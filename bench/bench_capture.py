"""Benchmark of automatic capture: init() time, sampler CPU cost, console tee cost per line.

    python bench/bench_capture.py [--quick]

Every figure is compared with a baseline measured in the same run (capture off, or no tee).
Targets (issue 3): init() < 150 ms on the calling thread, sampler < 1% of one core at its default
interval, tee < 5 µs per printed line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

INIT_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import tracktui
t1 = time.perf_counter()
settings = None if sys.argv[2] == "on" else {"capture": False}
run = tracktui.init(dir=sys.argv[1], project="bench", settings=settings)
t2 = time.perf_counter()
run.finish()
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "init": t2 - t1, "finish": t3 - t2}))
"""

SAMPLER_CHILD = r"""
import json, sys, time
import tracktui
mode, seconds = sys.argv[2], float(sys.argv[3])
settings = {"console": "off", "git": False, "requirements": False, "metadata": False}
if mode == "off":
    settings["system"] = False
run = tracktui.init(dir=sys.argv[1], project="bench", settings=settings)
time.sleep(1.0)  # let psutil load and the first readings prime
c0, w0 = time.process_time(), time.monotonic()
time.sleep(seconds)
c1, w1 = time.process_time(), time.monotonic()
from tracktui import capture
s = capture.session(run)
n = s.sampler.samples if s and s.sampler else 0
per = None
if s and s.sampler:
    t = time.perf_counter()
    for _ in range(50):
        s.sampler.sample()
    per = (time.perf_counter() - t) / 50
run.finish()
print(json.dumps({"cpu": c1 - c0, "wall": w1 - w0, "samples": n, "per_sample": per}))
"""


FLOOD_CHILD = r"""
import json, sys, time
import tracktui
n = int(sys.argv[3])
console = sys.argv[2]
run = tracktui.init(dir=sys.argv[1], project="bench",
                    settings={"console": console, "system": False, "git": False, "requirements": False})
line = "." * 90
c0, t0 = time.process_time(), time.perf_counter()
for i in range(n):
    print(f"{i:07d}", line)
t1 = time.perf_counter()
run.finish()
t2, c2 = time.perf_counter(), time.process_time()
sys.stderr.write(json.dumps({"loop": t1 - t0, "total": t2 - t0, "cpu": c2 - c0}) + "\n")
"""


def child(code: str, *args: str) -> dict:
    """Run code in a fresh interpreter and return the JSON it prints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKTUI_")}
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_init(root: str, repeats: int) -> None:
    """init() with every capture on vs. off, each in fresh processes (run from this git checkout)."""
    res: dict[str, list[dict]] = {"on": [], "off": []}
    for i in range(repeats):
        for mode in ("off", "on"):
            res[mode].append(child(INIT_CHILD, os.path.join(root, f"init-{mode}-{i}"), mode))
    for mode in ("off", "on"):
        init = statistics.median(r["init"] for r in res[mode]) * 1000
        fin = statistics.median(r["finish"] for r in res[mode]) * 1000
        print(f"init() capture {mode:3s}: {init:7.1f} ms on the calling thread (median of {repeats}); "
              f"finish() {fin:6.1f} ms (waits for git + requirements)")
    on = statistics.median(r["init"] for r in res["on"]) * 1000
    off = statistics.median(r["init"] for r in res["off"]) * 1000
    print(f"  capture adds {on - off:+.1f} ms to init(); target: init() < 150 ms -> "
          f"{'OK' if on < 150 else 'MISSED'}")


def bench_sampler(root: str, seconds: float) -> None:
    """Process CPU time over `seconds` with the sampler at its default interval vs. without it."""
    on = child(SAMPLER_CHILD, os.path.join(root, "sampler-on"), "on", str(seconds))
    off = child(SAMPLER_CHILD, os.path.join(root, "sampler-off"), "off", str(seconds))
    from tracktui.capture.system import DEFAULT_INTERVAL

    pct = 100.0 * (on["cpu"] - off["cpu"]) / on["wall"]
    per = on["per_sample"] * 1000
    print(f"sampler at {DEFAULT_INTERVAL} s: process CPU {on['cpu'] * 1000:.1f} ms with it, "
          f"{off['cpu'] * 1000:.1f} ms without, over {on['wall']:.1f} s ({on['samples']} samples)")
    print(f"  -> {pct:.2f}% of one core (difference); one reading costs {per:.2f} ms "
          f"= {100 * on['per_sample'] / DEFAULT_INTERVAL:.2f}% at the default interval; target < 1% -> "
          f"{'OK' if max(pct, 100 * on['per_sample'] / DEFAULT_INTERVAL) < 1 else 'MISSED'}")


def bench_tee(root: str, lines: int) -> None:
    """Calling-thread time per print() through the tee vs. straight to the same sink."""
    import tracktui
    from tracktui.capture.console import ConsoleCapture, Tee

    run = tracktui.init(dir=os.path.join(root, "tee"), project="bench", settings={"capture": False})
    sink = open(os.devnull, "w")  # noqa: SIM115
    capture = ConsoleCapture(run.id, run._put)
    tee = Tee(sink, "stdout", capture)
    capture.start()
    text = "epoch 3 step 1234 loss 0.123456 acc 0.98765"
    results: dict[str, list[float]] = {"plain": [], "tee": []}
    cpu: dict[str, list[float]] = {"plain": [], "tee": []}
    for _ in range(5):
        for name, target in (("plain", sink), ("tee", tee)):
            c0 = time.process_time()
            t0 = time.perf_counter()
            for i in range(lines):
                print(text, i, file=target)
            results[name].append((time.perf_counter() - t0) / lines)
            if name == "tee":
                capture.pump()  # the pump thread's share, counted in process CPU below
            cpu[name].append((time.process_time() - c0) / lines)
    capture.stop()
    run.finish()
    plain = min(results["plain"]) * 1e6
    teed = min(results["tee"]) * 1e6
    print(f"print() of a {len(text) + 6}-char line: {plain:.2f} µs to {os.devnull} without the tee, "
          f"{teed:.2f} µs with it (best of 5 x {lines})")
    print(f"  -> the tee adds {teed - plain:.2f} µs per line on the calling thread; target < 5 µs -> "
          f"{'OK' if teed - plain < 5 else 'MISSED'}")
    cp, ct = min(cpu["plain"]) * 1e6, min(cpu["tee"]) * 1e6
    print(f"  process CPU incl. turning lines into store records: {cp:.2f} vs {ct:.2f} µs per line "
          f"(+{ct - cp:.2f} µs; the SQLite insert happens later on the writer thread)")


def bench_flood(root: str, lines: int) -> None:
    """A flood of 100-char lines to /dev/null: wall and CPU time until stored, console capture on vs. off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKTUI_")}
    res = {}
    for console in ("off", "python"):
        with open(os.devnull, "w") as null:
            out = subprocess.run([sys.executable, "-c", FLOOD_CHILD, os.path.join(root, f"flood-{console}"),
                                  console, str(lines)], stdout=null, stderr=subprocess.PIPE, text=True,
                                 env=env, check=True)
        res[console] = json.loads(out.stderr.strip().splitlines()[-1])
    off, on = res["off"], res["python"]
    print(f"flood of {lines} lines: print loop {off['loop'] / lines * 1e6:.2f} µs/line without capture, "
          f"{on['loop'] / lines * 1e6:.2f} µs/line with it (pump and writer threads share the GIL)")
    print(f"  until stored (finish): {on['total'] / lines * 1e6:.2f} µs/line; process CPU "
          f"{off['cpu'] / lines * 1e6:.2f} vs {on['cpu'] / lines * 1e6:.2f} µs/line")


def main() -> None:
    """Run the three benchmarks."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer repeats, 3 s of sampler time")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as root:
        bench_init(root, 3 if a.quick else 5)
        bench_sampler(root, 3.0 if a.quick else 10.0)
        bench_tee(root, 20_000 if a.quick else 100_000)
        bench_flood(root, 50_000 if a.quick else 200_000)


if __name__ == "__main__":
    main()
