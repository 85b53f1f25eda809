"""How values look in the app: state glyphs, ages, durations, numbers. Every string from the store
goes through safe_text before it becomes a Rich Text (never markup)."""

from __future__ import annotations

import math
import time
from typing import Any

from rich.text import Text

from .text import safe_text

# Glyph, word and colour of each state: the glyph and the word carry the meaning, colour only helps.
STATE_STYLE: dict[str, tuple[str, str]] = {
    "running": ("●", "bold dodger_blue1"),
    "finished": ("✓", "green"),
    "failed": ("✗", "bold red"),
    "killed": ("■", "yellow"),
    "crashed": ("☠", "bold magenta"),
}


def state_text(state: str, word: bool = True) -> Text:
    """A state as glyph (and word) in its colour."""
    glyph, style = STATE_STYLE.get(state, ("?", ""))
    return Text(f"{glyph} {safe_text(state)}" if word else glyph, style=style)


def age(ts: float | None, now: float | None = None) -> str:
    """'3m ago' style relative time."""
    if ts is None:
        return ""
    d = max(0.0, (time.time() if now is None else now) - ts)
    for unit, n in (("d", 86400), ("h", 3600), ("m", 60)):
        if d >= n:
            return f"{int(d // n)}{unit} ago"
    return f"{int(d)}s ago"


def duration(s: float | None) -> str:
    """Seconds as H:MM:SS."""
    if s is None:
        return ""
    s = int(max(0.0, s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def nbytes(n: int | None) -> str:
    """A byte count as '12.3 MB' (powers of 1024, as ls -h)."""
    if n is None:
        return ""
    for unit, k in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= k:
            return f"{n / k:.1f} {unit}"
    return f"{n} B"


def clock(ts: float | None) -> str:
    """A timestamp as local date and time."""
    if ts is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def scalar(v: Any) -> Any:
    """The value to show or sort for a summary entry: aggregate dicts give best, last, max, min or mean."""
    if isinstance(v, dict):
        for k in ("best", "last", "max", "min", "mean", "first"):
            if k in v:
                return v[k]
        return None
    return v


def number(v: Any) -> str:
    """A compact number: 4 significant digits, NaN and Inf spelled out."""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}" if abs(v) >= 100_000 else str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Inf" if v > 0 else "-Inf"
        if v == 0:
            return "0"
        return f"{v:.4g}"
    return ""


def value_text(v: Any, limit: int = 40) -> str:
    """Any config or summary value as one safe line."""
    v = scalar(v)
    if v is None:
        return "-"
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return number(v)
    if isinstance(v, (list, tuple)):
        return safe_text(", ".join(value_text(x, limit) for x in v), limit=limit)
    if isinstance(v, dict):
        return safe_text(str(v), limit=limit)
    return safe_text(v, limit=limit)


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested config dicts as dotted keys."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict) and v:
            out.update(flatten(v, key))
        else:
            out[key] = v
    return out
