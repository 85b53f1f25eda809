"""The command line for scripts: ls, show, export; one-line errors and exit codes."""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tracktui
from tracktui.cli.main import main
from tracktui.store import Reader


@pytest.fixture
def two_runs(store_dir):
    a = tracktui.init(dir=store_dir, project="mnist", name="first", config={"lr": 0.1}, tags=["t1"])
    for i in range(3):
        a.log({"loss": 1.0 / (i + 1), "acc": math.nan if i == 1 else i / 10})
    a.finish()
    b = tracktui.init(dir=store_dir, project="cifar", name="second\x1b]0;evil\x07")
    b.log({"loss": 2.0})
    b.finish()
    return a, b


def test_ls_lists_runs_and_filters_by_project(store_dir, two_runs, capsys):
    assert main(["--dir", str(store_dir), "ls"]) == 0
    out = capsys.readouterr().out
    assert "first" in out and "second" in out and "\x1b" not in out and "finished" in out
    assert main(["--dir", str(store_dir), "ls", "--project", "mnist", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["name"] for r in rows] == ["first"] and rows[0]["config"] == {"lr": 0.1}


def test_show_and_export(store_dir, two_runs, capsys):
    a, _ = two_runs
    assert main(["--dir", str(store_dir), "show", "first"]) == 0
    out = capsys.readouterr().out
    assert "lr = 0.1" in out and "loss" in out and a.id in out
    assert main(["--dir", str(store_dir), "show", a.id[:5], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["keys"] == ["loss", "acc"]
    assert main(["--dir", str(store_dir), "export", a.id, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["_step"] for r in rows] == ["0", "1", "2"] and rows[1]["acc"] == "nan" and rows[2]["loss"]
    assert main(["--dir", str(store_dir), "export", a.id, "--format", "json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines[1]["acc"] == {"$float": "nan"} and lines[0]["loss"] == 1.0


def test_errors_are_one_line_with_nonzero_exit(tmp_path, capsys):
    missing = tmp_path / "none"
    for args in (["ls"], ["ls", "--json"], ["show", "x"], ["export", "x"], []):  # [] opens the app
        assert main(["--dir", str(missing), *args]) == 1, args  # no store is said the same way everywhere
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and "no tracktui store" in err, args
    assert not missing.exists()  # nothing was created by looking
    tracktui.init(dir=missing).finish()
    assert main(["--dir", str(missing), "ls", "--project", "other"]) == 0  # a store without such runs
    assert "no runs" in capsys.readouterr().err
    assert main(["--dir", str(missing), "show", "nope"]) == 1
    assert "no run 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["export", "x", "--format", "xml"])
    assert e.value.code == 2


def test_console_script_is_installed(store_dir, two_runs):
    exe = shutil.which("tracktui", path=str(Path(sys.executable).parent))
    assert exe, "the tracktui console script is not installed next to this python"
    out = subprocess.run([exe, "--dir", str(store_dir), "ls"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "first" in out.stdout


def test_show_leaves_out_the_step_of_a_run_without_metrics(tmp_path, capsys):
    tracktui.init(dir=tmp_path, name="no-metrics", settings={"capture": False}).finish()  # as `tracktui run`
    assert main(["--dir", str(tmp_path), "show", "no-metrics"]) == 0
    out = capsys.readouterr().out
    assert "runtime" in out and "  step" not in out
    run = tracktui.init(dir=tmp_path, name="with-metrics", settings={"capture": False})
    run.log({"loss": 1.0})
    run.finish()
    assert main(["--dir", str(tmp_path), "show", "with-metrics"]) == 0
    assert "  step      0\n" in capsys.readouterr().out


# What each entry point loads, in a fresh interpreter (sys.modules after the command ran): `tracktui run`
# loads none of the app and no Textual or Rich; opening the app (the runs table, a run view and all six of
# its tabs) loads nothing of the SDK's capture (system sampler, console tee, the `tracktui run` wrapper).
_APP_MODULES = """
import sys
import tracktui.tui.app as appmod
from tracktui.cli import main as cli

made, seen = appmod.make_app, []

def make_app(**kw):
    app = made(**kw)
    run = app.run

    async def pilot(p):
        await p.pause(0.5)
        seen.append(type(p.app.screen).__name__)
        await p.press("enter")
        await p.pause(0.5)
        seen.append(type(p.app.screen).__name__)
        for k in "123456":
            await p.press(k)
            await p.pause(0.2)
        p.app.exit()

    app.run = lambda **k: run(headless=True, auto_pilot=pilot)
    return app

appmod.make_app = make_app
rc = cli.main(["--dir", sys.argv[1]])
print(rc, ",".join(seen))
print(" ".join(sorted(m for m in sys.modules if m.split(".")[:2] == ["tracktui", "capture"])))
"""

_RUN_MODULES = """
import sys
from tracktui.cli import main as cli
rc = cli.main(["--dir", sys.argv[1], "run", "--name", "wrapped", "--", sys.executable, "-c", "print(42)"])
print(rc)
print(" ".join(sorted(m for m in sys.modules
                      if m.split(".")[0] in ("textual", "rich", "plotext", "textual_plotext")
                      or m.startswith("tracktui.tui."))))
"""


def test_tracktui_run_loads_none_of_the_app(tmp_path):
    out = subprocess.run([sys.executable, "-c", _RUN_MODULES, str(tmp_path)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    rc, loaded = out.stdout.splitlines()[-2:]
    assert rc == "0", out.stdout
    # tracktui.tui.text is the app's plain-text sanitiser (no Rich, no Textual) that the command line shares
    assert set(loaded.split()) <= {"tracktui.tui.text"}, loaded
    with Reader(tmp_path) as r:  # the command ran and was recorded
        (rec,) = r.runs()
        assert rec.name == "wrapped" and rec.state == "finished"
        assert any("42" in line for _, _, _, line in r.logs(rec.id))


def test_opening_the_app_loads_no_capture_module(tmp_path):
    run = tracktui.init(dir=tmp_path, name="seen", settings={"capture": False})
    for i in range(20):
        run.log({"loss": 1 / (i + 1)})
    run.finish()
    out = subprocess.run([sys.executable, "-c", _APP_MODULES, str(tmp_path)], capture_output=True, text=True,
                         timeout=240)
    assert out.returncode == 0, out.stderr
    status, loaded = out.stdout.splitlines()[-2:]
    assert status.startswith("0 RunsScreen,Run"), out.stdout  # the app opened the run view, then all its tabs
    assert loaded == "", loaded


def test_show_of_a_tracktui_run_run_has_no_empty_step_line(tmp_path, capsys):
    """issue 13 scope 4: a run recorded by the real `tracktui run` (no metric logged) shows no `step` line."""
    out = subprocess.run([sys.executable, "-m", "tracktui.cli", "--dir", str(tmp_path), "run", "--name", "wrapped",
                          "--", sys.executable, "-c", "print('hello')"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert main(["--dir", str(tmp_path), "show", "wrapped"]) == 0
    shown = capsys.readouterr().out
    assert "state     finished (exit 0)" in shown
    assert not [line for line in shown.splitlines() if line.strip() == "step" or line.startswith("  step")], shown
