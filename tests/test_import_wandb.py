"""`tracktui import wandb DIR`: offline runs written by the wandb package (offline mode) inside the test."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
from tracktui.cli.main import main
from tracktui.store.reader import Reader

pytest.importorskip("wandb", reason="the wandb package is not installed (the integrations extra has it)")

SCRIPT = """
import math, sys, wandb
run = wandb.init(mode="offline", project="vision", name=sys.argv[1], notes="first try", tags=["a", "b"],
                 config={"lr": 0.1, "model": {"depth": 3}})
for s in range(6):
    run.log({"loss": [math.nan, math.inf, -math.inf, 0.5, 0.25, 0.125][s], "acc": s / 10, "tag": f"s{s}"})
print("hello from stdout")
print("CUDA out of memory", file=sys.stderr)
run.summary["best"] = 0.9
run.finish(exit_code=int(sys.argv[2]))
"""


def _offline_run(tmp_path, name: str, code: int = 0):  # type: ignore[no-untyped-def]
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_DIR": str(tmp_path / "src"),
           "WANDB_DISABLE_GIT": "true"}
    env.pop("TRACKTUI_DIR", None)
    (tmp_path / "src").mkdir(exist_ok=True)
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(SCRIPT), name, str(code)], env=env,
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]


def _state(store):  # type: ignore[no-untyped-def]
    r = Reader(store)
    out = []
    for run in sorted(r.runs(), key=lambda x: x.id):
        out.append((run.id, run.name, run.state, run.exit_code, sorted(run.config.items()), run.last_step,
                    repr(r.history(run.id)), [x[1:] for x in r.logs(run.id)], sorted(r.system(run.id))))
    return out


def test_wandb_offline_runs_round_trip(tmp_path, store_dir, capsys):  # type: ignore[no-untyped-def]
    _offline_run(tmp_path, "good-run")
    _offline_run(tmp_path, "bad-run", code=3)
    src = tmp_path / "src" / "wandb"
    broken = src / "offline-run-20200101_000000-broken"
    broken.mkdir()
    (broken / "run-broken.wandb").write_bytes(b"garbage" * 20)

    assert main(["--dir", str(store_dir), "import", "wandb", str(src)]) == 1
    io = capsys.readouterr()
    assert "2 runs" in io.out and len([x for x in io.err.splitlines() if "cannot read" in x]) == 1
    assert "broken" in io.err and "[3/3]" in io.err  # one line for the damaged file, then the others

    r = Reader(store_dir)
    runs = {run.name: run for run in r.runs()}
    assert set(runs) == {"good-run", "bad-run"}
    good, bad = runs["good-run"], runs["bad-run"]
    assert good.project == "vision" and good.state == "finished" and bad.state == "failed" and bad.exit_code == 3
    assert good.notes == "first try" and good.tags == ["a", "b"]
    assert good.config == {"lr": 0.1, "model": {"depth": 3}}
    assert good.summary["best"] == 0.9 and good.last_step == 5
    hist = r.history(good.id)
    loss = [v for _, v in hist["loss"]]
    assert math.isnan(loss[0]) and loss[1:] == [math.inf, -math.inf, 0.5, 0.25, 0.125]
    assert hist["acc"] == [(s, s / 10) for s in range(6)] and hist["tag"][5] == (5, "s5")
    rows = list(r.history_rows(good.id))
    assert all(rows[i]["_timestamp"] <= rows[i + 1]["_timestamp"] for i in range(5))
    assert rows[0]["_timestamp"] > 1.6e9  # wandb's own _timestamp, not the import's clock
    logs = [(stream, line) for _, _, stream, line in r.logs(good.id)]
    assert ("stdout", "hello from stdout") in logs and ("stderr", "CUDA out of memory") in logs
    assert main(["--dir", str(store_dir), "grep", "CUDA out of memory"]) == 0
    assert capsys.readouterr().out.count("stderr#") == 2
    assert "requirements.txt" in [f[0] for f in r.files(good.id)]

    before = _state(store_dir)
    assert main(["--dir", str(store_dir), "import", "wandb", str(src)]) == 1
    assert "0 new events" in capsys.readouterr().out
    assert _state(store_dir) == before  # a second import adds nothing


def test_a_growing_wandb_file_adds_only_what_is_new(tmp_path, capsys):  # type: ignore[no-untyped-def]
    """A live run's .wandb file read half-written, then whole: the same store as one import of the whole."""
    _offline_run(tmp_path, "live-run")
    (run_dir,) = (tmp_path / "src" / "wandb").glob("offline-run-*")
    (log_file,) = run_dir.glob("*.wandb")
    whole = log_file.read_bytes()
    grow = tmp_path / "grow" / run_dir.name
    shutil.copytree(run_dir, grow)
    (grow / log_file.name).write_bytes(whole[: len(whole) // 2])  # cut inside a record, as a live file is
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["--dir", str(a), "import", "wandb", str(grow.parent)]) == 0
    first = _state(a)
    (grow / log_file.name).write_bytes(whole)
    assert main(["--dir", str(a), "import", "wandb", str(grow.parent)]) == 0
    assert main(["--dir", str(b), "import", "wandb", str(run_dir.parent)]) == 0
    capsys.readouterr()
    assert _state(a) == _state(b) != first
