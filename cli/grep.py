"""`tracktui grep PATTERN`: every console line (and run name, notes, tags) of every run that matches.

One line per match: the run's name and id prefix, the stream, the local time, the line number and the text
(as plain text: escape sequences and control characters never reach the terminal). --json prints one object
per match. The search itself is store.search (see there for what matches).
"""

from __future__ import annotations

import sys
import time

from tracktui.store.codec import dumps
from tracktui.store.search import search
from tracktui.tui.text import safe_text  # plain text only (no Rich, no Textual)


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def cmd_grep(reader, pattern: str, project: str | None, as_json: bool, limit: int | None) -> int:
    """Print the matches; exit code 0 when something matched, 1 when nothing did (as grep)."""
    n = 0
    out = sys.stdout
    for m in search(reader, pattern, project=project, limit=limit):
        n += 1
        if as_json:
            out.write(dumps({"run_id": m.run_id, "run": m.run_name, "project": m.project, "stream": m.stream,
                             "seq": m.seq, "ts": m.ts, "text": m.text}) + "\n")
        else:
            where = f"#{m.seq}" if m.seq is not None else ""
            out.write(f"{safe_text(m.run_name)} ({m.run_id[:8]}) {safe_text(m.stream)}{where} {_when(m.ts)}: "
                      f"{safe_text(m.text)}\n")
    if not n and not as_json:
        print(f"tracktui: no match for {safe_text(pattern)!r}", file=sys.stderr)
    return 0 if n else 1
