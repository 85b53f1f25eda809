"""tracktui.Image: numpy arrays, PIL images, files and PNG/JPEG bytes, stored as PNG (or the given bytes)."""

from __future__ import annotations

import io
from typing import Any

from tracktui.store.media import MAX_MEDIA_BYTES, Item, too_big

from ..warn import warn_once
from .base import Media, is_path, need_pil, read_file, to_numpy

_KEEP_MODES = {"1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"}


class Image(Media):
    """An image: a numpy array (H×W, H×W×1, H×W×3, H×W×4; uint8 or floats in 0..1), a torch tensor (also
    C×H×W), a PIL image, a matplotlib figure, a file path, or PNG/JPEG bytes. Arrays and PIL images are
    stored as PNG."""

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
        if boxes is not None or masks is not None:
            warn_once("image-overlays", "tracktui.Image: boxes and masks are not stored (yet); the image is")
        self.caption = None if caption is None else str(caption)
        self._data: bytes | None = None
        self._raw: Any = None
        self._format = "png"
        self._cached: Item | None = None
        x = data_or_path
        if isinstance(x, Image):
            self._data, self._raw, self._format = x._data, x._raw, x._format
            self.width, self.height, self.mode = x.width, x.height, x.mode
            return
        if is_path(x):
            self._from_bytes(read_file(x, "Image"), mode)
        elif isinstance(x, (bytes, bytearray, memoryview)):
            self._from_bytes(bytes(x), mode)
        elif _is_pil(x):
            self._from_pil(x, mode)
        elif hasattr(x, "shape") or isinstance(x, (list, tuple)):
            self._from_array(x, mode)
        elif callable(getattr(x, "savefig", None)):  # a matplotlib figure, or pyplot itself
            buf = io.BytesIO()
            x.savefig(buf, format="png")
            self._from_bytes(buf.getvalue(), mode)
        else:
            raise TypeError(
                f"tracktui.Image takes a numpy array, a torch tensor, a PIL image, a file path or "
                f"PNG/JPEG bytes, not {type(x).__name__}"
            )

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

    def _from_array(self, x: Any, mode: str | None) -> None:
        a = to_numpy(x)
        np = __import__("numpy")
        if a.ndim == 3 and a.shape[0] in (1, 3, 4) and a.shape[-1] not in (1, 3, 4):
            a = a.transpose(1, 2, 0)  # C×H×W (torch's layout) to H×W×C
        if a.ndim == 3 and a.shape[-1] == 1:
            a = a[..., 0]
        if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] not in (3, 4)) or 0 in a.shape:
            raise ValueError(
                f"tracktui.Image: an array must be H×W, H×W×1, H×W×3 or H×W×4 (or C×H×W), got shape {a.shape}"
            )
        if a.nbytes > 4 * MAX_MEDIA_BYTES:
            raise ValueError(too_big("the image array", a.nbytes, 4 * MAX_MEDIA_BYTES))
        kind = a.dtype.kind
        if a.dtype == np.uint8:
            a = np.array(a, copy=True, order="C")
        elif kind == "b":
            a = a.astype(np.uint8) * 255
        elif kind == "f":
            lo, hi = (float(a.min()), float(a.max()))
            if not (lo >= 0.0 and hi <= 1.0):  # also False for NaN
                raise ValueError(
                    f"tracktui.Image: float pixels must lie in 0..1, got {lo:g}..{hi:g} "
                    f"(scale to 0..1 or pass uint8)"
                )
            a = (a.astype(np.float32) * 255.0 + 0.5).astype(np.uint8)
        elif kind in "iu":
            lo, hi = int(a.min()), int(a.max())
            if lo < 0 or hi > 255:
                raise ValueError(f"tracktui.Image: integer pixels must lie in 0..255, got {lo}..{hi}")
            a = a.astype(np.uint8)
        else:
            raise TypeError(f"tracktui.Image: pixels must be uint8 or floats in 0..1, got dtype {a.dtype}")
        self.height, self.width = int(a.shape[0]), int(a.shape[1])
        if mode is not None:
            img = need_pil("Image").fromarray(a).convert(mode)
            self._raw = img
            self.mode = img.mode
            return
        need_pil("Image")  # fail now, not in the writer, when Pillow is missing
        self._raw = a
        self.mode = {2: "L", 3: "RGB", 4: "RGBA"}[a.shape[-1] if a.ndim == 3 else 2]

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
            self._cached = Item("image", meta, data=self._data, raw=self._raw)
        return self._cached

    def to_pil(self) -> Any:
        """This image as a PIL image."""
        pil = need_pil("Image")
        if self._data is not None:
            return pil.open(io.BytesIO(self._data))
        return self._raw if _is_pil(self._raw) else pil.fromarray(self._raw)


def _is_pil(x: Any) -> bool:
    mod = type(x).__module__
    if not mod.startswith("PIL"):
        return any(c.__module__.startswith("PIL") for c in type(x).__mro__)
    return True
