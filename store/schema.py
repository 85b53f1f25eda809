"""The versioned schema, its migrations, and opening connections with the store's pragmas.

Every SQLite specific lives here. Tables (documented in README "The store"):

- runs: one row per run; config, summary, metadata and metric definitions as JSON; ``rev`` rises on
  every write to the run so readers can ask for "runs changed since rev N".
- metrics: one row per (run, stream, key, host); stream is 'history' (step-keyed) or 'system' (time-keyed);
  host names the node a system metric was sampled on ('' for history, and for samples from before hosts).
- history: one point per (metric, step); value + kind (see codec) + text for strings and media refs.
- history_rollup: min/max/sum/count per metric and bucket of 256 steps, kept by the writer, so charts of
  millions of steps downsample from a few thousand rows.
- steps: wall time of each step of a run.
- system: time-keyed samples of system metrics.
- logs: console lines per run, numbered by a per-run sequence.
- files / blobs: files attached to runs; bytes content-addressed by sha256.
- media: one row per logged media item (run, key, step, index in a gallery): its type, its bytes (a blob)
  and its metadata as JSON (size, duration, frame count, histogram bins, plot spec...). A rowid table:
  WITHOUT ROWID took a page per row for histograms' ~1.6 kB of metadata.
- media_rows: the rows of logged tables and of plots' data, one JSON array of cells per row.
- artifacts, artifact_versions, artifact_files, artifact_aliases, artifact_runs, blob_chunks (version 2):
  versioned sets of files and their lineage; see store/artifacts.py.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from pathlib import Path

from .paths import DB_NAME, NETWORK_FS, blocking_file, db_path, filesystem_type, wal_path

APPLICATION_ID = 0x74747569  # "ttui"
ROLLUP_SHIFT = 8  # history_rollup buckets hold 2**8 = 256 steps
BUSY_TIMEOUT_MS = 60_000

SCHEMA_V1 = """
CREATE TABLE runs (
    id            TEXT PRIMARY KEY,
    project       TEXT NOT NULL,
    name          TEXT NOT NULL,
    run_group     TEXT,
    job_type      TEXT,
    tags          TEXT NOT NULL DEFAULT '[]',
    notes         TEXT,
    state         TEXT NOT NULL,
    exit_code     INTEGER,
    error         TEXT,
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL,
    heartbeat_at  REAL,
    finished_at   REAL,
    host          TEXT,
    pid           INTEGER,
    pid_started_at REAL,
    config        TEXT NOT NULL DEFAULT '{}',
    summary       TEXT NOT NULL DEFAULT '{}',
    metadata      TEXT NOT NULL DEFAULT '{}',
    metric_defs   TEXT NOT NULL DEFAULT '[]',
    last_step     INTEGER,
    rev           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_rev ON runs(rev);
CREATE INDEX runs_project_created ON runs(project, created_at);

CREATE TABLE metrics (
    id       INTEGER PRIMARY KEY,
    run_id   TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    stream   TEXT NOT NULL,
    key      TEXT NOT NULL,
    UNIQUE (run_id, stream, key)
);

CREATE TABLE history (
    metric_id INTEGER NOT NULL,
    step      INTEGER NOT NULL,
    value     REAL,
    kind      INTEGER NOT NULL DEFAULT 0,
    text      TEXT,
    PRIMARY KEY (metric_id, step)
) WITHOUT ROWID;

CREATE TABLE history_rollup (
    metric_id  INTEGER NOT NULL,
    bucket     INTEGER NOT NULL,
    first_step INTEGER NOT NULL,
    last_step  INTEGER NOT NULL,
    n          INTEGER NOT NULL,
    vmin       REAL,
    vmax       REAL,
    vsum       REAL,
    n_special  INTEGER NOT NULL,
    PRIMARY KEY (metric_id, bucket)
) WITHOUT ROWID;

CREATE TABLE steps (
    run_id TEXT NOT NULL,
    step   INTEGER NOT NULL,
    ts     REAL NOT NULL,
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;

CREATE TABLE system (
    metric_id INTEGER NOT NULL,
    ts        REAL NOT NULL,
    value     REAL,
    PRIMARY KEY (metric_id, ts)
) WITHOUT ROWID;

CREATE TABLE logs (
    run_id TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    ts     REAL NOT NULL,
    stream TEXT NOT NULL,
    line   TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size   INTEGER NOT NULL,
    data   BLOB NOT NULL
);

CREATE TABLE files (
    run_id     TEXT NOT NULL,
    name       TEXT NOT NULL,
    sha256     TEXT NOT NULL REFERENCES blobs(sha256),
    size       INTEGER NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (run_id, name)
) WITHOUT ROWID;

CREATE TABLE media (
    id     INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    key    TEXT NOT NULL,
    step   INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    type   TEXT NOT NULL,
    sha256 TEXT REFERENCES blobs(sha256),
    size   INTEGER,
    meta   TEXT NOT NULL DEFAULT '{}',
    UNIQUE (run_id, key, step, idx)
);

CREATE TABLE media_rows (
    run_id TEXT NOT NULL,
    key    TEXT NOT NULL,
    step   INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    row    INTEGER NOT NULL,
    cells  TEXT NOT NULL,
    PRIMARY KEY (run_id, key, step, idx, row)
) WITHOUT ROWID;
"""

# Artifacts (store/artifacts.py): versions of named sets of files per project, content-addressed in blobs.
SCHEMA_V2_ARTIFACTS = """
CREATE TABLE artifacts (
    id         INTEGER PRIMARY KEY,
    project    TEXT NOT NULL,
    name       TEXT NOT NULL,
    type       TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (project, name)
);

CREATE TABLE artifact_versions (
    id          INTEGER PRIMARY KEY,
    artifact_id INTEGER NOT NULL REFERENCES artifacts(id),
    version     INTEGER NOT NULL,
    digest      TEXT NOT NULL,
    description TEXT,
    metadata    TEXT NOT NULL DEFAULT '{}',
    size        INTEGER NOT NULL,
    file_count  INTEGER NOT NULL,
    run_id      TEXT,
    created_at  REAL NOT NULL,
    UNIQUE (artifact_id, version),
    UNIQUE (artifact_id, digest)
);
CREATE INDEX artifact_versions_run ON artifact_versions(run_id);

CREATE TABLE artifact_files (
    version_id INTEGER NOT NULL,
    path       TEXT NOT NULL,
    sha256     TEXT,
    size       INTEGER,
    ref        TEXT,
    PRIMARY KEY (version_id, path)
) WITHOUT ROWID;

CREATE TABLE artifact_aliases (
    artifact_id INTEGER NOT NULL,
    alias       TEXT NOT NULL,
    version_id  INTEGER NOT NULL,
    PRIMARY KEY (artifact_id, alias)
) WITHOUT ROWID;
CREATE INDEX artifact_aliases_version ON artifact_aliases(version_id);

CREATE TABLE artifact_runs (
    run_id     TEXT NOT NULL,
    role       TEXT NOT NULL,
    version_id INTEGER NOT NULL,
    at         REAL NOT NULL,
    PRIMARY KEY (run_id, role, version_id)
) WITHOUT ROWID;
CREATE INDEX artifact_runs_version ON artifact_runs(version_id, role);

CREATE TABLE blob_chunks (
    sha256 TEXT NOT NULL,
    idx    INTEGER NOT NULL,
    chunk  TEXT NOT NULL,
    size   INTEGER NOT NULL,
    PRIMARY KEY (sha256, idx)
) WITHOUT ROWID;
"""

# System metrics per host (a job on many nodes records each node's metrics into one run): metrics gains a
# host column ('' for history and for system samples written before it existed, read as the run's own host)
# and is unique per (run, stream, key, host). SQLite cannot change a table's UNIQUE constraint in place: the
# table is rebuilt, keeping every id (history, rollups and system samples refer to them).
SCHEMA_METRICS_HOST = """
CREATE TABLE metrics_host (
    id       INTEGER PRIMARY KEY,
    run_id   TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    stream   TEXT NOT NULL,
    key      TEXT NOT NULL,
    host     TEXT NOT NULL DEFAULT '',
    UNIQUE (run_id, stream, key, host)
);
INSERT INTO metrics_host(id, run_id, stream, key) SELECT id, run_id, stream, key FROM metrics;
DROP TABLE metrics;
ALTER TABLE metrics_host RENAME TO metrics
"""

# MIGRATIONS[i] takes a store from user_version i to i + 1. Append, never edit a released entry.
MIGRATIONS: list[str] = [SCHEMA_V1, SCHEMA_V2_ARTIFACTS, SCHEMA_METRICS_HOST]
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(Exception):
    """The store cannot be used: the message says which path and why."""


class StoreVersionError(StoreError):
    """The store was written by a newer tracktui."""


def _check_network_fs(root: Path) -> None:
    from .shared import forced_for

    if forced_for(root) is False:
        return  # the user knows SQLite is safe there (store/shared.py: shared mode otherwise)
    fs = filesystem_type(root)
    if fs and (fs in NETWORK_FS or fs.startswith("nfs")):
        raise StoreError(
            f"tracktui store {root} is on a network filesystem ({fs}); SQLite's WAL mode is not safe there. "
            f"Point TRACKTUI_DIR (or init(dir=...)) at a local disk such as /tmp or a node-local scratch."
        )


def _is_tracktui_db(path: Path) -> bool:
    """Whether a file carries tracktui's application_id in its SQLite header (no SQL, no lock)."""
    try:
        with open(path, "rb") as f:
            head = f.read(72)
    except OSError:
        return False
    return head[:16] == b"SQLite format 3\0" and int.from_bytes(head[68:72], "big") == APPLICATION_ID


def _refuse_file_root(root: Path, verb: str) -> None:
    """A StoreError when root, or a directory above it, is a file: the root must be a directory."""
    blocker = blocking_file(root)
    if blocker is None:
        return
    if blocker != root:
        raise StoreError(f"cannot {verb} the tracktui store at {root}: {blocker} is a file, not a directory")
    hint = (f"; that file is a tracktui database: name the directory that holds it, {root.parent}"
            if _is_tracktui_db(root) else "")
    raise StoreError(
        f"cannot {verb} the tracktui store at {root}: it is a file, not a directory (--dir, TRACKTUI_DIR and "
        f"init(dir=...) name the directory that holds {DB_NAME}){hint}"
    )


def _why_unwritable(root: Path) -> str:
    try:
        if os.statvfs(root).f_flag & os.ST_RDONLY:
            return "the filesystem is mounted read-only"
    except OSError:
        pass
    return "permission denied"


def prepare_root(root: Path) -> Path:
    """Create the root (0700) and the database file (0600) if needed; return the database path.

    Raises StoreError naming the path and the reason when it cannot be written; nothing is left half-made.
    """
    _refuse_file_root(root, "write")
    made = []
    try:
        missing = []
        p = root
        while not p.exists():
            missing.append(p)
            p = p.parent
        for d in reversed(missing):
            try:
                os.mkdir(d, 0o700)
                made.append(d)
            except FileExistsError:  # another process made it a moment ago (many inits at once)
                if not d.is_dir():
                    raise
        _check_network_fs(root)
        path = db_path(root)
        if not path.exists():
            fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        if not os.access(path, os.R_OK | os.W_OK) or not os.access(root, os.W_OK | os.X_OK):
            raise StoreError(
                f"cannot write the tracktui store at {root}: {_why_unwritable(root)} (reading it still works: "
                f"tracktui ls, the app, tracktui.Api)"
            )
        return path
    except OSError as e:
        for d in reversed(made):
            try:
                os.rmdir(d)
            except OSError:
                pass
        raise StoreError(f"cannot write the tracktui store at {root}: {e.strerror or e}") from e
    except StoreError:
        for d in reversed(made):
            try:
                os.rmdir(d)
            except OSError:
                pass
        raise


def connect_writer(root: Path, durable: bool = False) -> sqlite3.Connection:
    """A read-write connection with the store's pragmas, the schema migrated to SCHEMA_VERSION."""
    path = prepare_root(root)
    try:
        # Made on the caller's thread, then used by the writer thread only (one user at a time).
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        _identify(conn, root)  # before any pragma that writes: another program's database stays untouched
        _set_wal(conn)
        conn.execute("PRAGMA synchronous=" + ("FULL" if durable else "NORMAL"))
        conn.execute("PRAGMA foreign_keys=OFF")
        migrate(conn, root)
    except sqlite3.DatabaseError as e:
        raise StoreError(f"cannot open the tracktui store at {path}: {e}") from e
    return conn


def _set_wal(conn: sqlite3.Connection) -> None:
    """Switch a new database to WAL. Many processes creating the store at once race here, and SQLite answers
    a contended journal_mode change with "database is locked" at once, without its busy handler: retry it
    (growing pauses) within the store's busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e) or time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.25)


def migrate(conn: sqlite3.Connection, root: Path) -> None:
    """Bring the schema to SCHEMA_VERSION once, under an exclusive lock; refuse a newer store."""
    if _identify(conn, root) == SCHEMA_VERSION:
        return
    conn.execute("BEGIN EXCLUSIVE")
    try:
        version = _identify(conn, root)  # another process may have migrated it meanwhile
        if version > SCHEMA_VERSION:
            raise StoreVersionError(
                f"the tracktui store at {root} has schema version {version}, written by a newer tracktui; "
                f"this one knows version {SCHEMA_VERSION}. Upgrade tracktui (pip install -U tracktui) "
                f"or use another directory (TRACKTUI_DIR)."
            )
        for i in range(version, SCHEMA_VERSION):
            for statement in MIGRATIONS[i].split(";"):
                if statement.strip():
                    conn.execute(statement)
        conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _identify(conn: sqlite3.Connection, root: Path) -> int:
    """The store's schema version (0: a new, empty database); StoreError for another program's database.

    One statement, so one read transaction: a migration committed meanwhile is seen whole or not at all.
    A database is new only when it holds nothing at all: application_id and user_version 0 with tables
    is some other program's file, never a store to add tables to.
    """
    app, version, objects = conn.execute(
        "SELECT * FROM pragma_application_id, pragma_user_version, (SELECT count(*) FROM sqlite_master)"
    ).fetchone()
    if app == APPLICATION_ID or (app == 0 and version == 0 and objects == 0):
        return int(version)
    if app == 0 and version == 0:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "ORDER BY name LIMIT 4")]
        what = f"another program's SQLite database (tables: {', '.join(names[:3])}{', ...' if len(names) > 3 else ''})"
    else:
        what = f"another program's SQLite database (application_id {app:#x}, user_version {version})"
    raise StoreError(
        f"{db_path(root)} is not a tracktui store: it is {what}. tracktui leaves it alone: point --dir, "
        f"TRACKTUI_DIR or init(dir=...) at another directory."
    )


class StoreConnection(sqlite3.Connection):
    """A reader's connection. snapshot is None for the live store, else why it reads a frozen copy."""

    snapshot: str | None = None


def _open_ro(path: Path, immutable: bool) -> StoreConnection:
    uri = f"{path.resolve().as_uri()}?mode=ro" + ("&immutable=1" if immutable else "")
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                           check_same_thread=True, factory=StoreConnection)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA query_only=1")
    return conn


_SQLITE_READONLY, _SQLITE_CANTOPEN = 8, 14


def _needs_write_access(e: sqlite3.OperationalError) -> bool:
    """Did a mode=ro open fail because the -shm / -wal next to the database cannot be made or written?"""
    code = getattr(e, "sqlite_errorcode", None)  # Python 3.11+
    if code is not None:
        return code & 0xFF in (_SQLITE_READONLY, _SQLITE_CANTOPEN)
    text = str(e).lower()
    return "unable to open" in text or "readonly" in text


def _wal_frames_bytes(root: Path) -> int:
    """Bytes of the -wal beyond its 32-byte header: writes perhaps never copied into the database."""
    try:
        return max(0, wal_path(root).stat().st_size - 32)
    except OSError:
        return 0


def _snapshot_notice(root: Path) -> str:
    msg = f"the store at {root} is read-only here: a snapshot, not live"
    if _wal_frames_bytes(root):
        msg += (f"; its write-ahead log {wal_path(root).name} ({wal_path(root).stat().st_size:,} bytes) cannot "
                f"be read without write access, so the newest data may be missing (copy the directory "
                f"somewhere writable and read the copy)")
    return msg


def connect_reader(root: Path) -> StoreConnection | None:
    """A read-only connection (mode=ro, query_only), or None when the store does not exist yet.

    A store this process may not write (a read-only mount, chattr +i, another user's directory) cannot
    get the -shm that a WAL reader needs: it is opened immutable instead, and conn.snapshot says so.
    SQLite reads a -wal through an existing -shm even then (plain mode=ro); only without one is the
    -wal out of reach, and the notice says that the newest data may be missing.
    """
    _refuse_file_root(root, "read")
    path = db_path(root)
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:  # a directory on the way that this user may not enter
        raise StoreError(f"cannot read the tracktui store at {root}: {e.strerror or e}") from e
    if stat.S_ISDIR(st.st_mode):
        raise StoreError(f"cannot read the tracktui store at {root}: {path} is a directory, not a database")
    if not os.access(path, os.R_OK):
        raise StoreError(f"cannot read the tracktui store at {root}: permission denied on {path}")
    conn: StoreConnection | None = None
    try:
        try:
            conn = _open_ro(path, immutable=False)
            version = _identify(conn, root)
        except sqlite3.OperationalError as e:
            if conn is not None:
                conn.close()
            writable = os.access(root, os.W_OK | os.X_OK) and os.access(path, os.W_OK)
            if writable or not _needs_write_access(e):  # a store we may write is read live, or not at all
                raise
            conn = _open_ro(path, immutable=True)
            version = _identify(conn, root)
            conn.snapshot = _snapshot_notice(root)
    except sqlite3.DatabaseError as e:
        if conn is not None:
            conn.close()
        raise StoreError(f"cannot read the tracktui store at {path}: {e}") from e
    except StoreError:
        if conn is not None:
            conn.close()
        raise
    if version == 0:
        conn.close()
        if conn.snapshot and _wal_frames_bytes(root):  # empty without its -wal: never "no runs" then
            raise StoreError(
                f"cannot read the tracktui store at {root}: its data is in the write-ahead log "
                f"{wal_path(root).name}, which cannot be read without write access (copy the directory "
                f"somewhere writable and read the copy)"
            )
        return None
    if version > SCHEMA_VERSION:
        conn.close()
        raise StoreVersionError(
            f"the tracktui store at {root} has schema version {version}, written by a newer tracktui; "
            f"this one knows version {SCHEMA_VERSION}. Upgrade tracktui."
        )
    return conn
