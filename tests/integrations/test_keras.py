"""Keras 3 with TrackTuiCallback, on the torch backend: a tiny dense model fits two epochs with a decaying
learning rate, and the run is read back through Api (batch and epoch metrics, learning rate, model summary)."""

from __future__ import annotations

import pytest
import tracktui

from tests.conftest import run_script
from tests.integrations.frameworks import require

require("torch", "keras")

SCRIPT = r'''
import numpy as np, keras
from tracktui.integrations.keras import TrackTuiCallback

assert keras.backend.backend() == "torch"
keras.utils.set_random_seed(0)
x = np.random.default_rng(0).normal(size=(40, 4)).astype("float32")
y = x.sum(axis=1, keepdims=True)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu", name="hidden"),
                          keras.layers.Dense(1, name="out")], name="tiny")
lr = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=4, decay_rate=0.5, staircase=True)
model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss="mse", metrics=["mae"])
model.fit(x[:32], y[:32], batch_size=8, epochs=2, validation_data=(x[32:], y[32:]), verbose=0,
          callbacks=[TrackTuiCallback(project="keras-tiny", name="dense", tags=["cpu"])])
'''


def test_batch_and_epoch_metrics_learning_rate_and_summary(store_dir):
    run_script(SCRIPT, store_dir, timeout=180, env={"KERAS_BACKEND": "torch"})
    (run,) = tracktui.Api(store_dir).runs(project="keras-tiny")
    assert run.name == "dense" and run.tags == ["cpu"] and run.state == "finished"
    rows = run.history()
    batches = [r for r in rows if "batch/loss" in r]
    epochs = [r for r in rows if "epoch/loss" in r]
    assert [r["batch/batch_step"] for r in batches] == list(range(8))  # 4 batches x 2 epochs
    assert all("batch/mae" in r for r in batches)
    # the learning rate after each batch: 0.1 halved every 4 optimizer steps (staircase)
    expected = [0.1 * 0.5 ** ((i + 1) // 4) for i in range(8)]  # float32 in Keras
    assert [r["batch/learning_rate"] for r in batches] == pytest.approx(expected, rel=1e-6)
    assert [r["epoch/epoch"] for r in epochs] == [0, 1]
    assert [r["epoch/learning_rate"] for r in epochs] == pytest.approx([0.05, 0.025], rel=1e-6)
    assert {"epoch/val_loss", "epoch/val_mae", "epoch/mae"} <= set(epochs[0])
    assert epochs[1]["epoch/loss"] < batches[0]["batch/loss"]  # it learned something
    # the model summary, as text, with the first batch; parameters and optimizer as config
    (summary,) = run.media("model/summary")
    text = summary.text()
    assert 'Model: "tiny"' in text and "hidden" in text and "Trainable params: 49" in text
    assert run.media_steps("model/summary") == [batches[0]["_step"]]
    assert run.config["model/num_parameters"] == 4 * 8 + 8 + 8 + 1
    assert run.config["epochs"] == 2 and run.config["steps"] == 4
    assert run.config["optimizer"]["name"] == "sgd"
    assert run.config["optimizer"]["learning_rate"]["class_name"] == "ExponentialDecay"
    defs = {d["name"]: d["step_metric"] for d in run.metric_defs}
    assert defs["batch/*"] == "batch/batch_step" and defs["epoch/*"] == "epoch/epoch"
    assert run.summary["epoch/val_loss"] == epochs[-1]["epoch/val_loss"]
