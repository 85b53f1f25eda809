"""The writer: one per process and store, a bounded queue drained by one thread into one connection.

Callers `put()` records (the typed tuples of records.py, whose first field `op` names a handler in
HANDLERS); the thread commits them in `BEGIN IMMEDIATE` batches at least every BATCH_INTERVAL seconds. A
full queue makes `put()` wait (back-pressure, never dropped data); a dead writer thread makes `put()` write
inline.

No record can stop the writer. A batch that fails for a reason of the store (locked, disk full, I/O) stays
queued and is retried with a growing pause until it goes through. A batch that fails for any other reason
is split until the records that fail on their own are found; everything else is committed, and each bad
record (or, inside a history record, each bad key) is dropped with one message through `store.report`.
"""

from __future__ import annotations

import collections
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from . import report
from .codec import NEG_INF, NEG_ZERO
from .engine import SQLITE, Engine, engine_for
from .location import StoreURL, Target, resolve_store
from .records import History, Record, RunFields, Sync
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

PROBE_PAUSES = (0.5, 1.0, 2.0, 4.0)
# records of the first batch sent from the spool (doubled while the store takes them)
RECOVERY_CHUNK = 256  # seconds between attempts to reach a remote store that is away

Handler = Callable[["Batch", list[Record]], None]

RUN_COLUMNS = {
    "project", "name", "run_group", "job_type", "tags", "notes", "state", "exit_code", "error",
    "heartbeat_at", "finished_at", "host", "pid", "pid_started_at", "config", "summary", "metadata",
    "metric_defs", "last_step", "created_at",
}


