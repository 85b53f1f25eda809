"""What log() accepts: flattening of nested dicts and the normalisation of each value.

Every value becomes (value, kind, text) as the store keeps it (see tracktui.store.codec). Numbers of any
flavour (bool, int, float, numpy and torch scalars, 0-d arrays and tensors) behave the same; strings are kept;
media objects are handed to the media hook; anything else is kept as a truncated repr with one warning.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from typing import Any

from tracktui.store.codec import FINITE, MEDIA, NAN, NEG_INF, NEG_ZERO, NONE, POS_INF, TEXT

from .warn import warn_once

MAX_TEXT = 1 << 20  # characters of a logged string kept in history (1 MiB); longer ones are cut, with a warning
MAX_REPR = 1000
_EXACT = 1 << 53  # the largest int range a float holds exactly

Encoded = tuple[Any, int, Any]  # (value, kind, text or media object)

_MEDIA = "tracktui.media"


def media_check(v: Any) -> bool:
    """Whether v is a media object tracktui.media stores (a Media, a gallery, a list or array of numbers).

    tracktui.media is imported only when v could be one: a Media object means it is imported already."""
    media = sys.modules.get(_MEDIA)
    if media is None:
        if not _could_be_media(v):
            return False
        media = _load_media()
        if media is None:
            return False
    return media.is_media(v)


def encode(key: str, v: Any) -> Encoded:
    """The stored form of one logged value."""
    t = type(v)
    if t is float:
        if v - v == 0.0:
            if v == 0.0 and math.copysign(1.0, v) < 0:
                return 0.0, NEG_ZERO, None
            return v, FINITE, None
        if v != v:
            return None, NAN, None
        return (v, POS_INF, None) if v > 0 else (v, NEG_INF, None)
    if t is int or t is bool:
        if -_EXACT <= v <= _EXACT:
            return float(v), FINITE, None
        return _big_int(key, v)
    if t is str:
        if len(v) > MAX_TEXT:
            warn_once(f"long-text:{key}", f"tracktui: the string logged under {key!r} is longer than "
                                          f"{MAX_TEXT} characters; the first {MAX_TEXT} are kept")
            v = v[:MAX_TEXT]
        return None, TEXT, v
    if v is None:
        return None, NONE, None
    return _encode_other(key, v)


def _big_int(key: str, v: int) -> Encoded:
    """An int a float cannot hold exactly: the nearest float (or its digits as text when out of range)."""
    warn_once(f"big-int:{key}", f"tracktui: the int logged under {key!r} does not fit a float exactly; "
                                "it is stored rounded")
    try:
        return encode(key, float(v))
    except OverflowError:
        return None, TEXT, str(v)


def _encode_other(key: str, v: Any) -> Encoded:
    if isinstance(v, bool):
        return float(v), FINITE, None
    if isinstance(v, (int, float)):
        return encode(key, float(v))
    if media_check(v):
        return None, MEDIA, v
    # numpy / torch scalars, 0-d arrays and tensors (float16 and bfloat16 included): .item() gives a number.
    shape = getattr(v, "shape", None)
    item = getattr(v, "item", None)
    if callable(item) and (shape is None or tuple(shape) == () or _numel(v) == 1):
        try:
            x = item()
        except Exception:  # noqa: BLE001 - a foreign object: fall through to its repr
            x = None
        if isinstance(x, (bool, int, float)):
            return encode(key, float(x))
    if isinstance(v, str):
        return encode(key, str(v))
    warn_once(f"repr:{key}", f"tracktui: the value logged under {key!r} is a {type(v).__name__}, which is not "
                             f"a number, string or media object; its repr is kept as text")
    try:
        text = repr(v)
    except Exception as e:  # noqa: BLE001
        text = f"<unrepresentable {type(v).__name__}: {e}>"
    return None, TEXT, text[:MAX_REPR]


def _could_be_media(v: Any) -> bool:
    """A list or an array (of more than one number) may be an auto-histogram, a plotly or matplotlib figure is
    stored as media: load the media module."""
    if isinstance(v, (list, tuple)):
        return bool(v)
    if type(v).__module__.startswith(("plotly.", "matplotlib.")) or getattr(v, "__name__", None) == "matplotlib.pyplot":
        return True
    ndim = getattr(v, "ndim", None)
    return isinstance(ndim, int) and ndim >= 1


_media_failed = False


def _load_media() -> Any:
    global _media_failed
    if _media_failed:
        return None
    try:
        from . import media
    except Exception as e:  # noqa: BLE001
        _media_failed = True
        warn_once("media-import", f"tracktui: media support could not be loaded ({e})")
        return None
    return media


def _numel(v: Any) -> int:
    numel = getattr(v, "numel", None)
    if callable(numel):
        try:
            return int(numel())
        except Exception:  # noqa: BLE001
            return -1
    size = getattr(v, "size", None)
    return size if isinstance(size, int) else -1


def flatten(data: Mapping[str, Any], prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """Nested dicts as dotted keys: {"a": {"b": 1}} -> {"a.b": 1}; '/' in keys is kept."""
    if out is None:
        out = {}
    for k, v in data.items():
        key = k if type(k) is str else str(k)
        if prefix:
            key = prefix + "." + key
        if isinstance(v, Mapping) and not media_check(v):
            flatten(v, key, out)
        else:
            out[key] = v
    return out
