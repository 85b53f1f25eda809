"""A sweep-style script written for wandb: one run per configuration in one process, metrics at different
steps (train every step, validation every epoch against its own step metric), run with its import changed."""

from __future__ import annotations

import math

import tracktui

from tests.conftest import run_script

SCRIPT = '''
import math, random
import tracktui as wandb

sweep = [{"lr": lr, "optimizer": opt, "epochs": 3} for lr in (1e-3, 1e-2) for opt in ("adam", "sgd")]
for i, params in enumerate(sweep):
    run = wandb.init(project="sweep-demo", group="grid-1", job_type="train", config=params, reinit=True,
                     name=f"trial-{i}", tags=["grid", params["optimizer"]])
    wandb.define_metric("epoch")
    wandb.define_metric("val/*", step_metric="epoch")
    wandb.define_metric("val/acc", summary="max")
    wandb.define_metric("train/loss", summary="min")
    wandb.config.update({"seed": i})
    rng = random.Random(i)
    step = 0
    for epoch in range(wandb.config.epochs):
        for _ in range(50):
            loss = math.exp(-wandb.config.lr * 100 * (step + 1) / 50) + rng.random() * 0.01
            wandb.log({"train/loss": loss, "train/lr": wandb.config["lr"]})
            step += 1
        acc = 1 - loss / 2 + (0.01 if params["optimizer"] == "adam" else 0.0)
        wandb.log({"val/acc": acc, "val/loss": loss, "epoch": epoch})
    run.summary["final_step"] = step
    print(f"{run.name}: acc={acc:.4f}")
    run.finish()
'''


def test_sweep_style_script_makes_one_run_per_configuration(store_dir):
    proc = run_script(SCRIPT, store_dir, timeout=120)
    assert proc.stdout.count("acc=") == 4
    runs = sorted(tracktui.Api(store_dir).runs(project="sweep-demo"), key=lambda r: r.name)
    assert [r.name for r in runs] == ["trial-0", "trial-1", "trial-2", "trial-3"]
    for i, run in enumerate(runs):
        assert run.state == "finished" and run.group == "grid-1" and run.config["seed"] == i
        rows = run.history()
        assert len(rows) == 153  # 150 train steps, 3 validation steps
        vals = [r for r in rows if "val/acc" in r]
        assert [r["epoch"] for r in vals] == [0.0, 1.0, 2.0]
        assert run.summary["val/acc"]["max"] == max(r["val/acc"] for r in vals)
        losses = [r["train/loss"] for r in rows if "train/loss" in r]
        assert math.isclose(run.summary["train/loss"]["min"], min(losses))
        assert run.summary["final_step"] == 150
        assert any(d["name"] == "val/*" and d["step_metric"] == "epoch" for d in run.metric_defs)
