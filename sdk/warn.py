"""One message per cause: tracking problems are reported, never raised into training code.

Two channels. `warn_once` is a `TrackTuiWarning` (a `warnings` warning, as wandb's) for input that was kept in
another form (a repr, a cut string, a step used instead of a bad one). `lost` is for data that was NOT stored:
it goes through the `tracktui` logger (see tracktui.store.report), which warning filters cannot hide.
"""

from __future__ import annotations

import threading
import warnings

from tracktui.store.report import once as lost  # noqa: F401 - re-exported: the SDK's "not stored" channel


class TrackTuiWarning(UserWarning):
    """A tracking problem that did not stop training: what was kept, what was not, and why."""


_seen: set[str] = set()
_lock = threading.RLock()  # re-entrant: a signal handler may report while its thread is reporting


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
