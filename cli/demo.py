"""`tracktui demo`: a simulated training run in a separate process, through the public SDK, plus a few
finished runs with different configs to compare.

    python -m tracktui.cli.demo --dir D --live-steps N     the live run (what `tracktui demo` starts)
"""

from __future__ import annotations

import argparse
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PROJECT = "demo"
_REAL_TIME = time.time
EVAL_EVERY = 100
FINISHED = [
    {"lr": 3e-3, "batch_size": 64, "model": {"depth": 4, "width": 256}, "optimizer": "adam"},
    {"lr": 1e-2, "batch_size": 128, "model": {"depth": 8, "width": 256}, "optimizer": "sgd"},
    {"lr": 3e-4, "batch_size": 64, "model": {"depth": 8, "width": 512}, "optimizer": "adamw"},
]
# The finished runs as past runs: (hours before now they started, steps, seconds per step); written in a
# moment through a simulated clock, so they read as runs of 30-50 minutes from yesterday and today.
FINISHED_PAST = [(26.0, 2400, 1.1), (5.5, 1800, 1.6), (2.2, 3000, 0.9)]


class PastClock:
    """time.time() of the finished-runs process: starts in the past and moves only when told."""

    def __init__(self, start: float):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _curves(step: int, total: int, lr: float, depth: int, rng: random.Random) -> dict[str, float]:
    """Loss and accuracy of a pretend model: exponential decay with noise, better with depth."""
    speed = 3.0 * (1 + math.log10(lr / 1e-4)) / 3
    p = step / max(1, total)
    loss = 2.3 * math.exp(-speed * 4 * p) + 0.05 * (8 / depth) + rng.gauss(0, 0.03)
    acc = 1 - 0.9 * math.exp(-speed * 5 * p) - 0.02 * (8 / depth) + rng.gauss(0, 0.01)
    return {"train/loss": max(0.001, loss), "train/acc": min(1.0, max(0.0, acc))}


def _print(line: str, stream: str = "stdout", end: str = "\n") -> None:
    """Print as a training script does; the SDK's console capture stores it."""
    out = sys.stderr if stream == "stderr" else sys.stdout
    out.write(line + end)
    out.flush()


def _bar(epoch: int, done: int, loss: float) -> str:
    """A progress bar line as tqdm draws one: epoch, steps done of the epoch, a bar, the loss."""
    filled = 30 * done // EVAL_EVERY
    return f"epoch {epoch} {done:3d}/{EVAL_EVERY} [{'#' * filled}{'.' * (30 - filled)}] loss={loss:.4f}"


def _media(epoch: int, rng: random.Random) -> dict[str, Any]:
    """A weight histogram and a sample image per epoch, when the media extra (numpy, Pillow) is installed."""
    try:
        import numpy as np
        import PIL  # noqa: F401
        import tracktui
    except ImportError:
        return {}
    gen = np.random.default_rng(epoch)
    weights = gen.normal(0, 1 / (1 + epoch / 20), 2000)
    y, x = np.mgrid[0:48, 0:48] / 47.0
    phase = epoch / 5 + rng.random() * 0.1
    image = np.stack([np.sin(6 * x + phase), np.cos(5 * y - phase), np.sin(4 * (x + y) + phase)], -1) * 0.5 + 0.5
    return {"weights/layer1": tracktui.Histogram(weights),
            "samples/prediction": tracktui.Image(image, caption=f"epoch {epoch}")}


