"""How values are stored: a number plus a kind, so NaN, +/-Inf and -0.0 come back exactly.

SQLite stores NaN as NULL and -0.0 as 0.0; the kind column remembers what the value was. JSON columns
(config, summary) tag non-finite floats the same way, since SQLite's JSON functions reject NaN tokens.
"""

from __future__ import annotations

import json
import math
from typing import Any

FINITE = 0  # value holds the number
NEG_ZERO = 1  # value is 0.0, the number was -0.0
NAN = 2
POS_INF = 3
NEG_INF = 4
TEXT = 5  # the string is in the text column
NONE = 6  # None was logged
MEDIA = 7  # text holds the JSON reference of a media object (see tracktui.media)

NUMERIC_KINDS = (FINITE, NEG_ZERO, NAN, POS_INF, NEG_INF)
FINITE_KINDS = (FINITE, NEG_ZERO)

_INF = math.inf


def encode_float(v: float) -> tuple[float | None, int]:
    """A Python float as (value, kind) for the history table."""
    if v - v == 0.0:  # finite (NaN and Inf give NaN)
        if v == 0.0 and math.copysign(1.0, v) < 0:
            return 0.0, NEG_ZERO
        return v, FINITE
    if v != v:
        return None, NAN
    return (v, POS_INF) if v > 0 else (v, NEG_INF)


def decode(value: float | None, kind: int, text: str | None = None) -> Any:
    """The Python value of a stored (value, kind, text) triple."""
    if kind == FINITE:
        return value
    if kind == NEG_ZERO:
        return -0.0
    if kind == NAN:
        return math.nan
    if kind == POS_INF:
        return _INF
    if kind == NEG_INF:
        return -_INF
    if kind == TEXT:
        return text
    if kind == NONE:
        return None
    if kind == MEDIA:
        return json.loads(text) if text else None
    return value


_TAG = "$float"


def _tag(obj: Any) -> Any:
    if isinstance(obj, float):
        if obj - obj == 0.0:
            return obj
        return {_TAG: "nan" if obj != obj else ("inf" if obj > 0 else "-inf")}
    if isinstance(obj, dict):
        return {str(k): _tag(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_tag(v) for v in obj]
    return obj


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and _TAG in obj:
        return float(obj[_TAG])
    return obj


def _default(obj: Any) -> Any:
    item = getattr(obj, "item", None)  # numpy and torch scalars
    if callable(item) and getattr(obj, "ndim", getattr(obj, "dim", lambda: 1)) in (0, ()):
        try:
            return item()
        except Exception:  # noqa: BLE001 - a foreign object: fall back to its repr
            pass
    tolist = getattr(obj, "tolist", None)
    if callable(tolist):
        try:
            return tolist()
        except Exception:  # noqa: BLE001
            pass
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=repr)
    return repr(obj)[:1000]


def dumps(obj: Any) -> str:
    """JSON text for config/summary/metadata columns; non-finite floats are tagged, not NaN tokens.

    Lone surrogates (a str made from undecodable bytes) cannot be stored as UTF-8: such text is written with
    JSON's \\u escapes, which loads() turns back into the same str.
    """
    text = json.dumps(_tag(obj), ensure_ascii=False, default=lambda o: _tag(_default(o)), allow_nan=False)
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(_tag(obj), ensure_ascii=True, default=lambda o: _tag(_default(o)), allow_nan=False)
    return text


def loads(text: str | None) -> Any:
    """The inverse of dumps."""
    if not text:
        return {}
    return json.loads(text, object_hook=_untag)


def metric_def(defs: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    """The define_metric entry that applies to key: an exact name wins over a glob, later over earlier."""
    import fnmatch

    exact = None
    glob = None
    for d in defs:
        name = str(d.get("name", "")).replace("\\.", ".")  # "a\\.b" names the key "a.b" literally, as in wandb
        if name == key:
            exact = d
        elif any(c in name for c in "*?[") and fnmatch.fnmatchcase(key, name):
            glob = d
    return exact or glob


ALERT_STREAM = "alert"  # the logs stream that holds run.alert() events, one JSON object per line


def alert_line(level: str, title: str, text: str) -> str:
    """The stored line of an alert."""
    return json.dumps({"level": level, "title": title, "text": text}, ensure_ascii=False)


def parse_alert(line: str) -> dict[str, str]:
    """An alert line as {"level", "title", "text"} (a line that is not one comes back as its text)."""
    try:
        obj = json.loads(line)
    except ValueError:
        obj = None
    if not isinstance(obj, dict):
        return {"level": "INFO", "title": "", "text": str(line)}
    return {k: str(obj.get(k, "")) for k in ("level", "title", "text")}
