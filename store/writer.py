"""The writer: one per process and store, a bounded queue drained by one thread into one connection.

Callers `put()` records (tuples whose first element names a handler in HANDLERS); the thread commits
them in `BEGIN IMMEDIATE` batches at least every BATCH_INTERVAL seconds. A full queue makes `put()` wait
(back-pressure, never dropped data); a dead writer thread makes `put()` write inline.

No record can stop the writer. A batch that fails for a reason of the store (locked, disk full, I/O) stays
queued and is retried with a growing pause until it goes through. A batch that fails for any other reason
is split until the records that fail on their own are found; everything else is committed, and each bad
record (or, inside a history record, each bad key) is dropped with one message through `store.report`.
"""

from __future__ import annotations

import collections
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from . import report, schema
from .codec import NEG_INF, NEG_ZERO
from .schema import ROLLUP_SHIFT

BATCH_INTERVAL = 0.5  # seconds between commits at most
HEARTBEAT_INTERVAL = 5.0  # seconds between heartbeats of an idle run
WAKE_AT = 2_000  # queued records that wake the writer before the interval ends
GIVE_UP_AFTER = 5  # failed batches in a row after which flush() stops waiting (records stay queued)
MAX_QUEUED = 10_000  # records in memory before put() waits for the writer (bounds RSS)
MIN_QUEUED = 2_000  # the queue bound never drops below this (nor below WAKE_AT)
BATCH_SECONDS = 0.2  # a batch holds what the writer commits in about this long: what a kill -9 can lose is
#                      the batch in flight plus the one queued behind it (README: "How much a kill -9 loses")
RETRY_PAUSES = (0.25, 0.5, 1.0, 2.0, 4.0)  # seconds before retrying a batch the store refused; then the last

# Words of the sqlite3.OperationalError messages that are about the store, not the records: such a batch is
# kept and retried. ("database is locked", "database or disk is full", "disk I/O error", "attempt to write a
# readonly database", "unable to open database file", "interrupted")
_TRANSIENT_WORDS = ("locked", "busy", "full", "disk", "i/o", "readonly", "read-only", "unable to open",
                    "interrupted")

Record = tuple[Any, ...]
Handler = Callable[["Batch", list[Record]], None]

RUN_COLUMNS = {
    "project", "name", "run_group", "job_type", "tags", "notes", "state", "exit_code", "error",
    "heartbeat_at", "finished_at", "host", "pid", "pid_started_at", "config", "summary", "metadata",
    "metric_defs", "last_step", "created_at",
}


class Batch:
    """What handlers get: the connection inside an open transaction, and the metric id cache."""

    def __init__(self, conn: sqlite3.Connection, metric_ids: dict[tuple[str, str], dict[str, int]]):
        self.conn = conn
        self._metric_ids = metric_ids
        self.run_updates: dict[str, dict[str, Any]] = {}

    def metric_ids(self, run_id: str, stream: str) -> dict[str, int]:
        """The key -> metric id cache of one run and stream (fill misses with new_metric)."""
        cache = self._metric_ids.get((run_id, stream))
        if cache is None:
            cache = self._metric_ids[(run_id, stream)] = {}
        return cache

    def new_metric(self, run_id: str, stream: str, key: str) -> int:
        """The id of a metric, created if this is its first point."""
        conn = self.conn
        conn.execute(
            "INSERT INTO metrics(run_id, stream, key) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (run_id, stream, key),
        )
        (mid,) = conn.execute(
            "SELECT id FROM metrics WHERE run_id = ? AND stream = ? AND key = ?", (run_id, stream, key)
        ).fetchone()
        self.metric_ids(run_id, stream)[key] = mid
        return mid

    def update_run(self, run_id: str, **fields: Any) -> None:
        """Columns of a run row to set at the end of this batch (later calls win)."""
        self.run_updates.setdefault(run_id, {}).update(fields)

    def put_blob(self, data: bytes) -> str:
        """Store bytes once, content-addressed; return their sha256."""
        import hashlib

        digest = hashlib.sha256(data).hexdigest()
        self.conn.execute(
            "INSERT INTO blobs(sha256, size, data) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (digest, len(data), data),
        )
        return digest


# ---------------------------------------------------------------- handlers: one per record type


