"""What log() accepts: flattening of nested dicts, the normalisation of keys, values and steps.

Every value becomes (value, kind, text) as the store keeps it (see tracktui.store.codec). Numbers of any
flavour (bool, int, float, numpy and torch scalars, 0-d arrays and tensors) behave the same; strings are kept;
media objects are handed to the media hook; anything else is kept as a truncated repr with one warning.
Whatever is logged comes out as something SQLite stores: lone surrogates in keys and strings become their
escaped text, absurdly long keys are cut, steps are whole numbers in 0..MAX_STEP.
"""

from __future__ import annotations

import math
import operator
import sys
from collections.abc import Mapping
from typing import Any

from tracktui.store.codec import FINITE, MEDIA, NAN, NEG_INF, NEG_ZERO, NONE, POS_INF, TEXT, escape_surrogates, int_text

from .warn import warn_once

MAX_TEXT = 1 << 20  # characters of a logged string kept in history (1 MiB); longer ones are cut, with a warning
MAX_REPR = 1000
MAX_KEY = 4096  # characters of a key; longer ones are cut and end in a hash of the whole key, with a warning
MAX_STEP = (1 << 63) - 1  # SQLite's largest INTEGER; explicit steps stay below it so the next step fits too
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
        if not v.isascii():
            v = clean_text(v, f"surrogate-text:{key}", f"the string logged under {key!r}")
        if len(v) > MAX_TEXT:
            warn_once(f"long-text:{key}", f"tracktui: the string logged under {key!r} is longer than "
                                          f"{MAX_TEXT} characters; the first {MAX_TEXT} are kept")
            v = v[:MAX_TEXT]
        return None, TEXT, v
    if v is None:
        return None, NONE, None
    return _encode_other(key, v)


def _big_int(key: str, v: int) -> Encoded:
    """An int a float cannot hold exactly: the nearest float, or its digits as text beyond a float's range."""
    try:
        f = float(v)
    except OverflowError:
        warn_once(f"huge-int:{key}", f"tracktui: the int logged under {key!r} is beyond a float's range; "
                                     "its digits are stored as text")
        return None, TEXT, int_text(v)
    warn_once(f"big-int:{key}", f"tracktui: the int logged under {key!r} does not fit a float exactly; "
                                "the nearest float is stored")
    return f, FINITE, None


def _number(key: str, x: Any) -> Encoded | None:
    """x as a plain bool, int or float encoded (ints beyond 2**53 warn as Python ints do); None otherwise."""
    if isinstance(x, bool):
        return float(x), FINITE, None
    if isinstance(x, int):
        return encode(key, int(x))
    if isinstance(x, float):
        return encode(key, float(x))
    return None


def _encode_other(key: str, v: Any) -> Encoded:
    enc = _number(key, v)  # subclasses of bool, int and float (IntEnum, numpy.float64)
    if enc is not None:
        return enc
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
        enc = _number(key, x)
        if enc is not None:
            return enc
    if isinstance(v, str):
        return encode(key, str.__str__(v))  # a plain copy; the subclass's own __str__ may return anything
    warn_once(f"repr:{key}", f"tracktui: the value logged under {key!r} is a {type(v).__name__}, which is not "
                             f"a number, string or media object; its repr is kept as text")
    try:
        text = repr(v)
    except Exception as e:  # noqa: BLE001
        text = f"<unrepresentable {type(v).__name__}: {e}>"
    return None, TEXT, escape_surrogates(str.__str__(text)[:MAX_REPR])


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


def clean_text(text: str, cause: str, what: str) -> str:
    """text as SQLite stores it: lone surrogates (undecodable bytes let through by surrogateescape) become
    their escaped text, e.g. '\\udcff', with one warning per cause."""
    out = escape_surrogates(text)
    if out is not text:
        warn_once(cause, f"tracktui: {what} holds lone surrogates, which SQLite cannot store; "
                         f"they are kept as escaped text ({out[:80]!r})")
    return out


