"""Search across runs: console lines, and runs' names, notes and tags (`tracktui grep`, the app's search).

What matches: PATTERN is found in a line, ignoring case, starting at the start of a word (where it starts
with a letter): "out of mem" finds "CUDA out of memory"; "uda out" does not. Lines come in run order, each
run's lines in the order they were written.

SQLite: the full-text indexes of schema.SCHEMA_SEARCH give candidates (every line holding the pattern's
words, the last one as a prefix); each candidate is then checked against the pattern itself, so the index
never decides a match on its own. A pattern without letters (only digits or signs) cannot use the index and
scans every line. A store not migrated yet (only readers opened it since the upgrade) is scanned too.
PostgreSQL: a scan with ILIKE (no index yet), the same check in Python.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .location import StoreURL

_WORD = re.compile(r"[^\W\d_]+")  # the letters-only tokens of logs_fts (unicode61, categories 'L* Co')
_SEQ_BITS = 32
_FIRST_BATCH = 250  # candidate lines of the first query (the first matches come fast)
_BATCH = 16_000  # candidate lines per query at most


@dataclass(frozen=True)
class Match:
    """One match: a console line (stream is stdout, stderr, ...; seq its number in the run) or a run's
    name, notes or tags (stream is 'name', 'notes' or 'tags'; seq is None; ts the run's creation time)."""

    run_id: str
    run_name: str
    project: str
    stream: str
    seq: int | None
    ts: float
    text: str


def matcher(pattern: str) -> re.Pattern[str]:
    """The regular expression that decides a match (the index only narrows the candidates)."""
    rx = re.escape(pattern)
    if pattern[:1] and _WORD.match(pattern[:1]):
        rx = r"(?<![^\W\d_])" + rx  # starts at the start of a word
    return re.compile(rx, re.IGNORECASE)


def fts_query(pattern: str) -> str | None:
    """The FTS5 query that finds every candidate line of pattern, or None when it has no letters."""
    words = _WORD.findall(pattern)
    if not words:
        return None
    parts = [f'"{w}"' for w in words]
    if pattern.endswith(words[-1]):  # the last word may continue in the line ("mem" finds "memory")
        # A prefix query reads the whole doclist of every term it covers before its first row (~130 ms for
        # a word in 1M lines): with other words to stream on, the last one is left to the check instead.
        if len(parts) > 1:
            parts.pop()
        else:
            parts[-1] += "*"
    return " AND ".join(parts)


def _like(pattern: str) -> str:
    return "%" + pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(reader: Any, pattern: str, project: str | None = None, limit: int | None = None,
           runs: bool = True) -> Iterator[Match]:
    """Matches of pattern across the store of reader (a store.Reader): first the runs whose name, notes or
    tags match, then console lines, at most limit in all. A generator: stop it to stop reading."""
    if not pattern:
        raise ValueError("the search pattern is empty")
    n = 0
    gens = [_run_matches(reader, pattern, project)] if runs else []
    gens.append(_line_matches(reader, pattern, project))
    for gen in gens:
        for m in gen:
            yield m
            n += 1
            if limit is not None and n >= limit:
                return


def indexed(reader: Any) -> bool:
    """Whether the store holds the search indexes (SQLite, migrated to the search schema)."""
    if isinstance(reader.root, StoreURL):
        return False
    return bool(reader._all("SELECT 1 FROM sqlite_master WHERE name = 'logs_fts'"))


def _run_matches(reader: Any, pattern: str, project: str | None) -> Iterator[Match]:
    rx = matcher(pattern)
    sql = "SELECT id, name, project, created_at, name, notes, tags FROM runs"
    params: list[Any] = []
    q = fts_query(pattern)
    if q is not None and indexed(reader):
        sql += (" WHERE id IN (SELECT s.run_id FROM runs_fts f JOIN search_runs s ON s.num = f.rowid "
                "WHERE runs_fts MATCH ?)")
        params.append(q)
    else:
        sql += " WHERE TRUE"
    if project is not None:
        sql += " AND project = ?"
        params.append(project)
    sql += " ORDER BY created_at"
    for rid, name, proj, created, *texts in reader._all(sql, params):
        for stream, text in zip(("name", "notes", "tags"), texts, strict=True):
            if text and rx.search(text):
                yield Match(rid, name, proj, stream, None, created, text)


def _line_matches(reader: Any, pattern: str, project: str | None) -> Iterator[Match]:
    rx = matcher(pattern)
    q = fts_query(pattern)
    proj = " AND r.project = ?" if project is not None else ""
    pparams = [project] if project is not None else []
    # SQL's LIKE folds ASCII case only: it narrows an ASCII pattern's candidates before Python sees them.
    like = " AND l.line LIKE ? ESCAPE '\\'" if pattern.isascii() else ""
    lparams = [_like(pattern)] if like else []
    if q is not None and indexed(reader):
        # One statement gives the candidates in index order (FTS5 gives rowids in order without sorting;
        # a prefix query reads its whole doclist once, so it must not be run again per batch), fetched a
        # batch at a time: small first, so that the first matches come at once. The statement (a read
        # transaction) lives as long as this generator: stopping or closing it ends the statement.
        cur = reader._connection().execute("SELECT rowid FROM logs_fts WHERE logs_fts MATCH ? ORDER BY rowid", [q])
        rows_sql = ("SELECT l.run_id, r.name, r.project, l.stream, l.seq, l.ts, l.line FROM json_each(?) c "
                    f"JOIN search_runs s ON s.num = c.value >> {_SEQ_BITS} "
                    f"JOIN logs l ON l.run_id = s.run_id AND l.seq = c.value & {(1 << _SEQ_BITS) - 1} "
                    f"JOIN runs r ON r.id = l.run_id WHERE TRUE{proj}{like} ORDER BY c.value")
        size = _FIRST_BATCH
        try:
            while True:
                ids = [r[0] for r in cur.fetchmany(size)]
                if not ids:
                    return
                for row in reader._all(rows_sql, [json.dumps(ids), *pparams, *lparams]):
                    if rx.search(row[6]):
                        yield Match(*row)
                size = min(size * 4, _BATCH)
        finally:
            cur.close()
    # No index (PostgreSQL, a store not migrated yet, a pattern without letters): scan, run by run.
    op = "ILIKE" if isinstance(reader.root, StoreURL) else "LIKE"
    run_rows = reader._all(f"SELECT r.id, r.name, r.project FROM runs r WHERE TRUE{proj} ORDER BY r.created_at",
                           pparams)
    for rid, name, project_ in run_rows:
        after = -1
        while True:
            rows = reader._all(f"SELECT seq, stream, ts, line FROM logs WHERE run_id = ? AND seq > ? AND line {op} ? "
                               f"ESCAPE '\\' ORDER BY seq LIMIT {_BATCH}", [rid, after, _like(pattern)])
            for seq, stream, ts, line in rows:
                if rx.search(line):
                    yield Match(rid, name, project_, stream, seq, ts, line)
            if len(rows) < _BATCH:
                break
            after = rows[-1][0]
