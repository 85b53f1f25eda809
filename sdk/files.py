"""run.save(): attach files to a run (bytes content-addressed in the store, never written back to disk).

Policies, as in wandb: "now" stores the files at once; "end" stores whatever the glob matches when the run
finishes; "live" stores them now and again whenever they change (polled), and once more at the end.
A file's name in the store is its path relative to base_path (default: the working directory for a
relative glob, the glob's directory for an absolute one); it is only ever a label, never a path written to.
"""

from __future__ import annotations

import glob
import os
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracktui.store.records import FileRecord

from .hooks import on_finish
from .warn import lost, warn_once

POLICIES = ("now", "end", "live")
MAX_FILE_BYTES = 256 << 20  # one saved file
LIVE_INTERVAL = 2.0  # seconds between checks of "live" files


@dataclass
class _Entry:
    pattern: str
    base: str
    policy: str
    seen: dict[str, tuple[float, int]] = field(default_factory=dict)  # path -> (mtime, size) last stored


_entries: weakref.WeakKeyDictionary[Any, list[_Entry]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_live_thread: threading.Thread | None = None
_stop = threading.Event()


def _name(path: str, base: str) -> str:
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(base))
    if rel.startswith(".." + os.sep) or rel == ".." or os.path.isabs(rel):
        rel = os.path.basename(path)
    return Path(rel).as_posix()


def _matches(pattern: str) -> list[str]:
    if glob.has_magic(pattern):
        return sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
    return [pattern] if os.path.isfile(pattern) else []


def _store_one(run: Any, path: str, name: str, seen: dict[str, tuple[float, int]] | None = None,
               only_changed: bool = False) -> bool:
    """Queue one file under name (skipped when only_changed and seen says it is unchanged, or when it is too
    big or unreadable); seen records what was stored."""
    try:
        st = os.stat(path)
        stamp = (st.st_mtime, st.st_size)
        if only_changed and seen is not None and seen.get(path) == stamp:
            return False
        if st.st_size > MAX_FILE_BYTES:
            lost(
                f"save-size:{path}",
                f"tracktui: {path} is {st.st_size / 2**20:.0f} MiB, more than the "
                f"{MAX_FILE_BYTES >> 20} MiB run.save() stores; not saved",
            )
            return False
        data = Path(path).read_bytes()
    except OSError as e:
        lost(f"save-read:{path}", f"tracktui: run.save() could not read {path} ({e.strerror or e})")
        return False
    if seen is not None:
        seen[path] = stamp
    run._put(FileRecord(run.id, name, data))
    return True


def _store(run: Any, entry: _Entry, only_changed: bool) -> list[str]:
    names = []
    for path in _matches(entry.pattern):
        name = _name(path, entry.base)
        if _store_one(run, path, name, entry.seen, only_changed):
            names.append(name)
    return names


def save_paths(run: Any, paths: list[str], base: str, prefix: str = "") -> list[str]:
    """Attach the given files now, each named prefix + its path relative to base; return the names."""
    names = []
    for path in paths:
        name = prefix + _name(path, base)
        if _store_one(run, path, name):
            names.append(name)
    return names


def save(
    run: Any,
    path: str | os.PathLike[str],
    base_path: str | os.PathLike[str] | None = None,
    policy: str = "now",
) -> list[str]:
    """Attach the files matching path (a glob) to run; return the names they are stored under."""
    if policy not in POLICIES:
        raise ValueError(f"run.save: policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    pattern = os.fspath(path)
    if base_path is None:
        base = os.path.dirname(pattern.split("*", 1)[0]) if os.path.isabs(pattern) else os.getcwd()
    else:
        base = os.fspath(base_path)
    entry = _Entry(pattern, base, policy)
    if policy == "end":
        with _lock:
            _entries.setdefault(run, []).append(entry)
        return [_name(p, base) for p in _matches(pattern)]
    names = _store(run, entry, only_changed=False)
    if not names and policy == "now":
        warn_once(f"save-none:{pattern}", f"tracktui: run.save({pattern!r}) matched no file")
    if policy == "live":
        with _lock:
            _entries.setdefault(run, []).append(entry)
        _start_live_thread()
    return names


def _start_live_thread() -> None:
    global _live_thread
    with _lock:
        if _live_thread is not None and _live_thread.is_alive():
            return
        _stop.clear()
        _live_thread = threading.Thread(target=_live_loop, name="tracktui-save-live", daemon=True)
        _live_thread.start()


def _live_loop() -> None:
    global _live_thread
    while not _stop.wait(LIVE_INTERVAL):
        with _lock:  # exit when nothing is left to follow (save() starts a new thread under the same lock)
            if not any(e.policy == "live" for entries in _entries.values() for e in entries):
                _live_thread = None
                return
        poll_live()


def poll_live() -> None:
    """Store the "live" files that changed since they were last stored."""
    with _lock:
        work = [(run, e) for run, entries in list(_entries.items()) for e in entries if e.policy == "live"]
    for run, entry in work:
        if not getattr(run, "_finished", False):
            try:
                _store(run, entry, only_changed=True)
            except Exception as e:  # noqa: BLE001 - never let the poller die on one file
                warn_once("save-live", f"tracktui: saving live files failed ({e})")


def _at_finish(run: Any) -> None:
    with _lock:
        entries = _entries.pop(run, [])
    for entry in entries:
        _store(run, entry, only_changed=entry.policy == "live")


on_finish(_at_finish)