class Batch:
    """What handlers get: the connection inside an open transaction, its engine, and the metric id cache."""

    def __init__(self, conn: Any, metric_ids: dict[tuple[str, str], dict[str, int]], engine: Engine = SQLITE):
        self.conn = conn
        self.engine = engine
        self._metric_ids = metric_ids
        self.run_updates: dict[str, dict[str, Any]] = {}

    def metric_ids(self, run_id: str, stream: str, host: str = "") -> dict[str, int]:
        """The key -> metric id cache of one run, stream and host (fill misses with new_metric)."""
        at = (run_id, stream) if not host else (run_id, f"{stream}\0{host}")
        cache = self._metric_ids.get(at)
        if cache is None:
            cache = self._metric_ids[at] = {}
        return cache

    def new_metric(self, run_id: str, stream: str, key: str, host: str = "") -> int:
        """The id of a metric, created if this is its first point (host: the node of a system metric)."""
        conn = self.conn
        conn.execute(
            "INSERT INTO metrics(run_id, stream, key, host) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (run_id, stream, key, host),
        )
        (mid,) = conn.execute(
            "SELECT id FROM metrics WHERE run_id = ? AND stream = ? AND key = ? AND host = ?",
            (run_id, stream, key, host),
        ).fetchone()
        self.metric_ids(run_id, stream, host)[key] = mid
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
    """records.History: (op, run_id, step, ts, [(key, value, kind, text), ...], rewrite)

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
    add_step = steps.append
    # Runs of records of one run and one bucket are the rule (a fold applies a whole segment at once): the
    # run's metric ids and the bucket's dict are looked up when they change, not for every record.
    run = cache = bucket = None
    at = top = -1
    for _, run_id, step, ts, items, rewrite in records:
        if run_id != run:
            if run is not None and top > last_step.get(run, -1):
                last_step[run] = top
            run = run_id
            cache = batch.metric_ids(run_id, "history")
            top = last_step.get(run_id, -1)
        add_step((run_id, step, ts))
        if step > top:
            top = step
        if rewrite:
            t = recompute.setdefault(run_id, (set(), set()))
            t[0].add(step >> ROLLUP_SHIFT)
        elif step >> ROLLUP_SHIFT != at:
            at = step >> ROLLUP_SHIFT
            bucket = rollup.get(at)
            if bucket is None:
                bucket = rollup[at] = {}
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
    if run is not None and top > last_step.get(run, -1):
        last_step[run] = top
    conn = batch.conn
    engine = batch.engine
    rewrites = bool(recompute)
    engine.upsert_history(conn, rows, rewrites)
    engine.upsert_steps(conn, steps, rewrites)
    lo, hi = engine.least, engine.greatest
    conn.executemany(
        "INSERT INTO history_rollup(metric_id, bucket, first_step, last_step, n, vmin, vmax, vsum, n_special) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(metric_id, bucket) DO UPDATE SET "
        f"first_step = {lo}(history_rollup.first_step, excluded.first_step), "
        f"last_step = {hi}(history_rollup.last_step, excluded.last_step), "
        "n = history_rollup.n + excluded.n, "
        f"vmin = coalesce({lo}(history_rollup.vmin, excluded.vmin), history_rollup.vmin, excluded.vmin), "
        f"vmax = coalesce({hi}(history_rollup.vmax, excluded.vmax), history_rollup.vmax, excluded.vmax), "
        "vsum = history_rollup.vsum + excluded.vsum, n_special = history_rollup.n_special + excluded.n_special",
        [(mid, b, *a) for b, per_metric in rollup.items() for mid, a in per_metric.items()],
    )
    for buckets, ids in recompute.values():
        _update_rollup(conn, sorted(ids), sorted(buckets))
    for run_id, step in last_step.items():
        batch.update_run(run_id, last_step=step)


def _update_rollup(conn: Any, metric_ids: list[int], buckets: list[int]) -> None:
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
        "SELECT metric_id, step >> %d, min(step), max(step), sum(CASE WHEN kind <= 1 THEN 1 ELSE 0 END), "
        "min(CASE WHEN kind <= 1 THEN value END), max(CASE WHEN kind <= 1 THEN value END), "
        "coalesce(sum(CASE WHEN kind <= 1 THEN value END), 0.0), "
        "sum(CASE WHEN kind BETWEEN 2 AND 4 THEN 1 ELSE 0 END) "
        "FROM history WHERE metric_id IN (%s) AND step BETWEEN ? AND ? GROUP BY metric_id, step >> %d "
        "ON CONFLICT(metric_id, bucket) DO UPDATE SET first_step = excluded.first_step, "
        "last_step = excluded.last_step, n = excluded.n, vmin = excluded.vmin, vmax = excluded.vmax, "
        "vsum = excluded.vsum, n_special = excluded.n_special"
    ) % (ROLLUP_SHIFT, marks, ROLLUP_SHIFT)
    for lo, hi in ranges:
        conn.execute(sql, (*metric_ids, lo << ROLLUP_SHIFT, ((hi + 1) << ROLLUP_SHIFT) - 1))


def _write_system(batch: Batch, records: list[Record]) -> None:
    """records.System: (op, run_id, ts, [(key, value), ...], host): time-keyed samples of the node named host
    (a record without one, or with '', is read as sampled on the run's own host)."""
    rows = []
    for record in records:
        run_id, ts, items = record[1], record[2], record[3]
        host = str(record[4] or "") if len(record) > 4 else ""
        cache = batch.metric_ids(run_id, "system", host)
        for key, value in items:
            mid = cache.get(key)
            if mid is None:
                mid = batch.new_metric(run_id, "system", key, host)
            rows.append((mid, ts, value))
    if batch.engine is not SQLITE:  # one INSERT cannot change a row twice
        rows = list({(r[0], r[1]): r for r in rows}.values())
    batch.conn.executemany("INSERT INTO system(metric_id, ts, value) VALUES (?, ?, ?) "
                           "ON CONFLICT(metric_id, ts) DO UPDATE SET value = excluded.value", rows)


def _write_logs(batch: Batch, records: list[Record]) -> None:
    """records.LogLine: (op, run_id, ts, stream, line): console lines, numbered per run after the run's last stored line
    (under a per-run lock on PostgreSQL, so several writers of one run agree)."""
    conn = batch.conn
    by_run: dict[str, list[Record]] = {}
    for r in records:
        by_run.setdefault(r[1], []).append(r)
    rows = []
    for run_id, recs in by_run.items():
        batch.engine.lock_run(conn, run_id)
        (last,) = conn.execute("SELECT coalesce(max(seq), 0) FROM logs WHERE run_id = ?", (run_id,)).fetchone()
        rows += [(run_id, last + i, r[2], r[3], r[4]) for i, r in enumerate(recs, 1)]
    conn.executemany("INSERT INTO logs(run_id, seq, ts, stream, line) VALUES (?, ?, ?, ?, ?)", rows)


def _trim_logs(batch: Batch, records: list[Record]) -> None:
    """records.LogTrim: (op, run_id, marker, keep): delete the stored lines between the marker and the last keep
    (console capture past its cap keeps the head, the marker line and a tail window)."""
    last: dict[str, tuple[str, int]] = {}
    for _, run_id, marker, keep in records:
        last[run_id] = (marker, keep)
    conn = batch.conn
    for run_id, (marker, keep) in last.items():
        (mseq,) = conn.execute(
            "SELECT max(seq) FROM logs WHERE run_id = ? AND stream = 'tracktui' AND line = ?",
            (run_id, marker),
        ).fetchone()
        if mseq is None:
            continue
        conn.execute("DELETE FROM logs WHERE run_id = ? AND seq > ? AND "
                     "seq <= (SELECT max(seq) FROM logs WHERE run_id = ?) - ?", (run_id, mseq, run_id, keep))


def _write_files(batch: Batch, records: list[Record]) -> None:
    """records.FileRecord: (op, run_id, name, data): a file attached to a run (a later one of the same name
    replaces it)."""
    for _, run_id, name, data in records:
        digest = batch.put_blob(data)
        batch.conn.execute(
            "INSERT INTO files(run_id, name, sha256, size, created_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(run_id, name) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, "
            "created_at = excluded.created_at",
            (run_id, name, digest, len(data), time.time()),
        )


def _write_run(batch: Batch, records: list[Record]) -> None:
    """records.RunFields: (op, run_id, {column: value}): update columns of a run row."""
    for _, run_id, fields in records:
        batch.update_run(run_id, **fields)


def _write_sync(batch: Batch, records: list[Record]) -> None:
    """records.Sync: (op, event): set once everything before it is committed (see Writer.flush)."""


def _transient(e: BaseException, engine: Engine = SQLITE) -> bool:
    """True when e is about the store (retry the batch), False when it may be about a record (isolate it)."""
    return engine.transient(e)


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
    "log_trim": _trim_logs,
    "file": _write_files,
    "sync": _write_sync,
}


