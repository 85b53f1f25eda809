"""tracktui.Image: numpy arrays, tensors, PIL images, figures, files and PNG/JPEG bytes, stored as PNG (or the given
bytes), with the masks, boxes and classes drawn on it (see overlays.py)."""

from __future__ import annotations

import copy
import io
from typing import Any

from tracktui.store.media import MAX_MEDIA_BYTES, Item, too_big

from ..warn import warn_once
from .base import Media, is_path, need_pil, read_file, to_numpy
from .overlays import boxes_from, masks_from, merged_classes

_KEEP_MODES = {"1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"}


class Image(Media):
    """An image, as wandb.Image takes it: a numpy array (H×W, H×W×3, H×W×4), a torch tensor (C×H×W), a PIL
    image, a matplotlib figure, a file path, or PNG/JPEG bytes; with masks, boxes and classes drawn on it.

    Pixels other than uint8 are rescaled as wandb does (normalize=True): values in 0..1 are multiplied by 255,
    values in -1..1 mapped onto 0..255, anything else clipped to 0..255, then truncated to integers. Arrays
    and PIL images are stored as PNG, PNG/JPEG files and bytes as given."""

    _type = "image"

    def __init__(
        self,
        data_or_path: Any,
        mode: str | None = None,
        caption: str | None = None,
        grouping: int | None = None,
        classes: Any = None,
        boxes: Any = None,
        masks: Any = None,
        file_type: str | None = None,
        normalize: bool = True,
    ):
        self.caption = None if caption is None else str(caption)
        self.grouping = grouping
        self._data: bytes | None = None
        self._raw: Any = None
        self._format = "png"
        self._cached: Item | None = None
        self._boxes: dict[str, dict[str, Any]] = {}
        self._masks: dict[str, dict[str, Any]] = {}
        self._mask_ids: dict[str, Any] = {}
        self._classes: list[dict[str, Any]] | None = None
        x = data_or_path
        if isinstance(x, Image):  # the pixels of another Image (its overlays are not copied, as in wandb)
            self._data, self._raw, self._format = x._data, x._raw, x._format
            self.width, self.height, self.mode = x.width, x.height, x.mode
            self._classes = x._classes
            self.caption = x.caption if caption is None else self.caption
            self.grouping = x.grouping if grouping is None else grouping
        elif is_path(x):
            self._from_bytes(read_file(x, "Image"), mode)
        elif isinstance(x, (bytes, bytearray, memoryview)):
            self._from_bytes(bytes(x), mode)
        elif _is_pil(x):
            self._from_pil(x, mode)
        elif figure_of(x) is not None:
            buf = io.BytesIO()
            figure_of(x).savefig(buf, format="png")
            self._from_bytes(buf.getvalue(), mode)
        elif _is_torch(x):
            self._from_array(x, mode, normalize, torch=True)
        elif hasattr(x, "shape") or isinstance(x, (list, tuple)):
            self._from_array(x, mode, normalize)
        else:
            raise TypeError(
                f"tracktui.Image takes a numpy array, a torch tensor, a PIL image, a file path or "
                f"PNG/JPEG bytes, not {type(x).__name__}"
            )
        if boxes or masks or classes is not None:
            self._set_overlays(boxes, masks, classes)

    # ------------------------------------------------------------ builders

    def _from_bytes(self, data: bytes, mode: str | None) -> None:
        pil = need_pil("Image")
        if len(data) > MAX_MEDIA_BYTES:
            raise ValueError(too_big("the image", len(data)))
        try:
            img = pil.open(io.BytesIO(data))
            fmt = (img.format or "").upper()
        except Exception as e:  # noqa: BLE001 - Pillow raises several types for unreadable data
            raise ValueError(f"tracktui.Image: the bytes are not an image Pillow can read ({e})") from e
        if fmt in ("PNG", "JPEG") and mode is None:
            self._data = data
            self._format = fmt.lower()
            self.width, self.height = img.size
            self.mode = img.mode
            return
        img.load()
        self._from_pil(img, mode)

    def _from_pil(self, img: Any, mode: str | None) -> None:
        if mode is not None:
            img = img.convert(mode)
        elif img.mode not in _KEEP_MODES:
            img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
        else:
            img = img.copy()
        self._raw = img
        self.width, self.height = img.size
        self.mode = img.mode

    def _from_array(self, x: Any, mode: str | None, normalize: bool, torch: bool = False) -> None:
        if torch and str(getattr(x, "dtype", "")) == "torch.uint8":
            x = x.float()  # wandb rescales uint8 tensors like float ones (a 0/1 tensor becomes 0/255)
        a = to_numpy(x)
        if torch:
            if a.ndim == 4 and a.shape[0] == 1:
                a = a[0]  # a batch of one
            if a.ndim == 3:
                a = a.transpose(1, 2, 0)  # tensors are always C×H×W, as in wandb
        if a.ndim > 2:
            a = a.squeeze()  # trivial dimensions go, as in wandb (H×W×1, 1×H×W)
        if not torch and a.ndim == 3 and a.shape[0] in (3, 4) and a.shape[-1] not in (3, 4):
            a = a.transpose(1, 2, 0)  # C×H×W arrays too (wandb takes only H×W×C from numpy)
        if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] not in (3, 4)) or 0 in a.shape:
            layout = "C×H×W" if torch else "H×W, H×W×1, H×W×3 or H×W×4 (or C×H×W)"
            raise ValueError(f"tracktui.Image: an array must be {layout}, got shape {tuple(a.shape)}")
        if a.nbytes > 4 * MAX_MEDIA_BYTES:
            raise ValueError(too_big("the image array", a.nbytes, 4 * MAX_MEDIA_BYTES))
        a = to_uint8(a, normalize)
        self.height, self.width = int(a.shape[0]), int(a.shape[1])
        if mode is not None:
            img = need_pil("Image").fromarray(a).convert(mode)
            self._raw = img
            self.mode = img.mode
            return
        need_pil("Image")  # fail now, not in the writer, when Pillow is missing
        self._raw = a
        self.mode = {2: "L", 3: "RGB", 4: "RGBA"}[a.shape[-1] if a.ndim == 3 else 2]

    def _set_overlays(self, boxes: Any, masks: Any, classes: Any) -> None:
        """Check masks and boxes against this image's size (ValueError when they do not fit)."""
        if boxes:
            self._boxes = boxes_from(boxes, self.width, self.height)
        if masks:
            self._mask_ids, self._masks = masks_from(masks, self.width, self.height)
        self._classes = merged_classes(self._boxes, self._masks, classes) or self._classes

    # ------------------------------------------------------------ what it holds

    @property
    def boxes(self) -> dict[str, dict[str, Any]]:
        """The boxes by set name: {"box_data": [...], "class_labels": {id: name}}."""
        return copy.deepcopy(self._boxes)

    @property
    def masks(self) -> dict[str, dict[str, Any]]:
        """The masks by set name: {"mask_data": H×W uint8 array, "class_labels": {id: name}}."""
        return {k: {"mask_data": self._mask_ids[k].copy(), **copy.deepcopy(v)} for k, v in self._masks.items()}

    @property
    def classes(self) -> list[dict[str, Any]] | None:
        """Every class the image names ([{"id", "name"}]: box and mask labels, then classes=), or None."""
        return copy.deepcopy(self._classes)

    @property
    def image(self) -> Any:
        """The picture as a PIL image (as wandb.Image.image)."""
        return self.to_pil()

    def __eq__(self, other: object) -> bool:
        """wandb's equality: the same pixels, size, caption, grouping and classes."""
        if not isinstance(other, Image):
            return False
        if (self.grouping, self.caption, self.width, self.height, self._classes) != (
                other.grouping, other.caption, other.width, other.height, other._classes):
            return False
        if self._data is not None and self._data == other._data:
            return True
        import numpy as np

        return bool(np.array_equal(np.asarray(self.to_pil()), np.asarray(other.to_pil())))

    __hash__ = None  # type: ignore[assignment]  # equal by value, like wandb's

    # ------------------------------------------------------------ the store

    def _item(self) -> Item:
        if self._cached is None or self._cached.error is not None:
            meta: dict[str, Any] = {
                "width": self.width,
                "height": self.height,
                "mode": self.mode,
                "format": self._format,
            }
            if self.caption is not None:
                meta["caption"] = self.caption
            if self.grouping is not None:
                meta["grouping"] = self.grouping
            if self._boxes:
                meta["boxes"] = copy.deepcopy(self._boxes)
            if self._masks:
                meta["masks"] = copy.deepcopy(self._masks)  # the writer adds each mask's sha256
            if self._classes:
                meta["classes"] = copy.deepcopy(self._classes)
            self._cached = Item("image", meta, data=self._data, raw=self._raw, masks=dict(self._mask_ids) or None)
        return self._cached

    def to_pil(self) -> Any:
        """This image as a PIL image."""
        pil = need_pil("Image")
        if self._data is not None:
            return pil.open(io.BytesIO(self._data))
        return self._raw if _is_pil(self._raw) else pil.fromarray(self._raw)