def _write_history(batch: Batch, records: list[Record]) -> None:
    """("history", run_id, step, ts, [(key, value, kind, text), ...], rewrite)

    The rollup of new steps is folded here, point by point, and merged into history_rollup; a record that
    rewrites steps (rewrite=True: a step at or below one already logged) has its buckets recomputed from
    history instead, so replaced values leave no trace in min/max/count.
    """
    rows: list[tuple[Any, ...]] = []
    steps: list[tuple[str, int, float]] = []
    rollup: dict[int, dict[int, list[Any]]] = {}  # bucket -> metric id -> [first, last, n, min, max, sum, special]
    recompute: dict[str, tuple[set[int], set[int]]] = {}
    last_step: dict[str, int] = {}
    append = rows.append
    for _, run_id, step, ts, items, rewrite in records:
        cache = batch.metric_ids(run_id, "history")
        steps.append((run_id, step, ts))
        if step > last_step.get(run_id, -1):
            last_step[run_id] = step
        if rewrite:
            t = recompute.setdefault(run_id, (set(), set()))
            t[0].add(step >> ROLLUP_SHIFT)
        else:
            bucket = rollup.get(step >> ROLLUP_SHIFT)
            if bucket is None:
                bucket = rollup[step >> ROLLUP_SHIFT] = {}
        for key, value, kind, text in items:
            mid = cache.get(key)
            if mid is None:
                mid = batch.new_metric(run_id, "history", key)
            append((mid, step, value, kind, text))
            if rewrite:
                t[1].add(mid)
                continue
            a = bucket.get(mid)
            if kind <= NEG_ZERO:
                if a is None:
                    bucket[mid] = [step, step, 1, value, value, value, 0]
                else:
                    a[1] = step
                    a[2] += 1
                    a[5] += value
                    if a[2] == 1:  # the first finite value after only NaN/Inf in this bucket
                        a[3] = a[4] = value
                    elif value < a[3]:
                        a[3] = value
                    elif value > a[4]:
                        a[4] = value
            elif kind <= NEG_INF:
                if a is None:
                    bucket[mid] = [step, step, 0, None, None, 0.0, 1]
                else:
                    a[1] = step
                    a[6] += 1
    conn = batch.conn
    conn.executemany(
        "INSERT INTO history(metric_id, step, value, kind, text) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(metric_id, step) DO UPDATE SET value = excluded.value, kind = excluded.kind, "
        "text = excluded.text",
        rows,
    )
    conn.executemany("INSERT OR REPLACE INTO steps(run_id, step, ts) VALUES (?, ?, ?)", steps)
    conn.executemany(
        "INSERT INTO history_rollup(metric_id, bucket, first_step, last_step, n, vmin, vmax, vsum, n_special) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(metric_id, bucket) DO UPDATE SET "
        "first_step = min(first_step, excluded.first_step), last_step = max(last_step, excluded.last_step), "
        "n = n + excluded.n, vmin = coalesce(min(vmin, excluded.vmin), vmin, excluded.vmin), "
        "vmax = coalesce(max(vmax, excluded.vmax), vmax, excluded.vmax), vsum = vsum + excluded.vsum, "
        "n_special = n_special + excluded.n_special",
        [(mid, b, *a) for b, per_metric in rollup.items() for mid, a in per_metric.items()],
    )
    for buckets, ids in recompute.values():
        _update_rollup(conn, sorted(ids), sorted(buckets))
    for run_id, step in last_step.items():
        batch.update_run(run_id, last_step=step)


def _update_rollup(conn: sqlite3.Connection, metric_ids: list[int], buckets: list[int]) -> None:
    """Recompute the rollup rows of the touched buckets from history (exact, also after overwrites)."""
    ranges: list[list[int]] = []
    for b in buckets:
        if ranges and b == ranges[-1][1] + 1:
            ranges[-1][1] = b
        else:
            ranges.append([b, b])
    marks = ",".join("?" * len(metric_ids))
    sql = (
        "INSERT INTO history_rollup(metric_id, bucket, first_step, last_step, n, vmin, vmax, vsum, n_special) "
        "SELECT metric_id, step >> %d, min(step), max(step), sum(kind <= 1), "
        "min(CASE WHEN kind <= 1 THEN value END), max(CASE WHEN kind <= 1 THEN value END), "
        "total(CASE WHEN kind <= 1 THEN value END), sum(kind BETWEEN 2 AND 4) "
        "FROM history WHERE metric_id IN (%s) AND step BETWEEN ? AND ? GROUP BY metric_id, step >> %d "
        "ON CONFLICT(metric_id, bucket) DO UPDATE SET first_step = excluded.first_step, "
        "last_step = excluded.last_step, n = excluded.n, vmin = excluded.vmin, vmax = excluded.vmax, "
        "vsum = excluded.vsum, n_special = excluded.n_special"
    ) % (ROLLUP_SHIFT, marks, ROLLUP_SHIFT)
    for lo, hi in ranges:
        conn.execute(sql, (*metric_ids, lo << ROLLUP_SHIFT, ((hi + 1) << ROLLUP_SHIFT) - 1))


