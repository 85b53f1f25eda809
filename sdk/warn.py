"""One warning per cause: tracking problems are reported, never raised into training code."""

from __future__ import annotations

import threading
import warnings


class TrackTuiWarning(UserWarning):
    """A tracking problem that did not stop training: what was kept, what was not, and why."""


_seen: set[str] = set()
_lock = threading.Lock()


def warn_once(cause: str, message: str) -> None:
    """Warn about cause the first time only (per process)."""
    with _lock:
        if cause in _seen:
            return
        _seen.add(cause)
    try:
        warnings.warn(message, TrackTuiWarning, stacklevel=4)
    except Exception:  # noqa: BLE001 - a warnings filter set to "error" must not crash training
        pass
