"""Every default location of the store, computed in one place."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path
from typing import Any

DB_NAME = "tracktui.db"
ENV_DIR = "TRACKTUI_DIR"


def default_root() -> Path:
    """The store root when none is given: TRACKTUI_DIR > $XDG_DATA_HOME/tracktui > ~/.local/share/tracktui."""
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR]).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    if xdg:
        return Path(xdg).expanduser() / "tracktui"
    return Path.home() / ".local" / "share" / "tracktui"


def resolve_root(dir: str | os.PathLike[str] | None = None) -> Path:
    """The store root: an explicit dir wins over the environment and the defaults."""
    return Path(dir).expanduser() if dir else default_root()


def db_path(root: Path) -> Path:
    """The one SQLite database of a store root."""
    return root / DB_NAME


def run_files_dir(root: Any, run_id: str) -> Path:
    """A run's own files directory (run.dir): root/files/<run id>, or a digest of the id where the id is not
    a plain name (ids can come from users and the environment; a path is never built from one). A store
    that is no directory (a PostgreSQL URL) keeps run directories under the local default root."""
    if not isinstance(root, Path):
        root = default_root()
    safe = run_id if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", run_id) else (
        "id-" + hashlib.sha256(run_id.encode("utf-8", "surrogatepass")).hexdigest()[:32])
    return root / "files" / safe


# Filesystems on which SQLite's WAL (shared memory, POSIX locks) is unsafe.
NETWORK_FS = {
    "nfs", "nfs4", "lustre", "gpfs", "ceph", "fuse.ceph", "fuse.sshfs", "sshfs", "cifs", "smb3", "smbfs",
    "wekafs", "fuse.gcsfuse", "fuse.s3fs", "9p", "afs", "beegfs", "fuse.glusterfs", "glusterfs", "panfs",
}


def filesystem_type(path: Path) -> str | None:
    """The type of the filesystem holding path, read from /proc/mounts (None where unknown)."""
    try:
        with open("/proc/mounts", encoding="utf-8", errors="replace") as f:
            mounts = [line.split() for line in f]
    except OSError:
        return None
    target = str(path.resolve())
    best, best_type = "", None
    for parts in mounts:
        if len(parts) < 3:
            continue
        mnt = parts[1].replace("\\040", " ")
        if (target == mnt or target.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
            best, best_type = mnt, parts[2]
    return best_type


def blocking_file(root: Path) -> Path | None:
    """The path at or above root that exists but is not a directory (a store root can only be made
    below directories), or None. One stat per level: a directory made meanwhile is never taken for a file."""
    p = root
    while True:
        try:
            return None if stat.S_ISDIR(os.stat(p).st_mode) else p
        except (FileNotFoundError, NotADirectoryError):
            pass
        except OSError:  # an unreadable parent: the caller's own open says why
            return None
        if p.parent == p:
            return None
        p = p.parent


def wal_path(root: Path) -> Path:
    """The write-ahead log next to the database (SQLite names it)."""
    return root / (DB_NAME + "-wal")


def shm_path(root: Path) -> Path:
    """The WAL index (shared memory) next to the database."""
    return root / (DB_NAME + "-shm")