def _write_system(batch: Batch, records: list[Record]) -> None:
    """("system", run_id, ts, [(key, value), ...]): time-keyed samples."""
    rows = []
    for _, run_id, ts, items in records:
        cache = batch.metric_ids(run_id, "system")
        for key, value in items:
            mid = cache.get(key)
            if mid is None:
                mid = batch.new_metric(run_id, "system", key)
            rows.append((mid, ts, value))
    batch.conn.executemany("INSERT OR REPLACE INTO system(metric_id, ts, value) VALUES (?, ?, ?)", rows)


def _write_logs(batch: Batch, records: list[Record]) -> None:
    """("log", run_id, ts, stream, line): console lines, numbered per run in SQL (several writers agree)."""
    batch.conn.executemany(
        "INSERT INTO logs(run_id, seq, ts, stream, line) "
        "VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM logs WHERE run_id = ?1), ?2, ?3, ?4)",
        [(r[1], r[2], r[3], r[4]) for r in records],
    )


def _write_files(batch: Batch, records: list[Record]) -> None:
    """("file", run_id, name, data): a file attached to a run (a later one of the same name replaces it)."""
    for _, run_id, name, data in records:
        digest = batch.put_blob(data)
        batch.conn.execute(
            "INSERT OR REPLACE INTO files(run_id, name, sha256, size, created_at) VALUES (?, ?, ?, ?, ?)",
            (run_id, name, digest, len(data), time.time()),
        )


def _write_run(batch: Batch, records: list[Record]) -> None:
    """("run", run_id, {column: value}): update columns of a run row."""
    for _, run_id, fields in records:
        batch.update_run(run_id, **fields)


def _write_sync(batch: Batch, records: list[Record]) -> None:
    """("sync", event): set once everything before it is committed (see Writer.flush)."""


def _transient(e: BaseException) -> bool:
    """True when e is about the store (retry the batch), False when it may be about a record (isolate it)."""
    if isinstance(e, sqlite3.OperationalError):
        msg = str(e).lower()
        return any(w in msg for w in _TRANSIENT_WORDS)
    return isinstance(e, (OSError, MemoryError))


def _set_syncs(records: list[Record]) -> None:
    """Wake the flush() calls waiting for these records (everything before them is committed)."""
    for r in records:
        if r[0] == "sync":
            r[1].set()


def _cause(e: BaseException) -> str:
    """A short cause for one message per kind of failure ("database is locked", "disk I/O error")."""
    return f"{type(e).__name__}:{str(e)[:40]}"


def _report_dropped(record: Record, error: BaseException) -> None:
    """One message for a record that cannot be stored: run, key, step and reason."""
    op, run_id = record[0], record[1] if len(record) > 1 else "?"
    where = op
    if op == "history":
        keys = ", ".join(repr(it[0]) for it in record[4][:3])
        where = f"key {keys} at step {record[2]}"
    elif op == "media":
        where = f"media {record[2]!r} at step {record[3]}"
    elif op == "file":
        where = f"file {record[2]!r}"
    elif op == "run":
        where = f"column {', '.join(record[2])}"
    report.once(f"dropped:{run_id}:{op}:{type(error).__name__}",
                f"tracktui: run {run_id}: {where} could not be stored and was dropped "
                f"({type(error).__name__}: {error}); the rest of the run is kept (further such records of "
                "this run are dropped without a message)")


HANDLERS: dict[str, Handler] = {
    "run": _write_run,
    "history": _write_history,
    "system": _write_system,
    "log": _write_logs,
    "file": _write_files,
    "sync": _write_sync,
}


