"""The tracktui store: one SQLite database (WAL) per root. No UI, no psutil.

- paths: where the store lives;  schema: tables, migrations, connections;  codec: how values are kept;
- writer: the process's batching writer thread;  reader: read-only queries for the TUI, Api and CLI.

Names are loaded on first use: the SDK's init() needs the writer, not the reader.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Reader": "reader", "RunRecord": "reader", "Sampled": "reader", "derive_state": "reader",
    "StoreError": "schema", "StoreVersionError": "schema", "SCHEMA_VERSION": "schema",
    "db_path": "paths", "default_root": "paths", "resolve_root": "paths",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tracktui.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = sorted(_LAZY)
