"""The base of every media type, and the small conversions they share."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tracktui.store.media import MAX_MEDIA_BYTES, Item, too_big


class Media:
    """Something run.log() stores as media: it builds the store's Item and the reference history keeps."""

    _type = "media"

    def _item(self) -> Item:
        """The store item (bytes or raw data plus metadata) for this object."""
        raise NotImplementedError

    def _ref(self) -> dict[str, Any]:
        """The small JSON reference kept in history and the summary."""
        item = self._item()
        return {"_type": item.type, **{k: v for k, v in item.meta.items() if _small(v)}}

    def __repr__(self) -> str:
        ref = self._ref()
        ref.pop("_type", None)
        inner = ", ".join(f"{k}={v!r}" for k, v in ref.items())
        return f"<tracktui.{type(self).__name__} {inner}>"


def _small(v: Any) -> bool:
    return isinstance(v, (int, float, bool, type(None))) or (isinstance(v, str) and len(v) <= 200)


def need_numpy(what: str) -> Any:
    """numpy, or an ImportError that says how to get it."""
    try:
        import numpy as np
    except ImportError as e:  # pragma: no cover - numpy is in the media extra
        raise ImportError(f"tracktui.{what} needs numpy: pip install 'tracktui[media]'") from e
    return np


def need_pil(what: str) -> Any:
    """PIL.Image, or an ImportError that says how to get it."""
    try:
        from PIL import Image as PILImage
    except ImportError as e:
        raise ImportError(f"tracktui.{what} needs Pillow: pip install 'tracktui[media]'") from e
    return PILImage


def is_path(x: Any) -> bool:
    """Whether x names a file (a str or PathLike)."""
    return isinstance(x, (str, os.PathLike))


def read_file(path: str | os.PathLike[str], what: str) -> bytes:
    """The bytes of a file given to a media type; errors name the type and the path."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"tracktui.{what}: {str(p)!r} is not a file")
    size = p.stat().st_size
    if size > MAX_MEDIA_BYTES:
        raise ValueError(too_big(f"{str(p)!r}", size))
    return p.read_bytes()


def to_numpy(x: Any) -> Any:
    """A numpy array from an array, a torch tensor (detached, on the CPU) or a nested sequence."""
    np = need_numpy("media")
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu()
        if str(getattr(x, "dtype", "")) == "torch.bfloat16":
            x = x.float()
        x = x.numpy()
    return np.asarray(x)