def register_handler(op: str, handler: Handler) -> None:
    """Add a record type (the media module registers its own)."""
    HANDLERS[op] = handler


# op -> fn(records): slow work (image encoding) done on the writer thread before the write transaction
# opens, so other writers are not kept waiting; it must not raise and may be called again on a retry.
PREPARERS: dict[str, Callable[[list[Record]], None]] = {}


def apply_run_updates(conn: sqlite3.Connection, updates: dict[str, dict[str, Any]]) -> None:
    """UPDATE the runs rows, raising rev so readers see the change."""
    now = time.time()
    for run_id, fields in updates.items():
        cols = [c for c in fields if c in RUN_COLUMNS]
        if "last_step" in fields:
            cols.remove("last_step")
        sets = "".join(f"{c} = ?, " for c in cols)
        params: list[Any] = [fields[c] for c in cols]
        if "last_step" in fields:
            sets += "last_step = max(coalesce(last_step, -1), ?), "
            params.append(fields["last_step"])
        conn.execute(
            f"UPDATE runs SET {sets}updated_at = ?, rev = (SELECT coalesce(max(rev), 0) + 1 FROM runs) "
            "WHERE id = ?",
            (*params, now, run_id),
        )


def insert_run(conn: sqlite3.Connection, fields: dict[str, Any]) -> None:
    """Create a run row (or, on resume, refresh its columns), raising rev."""
    cols = [c for c in fields if c in RUN_COLUMNS or c == "id"]
    now = time.time()
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in ("id", "created_at"))
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            f"INSERT INTO runs({', '.join(cols)}, updated_at, rev) VALUES ({', '.join('?' * len(cols))}, ?, "
            f"(SELECT coalesce(max(rev), 0) + 1 FROM runs)) "
            f"ON CONFLICT(id) DO UPDATE SET {updates}, updated_at = excluded.updated_at, rev = excluded.rev",
            (*[fields[c] for c in cols], now),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


