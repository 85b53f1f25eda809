"""A detection-style wandb script (boxes in both position forms, scores, a Table of predictions) runs unchanged
but for its import, and its boxes read back exactly through tracktui.Api."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import tracktui

from tests.conftest import run_script

SCRIPT = '''
import json
import sys

import numpy as np
import tracktui as wandb

class_labels = {0: "person", 1: "car", 2: "road", 3: "building"}
class_set = wandb.Classes([{"name": name, "id": cid} for cid, name in class_labels.items()])

run = wandb.init(project="detection", config={"score_threshold": 0.25, "model": "toy-detector"})
rng = np.random.default_rng(0)
expected = []
for epoch in range(3):
    gallery = []
    table = wandb.Table(columns=["id", "image", "boxes"])
    for i in range(4):
        pixels = rng.integers(low=0, high=256, size=(60, 80, 3))
        predictions = []
        for j in range(3):
            x0, y0 = rng.uniform(0, 0.6, size=2)
            score = float(rng.uniform())
            predictions.append({
                "position": {"minX": x0, "maxX": x0 + 0.3, "minY": y0, "maxY": y0 + 0.3},
                "class_id": j,
                "box_caption": f"{class_labels[j]} {score:.2f}",
                "scores": {"score": score, "loss": float(rng.uniform(0, 3))},
            })
        predictions.append({
            "position": {"middle": [40, 30], "width": 20, "height": 10},
            "domain": "pixel",
            "class_id": 3,
            "box_caption": "a building",
            "scores": {"score": 0.5, "loss": 0.7},
        })
        ground_truth = [{"position": {"minX": 10, "maxX": 30, "minY": 5, "maxY": 25}, "domain": "pixel",
                         "class_id": 1}]
        boxes = {
            "predictions": {"box_data": predictions, "class_labels": class_labels},
            "ground_truth": {"box_data": ground_truth, "class_labels": class_labels},
        }
        image = wandb.Image(pixels, boxes=boxes, classes=class_set, caption=f"epoch {epoch} image {i}")
        gallery.append(image)
        table.add_data(i, image, len(predictions))
        expected.append({"epoch": epoch, "i": i, "boxes": boxes, "pixels": pixels.astype("uint8").tolist()})
    wandb.log({"predictions": gallery, "eval/table": table, "eval/mAP": 0.1 * epoch})
wandb.finish()

with open(sys.argv[1] + "/expected.json", "w") as f:
    json.dump({"run": run.id, "images": expected}, f)
'''


def _labels(boxes: dict[str, Any]) -> dict[str, Any]:
    """JSON turned the class ids into strings: back to ints."""
    return {name: {**val, "class_labels": {int(k): v for k, v in val["class_labels"].items()}}
            for name, val in boxes.items()}


def test_detection_script_runs_unchanged_and_boxes_read_back(store_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    done = run_script(SCRIPT, store_dir, str(out), timeout=240, env={"PYTHONWARNINGS": "default"})
    assert "Warning" not in done.stderr, done.stderr
    expected = json.loads((out / "expected.json").read_text())
    api = tracktui.Api(store_dir).run(expected["run"])
    assert api.state == "finished" and api.config["score_threshold"] == 0.25
    assert api.media_steps("predictions") == [0, 1, 2]
    assert [round(r["eval/mAP"], 6) for r in api.history(keys=["eval/mAP"])] == [0.0, 0.1, 0.2]
    for want in expected["images"]:
        item = api.media("predictions", step=want["epoch"])[want["i"]]
        assert item.boxes == _labels(want["boxes"])
        assert np.array_equal(item.numpy(), np.array(want["pixels"], dtype=np.uint8))
        assert item.caption == f"epoch {want['epoch']} image {want['i']}"
        assert item.classes == [{"id": i, "name": n} for i, n in enumerate(["person", "car", "road", "building"])]
        cell = api.table("eval/table", step=want["epoch"])[want["i"]]
        assert cell["boxes"] == 4 and cell["image"].boxes == item.boxes
