"""A segmentation-style wandb script (predicted and true masks with class labels, float images) runs unchanged
but for its import, and its masks read back exactly through tracktui.Api."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tracktui

from tests.conftest import run_script

SCRIPT = '''
import json
import sys

import numpy as np
import tracktui as wandb

labels = {0: "background", 1: "square", 2: "disc"}
run = wandb.init(project="segmentation", config={"classes": len(labels)})
rng = np.random.default_rng(1)
h, w = 32, 48
yy, xx = np.mgrid[0:h, 0:w]
for step in range(4):
    image = rng.random((h, w, 3)).astype(np.float32)  # floats in 0..1, as a model's input
    truth = np.zeros((h, w), dtype=np.uint8)
    truth[8:24, 6 + step:22 + step] = 1
    truth[(yy - 16) ** 2 + (xx - 36) ** 2 < 36] = 2
    noise = rng.random((h, w)) < 0.05
    prediction = np.where(noise, rng.integers(0, 3, size=(h, w)), truth).astype(np.int64)
    iou = float(((prediction == truth) & (truth > 0)).sum() / ((prediction > 0) | (truth > 0)).sum())
    wandb.log({
        "segmentation": wandb.Image(image, masks={
            "predictions": {"mask_data": prediction, "class_labels": labels},
            "ground_truth": {"mask_data": truth, "class_labels": labels},
        }),
        "val/iou": iou,
    })
    np.savez(f"{sys.argv[1]}/step{step}.npz", image=image, truth=truth, prediction=prediction)
wandb.finish()
with open(sys.argv[1] + "/run.json", "w") as f:
    json.dump({"run": run.id}, f)
'''


def test_segmentation_script_runs_unchanged_and_masks_read_back(store_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    done = run_script(SCRIPT, store_dir, str(out), timeout=240, env={"PYTHONWARNINGS": "default"})
    assert "Warning" not in done.stderr, done.stderr
    api = tracktui.Api(store_dir).run(json.loads((out / "run.json").read_text())["run"])
    assert api.state == "finished" and api.media_steps("segmentation") == [0, 1, 2, 3]
    labels = {0: "background", 1: "square", 2: "disc"}
    for step in range(4):
        want = np.load(out / f"step{step}.npz")
        item = api.media("segmentation", step=step)[0]
        masks = item.masks
        assert set(masks) == {"predictions", "ground_truth"}
        assert np.array_equal(masks["predictions"]["mask_data"], want["prediction"])
        assert np.array_equal(masks["ground_truth"]["mask_data"], want["truth"])
        assert masks["predictions"]["class_labels"] == labels and masks["ground_truth"]["class_labels"] == labels
        assert np.array_equal(item.numpy(), (want["image"] * 255).astype(np.uint8))  # wandb's rescale
        assert item.classes == [{"id": i, "name": n} for i, n in labels.items()]
    assert len(api.history(keys=["val/iou"])) == 4
