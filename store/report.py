"""Messages about data that was not stored, through the `tracktui` logger, once per cause.

These go through `logging`, not `warnings`: scripts silence warnings wholesale
(`warnings.filterwarnings("ignore")`, `-W error` turns them into exceptions), and a message saying that data
was lost must still reach stderr. With no logging configured, Python's last-resort handler prints WARNING
records to stderr; a script that configures logging gets them through its own handlers.
"""

from __future__ import annotations

import logging
import threading

logger = logging.getLogger("tracktui")

_seen: set[str] = set()
_lock = threading.RLock()  # re-entrant: a signal handler may report while its thread is reporting


def once(cause: str, message: str) -> None:
    """Log message at WARNING the first time cause is seen in this process; never raises."""
    with _lock:
        if cause in _seen:
            return
        _seen.add(cause)
    try:
        logger.warning(message)
    except Exception:  # noqa: BLE001 - a broken handler must not stop the writer or training
        pass
