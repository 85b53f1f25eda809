"""run.alert(): an event of the run, printed to stderr and kept in the store (the app's Overview shows it).

An alert is a line on the run's "alert" log stream (JSON: level, title, text). As wandb throttles its
notifications, an alert whose title was alerted less than wait_duration seconds ago (default 60) is dropped.
Nothing here raises into training code: a bad level or wait_duration is warned about once and replaced.
"""

from __future__ import annotations

import time
from enum import Enum
from typing import Any

from tracktui.store import codec
from tracktui.store.records import LogLine

from .term import termlog
from .warn import lost, warn_once

DEFAULT_WAIT = 60.0  # seconds, as wandb's default wait_duration
MAX_TITLE = 1_000
MAX_TEXT = 16_384


class AlertLevel(Enum):
    """wandb.AlertLevel."""

    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"


def _level(level: Any) -> str:
    if level is None:
        return "INFO"
    raw = level.value if isinstance(level, AlertLevel) else str(level).strip().upper()
    raw = "WARN" if raw == "WARNING" else raw
    if raw not in AlertLevel.__members__:
        warn_once(f"alert-level:{raw}", f"tracktui: alert level must be INFO, WARN or ERROR, got {level!r}; "
                                        "recorded as INFO")
        return "INFO"
    return raw


def _seconds(wait_duration: Any) -> float:
    if wait_duration is None:
        return DEFAULT_WAIT
    try:
        total = getattr(wait_duration, "total_seconds", None)
        return float(total()) if callable(total) else float(wait_duration)
    except (TypeError, ValueError):
        warn_once("alert-wait", f"tracktui: alert wait_duration must be seconds or a timedelta, got "
                                f"{wait_duration!r}; using {DEFAULT_WAIT:.0f} s")
        return DEFAULT_WAIT


def alert(run: Any, title: Any, text: Any, level: Any = None, wait_duration: Any = None) -> bool:
    """Record and print an alert of run; False when it was dropped (finished run, or throttled)."""
    level_name = _level(level)
    wait = _seconds(wait_duration)
    title_s = str(title)[:MAX_TITLE]
    text_s = " ".join(str(text).splitlines())[:MAX_TEXT]
    if run._finished:
        lost(f"alert-after-finish:{run.id}", f"tracktui: alert() after run {run.name} finished; not recorded")
        return False
    now = time.time()
    with run._lock:
        last = run._alert_times.get(title_s)
        if last is not None and now - last < wait:
            return False
        run._alert_times[title_s] = now
    termlog(f"alert ({level_name}) {title_s}: {text_s}")
    event(run, level_name, title_s, text_s, now)
    return True


def event(run: Any, level: str, title: str, text: str, ts: float | None = None) -> None:
    """Store a line on run's alert stream (no printing, no throttling)."""
    if not run._finished:
        run._put(LogLine(run.id, time.time() if ts is None else ts, codec.ALERT_STREAM,
                         codec.alert_line(level, title, text)))