class Writer:
    """The process's writer for one store root (use Writer.for_root)."""

    _instances: dict[Path, Writer] = {}
    _lock = threading.Lock()
    _orphans: list[Any] = []  # connections inherited over fork: never closed in the child (see _after_fork)

    @classmethod
    def for_root(cls, root: Path, durable: bool = False) -> Writer:
        """The one writer of this process for root, opened (and the schema migrated) on first use."""
        key = root.resolve() if root.exists() else root.absolute()
        with cls._lock:
            w = cls._instances.get(key)
            if w is None or w._closed:
                w = cls._instances[key] = Writer(root, durable)
            return w

    def __init__(self, root: Path, durable: bool = False):
        self.root = root
        # Opened here so init() fails with a clear error; used only by the writer thread from now on
        # (or inline by a caller when that thread has died).
        self.conn = schema.connect_writer(root, durable)
        self._queue: collections.deque[Record] = collections.deque()
        self._wake = threading.Event()
        self._drained = threading.Condition()
        self._write_lock = threading.Lock()
        self._state_fns: dict[str, Callable[[bool], dict[str, Any] | None]] = {}
        self._metric_ids: dict[tuple[str, str], dict[str, int]] = {}
        self._closed = False
        # Records queued before put() waits: what the writer commits in BATCH_SECONDS, as last measured.
        self.max_queued = MAX_QUEUED
        self._failures = 0  # consecutive batches the store refused
        self._last_heartbeat = 0.0
        self._unsent_state: dict[str, dict[str, Any]] = {}  # run columns of a batch that was rolled back
        # While set (time.monotonic()), back-pressure stops waiting then: a finish() under a time limit
        # (SIGTERM) must not wait for a writer that cannot keep up or a store that is stuck.
        self.wait_deadline: float | None = None
        # Not a daemon: at interpreter exit (and at the end of a multiprocessing child, which skips atexit)
        # threading's shutdown waits for it, and it writes what is queued once the main thread has ended.
        self._thread = threading.Thread(target=self._loop, name="tracktui-writer", daemon=False)
        self._thread.start()

    # ------------------------------------------------------------ the calling side

    def put(self, record: Record) -> None:
        """Queue a record. Cheap; waits only when MAX_QUEUED records are already waiting."""
        q = self._queue
        q.append(record)
        n = len(q)
        if n >= WAKE_AT:
            self._wake.set()
            if n >= self.max_queued:
                self._backpressure()

    def _backpressure(self) -> None:
        while len(self._queue) >= self.max_queued:
            if not self._thread.is_alive():
                self._write_pending()  # the writer died: write inline rather than lose data
                return
            deadline = self.wait_deadline
            if deadline is not None and time.monotonic() >= deadline:
                return  # finishing under a time limit (SIGTERM): the record stays queued, nothing waits
            with self._drained:
                self._drained.wait(0.5 if deadline is None else max(0.0, min(0.5, deadline - time.monotonic())))

    def attach(self, run_id: str, state_fn: Callable[[bool], dict[str, Any] | None]) -> None:
        """state_fn(heartbeat) gives run columns to update with each batch (summary, heartbeat...)."""
        self._state_fns[run_id] = state_fn

    def execute_now(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run fn(conn) on the calling thread between batches (init's run row, resume look-ups)."""
        with self._write_lock:
            return fn(self.conn)

    def detach(self, run_id: str) -> None:
        """Stop asking this run for state updates."""
        self._state_fns.pop(run_id, None)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued so far is committed; False if timeout passed first."""
        if self._closed:
            return True
        if not self._thread.is_alive():
            self._write_pending()
            return True
        done = threading.Event()
        self._queue.append(("sync", done))
        self._wake.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        while not done.wait(0.05):
            if not self._thread.is_alive():
                self._write_pending()
                return True
            if self._failures >= GIVE_UP_AFTER:
                return False
            if deadline is not None and time.monotonic() > deadline:
                return False
        return True

    def close(self, timeout: float | None = None) -> bool:
        """Flush, stop the thread and close the connection."""
        ok = self.flush(timeout)
        if not ok:
            return False
        self._closed = True
        self._wake.set()
        self._thread.join(timeout)
        if not self._thread.is_alive():
            try:
                self.conn.close()
            except sqlite3.Error:
                pass
        return True

    # ------------------------------------------------------------ the writer thread

    def _loop(self) -> None:
        main = threading.main_thread()
        while not self._closed:
            self._wake.wait(BATCH_INTERVAL)
            self._wake.clear()
            last = not main.is_alive()
            try:
                self._write_pending()
                self._failures = 0
            except Exception as e:  # the store refused the batch: it stays queued; training goes on
                self._failures += 1
                report.once(f"writer:{self.root}:{_cause(e)}",
                            f"tracktui: writing to the store at {self.root} failed ({e}); the data stays queued "
                            "in memory and is retried until it is written")
                if last and self._failures >= GIVE_UP_AFTER:
                    return
                pause = RETRY_PAUSES[min(self._failures, len(RETRY_PAUSES)) - 1]
                self._wake.wait(pause)  # close() and flush() cut the pause short
                continue
            if last:
                return  # the interpreter is exiting; atexit's finish() writes the rest inline

    def _write_pending(self) -> None:
        with self._write_lock:
            now = time.time()
            heartbeat = now - self._last_heartbeat >= HEARTBEAT_INTERVAL
            q = self._queue
            n = len(q)
            if not n and not heartbeat and not self._unsent_state:
                return
            n = min(n, self.max_queued)  # the rest is the next batch, right after this one
            popleft = q.popleft  # callers append at the right while we take from the left: both atomic
            records = [popleft() for _ in range(n)]
            started = time.monotonic()
            try:
                self._commit(records, heartbeat)
                if n >= WAKE_AT:
                    self._measure(n, time.monotonic() - started)
            except Exception as e:
                if _transient(e):
                    q.extendleft(reversed(records))
                    raise
                self._isolate(records, heartbeat)
            except BaseException:
                q.extendleft(reversed(records))
                raise
            if heartbeat:
                self._last_heartbeat = now
            _set_syncs(records)
            if len(q) >= WAKE_AT:
                self._wake.set()  # a backlog: the next batch at once
        with self._drained:
            self._drained.notify_all()

    def _measure(self, n: int, seconds: float) -> None:
        """Size the queue to what the writer commits in BATCH_SECONDS (smoothed over batches)."""
        fit = n * BATCH_SECONDS / max(seconds, 1e-6)
        bound = 0.5 * self.max_queued + 0.5 * fit
        self.max_queued = int(min(MAX_QUEUED, max(MIN_QUEUED, bound)))

    def _isolate(self, records: list[Record], heartbeat: bool) -> None:
        """Commit every record that can be, in order, and drop the ones that fail on their own.

        Halves are committed one after the other; a half that fails is split again. One history record that
        fails alone is split into its keys. Before a record is dropped, an empty transaction shows that the
        store itself still works; when the store fails, the records not yet committed go back to the queue and
        the error is raised, as for any batch the store refuses.
        """
        todo: collections.deque[list[Record]] = collections.deque([records])
        try:
            while todo:
                chunk = todo[0]
                try:
                    self._commit(chunk, None)
                except Exception as e:  # noqa: BLE001 - sorted out below
                    if _transient(e):
                        raise
                    error = e
                else:
                    todo.popleft()
                    _set_syncs(chunk)
                    continue
                if len(chunk) > 1:
                    mid = len(chunk) // 2
                    todo.popleft()
                    todo.extendleft((chunk[mid:], chunk[:mid]))
                elif chunk[0][0] == "history" and len(chunk[0][4]) > 1:  # one key at a time
                    op, run_id, step, ts, items, rewrite = chunk[0]
                    todo.popleft()
                    todo.extendleft(reversed([[(op, run_id, step, ts, [it], rewrite)] for it in items]))
                elif chunk[0][0] == "run" and len(chunk[0][2]) > 1:  # one column at a time: the state lands
                    op, run_id, fields = chunk[0]
                    todo.popleft()
                    todo.extendleft(reversed([[(op, run_id, {k: v})] for k, v in fields.items()]))
                else:
                    self._commit([], None)  # raises if the store, not the record, is what fails
                    todo.popleft()
                    _report_dropped(chunk[0], error)
            try:
                self._commit([], heartbeat)
            except Exception as e:  # the run columns (summary, heartbeat) themselves cannot be written
                if _transient(e):
                    raise
                dropped = self._unsent_state
                self._unsent_state = {}
                for run_id, fields in dropped.items():
                    report.once(f"dropped-state:{run_id}", f"tracktui: run {run_id}: the columns "
                                f"{', '.join(sorted(fields))} could not be stored ({type(e).__name__}: {e})")
        except BaseException:
            self._queue.extendleft(reversed([r for chunk in todo for r in chunk]))
            raise

    def _commit(self, records: Iterable[Record], with_state: bool | None) -> None:
        """One write transaction: the records, then the runs' state columns (with_state: the heartbeat flag;
        None leaves the state out, for the isolating commits)."""
        conn = self.conn
        by_op: dict[str, list[Record]] = {}
        for r in records:
            by_op.setdefault(r[0], []).append(r)
        for op, recs in by_op.items():
            prepare = PREPARERS.get(op)
            if prepare is not None:
                prepare(recs)
        state: dict[str, dict[str, Any]] = {}
        if with_state is not None:
            state, self._unsent_state = self._unsent_state, {}
            for run_id, fn in list(self._state_fns.items()):
                fields = fn(with_state)
                if fields:
                    state.setdefault(run_id, {}).update(fields)
        conn.execute("BEGIN IMMEDIATE")
        try:
            batch = Batch(conn, self._metric_ids)
            for op, recs in by_op.items():
                HANDLERS[op](batch, recs)
            for run_id, fields in state.items():
                batch.update_run(run_id, **fields)
            if batch.run_updates:
                apply_run_updates(conn, batch.run_updates)
            conn.execute("COMMIT")
        except BaseException:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            self._metric_ids.clear()  # ids created in the rolled-back transaction are gone
            for run_id, fields in state.items():  # not written: sent with the next transaction
                self._unsent_state[run_id] = {**fields, **self._unsent_state.get(run_id, {})}
            raise

    # ------------------------------------------------------------ fork

    @classmethod
    def _after_fork(cls) -> None:
        # SQLite must not close, in a child, a connection the parent still uses: closing could checkpoint
        # and truncate the parent's WAL. Keep the objects alive; the child opens its own on next use.
        for w in cls._instances.values():
            cls._orphans.append(w.conn)
            w._closed = True
        cls._instances = {}
        cls._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=Writer._after_fork)
