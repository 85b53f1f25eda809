"""Preferences remembered per store: a small JSON file in the store root (tui.json), private (0600)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

PREFS_NAME = "tui.json"


def load(root: Path) -> dict[str, Any]:
    """The store's TUI preferences ({} when none or unreadable)."""
    try:
        data = json.loads((root / PREFS_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save(root: Path, **values: Any) -> bool:
    """Merge values into the preferences file; False where the store root cannot be written (a read-only
    store keeps the choice for this session only). The file is 0600 whatever the umask, as the database."""
    data = load(root)
    data.update(values)
    tmp = root / (PREFS_NAME + ".tmp")
    try:
        if not root.is_dir():
            os.mkdir(root, 0o700)  # the store's own directory only, never its parents
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
        os.fchmod(fd, 0o600)  # a stale tmp file from an older version may have had wider bits
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(data, indent=1))
        tmp.replace(root / PREFS_NAME)
    except OSError:
        return False
    return True