def to_uint8(a: Any, normalize: bool = True) -> Any:
    """Pixels as uint8, as wandb.Image makes them: with normalize, 0..1 times 255, -1..1 onto 0..255, anything
    else clipped to 0..255, each then truncated (NaN becomes 0); without, cast as numpy casts."""
    import numpy as np

    kind = a.dtype.kind
    if kind not in "biuf":
        raise TypeError(f"tracktui.Image: pixels must be numbers (uint8, ints or floats), got dtype {a.dtype}")
    if kind == "b":
        a = a.astype(np.uint8)
    nan = kind == "f" and bool(np.isnan(a).any())
    if nan:
        a = np.where(np.isnan(a), a.dtype.type(0), a)
    if not normalize:
        if kind == "f":
            a = np.clip(a, -(2.0**62), 2.0**62).astype(np.int64)
        return np.ascontiguousarray(a.astype(np.uint8))
    if a.dtype == np.int8:
        a = a.astype(np.int16)  # room for 255 below
    lo, hi = a.min(), a.max()
    if lo < 0 or hi > 255:
        warn_once("image-range", "tracktui.Image: pixel values outside 0..255 are rescaled or clipped into it "
                                 "(as wandb does; pass uint8 or floats in 0..1 to avoid it)")
    if nan:  # wandb's min and max are NaN then: it clips
        out = a.clip(0, 255)
    elif 0 <= lo and hi <= 1:
        out = a * 255
    elif -1 <= lo and hi <= 1:
        out = 127.5 * (a + 1)  # wandb's 255 * 0.5 * (data + 1)
    else:
        out = a.clip(0, 255)
    return np.ascontiguousarray(out.astype(np.uint8))


def figure_of(x: Any) -> Any:
    """The matplotlib figure x is (a Figure, pyplot itself: its current figure, an Axes: its figure), or None."""
    mod = getattr(type(x), "__module__", "") or ""
    if getattr(x, "__name__", None) == "matplotlib.pyplot":
        return x.gcf()
    if not mod.startswith("matplotlib"):
        return None
    if callable(getattr(x, "savefig", None)):
        return x
    fig = getattr(x, "figure", None)
    return fig if callable(getattr(fig, "savefig", None)) else None


def _is_torch(x: Any) -> bool:
    return type(x).__module__.startswith("torch") and hasattr(x, "detach") and hasattr(x, "permute")


def _is_pil(x: Any) -> bool:
    mod = type(x).__module__
    if not mod.startswith("PIL"):
        return any(c.__module__.startswith("PIL") for c in type(x).__mro__)
    return True