def register_handler(op: str, handler: Handler) -> None:
    """Add a record type (the media module registers its own)."""
    HANDLERS[op] = handler


# op -> fn(records): slow work (image encoding) done on the writer thread before the write transaction
# opens, so other writers are not kept waiting; it must not raise and may be called again on a retry.
PREPARERS: dict[str, Callable[[list[Record]], None]] = {}


def apply_run_updates(conn: Any, updates: dict[str, dict[str, Any]], engine: Engine = SQLITE) -> None:
    """UPDATE the runs rows, raising rev so readers see the change (inside the caller's transaction)."""
    if not updates:
        return
    engine.lock_revs(conn)
    now = time.time()
    for run_id, fields in updates.items():
        cols = [c for c in fields if c in RUN_COLUMNS]
        if "last_step" in fields:
            cols.remove("last_step")
        sets = "".join(f"{c} = ?, " for c in cols)
        params: list[Any] = [fields[c] for c in cols]
        if "last_step" in fields:
            sets += f"last_step = {engine.greatest}(coalesce(last_step, -1), ?), "
            params.append(fields["last_step"])
        conn.execute(
            f"UPDATE runs SET {sets}updated_at = ?, rev = (SELECT coalesce(max(rev), 0) + 1 FROM runs) "
            "WHERE id = ?",
            (*params, now, run_id),
        )
    engine.notify(conn)


def insert_run(conn: Any, fields: dict[str, Any], engine: Engine = SQLITE) -> None:
    """Create a run row (or, on resume, refresh its columns), raising rev; one transaction of its own."""
    cols = [c for c in fields if c in RUN_COLUMNS or c == "id"]
    now = time.time()
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in ("id", "created_at"))
    engine.begin(conn)
    try:
        engine.lock_revs(conn)
        conn.execute(
            f"INSERT INTO runs({', '.join(cols)}, updated_at, rev) VALUES ({', '.join('?' * len(cols))}, ?, "
            f"(SELECT coalesce(max(rev), 0) + 1 FROM runs)) "
            f"ON CONFLICT(id) DO UPDATE SET {updates}, updated_at = excluded.updated_at, rev = excluded.rev",
            (*[fields[c] for c in cols], now),
        )
        engine.notify(conn)
        engine.commit(conn)
    except BaseException:
        engine.rollback(conn)
        raise


