"""Hugging Face Trainer with TrackTuiCallback: a tiny BERT built from a config trains a few steps on the CPU,
and the run is read back through Api (config, keys, global steps, summary)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import tracktui

from tests.conftest import run_script
from tests.integrations.frameworks import require

require("torch", "transformers", "accelerate")

SCRIPT = r'''
import sys, torch, tracktui
from transformers import (BertConfig, BertForSequenceClassification, Trainer, TrainerControl, TrainerState,
                          TrainingArguments)
from tracktui.integrations.transformers import TrackTuiCallback

out = sys.argv[1]
torch.manual_seed(0)
g = torch.Generator().manual_seed(0)
data = [{"input_ids": torch.randint(0, 50, (8,), generator=g), "attention_mask": torch.ones(8, dtype=torch.long),
         "labels": int(i % 2)} for i in range(32)]

def model():
    return BertForSequenceClassification(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
        num_attention_heads=2, intermediate_size=32, max_position_embeddings=16, num_labels=2))

def arguments(**kw):
    return TrainingArguments(output_dir=out, max_steps=6, per_device_train_batch_size=4, learning_rate=1e-3,
        logging_steps=2, eval_strategy="steps", eval_steps=3, per_device_eval_batch_size=8, save_strategy="no",
        report_to="none", use_cpu=True, disable_tqdm=True, seed=0, **kw)

# 1. A rank other than zero (the state the Trainer builds under DDP) records nothing and starts no run.
cb = TrackTuiCallback(project="hf")
state = TrainerState(is_world_process_zero=False, global_step=2)
args = arguments()
cb.on_train_begin(args, state, TrainerControl(), model=model())
cb.on_log(args, state, TrainerControl(), logs={"loss": 1.0, "epoch": 0.5})
cb.on_train_end(args, state, TrainerControl())
print("rank1 run:", tracktui.run, cb.run)

# 2. The script started its own run: the callback logs into it, no second run.
own = tracktui.init(project="own", name="mine", config={"seed_of_script": 3})
Trainer(model=model(), args=arguments(), train_dataset=data, eval_dataset=data[:8],
        callbacks=[TrackTuiCallback(project="hf")]).train()
own.finish()

# 3. The callback starts the run; evaluate() after train() lands in it too.
cb = TrackTuiCallback(project="hf", tags=["tiny"])
trainer = Trainer(model=model(), args=arguments(run_name="tiny-bert"), train_dataset=data, eval_dataset=data[:8],
                  callbacks=[cb])
trainer.train()
trainer.evaluate()
print("run id:", cb.run.id)
'''


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One interpreter runs the three scenarios (importing transformers dominates the time)."""
    root = tmp_path_factory.mktemp("hf")
    proc = run_script(SCRIPT, root / "store", str(root / "out"), timeout=240)
    assert "rank1 run: None None" in proc.stdout, proc.stdout + proc.stderr
    return root / "store"


def test_trainer_metrics_config_and_summary_are_read_back(store: Path) -> None:
    (run,) = tracktui.Api(store).runs(project="hf")
    assert run.name == "tiny-bert" and run.state == "finished" and run.tags == ["tiny"]
    # config: the model config under the training arguments, and the parameter count
    assert run.config["hidden_size"] == 16 and run.config["num_hidden_layers"] == 1
    assert run.config["learning_rate"] == 1e-3 and run.config["max_steps"] == 6
    assert run.config["model/num_parameters"] > 1000
    rows = run.history()
    train = [r for r in rows if "train/loss" in r]
    evals = [r for r in rows if "eval/loss" in r]
    assert [r["train/global_step"] for r in train] == [2, 4, 6]
    assert [r["train/global_step"] for r in evals] == [3, 6, 6]  # two during train(), one from evaluate()
    assert all(0 < r["train/epoch"] <= 1 for r in train + evals)
    assert all("train/learning_rate" in r and "train/grad_norm" in r for r in train)
    assert {"eval/runtime", "eval/samples_per_second"} <= set(evals[0])
    assert [r["_step"] for r in rows] == sorted(r["_step"] for r in rows)
    # the end-of-training figures are summary values, not a one-point series
    keys = set(run.keys())
    assert not {"train/train_runtime", "train/train_loss"} & keys
    assert run.summary["train_runtime"] > 0 and run.summary["train_loss"] > 0
    assert run.summary["train/global_step"] == 6 and run.summary["eval/loss"] == evals[-1]["eval/loss"]
    # the end of training adds no row holding only train/epoch and the step: its epoch is the summary's; the
    # summary keeps the step an int (as wandb's), history holds numbers as floats (as for every key)
    assert type(run.summary["train/global_step"]) is int
    assert [sorted(r) for r in rows if not set(r) - {"_step", "_timestamp", "train/epoch", "train/global_step"}] == []
    assert run.summary["train/epoch"] == train[-1]["train/epoch"] == 0.75  # 6 steps of 8 per epoch
    defs = {d["name"]: d for d in run.metric_defs}
    assert defs["*"]["step_metric"] == "train/global_step"
    assert defs["train/global_step"]["step_metric"] is None and defs["train/epoch"]["step_metric"] is None


