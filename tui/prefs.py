"""Preferences remembered per store: a small JSON file in the store root (tui.json), private (0600); for a
PostgreSQL store, tui-<hash of its URL without password>.json in the local default root."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from tracktui.store.location import StoreURL
from tracktui.store.paths import default_root

PREFS_NAME = "tui.json"


def _place(root: Path | StoreURL) -> tuple[Path, str]:
    if isinstance(root, StoreURL):
        digest = hashlib.sha256(root.redacted.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        return default_root(), f"tui-{digest}.json"
    return root, PREFS_NAME


def load(root: Path | StoreURL) -> dict[str, Any]:
    """The store's TUI preferences ({} when none or unreadable)."""
    folder, name = _place(root)
    try:
        data = json.loads((folder / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save(root: Path | StoreURL, **values: Any) -> bool:
    """Merge values into the preferences file; False where the store root cannot be written (a read-only
    store keeps the choice for this session only). The file is 0600 whatever the umask, as the database."""
    data = load(root)
    data.update(values)
    folder, name = _place(root)
    tmp = folder / (name + ".tmp")
    try:
        if isinstance(root, StoreURL):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        elif not folder.is_dir():
            os.mkdir(folder, 0o700)  # the store's own directory only, never its parents
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
        os.fchmod(fd, 0o600)  # a stale tmp file from an older version may have had wider bits
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(data, indent=1))
        tmp.replace(folder / name)
    except OSError:
        return False
    return True
