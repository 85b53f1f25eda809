"""Media and objects: what run.log() stores besides numbers and strings.

tracktui.values asks is_media() (importing this module when a value could be media): log() then hands media
objects (and plain lists / arrays of numbers, which become histograms as in wandb) to store(), which queues
them for the writer thread and returns the small reference that history and the summary keep.
"""

from __future__ import annotations

import importlib.util
import numbers
from typing import Any

from tracktui.store import media as _store_media  # registers the "media" writer op
from tracktui.store.records import Media as MediaRecord

from ..warn import lost, warn_once
from .base import Media
from .histogram import Histogram
from .image import Image, figure_of
from .other import Audio, Html, Molecule, Object3D, Plotly, Text, Video, box3d, is_plotly_figure
from .overlays import BoundingBoxes2D, Classes, ImageMask
from .table import Table

__all__ = [
    "Media",
    "Image",
    "Table",
    "Histogram",
    "Audio",
    "Video",
    "Html",
    "Object3D",
    "Text",
    "Molecule",
    "Plotly",
    "box3d",
    "Classes",
    "ImageMask",
    "BoundingBoxes2D",
    "store",
    "is_media",
]

_HAVE_NUMPY: bool | None = None
BACKPRESSURE_TIMEOUT = 60.0  # seconds log() waits at most for the encoder when MAX_PENDING_BYTES is passed


def _have_numpy() -> bool:
    global _HAVE_NUMPY
    if _HAVE_NUMPY is None:
        _HAVE_NUMPY = importlib.util.find_spec("numpy") is not None
    return _HAVE_NUMPY


def _numbers_only(seq: Any) -> bool:
    return all(isinstance(x, numbers.Real) for x in seq)


def _figure(v: Any) -> bool:
    """A plotly figure or a matplotlib figure (or pyplot, or an Axes), which log() stores as media."""
    return is_plotly_figure(v) or figure_of(v) is not None


def is_media(v: Any) -> bool:
    """Whether log() hands v to store(): a media object, a list of them, a plotly or matplotlib figure, or a
    list/array of numbers."""
    if isinstance(v, Media):
        return True
    if isinstance(v, (list, tuple)):
        if not v:
            return False
        if isinstance(v[0], Media):
            return True
        return _have_numpy() and _numbers_only(v)
    ndim = getattr(v, "ndim", None)
    if isinstance(ndim, int) and ndim >= 1 and hasattr(v, "dtype"):
        size = v.numel() if callable(getattr(v, "numel", None)) else getattr(v, "size", 0)
        kind = getattr(v.dtype, "kind", None)
        is_number = kind in ("b", "i", "u", "f") or (kind is None and "complex" not in str(v.dtype))
        return isinstance(size, int) and size > 1 and is_number
    return _figure(v)


def _items(obj: Any) -> tuple[list[_store_media.Item], dict[str, Any]]:
    if not isinstance(obj, (Media, list, tuple)) and _figure(obj):
        # a plotly figure is stored as a Plotly, a matplotlib figure (or pyplot, or an Axes) as an Image
        obj = Plotly(obj) if is_plotly_figure(obj) else Image(obj)
    if isinstance(obj, Media):
        return [obj._item()], obj._ref()
    if isinstance(obj, (list, tuple)) and obj and isinstance(obj[0], Media):
        kinds = {type(o) for o in obj}
        if len(kinds) != 1:
            names = ", ".join(sorted(k.__name__ for k in kinds))
            raise TypeError(f"a gallery holds objects of one type, got {names}")
        items = [o._item() for o in obj]
        ref = dict(obj[0]._ref())
        ref["count"] = len(obj)
        captions = [it.meta.get("caption") for it in items]
        if any(c is not None for c in captions):
            ref["captions"] = captions
        ref.pop("caption", None)
        return items, ref
    h = Histogram(obj)
    return [h._item()], h._ref()


def store(run: Any, key: str, step: int, obj: Any) -> dict[str, Any] | None:
    """Queue obj (logged under key at step) for the writer; return its reference, or None to skip it."""
    try:
        items, ref = _items(obj)
    except Exception as e:  # noqa: BLE001 - log() never raises: say so once, keep the step's other keys
        lost(
            f"media:{key}:{type(e).__name__}",
            f"tracktui: the value logged under {key!r} could not be stored ({type(e).__name__}: {e}); "
            f"it was skipped, the other keys of the step were kept",
        )
        summary = getattr(run, "summary", None)
        if summary is not None and summary._data.get(key, 0) is None:
            summary._data.pop(key, None)  # log() put a placeholder there
        return None
    run._put(MediaRecord(run.id, key, step, items))
    if _store_media.count_pending(items):
        _backpressure(run)
    return ref


def _backpressure(run: Any) -> None:
    """Too many raw pixels wait for the encoder: let the writer catch up (bounded memory, nothing dropped)."""
    w = getattr(run, "_writer", None)
    if w is None or not w.alive:
        return  # records are written inline when the writer thread is gone
    w.wake()
    if not _store_media.wait_pending(BACKPRESSURE_TIMEOUT):
        warn_once("media-backpressure", "tracktui: the writer is slow to encode media; log() goes on waiting "
                                        "no longer (memory may grow)")