def _prepare(records: Iterable[Record]) -> None:
    """The slow, transaction-free work of records (PREPARERS: media encoding), by record type."""
    by_op: dict[str, list[Record]] = {}
    for r in records:
        if r[0] in PREPARERS:
            by_op.setdefault(r[0], []).append(r)
    for op, recs in by_op.items():
        PREPARERS[op](recs)


def write_batch(conn: Any, engine: Engine, metric_ids: dict[tuple[str, str], dict[str, int]],
                records: Iterable[Record], state: dict[str, dict[str, Any]] | None = None,
                stream: str | None = None, upto: int | None = None) -> None:
    """One write transaction: the records (by type, in order), the runs' state columns, and where the stream
    stands (upto: how many of its records are stored once this commits). Rolled back whole on any error."""
    by_op: dict[str, list[Record]] = {}
    for r in records:
        by_op.setdefault(r[0], []).append(r)
    _prepare(r for recs in by_op.values() for r in recs)
    engine.begin(conn)
    try:
        batch = Batch(conn, metric_ids, engine)
        for op, recs in by_op.items():
            HANDLERS[op](batch, recs)
        for run_id, fields in (state or {}).items():
            batch.update_run(run_id, **fields)
        if batch.run_updates:
            apply_run_updates(conn, batch.run_updates, engine)  # NOTIFYs
        elif any(op != "sync" for op in by_op):
            engine.notify(conn)  # listening readers wake for log lines and files too
        if stream is not None and upto is not None:
            engine.save_progress(conn, stream, upto)
        engine.commit(conn)
    except BaseException:
        engine.rollback(conn)
        metric_ids.clear()  # ids created in the rolled-back transaction are gone
        raise


_RUN_ROW = ("name", "project", "config", "summary", "metric_defs", "last_step", "created_at", "tags", "run_group",
            "job_type", "notes", "state", "host", "pid", "pid_started_at", "heartbeat_at")


