"""One store interface, two engines: what differs between SQLite and PostgreSQL, behind one small class.

The writer's handlers and the reader's queries are written once, on the SQL both engines speak (`?`
placeholders, ON CONFLICT upserts, 8-byte floats, per-run cursors). What they cannot share goes through the
engine of the store they talk to:

- opening connections (writer: one per process; reader: read-only) and the transaction statements;
- whether an error is about the store (retry the batch) or about a record (isolate it);
- a few SQL spellings (two-argument min/max, JSON cells) and the bulk paths (COPY on PostgreSQL);
- what PostgreSQL alone needs: the rev lock, per-run log locks, NOTIFY, the writer's progress row.

SQLite's specifics live in schema.py (and here, in SqliteEngine); PostgreSQL's in postgres.py.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .location import StoreURL, Target

# Words of the sqlite3.OperationalError messages that are about the store, not the records: such a batch is
# kept and retried. ("database is locked", "database or disk is full", "disk I/O error", "attempt to write a
# readonly database", "unable to open database file", "interrupted")
_TRANSIENT_WORDS = ("locked", "busy", "full", "disk", "i/o", "readonly", "read-only", "unable to open",
                    "interrupted")


ROWS_PER_STATEMENT = 100  # rows bound per INSERT by insert_rows (at most 999 parameters: the oldest SQLite's limit)


def insert_rows(conn: Any, head: str, ncols: int, tail: str, rows: Sequence[Sequence[Any]]) -> None:
    """conn.executemany(f"{head} VALUES (?, ...) {tail}", rows) on SQLite, about twice as fast for big batches:
    up to ROWS_PER_STATEMENT rows per statement (one multi-row VALUES), so the sqlite3 module prepares,
    steps and resets once per hundred rows, not per row. Rows go in, in order (a later row of the same key
    meets the earlier one's ON CONFLICT, as with executemany)."""
    n = len(rows)
    per = max(1, min(ROWS_PER_STATEMENT, 999 // ncols))
    full = n - n % per if n >= 2 * per else 0  # small batches: plain executemany
    one = "(" + ", ".join("?" * ncols) + ")"
    if full:
        flat = list(itertools.chain.from_iterable(rows[:full] if full < n else rows))
        width = per * ncols
        conn.executemany(f"{head} VALUES {', '.join([one] * per)} {tail}",
                         (flat[i:i + width] for i in range(0, len(flat), width)))
    if full < n:
        conn.executemany(f"{head} VALUES {one} {tail}", rows[full:] if full else rows)


class Engine:
    """The SQLite engine; PostgresEngine (postgres.py) overrides what differs."""

    name = "sqlite"
    least = "min"  # two-argument minimum / maximum (SQLite's scalar min/max; PostgreSQL's least/greatest)
    greatest = "max"
    spools = False  # records the store refuses wait on a local spool (only a remote store can be away)

    # ------------------------------------------------------------ connections

    def connect_writer(self, target: Target, durable: bool = False) -> Any:
        """The writer's connection, the schema migrated."""
        from . import schema

        assert isinstance(target, Path)
        return schema.connect_writer(target, durable)

    def connect_reader(self, target: Target) -> Any:
        """A read-only connection, or None when the store holds no schema yet."""
        from . import schema

        assert isinstance(target, Path)
        return schema.connect_reader(target)

    def reconnect(self, conn: Any, target: Target, durable: bool) -> Any:
        """The writer's connection after a failure (SQLite's stays usable)."""
        return conn

    def release_reader(self, conn: Any) -> None:
        """A Reader is done with conn."""
        conn.close()

    def close(self, conn: Any) -> None:
        """Close a writer connection, ignoring errors."""
        try:
            conn.close()
        except Exception:  # noqa: BLE001
            pass

    # ------------------------------------------------------------ transactions

    def begin(self, conn: Any) -> None:
        """Open a write transaction (SQLite: take the write lock now, not at the first write)."""
        conn.execute("BEGIN IMMEDIATE")

    def commit(self, conn: Any) -> None:
        conn.execute("COMMIT")

    def rollback(self, conn: Any) -> None:
        """Roll back, ignoring a connection that is already gone."""
        try:
            conn.execute("ROLLBACK")
        except Exception:  # noqa: BLE001
            pass

    def transient(self, e: BaseException) -> bool:
        """True when e is about the store (retry the batch), False when it may be about a record."""
        if isinstance(e, sqlite3.OperationalError):
            msg = str(e).lower()
            return any(w in msg for w in _TRANSIENT_WORDS)
        return isinstance(e, (OSError, MemoryError))

    def read_errors(self) -> tuple[type[BaseException], ...]:
        """Exceptions a failed read may raise (the app shows them and polls again)."""
        return (sqlite3.Error,)

    # ------------------------------------------------------------ waiting for a change (Reader.wait_for_change)

    listens = False  # True: listen() and wait_notify() (PostgreSQL); False: the reader polls data_version()

    def data_version(self, conn: Any) -> int:
        """A number that changes when another connection commits to the store (SQLite's PRAGMA data_version:
        a few microseconds, no read transaction left open)."""
        return conn.execute("PRAGMA data_version").fetchone()[0]

    def listen(self, target: Target) -> Any:
        """A connection of its own that receives the writers' notifications (engines that listen)."""
        raise NotImplementedError

    def wait_notify(self, listener: Any, timeout: float) -> bool:
        """Whether a notification came within timeout seconds (the ones queued behind it are taken too)."""
        raise NotImplementedError

    def missing_table(self, e: BaseException) -> bool:
        """Whether a failed read failed because a table is not there (a store older than the query)."""
        return isinstance(e, sqlite3.OperationalError) and "no such table" in str(e)

    # ------------------------------------------------------------ hooks inside a write transaction

    def lock_revs(self, conn: Any) -> None:
        """Before runs' rev is raised: make revs commit in the order they are given (SQLite: one writer)."""

    def lock_run(self, conn: Any, run_id: str) -> None:
        """Before a run's log lines are numbered (SQLite: one writer at a time already)."""

    def lock_artifact(self, conn: Any, project: str, name: str) -> None:
        """Before an artifact's next version is numbered (SQLite: one writer at a time already)."""

    def notify(self, conn: Any) -> None:
        """Tell listening readers that runs changed (PostgreSQL's NOTIFY; SQLite readers poll)."""

    def save_progress(self, conn: Any, stream: str, done: int) -> None:
        """Record, in the batch's transaction, that the first `done` records of a writer stream are stored."""

    def progress(self, conn: Any, stream: str) -> int | None:
        """How many records of a writer stream are stored (None: this engine does not count)."""
        return None

    # ------------------------------------------------------------ bulk paths and spellings

    def upsert_history(self, conn: Any, rows: Sequence[tuple[Any, ...]], dedupe: bool) -> None:
        """Insert or replace history points (metric_id, step, value, kind, text)."""
        insert_rows(conn, "INSERT INTO history(metric_id, step, value, kind, text)", 5,
                    "ON CONFLICT(metric_id, step) DO UPDATE SET value = excluded.value, kind = excluded.kind, "
                    "text = excluded.text", rows)

    def upsert_steps(self, conn: Any, rows: Sequence[tuple[str, int, float]], dedupe: bool) -> None:
        """Insert or replace the wall time of steps (run_id, step, ts)."""
        insert_rows(conn, "INSERT INTO steps(run_id, step, ts)", 3,
                    "ON CONFLICT(run_id, step) DO UPDATE SET ts = excluded.ts", rows)

    def json_cell(self, column: str, index: int) -> str:
        """SQL for cell `index` of a JSON array held as text in `column` (comparable to json_param)."""
        return f"json_extract({column}, '$[{int(index)}]')"

    def json_cell_is_null(self, column: str, index: int) -> str:
        return f"{self.json_cell(column, index)} IS NULL"

    def json_param(self, value: Any) -> Any:
        """A parameter to compare with json_cell."""
        return int(value) if isinstance(value, bool) else value

    def order_cell(self, column: str, index: int, descending: bool) -> str:
        return f"{self.json_cell(column, index)} {'DESC' if descending else 'ASC'}"


SQLITE = Engine()


def engine_for(target: Target) -> Engine:
    """The engine of a store."""
    if isinstance(target, StoreURL):
        from .postgres import ENGINE

        return ENGINE
    return SQLITE
