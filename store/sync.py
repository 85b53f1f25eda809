"""`tracktui sync`: send spooled records to their store, and copy the runs of one store into another.

Both are idempotent. Spooled records carry their position in their writer's stream and the store keeps how
far each stream got (writer_progress), so a record is stored once however often a spool is sent. A copy
keeps every identity (run id, metric key and step, log line number, file name, media key/step/index), so
copying again changes nothing; the rollup of each copied metric is recomputed from its history.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import report, spool
from .engine import Engine, engine_for
from .location import StoreURL, Target, resolve_store
from .reader import Reader
from .schema import ROLLUP_SHIFT
from .writer import RUN_COLUMNS, Batch, _update_rollup, write_batch

SPOOL_CHUNK = 2_000  # records per transaction when a spool is sent


@dataclass
class SyncResult:
    spools: int = 0  # spool files sent (and removed)
    records: int = 0  # spooled records stored now (not counting those the store had already)
    busy: int = 0  # spool files left alone: a live process still writes them
    runs: int = 0  # runs copied
    points: int = 0  # history points copied


def send_spools(target: StoreURL, conn: Any = None, engine: Engine | None = None, skip: str | None = None,
                result: SyncResult | None = None) -> SyncResult:
    """Send every spool file waiting for target whose writer has ended (skip: the caller's own stream)."""
    result = result or SyncResult()
    files = spool.pending(target)
    if not files:
        return result
    engine = engine or engine_for(target)
    own = conn is None
    if own:
        conn = engine.connect_writer(target)
    try:
        for path in files:
            if skip is not None and path.name == f"{skip}{spool.SUFFIX}":
                continue
            fd = spool.lock(path)
            if fd is None:
                result.busy += 1
                continue
            try:
                stream = str(spool.read_header(path).get("stream") or path.name[: -len(spool.SUFFIX)])
                result.records += _send_file(conn, engine, path, stream)
                path.unlink()
                result.spools += 1
            finally:
                os.close(fd)
    finally:
        if own:
            engine.close(conn)
    return result


def _send_file(conn: Any, engine: Engine, path: Any, stream: str) -> int:
    done = engine.progress(conn, stream) or 0
    metric_ids: dict[tuple[str, str], dict[str, int]] = {}
    sent = 0
    chunk: list[tuple[int, tuple[Any, ...]]] = []

    def send(items: list[tuple[int, tuple[Any, ...]]]) -> int:
        try:
            write_batch(conn, engine, metric_ids, [r for _, r in items], None, stream, items[-1][0] + 1)
            return len(items)
        except Exception as e:
            if engine.transient(e) or len(items) == 1:
                if engine.transient(e):
                    raise
                report.once(f"sync-dropped:{stream}:{type(e).__name__}",
                            f"tracktui: a spooled {items[0][1][0]} record of run {items[0][1][1]} could not be "
                            f"stored and was dropped ({type(e).__name__}: {e})")
                write_batch(conn, engine, metric_ids, [], None, stream, items[-1][0] + 1)
                return 0
        mid = len(items) // 2
        return send(items[:mid]) + send(items[mid:])

    for pos, rec in spool.read_file(path):
        if pos < done:
            continue
        chunk.append((pos, rec))
        if len(chunk) >= SPOOL_CHUNK:
            sent += send(chunk)
            chunk = []
    if chunk:
        sent += send(chunk)
    return sent


# ---------------------------------------------------------------- store to store


_COPY_RUN_COLUMNS = tuple(sorted(RUN_COLUMNS | {"updated_at"}))


def copy_store(src: Target | str | None, dst: Target | str | None, project: str | None = None,
               runs: list[str] | None = None, progress: Callable[[str], None] | None = None) -> SyncResult:
    """Copy runs (all, one project's, or the given ids) from src into dst; running it again changes nothing."""
    src_t, dst_t = resolve_store(src), resolve_store(dst)
    if src_t == dst_t:
        raise ValueError(f"--from and --to are the same store ({src_t})")
    result = SyncResult()
    engine = engine_for(dst_t)
    conn = engine.connect_writer(dst_t)
    try:
        with Reader(src_t) as r:
            records = r.runs(project=project)
            if runs:
                wanted = set(runs)
                records = [x for x in records if x.id in wanted or x.name in wanted]
            for rec in reversed(records):  # oldest first: revs in the destination follow creation
                result.points += _copy_run(r, conn, engine, rec.id)
                result.runs += 1
                if progress is not None:
                    progress(rec.id)
    finally:
        engine.close(conn)
    return result


def _copy_run(r: Reader, conn: Any, engine: Engine, run_id: str) -> int:
    cols = ", ".join(_COPY_RUN_COLUMNS)
    row = r._all(f"SELECT {cols} FROM runs WHERE id = ?", (run_id,))
    if not row:
        return 0
    fields = dict(zip(_COPY_RUN_COLUMNS, row[0], strict=True))
    points = 0
    engine.begin(conn)
    try:
        batch = Batch(conn, {}, engine)
        # the run row: the source's columns win only when the source changed it later
        names = ["id", *_COPY_RUN_COLUMNS]
        engine.lock_revs(conn)
        conn.execute(
            f"INSERT INTO runs({', '.join(names)}, rev) VALUES ({', '.join('?' * len(names))}, "
            "(SELECT coalesce(max(rev), 0) + 1 FROM runs)) ON CONFLICT(id) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in _COPY_RUN_COLUMNS) + ", rev = excluded.rev "
            "WHERE runs.updated_at < excluded.updated_at",
            (run_id, *[fields[c] for c in _COPY_RUN_COLUMNS]),
        )
        hosts = r._has_hosts()
        for stream in ("history", "system"):
            for key, src_mid, host in r._all(
                    "SELECT key, id, " + ("host" if hosts else "''") + " FROM metrics WHERE run_id = ? AND stream = ? "
                    "ORDER BY id", (run_id, stream)):
                mid = batch.new_metric(run_id, stream, key, host)
                if stream == "history":
                    rows = [(mid, s, v, k, t) for s, v, k, t in r._all(
                        "SELECT step, value, kind, text FROM history WHERE metric_id = ? ORDER BY step", (src_mid,))]
                    engine.upsert_history(conn, rows, False)
                    points += len(rows)
                    if rows:
                        lo, hi = rows[0][1] >> ROLLUP_SHIFT, rows[-1][1] >> ROLLUP_SHIFT
                        _update_rollup(conn, [mid], list(range(lo, hi + 1)))
                else:
                    conn.executemany(
                        "INSERT INTO system(metric_id, ts, value) VALUES (?, ?, ?) ON CONFLICT(metric_id, ts) "
                        "DO UPDATE SET value = excluded.value",
                        [(mid, ts, v) for ts, v in r._all("SELECT ts, value FROM system WHERE metric_id = ?",
                                                          (src_mid,))])
        engine.upsert_steps(conn, [(run_id, s, ts) for s, ts in r._all(
            "SELECT step, ts FROM steps WHERE run_id = ? ORDER BY step", (run_id,))], False)
        conn.executemany(
            "INSERT INTO logs(run_id, seq, ts, stream, line) VALUES (?, ?, ?, ?, ?) ON CONFLICT(run_id, seq) "
            "DO UPDATE SET ts = excluded.ts, stream = excluded.stream, line = excluded.line",
            [(run_id, *x) for x in r._all("SELECT seq, ts, stream, line FROM logs WHERE run_id = ? ORDER BY seq",
                                          (run_id,))])
        shas = {x[0] for x in r._all("SELECT sha256 FROM files WHERE run_id = ?", (run_id,))}
        shas |= {x[0] for x in r._all("SELECT sha256 FROM media WHERE run_id = ? AND sha256 IS NOT NULL", (run_id,))}
        shas |= _cell_blobs(r, run_id)
        for sha in sorted(shas):
            data = r._all("SELECT size, data FROM blobs WHERE sha256 = ?", (sha,))
            if data:
                conn.execute("INSERT INTO blobs(sha256, size, data) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                             (sha, data[0][0], bytes(data[0][1])))
        conn.executemany(
            "INSERT INTO files(run_id, name, sha256, size, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(run_id, "
            "name) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, created_at = excluded.created_at",
            [(run_id, *x) for x in r._all("SELECT name, sha256, size, created_at FROM files WHERE run_id = ?",
                                          (run_id,))])
        conn.executemany(
            "INSERT INTO media(run_id, key, step, idx, type, sha256, size, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(run_id, key, step, idx) DO UPDATE SET type = excluded.type, sha256 = excluded.sha256, "
            "size = excluded.size, meta = excluded.meta",
            [(run_id, *x) for x in r._all("SELECT key, step, idx, type, sha256, size, meta FROM media "
                                          "WHERE run_id = ?", (run_id,))])
        conn.executemany(
            "INSERT INTO media_rows(run_id, key, step, idx, row, cells) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(run_id, key, step, idx, row) DO UPDATE SET cells = excluded.cells",
            [(run_id, *x) for x in r._all("SELECT key, step, idx, row, cells FROM media_rows WHERE run_id = ?",
                                          (run_id,))])
        engine.notify(conn)
        engine.commit(conn)
    except BaseException:
        engine.rollback(conn)
        raise
    return points


def _cell_blobs(r: Reader, run_id: str) -> set[str]:
    """sha256s of images inside logged tables (their cells hold {"_type": "image", "sha256": ...})."""
    import json

    out: set[str] = set()
    for (cells,) in r._all("SELECT cells FROM media_rows WHERE run_id = ? AND cells LIKE '%sha256%'", (run_id,)):
        try:
            for c in json.loads(cells):
                if isinstance(c, dict) and isinstance(c.get("sha256"), str):
                    out.add(c["sha256"])
        except ValueError:
            continue
    return out
