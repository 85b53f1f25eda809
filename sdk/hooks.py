"""Callables run when a run finishes, before its final state is written (capture threads stop and flush
here, saved files are stored a last time, watch hooks are removed).

No dependencies: init() registers the capture hook; files and watcher register theirs when first used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_finish_hooks: list[Callable[[Any], None]] = []


def on_finish(fn: Callable[[Any], None]) -> None:
    """Register fn(run), called when any run of this process finishes (once, however often registered)."""
    if fn not in _finish_hooks:
        _finish_hooks.append(fn)


def run_finish_hooks(run: Any) -> None:
    """Call every hook; one that fails is reported once and the others still run."""
    for fn in list(_finish_hooks):
        try:
            fn(run)
        except Exception as e:  # noqa: BLE001
            from .warn import warn_once

            warn_once(f"finish-hook:{getattr(fn, '__name__', fn)}", f"tracktui: {e}")