def test_no_second_run_when_the_script_called_init(store: Path) -> None:
    (run,) = tracktui.Api(store).runs(project="own")
    assert run.name == "mine" and run.state == "finished"
    assert run.config["seed_of_script"] == 3 and run.config["hidden_size"] == 16
    assert [r["train/global_step"] for r in run.history() if "train/loss" in r] == [2, 4, 6]


def test_ranks_other_than_zero_record_nothing(store: Path) -> None:
    assert sorted(r.project for r in tracktui.Api(store).runs()) == ["hf", "own"]


DDP_SCRIPT = r"""
import os, sys, torch, tracktui
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainerCallback, TrainingArguments
from tracktui.integrations.transformers import TrackTuiCallback

rank = int(os.environ["RANK"])

class RankTag(TrainerCallback):
    # adds this rank's own key to every Trainer log, before TrackTuiCallback sees the log
    def on_log(self, args, state, control, logs=None, **kwargs):
        logs[f"rank{rank}"] = 1.0

g = torch.Generator().manual_seed(0)
data = [{"input_ids": torch.randint(0, 50, (8,), generator=g), "attention_mask": torch.ones(8, dtype=torch.long),
         "labels": int(i % 2)} for i in range(32)]
model = BertForSequenceClassification(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
    num_attention_heads=2, intermediate_size=32, max_position_embeddings=16, num_labels=2))
args = TrainingArguments(output_dir=sys.argv[1], max_steps=4, per_device_train_batch_size=4, logging_steps=1,
    save_strategy="no", report_to="none", use_cpu=True, ddp_backend="gloo", disable_tqdm=True, seed=0)
cb = TrackTuiCallback(project="hf-ddp")
Trainer(model=model, args=args, train_dataset=data, callbacks=[RankTag(), cb]).train()
print(f"rank {rank} of {args.world_size}: run {tracktui.run and tracktui.run.id} callback {cb.run and cb.run.id}",
      flush=True)
"""


def test_only_world_process_zero_records_under_torchrun_ddp(tmp_path: Path) -> None:
    """Real DDP on the CPU: torchrun starts two ranks (gloo), each runs Trainer with the callback; one run holds
    rank zero's logs, and rank one starts no run (nor joins the job's run through tracktui.init)."""
    script = tmp_path / "hf_ddp.py"
    script.write_text(DDP_SCRIPT)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLURM_", "TORCHELASTIC_", "OMPI_", "PMI", "TRACKTUI_"))
           and k not in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK", "NODE_RANK")}
    env.update(TRACKTUI_DIR=str(tmp_path / "store"), TRACKTUI_CAPTURE_GIT="0", TRACKTUI_CAPTURE_REQUIREMENTS="0",
               GLOO_SOCKET_IFNAME="lo", PYTHONUNBUFFERED="1")
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                           str(script), str(tmp_path / "out")], env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run,) = tracktui.Api(tmp_path / "store").runs()
    assert f"rank 0 of 2: run {run.id} callback {run.id}" in proc.stdout, proc.stdout
    assert "rank 1 of 2: run None callback None" in proc.stdout, proc.stdout
    assert run.metadata["ranks"]["world_size"] == 2 and run.state == "finished"
    train = [r for r in run.history() if "train/loss" in r]
    assert [r["train/global_step"] for r in train] == [1, 2, 3, 4]
    assert all(r["train/rank0"] == 1 for r in train)  # rank zero's logs, and none of rank one's
    assert "train/rank1" not in run.keys() and run.summary["train/global_step"] == 4
    assert run.config["hidden_size"] == 16 and run.config["ddp_backend"] == "gloo"
