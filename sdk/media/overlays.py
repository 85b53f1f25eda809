"""What is drawn on an image, as wandb takes it: masks (a class id per pixel), boxes (a position, a class id,
a caption and scores each) and class names (Classes).

They are checked when the Image is built (a ValueError names the mask or box that does not fit the image),
stored with it (boxes and class names in the image's metadata, masks as PNG blobs) and read back as the same
structures (tracktui.media.read).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from tracktui.store.media import Item

from .base import Media, is_path, need_numpy, need_pil, read_file, to_numpy

BOX_KEYS = ("position", "domain", "class_id", "box_caption", "scores")


class Classes(Media):
    """Class ids and names: Classes([{"id": 0, "name": "cat"}, ...]); logged alone it is stored as its list."""

    _type = "classes"

    def __init__(self, class_set: Sequence[Mapping[str, Any]]):
        if isinstance(class_set, (str, bytes)) or not isinstance(class_set, Sequence):
            raise TypeError("tracktui.Classes takes a list of {'id': ..., 'name': ...} dicts")
        out = []
        for i, c in enumerate(class_set):
            if not isinstance(c, Mapping) or "id" not in c or "name" not in c:
                raise TypeError(f"tracktui.Classes: item {i} is not a dict with 'id' and 'name': {c!r:.60}")
            cid = c["id"] if isinstance(c["id"], str) else class_id(c["id"], f"tracktui.Classes: item {i}'s id")
            if not isinstance(c["name"], str):
                raise TypeError(f"tracktui.Classes: item {i}'s name must be a string, got {type(c['name']).__name__}")
            out.append({"id": cid, "name": c["name"]})
        self._class_set = out

    @property
    def class_set(self) -> list[dict[str, Any]]:
        """The classes as [{"id": ..., "name": ...}, ...]."""
        return [dict(c) for c in self._class_set]

    def _item(self) -> Item:
        return Item("classes", {"class_set": self.class_set, "count": len(self._class_set)})

    def _ref(self) -> dict[str, Any]:
        return {"_type": "classes", "class_set": self.class_set}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Classes) and self._class_set == other._class_set

    __hash__ = None  # type: ignore[assignment]  # equal by value, like wandb's


class ImageMask:
    """One named mask, as wandb.data_types.ImageMask: {"mask_data": H×W ints or "path": file,
    "class_labels": {id: name}}; Image(masks={key: ImageMask(...)}) takes it like the plain dict."""

    def __init__(self, val: Mapping[str, Any], key: str = ""):
        if not isinstance(val, Mapping):
            raise TypeError(f"tracktui.ImageMask takes a dict, not {type(val).__name__}")
        self._val = dict(val)
        self._key = key


class BoundingBoxes2D:
    """One named set of boxes, as wandb.data_types.BoundingBoxes2D: {"box_data": [...], "class_labels": {...}};
    Image(boxes={key: BoundingBoxes2D(...)}) takes it like the plain dict."""

    def __init__(self, val: Mapping[str, Any], key: str = ""):
        if not isinstance(val, Mapping):
            raise TypeError(f"tracktui.BoundingBoxes2D takes a dict, not {type(val).__name__}")
        self._val = dict(val)
        self._key = key


def _number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _plain(v: Any) -> int | float:
    """A JSON number from an int, float or numpy scalar, keeping int as int."""
    return int(v) if isinstance(v, numbers.Integral) else float(v)


def class_id(v: Any, where: str) -> int:
    """An integer class id (numpy ints and whole floats accepted)."""
    if isinstance(v, bool) or not _number(v) or (not isinstance(v, numbers.Integral) and not float(v).is_integer()):
        raise TypeError(f"{where} must be an integer class id, got {v!r:.40}")
    return int(v)


def class_labels(labels: Any, where: str) -> dict[int, str]:
    """{id: name} checked: integer ids, string names."""
    if not isinstance(labels, Mapping):
        raise TypeError(f"{where}: class_labels must be a dict of integer ids to names, not {type(labels).__name__}")
    out = {}
    for k, v in labels.items():
        if not isinstance(v, str):
            raise TypeError(f"{where}: class_labels must map integer ids to strings, got {k!r}: {v!r:.40}")
        out[class_id(k, f"{where}: a class_labels key")] = v
    return out


def _named(kind: str, given: Any, wrapper: type) -> dict[str, dict[str, Any]]:
    if not isinstance(given, Mapping):
        raise TypeError(f"tracktui.Image: {kind} must be a dict of named sets, e.g. {{'predictions': {{...}}}}")
    out = {}
    for name, val in given.items():
        if isinstance(val, wrapper):
            val = val._val
        if not isinstance(val, Mapping):
            raise TypeError(f"tracktui.Image: {kind}[{name!r}] must be a dict, not {type(val).__name__}")
        out[str(name)] = dict(val)
    return out


# ---------------------------------------------------------------- masks


def masks_from(given: Any, width: int, height: int) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The masks of an image: ({name: H×W uint8 array}, {name: {"class_labels": {id: name}}}) for the store."""
    np = need_numpy("Image masks")
    raw: dict[str, Any] = {}
    meta: dict[str, dict[str, Any]] = {}
    for name, val in _named("masks", given, ImageMask).items():
        where = f"tracktui.Image: mask {name!r}"
        if "mask_data" in val:
            data = val["mask_data"]
            if is_path(data) or not (hasattr(data, "shape") or isinstance(data, (list, tuple))):
                raise TypeError(f"{where}: mask_data must be an H×W array of class ids, not {type(data).__name__}")
            a = to_numpy(data)
        elif "path" in val:
            a = _mask_file(val["path"], where)
        else:
            raise TypeError(f"{where} needs 'mask_data' (an H×W array of class ids) or 'path' (a mask image)")
        if a.ndim != 2:
            raise ValueError(f"{where}: mask_data must be 2-D (H×W class ids), got shape {tuple(a.shape)}")
        if a.shape != (height, width):
            raise ValueError(
                f"{where} is {a.shape[0]}×{a.shape[1]} (H×W) but the image is {height}×{width}; "
                f"a mask holds one class id per pixel of the image"
            )
        raw[name] = _mask_ids(a, np, where)
        labels = val.get("class_labels")
        if labels is None:  # wandb's default: class_<id> for every id in the mask
            labels = {int(c): f"class_{int(c)}" for c in np.unique(raw[name])}
        meta[name] = {"class_labels": class_labels(labels, where)}
    return raw, meta


