"""Shared-filesystem mode: when a store root sits on NFS, Lustre, sshfs and the like, no SQLite there.

SQLite's locks and WAL index (shared memory) are unsafe on a network filesystem, and several hosts write
one store on a cluster. In shared mode each writer process appends its records to segment files of its own
(store/segments.py) and every reader folds the published segments into a SQLite cache on its local disk.

    is_shared(root)     init(settings={"shared": True/False}) or TRACKTUI_SHARED=1/0 force shared mode or
                        SQLite (the user knows SQLite is safe there); else a store marked shared, or a root
                        on a network filesystem that holds no SQLite store, is shared.
    cache_root(root)    the local SQLite store readers fold the segments into:
                        $XDG_CACHE_HOME/tracktui/shared/<digest of the root's path> (~/.cache without it).
    reader_root(target) what a Reader opens for a store: the folded cache of a shared root (kept current by a
                        fold thread of the process), anything else unchanged.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .paths import DB_NAME, NETWORK_FS, filesystem_type

ENV_SHARED = "TRACKTUI_SHARED"
ENV_CACHE = "XDG_CACHE_HOME"
MARKER = "tracktui-shared.json"  # at the root of a store written in shared mode
SEGMENTS_DIR = "segments"
FOLD_INTERVAL = 0.5  # seconds between two folds of a reader's background thread

# Network filesystems beyond paths.NETWORK_FS (FUSE network mounts and other spellings of the same).
_MORE_NETWORK_FS = {
    "fuse.rclone", "fuse.juicefs", "juicefs", "fuse.cephfs", "fuse.lustre", "fuse.beegfs", "fuse.davfs",
    "davfs", "fuse.s3ql", "fuse.goofys", "fuse.mountpoint-s3", "fuse.blobfuse", "fuse.blobfuse2", "smb2",
    "ncpfs", "coda", "ocfs2", "gfs2", "orangefs", "pvfs2", "quobyte", "fuse.quobyte", "fuse.weka",
    "fuse.sshfs-fuse", "v9fs", "fuse.nfs",
}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def network_fs(fs: str | None) -> bool:
    """Whether a filesystem type (as /proc/mounts names it) is a network filesystem."""
    if not fs:
        return False
    fs = fs.lower()
    return fs in NETWORK_FS or fs in _MORE_NETWORK_FS or fs.startswith(("nfs", "fuse.nfs", "lustre", "gpfs"))


def forced() -> bool | None:
    """TRACKTUI_SHARED: True (1), False (0), or None (unset or unreadable: detect)."""
    v = os.environ.get(ENV_SHARED, "").strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    return None


_overrides: dict[Path, bool] = {}  # init(settings={"shared": ...}) of this process, per root


def force(root: Path, value: bool) -> None:
    """init(settings={"shared": True/False}): this process writes and reads the store at root in shared mode,
    or in SQLite mode (the user knows it is safe there), whatever the filesystem."""
    _overrides[root.absolute()] = bool(value)


def forced_for(root: Path) -> bool | None:
    """The user's choice for root: init's setting, else TRACKTUI_SHARED, else None (detect)."""
    v = _overrides.get(root.absolute())
    return v if v is not None else forced()


_detected: dict[Path, tuple[float, bool]] = {}
DETECT_TTL = 10.0  # seconds a detection is reused (readers are opened many times a second)


def is_shared(root: Path, force: bool | None = None) -> bool:
    """Whether the store at root is written and read in shared mode (never raises)."""
    if force is None:
        force = forced_for(root)
    if force is not None:
        return force
    key = root.absolute()
    now = time.monotonic()
    hit = _detected.get(key)
    if hit is not None and now - hit[0] < DETECT_TTL:
        return hit[1]
    try:
        # a store written in shared mode is marked; a SQLite store there was the user's choice (SHARED=0)
        found = (root / MARKER).is_file() or (
            not (root / DB_NAME).exists() and network_fs(filesystem_type(root)))
    except OSError:
        found = False
    _detected[key] = (now, found)
    return found


def cache_root(root: Path) -> Path:
    """The local SQLite store this host's readers fold the shared store at root into. Where the cache
    directory is itself on a network filesystem (a home on NFS holds ~/.cache), the system's temporary
    directory of this user instead: SQLite must stay on a local disk."""
    base = os.environ.get(ENV_CACHE)
    cache = Path(base).expanduser() if base else Path.home() / ".cache"
    if network_fs(filesystem_type(cache)):
        cache = Path(tempfile.gettempdir()) / f"tracktui-cache-{os.getuid() if hasattr(os, 'getuid') else 0}"
    key = str(root.absolute())
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return cache / "tracktui" / "shared" / digest


# ---------------------------------------------------------------- readers: the cache, kept current

_folders: dict[Path, Folder] = {}
_folders_lock = threading.Lock()


class Folder:
    """One per process and shared root: folds once when first asked, then every FOLD_INTERVAL on a thread."""

    def __init__(self, root: Path):
        self.root = root
        self.cache = cache_root(root)
        self.folded_at = 0.0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._seen: dict[str, list[float]] = {}  # segments.fold's per-writer activity
        self._stop = threading.Event()

    def fold_now(self) -> None:
        from . import report, segments

        with self._lock:
            if not self.root.exists():  # no store (yet), or the mount is away: nothing to fold, no cache made
                self.folded_at = time.monotonic()
                return
            try:
                segments.fold(self.root, self.cache, seen=self._seen)
            except Exception as e:  # noqa: BLE001 - the reader shows what the cache holds; next fold retries
                report.once(f"fold:{self.root}:{type(e).__name__}",
                            f"tracktui: folding the shared store {self.root} into {self.cache} failed "
                            f"({type(e).__name__}: {e}); showing what was folded before, retrying")
            self.folded_at = time.monotonic()

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self._loop, name="tracktui-fold", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        # folds start FOLD_INTERVAL apart: a fold that took that long (a backlog) is followed by the next at
        # once, not after another pause, so a reader behind its writers catches up without waiting
        took = 0.0
        while not self._stop.wait(max(0.05, FOLD_INTERVAL - took)):
            started = time.monotonic()
            self.fold_now()
            took = time.monotonic() - started

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)


def folder(root: Path) -> Folder:
    """The process's folder of a shared root: the first call folds (so a one-shot reader sees everything
    published so far), then a daemon thread keeps the cache current."""
    key = root.absolute()
    with _folders_lock:
        f = _folders.get(key)
        if f is None:
            f = _folders[key] = Folder(key)
    if f.folded_at == 0.0:
        f.fold_now()
        f.start()
    return f


def stop_folders() -> None:
    """Stop every fold thread of this process (the next Reader of a shared root starts one again)."""
    with _folders_lock:
        folders = list(_folders.values())
        _folders.clear()
    for f in folders:
        f.stop()


def reader_root(target: Any) -> Any:
    """What a Reader opens: the folded cache of a shared root; any other target unchanged."""
    if not isinstance(target, Path) or not is_shared(target):
        return target
    return folder(target).cache
