"""A Hugging Face Trainer-style loop with wandb's calls as the Trainer's wandb callback makes them: config
from training arguments and the model config, metrics against `train/global_step` (step_sync), eval metrics,
the summary updated at the end. Run with only its import changed."""

from __future__ import annotations

import tracktui

from tests.conftest import run_script

SCRIPT = '''
import dataclasses, math
import tracktui as wandb

@dataclasses.dataclass
class TrainingArguments:
    output_dir: str = "out"
    learning_rate: float = 5e-5
    num_train_epochs: int = 2
    per_device_train_batch_size: int = 8
    logging_steps: int = 10
    eval_steps: int = 25
    report_to: tuple = ("wandb",)

args = TrainingArguments()
model_config = {"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 2, "vocab_size": 1000,
                "id2label": {0: "NEG", 1: "POS"}}

if wandb.run is None:
    wandb.init(project="hf-demo", name=args.output_dir)
combined = {**dataclasses.asdict(args), **model_config}
wandb.config.update(combined, allow_val_change=True)
wandb.define_metric("train/global_step")
wandb.define_metric("*", step_metric="train/global_step", step_sync=True)

global_step = 0
for epoch in range(args.num_train_epochs):
    for batch in range(30):
        global_step += 1
        if global_step % args.logging_steps == 0:
            loss = 2.0 * math.exp(-global_step / 30)
            lr = args.learning_rate * (1 - global_step / 60)
            wandb.log({"train/loss": loss, "train/learning_rate": lr, "train/grad_norm": 1.5,
                       "train/epoch": global_step / 30, "train/global_step": global_step})
        if global_step % args.eval_steps == 0:
            wandb.log({"eval/loss": 2.1 * math.exp(-global_step / 30), "eval/accuracy": 0.5 + global_step / 200,
                       "eval/runtime": 0.12, "train/epoch": global_step / 30, "train/global_step": global_step})
summary = {"train_runtime": 3.2, "train_samples_per_second": 150.0, "total_flos": 1.2e12, "train_loss": 0.42}
for k, v in summary.items():
    wandb.run.summary[f"train/{k}"] = v
wandb.finish()
'''


def test_hf_style_loop_records_metrics_against_the_global_step(store_dir):
    run_script(SCRIPT, store_dir, timeout=120)
    (run,) = tracktui.Api(store_dir).runs(project="hf-demo")
    assert run.state == "finished" and run.name == "out"
    assert run.config["learning_rate"] == 5e-5 and run.config["hidden_size"] == 32
    assert run.config["id2label"] == {"0": "NEG", "1": "POS"}  # JSON keys, as wandb stores them
    rows = run.history()
    train = [r for r in rows if "train/loss" in r]
    evals = [r for r in rows if "eval/loss" in r]
    assert [r["train/global_step"] for r in train] == [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    assert [r["train/global_step"] for r in evals] == [25.0, 50.0]
    assert run.summary["train/train_loss"] == 0.42 and run.summary["eval/accuracy"] == 0.75
    assert any(d["name"] == "*" and d["step_metric"] == "train/global_step" for d in run.metric_defs)