def clean_key(key: Any) -> str:
    """A key as stored: text (str() of other keys), lone surrogates escaped, at most MAX_KEY characters."""
    if type(key) is not str:
        if isinstance(key, str):
            key = str.__str__(key)
        else:
            try:
                key = str(key)
                key = str.__str__(key) if isinstance(key, str) else repr(key)
            except Exception as e:  # noqa: BLE001 - a key whose str() raises still keeps its value
                key = f"<{type(key).__name__} key: {type(e).__name__}>"
                warn_once("key-str", f"tracktui: str() of a logged key failed; it is stored as {key!r}")
    if not key.isascii():
        clean = escape_surrogates(key)
        if clean is not key:
            warn_once(f"surrogate-key:{clean}", f"tracktui: the key {clean[:80]!r} held lone surrogates, which "
                                                "SQLite cannot store; they are kept as escaped text")
            key = clean
    if len(key) > MAX_KEY:
        import hashlib

        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
        short = key[:MAX_KEY - 17] + "~" + digest  # distinct long keys stay distinct metrics
        warn_once(f"long-key:{short}", f"tracktui: a key of {len(key)} characters was cut to {MAX_KEY} "
                                       f"(its first characters and a hash of the whole key): {short[:60]!r}...")
        key = short
    return key


def flatten(data: Mapping[str, Any], prefix: str = "", out: dict[str, Any] | None = None,
            _path: tuple[int, ...] = ()) -> dict[str, Any]:
    """Nested dicts as dotted keys: {"a": {"b": 1}} -> {"a.b": 1}; '/' in keys is kept. Keys come out clean
    (see clean_key); a dict that contains itself is stored as its repr, with a warning."""
    if out is None:
        out = {}
    path = (*_path, id(data))
    for k, v in list(data.items()):
        key = clean_key(k)
        if prefix:
            key = prefix + "." + key
        if isinstance(v, Mapping) and not media_check(v):
            if id(v) in path:
                out[key] = v  # encode() keeps its repr (with a warning): the cycle ends here
            else:
                flatten(v, key, out, path)
        else:
            out[key] = v
    return out


def stage(data: Mapping[str, Any]) -> dict[str, tuple[Any, Encoded]]:
    """Every value of one log() call as key -> (logged value, encoded), read in full before anything of the
    run changes: a mapping that raises halfway leaves nothing behind. One bad value costs only itself."""
    staged: dict[str, tuple[Any, Encoded]] = {}
    for k, v in list(data.items()):
        t = type(v)
        if type(k) is str and k.isascii() and len(k) <= MAX_KEY and (t is float or t is int or t is str):
            _stage_one(staged, k, v)  # the common case, without flatten's checks
            continue
        for key, fv in flatten({k: v}).items():
            _stage_one(staged, clean_key(key) if len(key) > MAX_KEY else key, fv)  # nested prefixes add up
    return staged


def _stage_one(staged: dict[str, tuple[Any, Encoded]], key: str, v: Any) -> None:
    try:
        staged[key] = (v, encode(key, v))
    except Exception as e:  # noqa: BLE001 - e.g. a value whose type check raised
        warn_once(f"encode:{key}", f"tracktui: the value logged under {key!r} could not be read "
                                   f"({type(e).__name__}: {e}); it was left out")


def as_step(step: Any) -> tuple[int, str]:
    """step= as a whole number in 0..MAX_STEP-1, or (-1, why it is refused).

    ints, numpy and torch integer scalars, and floats with a whole value (3.0) are steps; bools, strings,
    NaN, +/-Inf, 3.5, negative numbers and steps >= 2**63-1 (SQLite's INTEGER, with room for the next
    automatic step) are refused.
    """
    if isinstance(step, (bool, str, bytes)) or "bool" in str(getattr(step, "dtype", "")):
        return -1, f"a {type(step).__name__} is not a step"
    try:
        s = operator.index(step)  # int, numpy and torch integer scalars
    except Exception:  # noqa: BLE001
        try:
            f = float(step)
        except Exception:  # noqa: BLE001
            return -1, f"a {type(step).__name__} is not a step"
        if not f.is_integer():
            return -1, "a step must be a whole number"
        s = int(f)
    if s < 0:
        return -1, "a step must not be negative"
    if s >= MAX_STEP:
        return -1, f"a step must be below {MAX_STEP} (2**63-1, SQLite's largest integer)"
    return s, ""