def _mask_file(path: Any, where: str) -> Any:
    import io

    import numpy as np

    if not is_path(path):
        raise TypeError(f"{where}: path must be a file path, not {type(path).__name__}")
    try:
        img = need_pil("Image").open(io.BytesIO(read_file(path, "Image mask")))
        img.load()
    except ValueError:
        raise
    except Exception as e:  # noqa: BLE001 - Pillow raises several types for unreadable files
        raise ValueError(f"{where}: {str(path)!r} is not an image Pillow can read ({e})") from e
    if img.mode not in ("1", "L", "P", "I", "I;16"):
        raise ValueError(f"{where}: {str(path)!r} has {img.mode} pixels; a mask file holds one class id per pixel "
                         f"(mode L or P)")
    return np.asarray(img)


def _mask_ids(a: Any, np: Any, where: str) -> Any:
    kind = a.dtype.kind
    if kind == "b":
        return a.astype(np.uint8)
    if kind not in "iuf":
        raise TypeError(f"{where}: mask_data must hold integer class ids, got dtype {a.dtype}")
    if a.size:
        lo, hi = a.min(), a.max()
        if not (lo >= 0 and hi <= 255):  # also False for NaN
            raise ValueError(f"{where}: class ids must lie in 0..255, got {lo}..{hi}")
        if kind == "f" and not np.array_equal(a, np.floor(a)):
            raise ValueError(f"{where}: mask_data holds fractions; a mask holds integer class ids")
    return np.array(a, dtype=np.uint8, order="C", copy=True)  # the caller may reuse its buffer after log()


# ---------------------------------------------------------------- boxes


def boxes_from(given: Any, width: int, height: int) -> dict[str, dict[str, Any]]:
    """The boxes of an image, checked against its size, as JSON-ready {name: {"box_data", "class_labels"}}."""
    out = {}
    for name, val in _named("boxes", given, BoundingBoxes2D).items():
        where = f"tracktui.Image: boxes {name!r}"
        data = val.get("box_data")
        if not isinstance(data, (list, tuple)):
            raise TypeError(f"{where} needs 'box_data', a list of boxes")
        boxes = [_box(b, f"{where}, box {i}", width, height) for i, b in enumerate(data)]
        labels = val.get("class_labels")
        if labels is None:  # wandb's default: class_<id> for every id used
            labels = {c: f"class_{c}" for c in sorted({b["class_id"] for b in boxes})}
        out[name] = {"box_data": boxes, "class_labels": class_labels(labels, where)}
    return out


