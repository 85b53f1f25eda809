"""Masks, boxes and classes on images, as wandb takes them: checked when built, stored with the image (boxes in
its metadata, masks as PNG blobs), read back exactly through tracktui.Api, in galleries and table cells too."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tracktui
from PIL import Image as PILImage
from tracktui.media import BoundingBoxes2D, ImageMask
from tracktui.store import Reader

H, W = 40, 60
LABELS = {0: "background", 1: "cat", 2: "dog"}


def _picture() -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W]
    return np.stack([x * 4, y * 6, (x + y) * 2], axis=-1).astype(np.uint8)


def _square_mask() -> np.ndarray:
    m = np.zeros((H, W), dtype=np.int64)
    m[10:30, 20:40] = 1
    m[0:5, 0:5] = 2
    return m


def _boxes() -> dict[str, Any]:
    return {
        "predictions": {
            "box_data": [
                {"position": {"minX": 0.1, "maxX": 0.5, "minY": 0.25, "maxY": 0.75}, "class_id": 1,
                 "box_caption": "cat 0.92", "scores": {"score": 0.92, "iou": 0.7}},
                {"position": {"middle": [45, 20], "width": 20, "height": 10}, "domain": "pixel", "class_id": 2,
                 "box_caption": "dog 0.31", "scores": {"score": 0.31, "iou": 0.2}},
            ],
            "class_labels": {1: "cat", 2: "dog"},
        },
        "ground_truth": {"box_data": [{"position": {"minX": 18, "maxX": 42, "minY": 8, "maxY": 32},
                                       "domain": "pixel", "class_id": 1}]},
    }


def test_masks_boxes_and_classes_read_back_exactly(read: Any, run: Any) -> None:
    mask = _square_mask()
    boxes = _boxes()
    img = tracktui.Image(_picture(), caption="sample", masks={"predictions": {"mask_data": mask,
                                                                          "class_labels": LABELS}},
                         boxes=boxes, classes=tracktui.Classes([{"id": 3, "name": "bird"}]))
    run.log({"det": img, "loss": 0.5})
    api = read(run)
    item = api.image("det", format="item")
    assert np.array_equal(item.numpy(), _picture())
    back = item.masks
    assert list(back) == ["predictions"] and back["predictions"]["class_labels"] == LABELS
    assert back["predictions"]["mask_data"].shape == (H, W)
    assert np.array_equal(back["predictions"]["mask_data"], mask)
    expected = _boxes()
    expected["ground_truth"]["class_labels"] = {1: "class_1"}  # wandb's default labels
    assert item.boxes == expected
    assert item.classes == [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}, {"id": 0, "name": "background"},
                            {"id": 3, "name": "bird"}]  # box labels, then mask labels, then classes=
    assert item.caption == "sample"
    assert api.history()[0]["loss"] == 0.5 and api.history()[0]["det"]["_type"] == "image"
    with Reader(api._dir) as r:  # the mask is a PNG blob of one class id a pixel
        sha = item.meta["masks"]["predictions"]["sha256"]
        png = PILImage.open(io.BytesIO(r._all("SELECT data FROM blobs WHERE sha256 = ?", (sha,))[0][0]))
        assert png.format == "PNG" and png.mode == "L"


def test_galleries_and_table_cells_keep_their_overlays(read: Any, run: Any, store: Path) -> None:
    mask = _square_mask()
    plain = tracktui.Image(_picture())
    drawn = tracktui.Image(_picture(), masks={"gt": {"mask_data": mask}}, boxes=_boxes())
    table = tracktui.Table(columns=["id", "image"], data=[[0, drawn], [1, plain]])
    run.log({"gallery": [plain, drawn], "table": table})
    run.log({"gallery": [drawn, drawn]})  # the same mask, stored once
    api = read(run)
    first = api.media("gallery", step=0)
    assert first[0].masks == {} and first[0].boxes == {} and first[0].classes is None
    assert np.array_equal(first[1].masks["gt"]["mask_data"], mask)
    assert first[1].masks["gt"]["class_labels"] == {0: "class_0", 1: "class_1", 2: "class_2"}
    cell = api.table("table")[0]["image"]
    assert cell.boxes == first[1].boxes and np.array_equal(cell.masks["gt"]["mask_data"], mask)
    assert api.table("table")[1]["image"].masks == {}
    with Reader(store) as r:
        shas = {i.meta["masks"]["gt"]["sha256"] for i in api.media("gallery", step=1)}
        assert len(shas) == 1 and r._all("SELECT count(*) FROM blobs WHERE sha256 = ?", (shas.pop(),))[0][0] == 1


def test_mask_sources_and_wrappers(tmp_path: Path, read: Any, run: Any) -> None:
    mask = _square_mask().astype(np.uint8)
    path = tmp_path / "mask.png"
    PILImage.fromarray(mask).save(path)
    sources = {
        "path": {"path": str(path), "class_labels": LABELS},
        "bool": {"mask_data": mask == 1},
        "floats": {"mask_data": mask.astype(np.float32)},
        "wrapped": ImageMask({"mask_data": mask, "class_labels": LABELS}, "wrapped"),
    }
    torch = None
    try:
        import torch
    except ImportError:
        pass
    if torch is not None:
        sources["tensor"] = {"mask_data": torch.from_numpy(mask)}
    img = tracktui.Image(_picture(), masks=sources,
                         boxes={"w": BoundingBoxes2D({"box_data": _boxes()["predictions"]["box_data"]}, "w")})
    run.log({"m": img})
    item = read(run).image("m", format="item")
    masks = item.masks
    assert set(masks) == set(sources)
    for name in sources:
        want = (mask == 1).astype(np.uint8) if name == "bool" else mask
        assert np.array_equal(masks[name]["mask_data"], want), name
    assert item.boxes["w"]["class_labels"] == {1: "class_1", 2: "class_2"}


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"masks": {"p": {"mask_data": np.zeros((H, W + 1), dtype=np.uint8)}}}, ValueError, "but the image is 40×60"),
        ({"masks": {"p": {"mask_data": np.zeros((H, W, 3), dtype=np.uint8)}}}, ValueError, "2-D"),
        ({"masks": {"p": {"mask_data": np.full((H, W), 256)}}}, ValueError, "0..255"),
        ({"masks": {"p": {"mask_data": np.full((H, W), 0.5)}}}, ValueError, "integer class ids"),
        ({"masks": {"p": {"class_labels": LABELS}}}, TypeError, "mask_data"),
        ({"masks": {"p": {"mask_data": np.zeros((H, W)), "class_labels": {"cat": 1}}}}, TypeError, "class_labels"),
        ({"masks": [np.zeros((H, W))]}, TypeError, "dict of named sets"),
        ({"boxes": {"p": {"box_data": [{"position": {"minX": 1.2, "maxX": 1.5, "minY": 0, "maxY": 0.5},
                                        "class_id": 0}]}}}, ValueError, "outside the 60×40 image"),
        ({"boxes": {"p": {"box_data": [{"position": {"minX": 70, "maxX": 90, "minY": 5, "maxY": 9},
                                        "class_id": 0}]}}}, ValueError, "need domain='pixel'"),
        ({"boxes": {"p": {"box_data": [{"position": {"middle": [10, 50], "width": 4, "height": 4},
                                        "domain": "pixel", "class_id": 0}]}}}, ValueError, "outside"),
        ({"boxes": {"p": {"box_data": [{"position": {"minX": 0.5, "maxX": 0.2, "minY": 0, "maxY": 0.5},
                                        "class_id": 0}]}}}, ValueError, "negative width"),
        ({"boxes": {"p": {"box_data": [{"position": {"minX": 0.1, "maxX": 0.2}, "class_id": 0}]}}}, TypeError,
         "position must be"),
        ({"boxes": {"p": {"box_data": [{"position": {"minX": 0, "maxX": 0.2, "minY": 0, "maxY": 0.5}}]}}},
         TypeError, "class_id"),
        ({"boxes": {"p": {"box_data": [{"position": {"minX": 0, "maxX": 0.2, "minY": 0, "maxY": 0.5},
                                        "class_id": 0, "scores": {"s": "high"}}]}}}, TypeError, "scores"),
        ({"boxes": {"p": {"box_data": [{"position": {"minX": 0, "maxX": 0.2, "minY": 0, "maxY": 0.5},
                                        "class_id": 0, "domain": "percent"}]}}}, ValueError, "domain"),
        ({"boxes": {"p": {"box_data": [{"position": {"minX": 0, "maxX": 0.2, "minY": 0, "maxY": 0.5},
                                        "class_id": 0.5}]}}}, TypeError, "integer class id"),
        ({"boxes": {"p": {"box_data": "boxes"}}}, TypeError, "box_data"),
    ],
)
def test_overlays_that_do_not_fit_are_refused_when_built(kwargs: dict[str, Any], error: type[Exception],
                                                        words: str) -> None:
    with pytest.raises(error) as info:
        tracktui.Image(_picture(), **kwargs)
    assert words in str(info.value)
    assert "'p'" in str(info.value) or "named sets" in str(info.value)  # the message names the set


def test_a_box_partly_outside_is_kept(read: Any, run: Any) -> None:
    box = {"position": {"minX": -0.1, "maxX": 0.3, "minY": 0.9, "maxY": 1.2}, "class_id": 4,
           "scores": {"score": np.float32(0.5)}}
    run.log({"edge": tracktui.Image(_picture(), boxes={"p": {"box_data": [box]}})})
    back = read(run).image("edge", format="item").boxes["p"]["box_data"][0]
    assert back["position"] == box["position"] and back["scores"] == {"score": 0.5} and back["class_id"] == 4


def test_a_mask_reused_after_log_is_stored_as_it_was(read: Any, run: Any) -> None:
    mask = _square_mask().astype(np.uint8)
    original = mask.copy()
    run.log({"m": tracktui.Image(_picture(), masks={"p": {"mask_data": mask}})})
    mask[:] = 2  # a training loop reusing its buffer before the writer encodes
    assert np.array_equal(read(run).image("m", format="item").masks["p"]["mask_data"], original)