class Writer:
    """The process's writer for one store (use Writer.for_store).

    The calls the SDK uses: put, flush, close, attach/detach, wake, and the run-row calls init() needs
    (run_row, count_runs, save_run, update_run_now), which run on the calling thread between batches.
    """

    _instances: dict[Any, Writer] = {}
    _lock = threading.Lock()
    _orphans: list[Any] = []  # connections inherited over fork: never closed in the child (see _after_fork)

    @classmethod
    def for_store(cls, target: Any = None, durable: bool = False) -> Writer:
        """The one writer of this process for a store (a root path or a URL), opened on first use."""
        target = resolve_store(target)
        if isinstance(target, StoreURL):
            key: Any = target
        else:
            key = target.resolve() if target.exists() else target.absolute()
        with cls._lock:
            w = cls._instances.get(key)
            if w is None or w._closed:
                make: Any = Writer
                if isinstance(target, Path):  # a root on a network filesystem: segments, not SQLite
                    from .shared import is_shared

                    if is_shared(target):
                        from .segments import SegmentWriter as make
                w = cls._instances[key] = make(target, durable)
            return w

    for_root = for_store  # the name before stores could be URLs

    def __init__(self, target: Target, durable: bool = False):
        self.target = target
        self.root = target  # what messages name: a path, or the URL without its password
        self.durable = durable
        self.engine = engine_for(target)
        # Opened here so init() fails with a clear error; used only by the writer thread from now on
        # (or inline by a caller when that thread has died, or under _write_lock by execute_now).
        self.conn = self.engine.connect_writer(target, durable)
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
        # Exactly once on a remote store: this writer's records form a stream, numbered in the order they are
        # queued; each batch stores how many of them are in (engine.save_progress) in its own transaction.
        self.stream = uuid.uuid4().hex
        self._head = 0  # the position of the first queued record in the stream
        self._in_doubt = False  # a batch failed: maybe after its COMMIT went through (check before retrying)
        self._spool: Any = None  # records the remote store could not take, on disk (store.spool)
        self._offline = False  # the remote store is away: records go to the spool, a probe waits for it
        self._probe: threading.Thread | None = None
        self._probed: Any = None  # a connection the probe made, for the writer thread to take
        self._orphans_checked = False
        self._last_try = 0.0
        self._probe_lock = threading.Lock()
        # Not a daemon: at interpreter exit (and at the end of a multiprocessing child, which skips atexit)
        # threading's shutdown waits for it, and it writes what is queued once the main thread has ended.
        self._thread = threading.Thread(target=self._loop, name="tracktui-writer", daemon=False)
        self._thread.start()

    # ------------------------------------------------------------ the calling side

    @property
    def closed(self) -> bool:
        """Closed (or inherited over fork): open a new one with for_store."""
        return self._closed

    @property
    def alive(self) -> bool:
        """Whether the writer thread runs (records are written inline when it does not)."""
        return self._thread.is_alive()

    @property
    def offline(self) -> bool:
        """Whether the remote store is away (records go to the local spool)."""
        return self._offline

    @property
    def spooled(self) -> int:
        """Records of this writer waiting in the local spool."""
        return self._spool.count if self._spool is not None else 0

    def wake(self) -> None:
        """Start the next batch now."""
        self._wake.set()

    def put(self, record: Record) -> None:
        """Queue a record. Cheap; waits only when MAX_QUEUED records are already waiting."""
        q = self._queue
        q.append(record)
        n = len(q)
        if n >= WAKE_AT:
            wake = self._wake
            if not wake.is_set():  # set() takes the event's lock and notifies: only when it changes something
                wake.set()
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

    def execute_now(self, fn: Callable[[Any], Any]) -> Any:
        """Run fn(conn) on the calling thread between batches (store-internal: the SQL stays in store/)."""
        with self._write_lock:
            self.conn = self.engine.reconnect(self.conn, self.target, self.durable)
            return fn(self.conn)

    def run_row(self, run_id: str) -> dict[str, Any] | None:
        """The stored columns of a run that init() needs to resume it (None: no such run)."""
        row = self.execute_now(lambda conn: conn.execute(
            f"SELECT {', '.join(_RUN_ROW)} FROM runs WHERE id = ?", (run_id,)).fetchone())
        return None if row is None else dict(zip(_RUN_ROW, row, strict=True))

    def count_runs(self, project: str) -> int:
        """How many runs a project has (init() numbers new runs' names with it)."""
        return self.execute_now(lambda conn: conn.execute(
            "SELECT count(*) FROM runs WHERE project = ?", (project,)).fetchone()[0])

    def save_run(self, fields: dict[str, Any]) -> None:
        """Create a run row, or refresh every given column of an existing one, now."""
        self.execute_now(lambda conn: insert_run(conn, fields, self.engine))

    def update_run_now(self, run_id: str, fields: dict[str, Any]) -> None:
        """Update columns of an existing run now (a process joining a run it does not own)."""

        def update(conn: Any) -> None:
            self.engine.begin(conn)
            try:
                apply_run_updates(conn, {run_id: fields}, self.engine)
                self.engine.commit(conn)
            except BaseException:
                self.engine.rollback(conn)
                raise

        self.execute_now(update)

    # ------------------------------------------------------------ artifacts (store/artifacts.py), now

    def artifact_put_blobs(self, blobs: Sequence[tuple[str, bytes]]) -> None:
        """Store bytes (sha256, data) once each, in a transaction of their own."""
        from . import artifacts

        self.execute_now(lambda conn: artifacts.put_blobs(conn, blobs, self.engine))

    def artifact_log_version(self, **fields: Any) -> Any:
        """Record a version of an artifact (store.artifacts.log_version's keywords); its VersionRow."""
        from . import artifacts

        return self.execute_now(lambda conn: artifacts.log_version(conn, engine=self.engine, **fields))

    def artifact_resolve(self, project: str, name: str, tag: str) -> Any:
        """The VersionRow a reference names, read on the writer's connection (sees what this writer stored)."""
        from . import artifacts

        return self.execute_now(lambda conn: artifacts.resolve(conn, project, name, tag, self.engine))

    def artifact_use(self, run_id: str, version_id: int) -> None:
        """Record that a run used a version."""
        from . import artifacts

        self.execute_now(lambda conn: artifacts.use_version(conn, run_id, version_id, self.engine))

    def detach(self, run_id: str) -> None:
        """Stop asking this run for state updates."""
        self._state_fns.pop(run_id, None)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued so far is committed (or, while a remote store is away, safe in the
        local spool); False if timeout passed first."""
        if self._closed:
            return True
        if not self._thread.is_alive():
            self._write_pending()
            return True
        done = threading.Event()
        self._queue.append(Sync(done))
        self._wake.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        while not done.wait(0.05):
            if not self._thread.is_alive():
                self._write_pending()
                return True
            if self._failures >= GIVE_UP_AFTER and not self._offline:
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
            self.engine.close(self.conn)
            self._report_spool()
            if self._spool is not None:
                self._spool.close()
        return True

    def _report_spool(self) -> None:
        if self._spool is not None and self._spool.count:
            report.once(f"spool-left:{self.stream}",
                        f"tracktui: {self._spool.count} records for {self.target} wait in the local spool "
                        f"{self._spool.path}; they are sent when a tracktui process reaches the store again, "
                        f"or now with: tracktui sync --to {self.target}")

    # ------------------------------------------------------------ the writer thread

    def _loop(self) -> None:
        main = threading.main_thread()
        while not self._closed:
            self._wake.wait(BATCH_INTERVAL)
            self._wake.clear()
            last = not main.is_alive()
            if self._offline:
                if any(r[0] == "sync" for r in list(self._queue)):
                    self._try_now()  # someone waits in flush() (finish): one attempt now, not at the probe's pace
                if self._probed is None:  # still away: to the spool (back again: straight to the store)
                    with self._write_lock:
                        self._spool_queue()
                if not self._back_online():
                    if last:
                        self._report_spool()
                        return
                    continue
            try:
                self._write_pending()
                self._failures = 0
            except Exception as e:  # the store refused the batch: it stays queued; training goes on
                self._failures += 1
                if self.engine.spools:
                    report.once(f"writer:{self.target}:away",
                                f"tracktui: the store {self.target} does not answer ({_cause(e)}); records wait in "
                                f"a local spool and are sent when it answers again")
                    with self._write_lock:
                        self._offline = True
                        self._spool_queue()
                    self._start_probe()
                    if last:
                        self._report_spool()
                        return
                    continue
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

    # ------------------------------------------------------------ a remote store that is away

    def _start_probe(self) -> None:
        """Try to reach the store on a thread of its own, so that spooling never waits for a connect."""
        if self._probe is not None and self._probe.is_alive():
            return
        self._probe = threading.Thread(target=self._probe_loop, name="tracktui-probe", daemon=True)
        self._probe.start()

    def _probe_loop(self) -> None:
        attempt = 0
        while not self._closed and self._probed is None:
            time.sleep(PROBE_PAUSES[min(attempt, len(PROBE_PAUSES) - 1)])
            attempt += 1
            try:
                conn = self.engine.reconnect(None, self.target, self.durable)
            except Exception:  # noqa: BLE001 - still away
                continue
            self._hand_over(conn)
            return

    def _try_now(self) -> None:
        if self._probed is not None or time.monotonic() - self._last_try < 0.5:
            return
        self._last_try = time.monotonic()
        try:
            conn = self.engine.reconnect(None, self.target, self.durable)
        except Exception:  # noqa: BLE001 - still away
            return
        self._hand_over(conn)

    def _hand_over(self, conn: Any) -> None:
        """A connection made on another thread, for the writer thread, which alone uses it from then on."""
        with self._probe_lock:
            if self._probed is None and self._offline:
                self._probed = conn
                conn = None
        if conn is not None:
            self.engine.close(conn)
        self._wake.set()

    def _back_online(self) -> bool:
        """Take the probe's connection once there is one: the spool is sent first, then the queue."""
        with self._probe_lock:
            conn, self._probed = self._probed, None
        if conn is None:
            self._start_probe()
            return False
        with self._write_lock:
            old, self.conn = self.conn, conn
            self.engine.close(old)
            self._offline = False
            self._in_doubt = True
            self._metric_ids.clear()
        return True

    def _spool_queue(self) -> None:
        """Move queued records to the local spool (their stream positions kept); flushes waiting on them end.
        Records the spool cannot take (full, or not writable as data) stay queued, with everything after."""
        from . import spool

        q = self._queue
        if not q:
            return
        if self._spool is None:
            assert isinstance(self.target, StoreURL)
            self._spool = spool.Spool(self.target, self.stream)
        records = list(q)  # callers keep appending at the right: only these are moved
        items: list[tuple[int, Record]] = []
        _prepare(records)  # media are spooled encoded (bytes), not as arrays
        for i, r in enumerate(records):
            if r[0] != "sync":
                items.append((self._head + i, r))
        try:
            written = self._spool.append(items)
        except OSError as e:
            report.once(f"spool-error:{self.stream}", f"tracktui: the local spool {self._spool.path} cannot be "
                        f"written ({e}); records wait in memory")
            written = 0
        # the records up to the first one not written (syncs included) leave the queue
        upto = items[written][0] - self._head if written < len(items) else len(records)
        if written < len(items) and written == 0 and upto == 0:
            return
        popleft = q.popleft
        moved = [popleft() for _ in range(upto)]
        self._head += upto
        _set_syncs(moved)
        with self._drained:
            self._drained.notify_all()

    def _drain_spool(self) -> None:
        """Send what this writer spooled, oldest first, skipping what the store already has."""
        sp = self._spool
        if sp is None or not sp.count:
            return
        done = self.engine.progress(self.conn, self.stream) or 0
        size = min(self.max_queued, RECOVERY_CHUNK)  # small first: a store that still refuses fails fast
        while True:  # passes over the file until one finds nothing new (records spooled meanwhile)
            sent = False
            chunk: list[tuple[int, Record]] = []
            for pos, rec in sp.read():
                if pos < done:
                    continue
                chunk.append((pos, rec))
                if len(chunk) >= size:
                    self._send_positioned(chunk)
                    done, chunk, sent = chunk[-1][0] + 1, [], True
                    size = min(self.max_queued, size * 2)
                    if len(self._queue) >= WAKE_AT:
                        self._spool_queue()  # the script keeps logging while the spool is replayed
            if chunk:
                self._send_positioned(chunk)
                done, sent = chunk[-1][0] + 1, True
            if not sent:
                break
        sp.clear()

    def _send_positioned(self, items: list[tuple[int, Record]]) -> None:
        records = [r for _, r in items]
        positions = [p for p, _ in items]
        try:
            self._commit(records, None, positions[-1] + 1)
        except Exception as e:
            if self.engine.transient(e):
                self._in_doubt = True
                raise
            self._isolate(records, None, positions)

    def _check_in_doubt(self) -> None:
        """After a failed batch on a remote store: the records its COMMIT may have stored leave the queue."""
        if not self._in_doubt:
            return
        done = self.engine.progress(self.conn, self.stream)
        self._in_doubt = False
        if done is None:
            return
        k = min(done - self._head, len(self._queue))
        if k > 0:
            popleft = self._queue.popleft
            _set_syncs([popleft() for _ in range(k)])
            self._head += k

    def _drain_orphans(self) -> None:
        """Once per writer: send spools that writers of ended processes left for this store."""
        self._orphans_checked = True
        if not isinstance(self.target, StoreURL):
            return
        from . import sync

        try:
            sync.send_spools(self.target, conn=self.conn, engine=self.engine, skip=self.stream)
        except Exception as e:  # noqa: BLE001 - they stay on disk for the next writer or `tracktui sync`
            if self.engine.transient(e):
                raise
            report.once(f"orphans:{self.target}", f"tracktui: spooled records for {self.target} could not be "
                        f"sent ({type(e).__name__}: {e}); they stay on disk")

    # ------------------------------------------------------------ batches

    def _write_pending(self) -> None:
        with self._write_lock:
            if self._offline:
                self._spool_queue()
                return
            if self.engine.spools:
                self.conn = self.engine.reconnect(self.conn, self.target, self.durable)
                self._check_in_doubt()
                if self._spool is not None and self._spool.count:
                    self._drain_spool()
                if not self._orphans_checked:
                    self._drain_orphans()
            now = time.time()
            heartbeat = now - self._last_heartbeat >= HEARTBEAT_INTERVAL
            q = self._queue
            n = len(q)
            if not n and not heartbeat and not self._unsent_state:
                return
            n = min(n, self.max_queued)  # the rest is the next batch, right after this one
            popleft = q.popleft  # callers append at the right while we take from the left: both atomic
            records = [popleft() for _ in range(n)]
            head = self._head
            started = time.monotonic()
            try:
                self._commit(records, heartbeat, head + n)
                if n >= WAKE_AT:
                    self._measure(n, time.monotonic() - started)
            except Exception as e:
                if self.engine.transient(e):
                    q.extendleft(reversed(records))
                    self._in_doubt = True
                    raise
                self._isolate(records, heartbeat, list(range(head, head + n)))
            except BaseException:
                q.extendleft(reversed(records))
                self._in_doubt = True
                raise
            self._head = head + n
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

    def _isolate(self, records: list[Record], heartbeat: bool | None, positions: Sequence[int]) -> None:
        """Commit every record that can be, in order, and drop the ones that fail on their own.

        Halves are committed one after the other; a half that fails is split again. One history record that
        fails alone is split into its keys. Before a record is dropped, an empty transaction shows that the
        store itself still works; when the store fails, the records not yet committed go back to the queue and
        the error is raised, as for any batch the store refuses. (positions: each record's place in its
        stream, recorded with every commit so that a retry never stores a record twice.)
        """
        todo: collections.deque[tuple[list[Record], list[int]]] = collections.deque([(records, list(positions))])
        upto = positions[0] if positions else None
        try:
            while todo:
                chunk, pos = todo[0]
                try:
                    self._commit(chunk, None, pos[-1] + 1)
                except Exception as e:  # noqa: BLE001 - sorted out below
                    if self.engine.transient(e):
                        raise
                    error = e
                else:
                    todo.popleft()
                    upto = pos[-1] + 1
                    _set_syncs(chunk)
                    continue
                if len(chunk) > 1:
                    mid = len(chunk) // 2
                    todo.popleft()
                    todo.extendleft(((chunk[mid:], pos[mid:]), (chunk[:mid], pos[:mid])))
                elif chunk[0][0] == "history" and len(chunk[0][4]) > 1:  # one key at a time
                    _, run_id, step, ts, items, rewrite = chunk[0]
                    todo.popleft()
                    todo.extendleft(reversed([([History(run_id, step, ts, [it], rewrite)], pos) for it in items]))
                elif chunk[0][0] == "run" and len(chunk[0][2]) > 1:  # one column at a time: the state lands
                    _, run_id, fields = chunk[0]
                    todo.popleft()
                    todo.extendleft(reversed([([RunFields(run_id, {k: v})], pos) for k, v in fields.items()]))
                else:
                    self._commit([], None, upto)  # raises if the store, not the record, is what fails
                    todo.popleft()
                    upto = pos[-1] + 1
                    _report_dropped(chunk[0], error)
            try:
                self._commit([], heartbeat, upto)
            except Exception as e:  # the run columns (summary, heartbeat) themselves cannot be written
                if self.engine.transient(e):
                    raise
                dropped = self._unsent_state
                self._unsent_state = {}
                for run_id, fields in dropped.items():
                    report.once(f"dropped-state:{run_id}", f"tracktui: run {run_id}: the columns "
                                f"{', '.join(sorted(fields))} could not be stored ({type(e).__name__}: {e})")
        except BaseException:
            left = [r for chunk, _ in todo for r in chunk]
            if heartbeat is None and positions and positions[0] < self._head:
                raise  # records from the spool: they stay there
            self._queue.extendleft(reversed(left))
            self._head = (upto if upto is not None else self._head) if left else self._head
            self._in_doubt = True
            raise

    def _commit(self, records: Iterable[Record], with_state: bool | None, upto: int | None = None) -> None:
        """One write transaction: the records, then the runs' state columns (with_state: the heartbeat flag;
        None leaves the state out, for the isolating commits), and the stream's progress (upto: how many of
        this writer's records are stored once it commits)."""
        state: dict[str, dict[str, Any]] = {}
        if with_state is not None:
            state, self._unsent_state = self._unsent_state, {}
            for run_id, fn in list(self._state_fns.items()):
                fields = fn(with_state)
                if fields:
                    state.setdefault(run_id, {}).update(fields)
        try:
            write_batch(self.conn, self.engine, self._metric_ids, records, state, self.stream, upto)
        except BaseException:
            for run_id, fields in state.items():  # not written: sent with the next transaction
                self._unsent_state[run_id] = {**fields, **self._unsent_state.get(run_id, {})}
            raise

    # ------------------------------------------------------------ fork

    @classmethod
    def _after_fork(cls) -> None:
        # SQLite must not close, in a child, a connection the parent still uses: closing could checkpoint
        # and truncate the parent's WAL; a PostgreSQL connection closed in the child would end the parent's
        # session. Keep the objects alive; the child opens its own on next use.
        for w in cls._instances.values():
            cls._orphans.append(w.conn)
            if w._spool is not None:
                cls._orphans.append(w._spool)
            w._closed = True
        cls._instances = {}
        cls._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=Writer._after_fork)
