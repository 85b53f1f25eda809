"""Preferences remembered per store: a small JSON file in the store root (tui.json)."""

from __future__ import annotations

import json
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
    """Merge values into the preferences file; False where the store root cannot be written."""
    data = load(root)
    data.update(values)
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = root / (PREFS_NAME + ".tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        tmp.replace(root / PREFS_NAME)
    except OSError:
        return False
    return True