def train(dir: str | None, steps: int, config: dict[str, Any], name: str | None = None,
          delay: float = 0.0, seed: int = 0, parent: int | None = None,
          clock: PastClock | None = None, step_seconds: float = 0.0) -> None:
    """One simulated training run through the public SDK."""
    import tracktui

    rng = random.Random(seed)
    run = tracktui.init(project=PROJECT, dir=dir, config=config, name=name, group="demo-sweep",
                        tags=["demo", config["optimizer"]], notes="a simulated run from `tracktui demo`")
    run.define_metric("val/*", step_metric="epoch")
    run.define_metric("val/acc", step_metric="epoch", summary="max")
    run.define_metric("val/loss", step_metric="epoch", summary="min")
    run.define_metric("train/loss", summary="min")
    _print(f"\x1b[1mtraining\x1b[0m {run.name}: lr={config['lr']} depth={config['model']['depth']}")
    lr0, depth = config["lr"], config["model"]["depth"]
    epoch = 0
    for step in range(steps):
        lr = lr0 * 0.5 * (1 + math.cos(math.pi * step / steps))  # cosine schedule
        m = _curves(step, steps, lr0, depth, rng)
        m["train/lr"] = lr
        if step and step % EVAL_EVERY == 0:
            epoch += 1
            val = _curves(step, steps, lr0, depth, rng)
            m.update({"epoch": epoch, "val/loss": val["train/loss"] * 1.1,
                      "val/acc": val["train/acc"] * 0.97})
            _print(f"epoch {epoch}: \x1b[32mval/acc={m['val/acc']:.4f}\x1b[0m")
            m.update(_media(epoch, rng))
            if rng.random() < 0.2:
                _print(f"warning: loss spike at step {step}", stream="stderr")
        if step % 10 == 0 or (step + 1) % EVAL_EVERY == 0:  # a tqdm-style bar per epoch, kept when done
            _print("\r" + _bar(epoch + 1, step % EVAL_EVERY + 1, m["train/loss"]),
                   end="\n" if (step + 1) % EVAL_EVERY == 0 else "")
        if clock is not None:
            clock.advance(step_seconds * rng.uniform(0.9, 1.1))
        run.log(m)
        if parent is not None and step % 20 == 0 and os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)  # the app that started us is gone: end as a killed run
        if delay:
            time.sleep(delay)
    _print(("" if steps % EVAL_EVERY == 0 else "\n") + f"done: {run.name}")
    run.finish()


def seed_store(dir: str | None, live_steps: int = 20_000, delay: float = 0.05,
               stop_with_parent: bool = False) -> subprocess.Popen[bytes]:
    """Write the finished runs (in a child, quickly) and start the live run in a separate process (which
    stops when this process ends, if stop_with_parent)."""
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), src) if p)
    base = [sys.executable, "-m", "tracktui.cli.demo"] + (["--dir", dir] if dir else [])
    subprocess.run([*base, "--finished"], env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    parent = ["--parent", str(os.getpid())] if stop_with_parent else []
    return subprocess.Popen([*base, "--live-steps", str(live_steps), "--delay", str(delay), *parent], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def main(argv: list[str] | None = None) -> int:
    """The demo's child processes."""
    p = argparse.ArgumentParser(prog="python -m tracktui.cli.demo")
    p.add_argument("--dir")
    p.add_argument("--finished", action="store_true", help="write the finished runs, then exit")
    p.add_argument("--live-steps", type=int, default=20_000)
    p.add_argument("--delay", type=float, default=0.05)
    p.add_argument("--parent", type=int, help="stop when this process (the app) has ended")
    args = p.parse_args(argv)
    if args.finished:
        now = time.time()
        for i, (cfg, (hours_ago, steps, step_seconds)) in enumerate(zip(FINISHED, FINISHED_PAST, strict=True)):
            clock = PastClock(now - hours_ago * 3600)
            time.time = clock  # this process only writes these runs: every timestamp follows the clock
            try:
                train(args.dir, steps, cfg, seed=i + 1, clock=clock, step_seconds=step_seconds)
            finally:
                time.time = _REAL_TIME
        return 0
    cfg = {"lr": 1e-3, "batch_size": 128, "model": {"depth": 6, "width": 384}, "optimizer": "adam",
           "epochs": args.live_steps // EVAL_EVERY}
    train(args.dir, args.live_steps, cfg, delay=args.delay, seed=42, parent=args.parent)
    return 0


if __name__ == "__main__":
    sys.exit(main())
