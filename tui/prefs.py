"""Preferences remembered per store: a small JSON file in the store root (tui.json); for a PostgreSQL store,
tui-<hash of its URL without password>.json in the local default root."""

from __future__ import annotations

import hashlib
import json
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
    """Merge values into the preferences file; False where the store root cannot be written."""
    data = load(root)
    data.update(values)
    folder, name = _place(root)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / (name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        tmp.replace(folder / name)
    except OSError:
        return False
    return True
