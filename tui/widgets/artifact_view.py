"""How the Files tab shows a run's artifacts: a two-line list label, and the detail of one version.

Every string from the store (names, aliases, paths, URIs, metadata) goes through safe_text: never markup,
never control sequences."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from tracktui.store import artifacts as sart
from tracktui.store.codec import dumps

from ..format import clock, nbytes
from ..text import safe_text

ROLE_GLYPH = {"logged": "↑", "used": "↓"}  # made by the run / read by the run
MAX_FILES_SHOWN = 500


def artifact_label(role: str, v: sart.VersionRow, width: int = 26) -> Text:
    """'↑ name:v3 latest,best' (aliases dim, cut to the width) over '2 files · 1.2 MB' (dim)."""
    label = Text(f"{ROLE_GLYPH.get(role, ' ')} ", style="bold")
    label.append(safe_text(f"{v.name}:v{v.version}", limit=width - 2))
    room = width - len(label.plain) - 1
    if v.aliases and room >= 4:
        label.append(" " + safe_text(",".join(v.aliases), limit=room), style="dim")
    files = f"{v.file_count} file{'s' if v.file_count != 1 else ''} · {nbytes(v.size)}"
    label.append("\n  " + safe_text(files, limit=width - 2), style="dim")
    return label


def artifact_view(role: str, v: sart.VersionRow, files: list[sart.FileRow], users: list[str],
                  run_id: str) -> Group:
    """The detail of one version: what it is, its lineage, and its files."""
    head = Text()
    head.append(safe_text(f"{v.name}:v{v.version}"), style="bold")
    head.append(f"  {safe_text(v.type)}  ", style="dim")
    head.append("logged by this run" if role == "logged" else "used by this run", style="italic")
    info = Table.grid(padding=(0, 2))
    info.add_column(style="dim")
    info.add_column()
    others = [u for u in users if u != run_id]
    used = ("this run" + (" and " if others else "")) if run_id in users else ""
    used += ", ".join(others[:8]) + (f" (+{len(others) - 8})" if len(others) > 8 else "")
    made_by = "this run" if v.run_id == run_id else (v.run_id or "-")
    rows = [("project", v.project), ("aliases", ", ".join(v.aliases) or "-"),
            ("size", f"{nbytes(v.size)} in {v.file_count} file{'s' if v.file_count != 1 else ''}"),
            ("created", clock(v.created_at)), ("made by", made_by), ("used by", used or "-"),
            ("digest", v.digest[:16])]
    if v.description:
        rows.append(("description", v.description))
    if v.metadata:
        rows.append(("metadata", dumps(v.metadata)))
    for key, value in rows:  # Text cells: a str cell would be parsed as Rich markup
        info.add_row(key, Text(safe_text(value, limit=2000)))
    table = Table(box=None, padding=(0, 2), show_edge=False, header_style="bold")
    table.add_column("file")
    table.add_column("size", justify="right")
    for f in files[:MAX_FILES_SHOWN]:
        size = Text("→ " + safe_text(f.ref, limit=200), style="dim") if f.ref is not None else Text(nbytes(f.size))
        table.add_row(Text(safe_text(f.path)), size)
    parts: list[Any] = [head, Text(), info, Text(), table]
    if len(files) > MAX_FILES_SHOWN:
        parts.append(Text(f"… {len(files) - MAX_FILES_SHOWN:,} more files", style="dim"))
    parts.append(Text("\ntracktui artifact get " + safe_text(f"{v.project}/{v.name}:v{v.version}"), style="dim"))
    return Group(*parts)
