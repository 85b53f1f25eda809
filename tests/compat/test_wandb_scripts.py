"""Scripts written for wandb, run unchanged but for `import tracktui as wandb`, each in a fresh interpreter,
then read back from the store: what a user porting a script would check."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest
import tracktui
from tracktui.store import Reader

from tests.conftest import run_script

TRAIN = '''
import argparse, math, os, random
import tracktui as wandb

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--epochs", type=int, default=4)
args = parser.parse_args([])

wandb.login()                                    # as the examples start
wandb.login(key="0" * 40, relogin=True, anonymous="allow", host="https://api.wandb.ai", timeout=5)
wandb.require("core")
wandb.setup()
try:
    wandb.config.update({"early": 1})
except wandb.Error as e:
    print("PREINIT:", e)

run = wandb.init(project="compat", entity="team", config=args, save_code=True, job_type="train",
                 settings=wandb.Settings(console="wrap", disable_git=True, x_disable_stats=True,
                                         x_stats_sampling_interval=5.0, start_method="thread"))
assert wandb.init(project="compat") is run      # a second init returns the running run
print("URL:", run.get_url(), run.offline, run.entity, run.settings.project, wandb.run.settings.run_id == run.id)
wandb.termlog("starting training")
wandb.termwarn("a warning line")

epoch_m = wandb.define_metric("epoch", hidden=True)
acc_m = wandb.define_metric("val/acc", step_metric=epoch_m, summary="max")
wandb.define_metric("val/loss", step_metric="epoch", summary="best", goal="minimize")
wandb.define_metric("train/*", summary="mean,last")
print("METRIC:", acc_m.name, acc_m.step_metric, acc_m.summary, acc_m.step_sync)

random.seed(0)
for epoch in range(wandb.config.epochs):
    for batch in range(5):
        wandb.log({"train/loss": 1.0 / (epoch * 5 + batch + 1), "train/lr": wandb.config.lr})
    acc = [0.4, 0.7, 0.6, 0.9][epoch]
    wandb.log({"epoch": epoch, "val/acc": acc, "val/loss": 1 - acc})
    if acc < 0.65:                               # the second is dropped: same title within 300 s
        wandb.alert(title="Low accuracy", text=f"val/acc {acc} < 0.65 at epoch {epoch}",
                    level=wandb.AlertLevel.WARN, wait_duration=300)
wandb.alert("Done", "training finished")

wandb.config.update({"lr": 0.5})                 # changed without allow_val_change: kept at 0.1
wandb.config.update({"note": "ok"})
with open(os.path.join(wandb.run.dir, "model.ckpt"), "wb") as f:
    f.write(b"weights")                          # left in run.dir: stored at finish
wandb.save(os.path.join(wandb.run.dir, "model.ckpt"))
print("CODE:", sorted(run.log_code()))           # the script's directory, *.py
run.mark_preempting()
wandb.run.summary["final_acc"] = acc
wandb.finish()
print("AFTER:", wandb.run)
'''


def _project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    (proj / "pkg").mkdir(parents=True)
    (proj / "train.py").write_text(TRAIN)
    (proj / "pkg" / "model.py").write_text("DEPTH = 4\n")
    (proj / "requirements.txt").write_text("torch\n")
    (proj / "notes.md").write_text("not code\n")
    venv = proj / ".venv" / "lib"
    venv.mkdir(parents=True)
    (venv / "site.py").write_text("# not the project's code\n")
    env = proj / "env"
    (env / "lib").mkdir(parents=True)
    (env / "pyvenv.cfg").write_text("home = /usr\n")
    (env / "lib" / "os.py").write_text("# a virtualenv's copy\n")
    return proj


def test_a_training_script_written_for_wandb(tmp_path, store_dir):
    proj = _project(tmp_path)
    proc = run_script(f"import runpy; runpy.run_path({str(proj / 'train.py')!r}, run_name='__main__')", store_dir)
    out, err = proc.stdout, proc.stderr
    assert "PREINIT: call tracktui.init() before using tracktui.config.update" in out
    assert "URL: None True team compat True" in out
    assert "METRIC: val/acc epoch ('max',) True" in out
    assert "CODE: ['code/pkg/model.py', 'code/requirements.txt', 'code/train.py']" in out
    assert "AFTER: None" in out
    assert "tracktui: starting training" in err and "tracktui: WARNING a warning line" in err
    assert "returning it" in err  # the second init() says what it did
    assert "config['lr'] is already 0.1" in err
    assert err.count("alert (WARN) Low accuracy") == 1 and "alert (INFO) Done: training finished" in err

    (rec,) = tracktui.Api(store_dir).runs()
    assert rec.state == "finished" and rec.project == "compat" and rec.job_type == "train"
    assert rec.config == {"lr": 0.1, "epochs": 4, "note": "ok"}
    s = rec.summary
    assert s["val/acc"] == {"max": 0.9} and s["val/loss"] == {"best": pytest.approx(0.1)}
    assert s["train/loss"]["last"] == pytest.approx(1 / 20)
    assert s["train/loss"]["mean"] == pytest.approx(sum(1 / i for i in range(1, 21)) / 20)
    assert s["train/lr"] == {"mean": pytest.approx(0.1), "last": 0.1} and s["final_acc"] == 0.9 and s["epoch"] == 3
    defs = {d["name"]: d for d in rec.metric_defs}
    assert defs["val/acc"]["step_metric"] == "epoch" and defs["epoch"]["hidden"] is True
    assert defs["val/loss"]["goal"] == "minimize"

    alerts = rec.alerts()
    assert [(a["level"], a["title"]) for a in alerts] == [("WARN", "Low accuracy"), ("INFO", "Done"),
                                                          ("INFO", "preempting")]
    assert alerts[0]["text"] == "val/acc 0.4 < 0.65 at epoch 0"

    files = set(rec.files())
    assert {"model.ckpt", "code/train.py", "code/pkg/model.py", "code/requirements.txt"} <= files
    assert not any(".venv" in f or "os.py" in f or "notes.md" in f for f in files)
    assert rec.file("code/train.py") == TRAIN.encode() and rec.file("model.ckpt") == b"weights"
    with Reader(store_dir) as r:  # the console kept the script's own lines (console="wrap" is the tee)
        lines = [line for _, _, stream, line in r.logs(rec.id)]
    assert any("starting training" in line for line in lines)


NOTEBOOK_CELLS = [
    # cell 1: a fake Jupyter kernel, so the process looks like a notebook to tracktui, as to wandb
    """
    import sys, types
    sys.modules["IPython"] = types.SimpleNamespace(get_ipython=lambda: types.SimpleNamespace(kernel=object()))
    import tracktui as wandb
    wandb.login()
    """,
    # cell 2: init with a config
    """
    run = wandb.init(project="nb", config={"lr": 0.1}, settings=wandb.Settings(console="off"))
    first_id = run.id
    """,
    # cell 3: train a little, with a metric object
    """
    m = wandb.define_metric("loss", summary="min")
    for i in range(10):
        wandb.log({"loss": 1 / (i + 1), "nested": {"a": i}})
    print("NESTED", int(wandb.summary["nested"]["a"]), int(wandb.summary["nested.a"]), m.summary)
    """,
    # cell 2 run again: in a notebook the previous run is finished and a new one starts
    """
    run = wandb.init(project="nb", config={"lr": 0.2}, settings=wandb.Settings(console="off"))
    assert run.id != first_id
    wandb.config.update({"lr": 0.3})       # notebooks may change config values, as in wandb
    """,
    # cell 4: a second run alongside, then finish both
    """
    side = wandb.init(project="nb", reinit="create_new", settings=wandb.Settings(console="off"))
    side.log({"side": 1})
    wandb.log({"loss": 5.0})
    side.finish()
    wandb.finish()
    """,
]


def test_a_notebook_rerunning_its_init_cell(store_dir):
    code = "\n".join(textwrap.dedent(c) for c in NOTEBOOK_CELLS)
    proc = run_script(code, store_dir)
    assert "NESTED 9 9 ('min',)" in proc.stdout
    runs = {r.id: r for r in tracktui.Api(store_dir).runs()}
    assert len(runs) == 3 and {r.state for r in runs.values()} == {"finished"}
    by_cfg = sorted(runs.values(), key=lambda r: r.created_at)
    first, second, side = by_cfg
    assert first.config == {"lr": 0.1} and first.summary["loss"] == {"min": 0.1}
    assert first.summary["nested"]["a"] == 9  # read back nested too
    assert second.config == {"lr": 0.3} and second.summary["loss"] == 5.0
    assert side.summary == {"side": 1}


def test_module_level_watch_takes_a_criterion_and_logs_at_the_log_freq_th_batch(store_dir):
    pytest.importorskip("torch")
    run_script("""
        import torch
        import tracktui as wandb
        run = wandb.init(project="w", settings={"capture": False})
        model = torch.nn.Linear(3, 1)
        criterion = torch.nn.MSELoss()
        wandb.watch(model, criterion, log="all", log_freq=3)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        for step in range(7):
            loss = criterion(model(torch.randn(4, 3)), torch.zeros(4, 1))
            opt.zero_grad(); loss.backward(); opt.step()
            wandb.log({"loss": loss.item()})
        wandb.finish()
    """, store_dir)
    (rec,) = tracktui.Api(store_dir).runs()
    assert rec.media_steps("gradients/weight") == [2, 5]  # the 3rd and the 6th batch, as wandb
    assert rec.media_steps("parameters/bias") == [2, 5]
    assert all(math.isfinite(v) for v in rec.summary.values() if isinstance(v, float))