def _box(b: Any, where: str, width: int, height: int) -> dict[str, Any]:
    if not isinstance(b, Mapping):
        raise TypeError(f"{where} must be a dict, not {type(b).__name__}")
    pos = b.get("position")
    form = "either {'minX', 'maxX', 'minY', 'maxY'} or {'middle': [x, y], 'width', 'height'}"
    if not isinstance(pos, Mapping):
        raise TypeError(f"{where} needs a position: {form}")
    if all(_number(pos.get(k)) for k in ("minX", "maxX", "minY", "maxY")):
        position: dict[str, Any] = {k: _plain(pos[k]) for k in ("minX", "maxX", "minY", "maxY")}
    elif (isinstance(pos.get("middle"), (list, tuple)) or hasattr(pos.get("middle"), "tolist")) and \
            len(pos["middle"]) == 2 and all(_number(v) for v in list(pos["middle"])) and \
            _number(pos.get("width")) and _number(pos.get("height")):
        position = {"middle": [_plain(v) for v in list(pos["middle"])], "width": _plain(pos["width"]),
                    "height": _plain(pos["height"])}
    else:
        raise TypeError(f"{where}: position must be {form}, with numbers; got {dict(pos)!r:.120}")
    domain = b.get("domain")
    if domain not in (None, "pixel"):
        raise ValueError(f"{where}: domain must be 'pixel' or left out (fractions of the image), got {domain!r:.40}")
    if "class_id" not in b:
        raise TypeError(f"{where} needs a class_id (an integer)")
    box: dict[str, Any] = {"position": position, "class_id": class_id(b["class_id"], f"{where}: class_id")}
    if domain is not None:
        box["domain"] = domain
    if b.get("box_caption") is not None:
        if not isinstance(b["box_caption"], str):
            raise TypeError(f"{where}: box_caption must be a string, not {type(b['box_caption']).__name__}")
        box["box_caption"] = b["box_caption"]
    if b.get("scores") is not None:
        scores = b["scores"]
        if not isinstance(scores, Mapping):
            raise TypeError(f"{where}: scores must be a dict of names to numbers")
        for k, v in scores.items():
            if not isinstance(k, str) or not _number(v):
                raise TypeError(f"{where}: scores must map names (strings) to numbers, got {k!r}: {v!r:.40}")
        box["scores"] = {k: _plain(v) for k, v in scores.items()}
    x0, y0, x1, y1 = box_pixels(box, width, height)
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        raise ValueError(f"{where}: the position is not finite: {position}")
    if x1 < x0 or y1 < y0:
        raise ValueError(f"{where} has a negative width or height: {position}")
    if x1 < 0 or y1 < 0 or x0 > width or y0 > height:
        scale = "pixels (domain='pixel')" if domain == "pixel" else "fractions of the image (0..1)"
        raise ValueError(
            f"{where} lies outside the {width}×{height} image: {position} read as {scale}"
            + ("; pixel coordinates need domain='pixel'" if domain is None and max(x1, y1) > 1 else "")
        )
    return box


def box_pixels(box: Mapping[str, Any], width: int, height: int) -> tuple[float, float, float, float]:
    """A stored box as (x0, y0, x1, y1) in the image's pixels (fractions scaled by the image's size)."""
    p = box["position"]
    if "middle" in p:
        mx, my = p["middle"]
        x0, x1 = mx - p["width"] / 2, mx + p["width"] / 2
        y0, y1 = my - p["height"] / 2, my + p["height"] / 2
    else:
        x0, x1, y0, y1 = p["minX"], p["maxX"], p["minY"], p["maxY"]
    if box.get("domain") != "pixel":
        x0, x1, y0, y1 = x0 * width, x1 * width, y0 * height, y1 * height
    return float(x0), float(y0), float(x1), float(y1)


# ---------------------------------------------------------------- classes of an image


def merged_classes(boxes: Mapping[str, Any], masks: Mapping[str, Any], classes: Any) -> list[dict[str, Any]]:
    """Every class an image names, as wandb merges them: box labels, then mask labels, then classes=."""
    total: dict[Any, str] = {}
    for sets in (boxes, masks):
        for val in sets.values():
            total.update(val["class_labels"])
    if classes is not None:
        if not isinstance(classes, Classes):
            classes = Classes(classes)
        total.update({c["id"]: c["name"] for c in classes._class_set})
    return [{"id": k, "name": v} for k, v in total.items()]
