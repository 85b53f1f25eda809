"""`tracktui demo`: the simulated runs land in the store through the SDK, in separate processes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tracktui.cli.demo import seed_store
from tracktui.store import Reader


def test_demo_writes_finished_runs_and_a_live_one(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    proc = seed_store(str(root), live_steps=400, delay=0.002)
    try:
        assert proc.pid != 0
        with Reader(root) as r:
            finished = [x for x in r.runs() if x.state == "finished"]
            assert len(finished) == 3
            assert len({x.config["lr"] for x in finished}) == 3  # different configs to compare
            now = time.time()
            for x in finished:  # past runs: started hours ago, ran for half an hour or more
                assert now - x.created_at > 3600 and x.runtime > 1800, (x.created_at, x.runtime)
                assert x.finished_at is not None and x.finished_at < now - 600
                assert "min" in x.summary["val/loss"] and "max" in x.summary["val/acc"]
                lines = [line for _, _, _, line in r.logs(x.id)]
                assert any(line.startswith("epoch 1 100/100 [###") for line in lines)  # the progress bar
            assert len({x.last_step for x in finished}) == 3  # histories of different lengths
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    with Reader(root) as r:
        live = max(r.runs(), key=lambda x: x.created_at)
        assert live.state == "finished" and live.last_step == 399
        keys = set(r.keys(live.id))
        assert {"train/loss", "train/acc", "train/lr", "epoch", "val/acc", "val/loss"} <= keys
        assert any(d["name"] == "val/*" and d["step_metric"] == "epoch" for d in live.metric_defs)
        epochs = r.history(live.id, ["epoch"])["epoch"]
        assert [s for s, _ in epochs] == [100, 200, 300]
        lines = [line for _, _, _, line in r.logs(live.id)]
        assert any("epoch 1:" in line for line in lines) and any("\x1b[32m" in line for line in lines)
        # issue 13 scope 4: the live run's progress bar reaches the Logs tab (each epoch's bar, as tqdm leaves
        # it), and its val/loss is summarised by the minimum although val/* is declared without a summary
        assert any(line.startswith("epoch 3 100/100 [" + "#" * 30 + "]") for line in lines), lines[:20]
        assert set(live.summary["val/loss"]) == {"min"} and set(live.summary["val/acc"]) == {"max"}


def test_demo_command_line_help() -> None:
    out = subprocess.run([sys.executable, "-m", "tracktui.cli.demo", "--help"], capture_output=True,
                         text=True)
    assert out.returncode == 0 and "--live-steps" in out.stdout
