"""The reader: short read-only queries for the TUI, the Api and the command line.

Open one Reader per thread (SQLite connections stay in the thread that made them). Every query is
served by an index and fetched whole, so no read transaction stays open between calls (an open reader
would stop WAL checkpoints). Incremental reads take a cursor: a runs rev, a step, a log seq, a time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import codec, shared
from .engine import engine_for
from .location import StoreURL, resolve_store
from .procinfo import hostname, process_alive
from .schema import ROLLUP_SHIFT, StoreError
from .writer import HEARTBEAT_INTERVAL

POLL = 0.05  # seconds between two looks at SQLite's data_version in wait_for_change
STALE_AFTER = 6 * HEARTBEAT_INTERVAL  # a running run on another host whose heartbeat is older is crashed
STATES = ("running", "finished", "failed", "killed", "crashed")
_MAX_INT = (1 << 63) - 1  # SQLite's largest INTEGER: steps go up to it


@dataclass
class RunRecord:
    """One run as readers see it; state 'crashed' is derived here, never written."""

    id: str
    project: str
    name: str
    state: str
    created_at: float
    updated_at: float
    group: str | None = None
    job_type: str | None = None
    tags: list[str] = field(default_factory=list)
    notes: str | None = None
    exit_code: int | None = None
    error: str | None = None
    heartbeat_at: float | None = None
    finished_at: float | None = None
    host: str | None = None
    pid: int | None = None
    config: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    metric_defs: list[dict[str, Any]] = field(default_factory=list)
    last_step: int | None = None
    rev: int = 0

    @property
    def runtime(self) -> float:
        """Seconds from creation to the end (or to the last sign of life, or now while running)."""
        end = self.finished_at
        if end is None:
            end = time.time() if self.state == "running" else (self.heartbeat_at or self.updated_at)
        return max(0.0, end - self.created_at)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (non-finite floats stay floats: use codec.dumps for strict JSON)."""
        d = asdict(self)
        d["runtime"] = self.runtime
        return d


@dataclass
class Sampled:
    """A downsampled series: per bucket its first/last step, min, max, mean and count of finite points,
    plus the non-finite points (step, value) so charts can mark NaN and Inf."""

    first_step: list[int]
    last_step: list[int]
    vmin: list[float]
    vmax: list[float]
    mean: list[float]
    count: list[int]
    special: list[tuple[int, float]]


_RUN_COLS = (
    "id, project, name, run_group, job_type, tags, notes, state, exit_code, error, created_at, updated_at, "
    "heartbeat_at, finished_at, host, pid, pid_started_at, config, summary, metadata, metric_defs, "
    "last_step, rev"
)


def derive_state(state: str, host: str | None, pid: int | None, pid_started_at: float | None,
                 heartbeat_at: float | None, now: float | None = None) -> str:
    """'crashed' for a running run whose process is gone (same host) or whose heartbeat went stale."""
    if state != "running":
        return state
    if host == hostname() and pid:
        alive = process_alive(pid, pid_started_at)
        if alive is False:
            return "crashed"
        if alive is True:
            return "running"
    now = time.time() if now is None else now
    if heartbeat_at is not None and now - heartbeat_at > STALE_AFTER:
        return "crashed"
    return state


def _run_from_row(row: Sequence[Any]) -> RunRecord:
    (rid, project, name, group, job_type, tags, notes, state, exit_code, error, created_at, updated_at,
     heartbeat_at, finished_at, host, pid, pid_started_at, config, summary, metadata, metric_defs,
     last_step, rev) = row
    return RunRecord(
        id=rid, project=project, name=name, group=group, job_type=job_type, tags=codec.loads(tags) or [],
        notes=notes, state=derive_state(state, host, pid, pid_started_at, heartbeat_at),
        exit_code=exit_code, error=error, created_at=created_at, updated_at=updated_at,
        heartbeat_at=heartbeat_at, finished_at=finished_at, host=host, pid=pid,
        config=codec.loads(config), summary=codec.loads(summary), metadata=codec.loads(metadata),
        metric_defs=codec.loads(metric_defs) or [], last_step=last_step, rev=rev,
    )


class Reader:
    """Read-only access to one store: a root path (SQLite) or a PostgreSQL URL. Not shared between threads.

    On PostgreSQL a failed read raises StoreError (the connection is dropped and made again on the next
    call); SQLite's errors come through as sqlite3.Error."""

    def __init__(self, dir: str | os.PathLike[str] | StoreURL | None = None):
        # the store as given (a Path, or a StoreURL, which prints without its password): what messages name
        self.store = resolve_store(dir)
        self.root = shared.reader_root(self.store)  # what is read: a shared root's folded local cache
        self.engine = engine_for(self.root)
        self._conn: Any = None
        self._listener: Any = None  # PostgreSQL: the LISTEN connection of wait_for_change
        self._seen: Any = None  # SQLite: the data_version wait_for_change last reported

    @property
    def exists(self) -> bool:
        """Whether the store holds a schema (an empty or missing store reads as no runs). A shared root that
        is not there does not exist, whatever its cache holds (folding it made an empty cache)."""
        if self.root != self.store and isinstance(self.store, Path) and not self.store.exists():
            return False
        return self._connection() is not None

    @property
    def snapshot(self) -> str | None:
        """None while the store is read live; else why it is read as a frozen snapshot (it cannot be
        written here: a read-only mount, chattr +i, another user's directory), for the app and the CLI."""
        conn = self._connection()
        return None if conn is None else getattr(conn, "snapshot", None)

    def _connection(self) -> Any:
        if self._conn is None:
            self._conn = self.engine.connect_reader(self.root)
        return self._conn

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        conn = self._connection()
        if conn is None:
            return []
        if not isinstance(self.root, StoreURL):
            return conn.execute(sql, params).fetchall()
        try:
            return conn.execute(sql, params).fetchall()
        except self.engine.read_errors() as e:
            self._conn = None
            conn.close()
            raise StoreError(f"reading the tracktui store {self.store} failed: {' '.join(str(e).split())[:300]}") from e

    def wait_for_change(self, timeout: float, poll: float = POLL) -> bool:
        """Wait until a writer commits to the store, at most timeout seconds; True when one did.

        The first call (and the first after close()) returns True at once: it starts watching, and the caller
        reads what is there. Each later call reports the commits made since the previous call returned (none
        is missed: a commit between two calls makes the next one return True at once). PostgreSQL: LISTEN on
        a connection of its own (every writer batch NOTIFYs), raising StoreError when the server is away;
        SQLite: PRAGMA data_version on the reader's connection, looked at every `poll` seconds (a longer one
        costs less CPU while nothing happens and tells later)."""
        if self.engine.listens:
            if self._listener is None:
                self._listener = self.engine.listen(self.root)
                return True
            try:
                return self.engine.wait_notify(self._listener, timeout)
            except self.engine.read_errors() as e:
                listener, self._listener = self._listener, None
                listener.close()
                raise StoreError(f"waiting for changes in the tracktui store {self.store} failed: "
                                 f"{' '.join(str(e).split())[:300]}") from e
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            conn = self._connection()
            now = None if conn is None else (id(conn), self.engine.data_version(conn))
            if self._seen is None or now != self._seen:
                first = self._seen is None
                self._seen = now if now is not None else ("absent",)
                if first or now is not None:
                    return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(poll if conn is not None else 5 * poll, left))

    def close(self) -> None:
        """Let go of the connection (a later call opens one again)."""
        self._seen = None
        if self._listener is not None:
            listener, self._listener = self._listener, None
            listener.close()
        if self._conn is not None:
            conn, self._conn = self._conn, None
            self.engine.release_reader(conn)

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ runs

    def runs(self, project: str | None = None, since_rev: int = 0,
             limit: int | None = None) -> list[RunRecord]:
        """Runs (newest first), optionally of one project, changed after since_rev, at most limit of them."""
        sql = f"SELECT {_RUN_COLS} FROM runs WHERE rev > ?"
        params: list[Any] = [since_rev]
        if project is not None:
            sql += " AND project = ?"
            params.append(project)
        sql += " ORDER BY created_at DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_run_from_row(r) for r in self._all(sql, params)]

    def max_rev(self) -> int:
        """The cursor for runs(since_rev=...): the highest rev written so far."""
        rows = self._all("SELECT max(rev) FROM runs")
        return (rows[0][0] or 0) if rows else 0

    def run(self, ref: str) -> RunRecord | None:
        """A run by id, unique id prefix, or name (the newest run of that name)."""
        rows = self._all(f"SELECT {_RUN_COLS} FROM runs WHERE id = ?", (ref,))
        if not rows:
            rows = self._all(f"SELECT {_RUN_COLS} FROM runs WHERE id >= ? AND id < ? LIMIT 2",
                             (ref, ref + "\U0010ffff"))
            if len(rows) != 1:
                rows = self._all(f"SELECT {_RUN_COLS} FROM runs WHERE name = ? ORDER BY created_at DESC "
                                 "LIMIT 1", (ref,))
        return _run_from_row(rows[0]) if rows else None

    def projects(self) -> list[str]:
        """The projects that have runs."""
        return [r[0] for r in self._all("SELECT DISTINCT project FROM runs ORDER BY project")]

    # ------------------------------------------------------------ history (step-keyed)

    def keys(self, run_id: str, stream: str = "history", host: str | None = None) -> list[str]:
        """The metric keys of a run, in the order they were first logged (system keys: of one host, by
        default the run's own; see system_hosts)."""
        return list(self._metric_ids(run_id, None, stream, host))

    def _has_hosts(self) -> bool:
        """Whether the store's metrics have a host column (a store not yet migrated by a writer has none)."""
        conn = self._connection()
        if conn is None:
            return False
        known = getattr(self, "_hosts_conn", None)
        if known is None or known[0] is not conn:
            try:
                cur = conn.execute("SELECT * FROM metrics LIMIT 0")
                names = [d[0] for d in cur.description or ()]
                cur.fetchall()
            except self.engine.read_errors() as e:
                if not isinstance(self.root, StoreURL):
                    raise
                self._conn = None
                conn.close()
                raise StoreError(f"reading the tracktui store {self.store} failed: "
                                 f"{' '.join(str(e).split())[:300]}") from e
            known = self._hosts_conn = (conn, "host" in names)
        return bool(known[1])

    def _metric_ids(self, run_id: str, keys: Sequence[str] | None, stream: str,
                    host: str | None = None) -> dict[str, int]:
        return {k: mids[0] for k, mids in self._metric_id_lists(run_id, keys, stream, host).items()}

    def _metric_id_lists(self, run_id: str, keys: Sequence[str] | None, stream: str,
                         host: str | None = None) -> dict[str, list[int]]:
        """Per key its metric ids: one, except a system key of the run's own host sampled both before
        and after the store had hosts ('' and the host's name)."""
        if stream != "system" or not self._has_hosts():
            rows = self._all("SELECT key, id FROM metrics WHERE run_id = ? AND stream = ? ORDER BY id",
                             (run_id, stream))
        elif host is None:  # the run's own host: its name, or '' (samples from before hosts)
            rows = self._all("SELECT key, id FROM metrics WHERE run_id = ? AND stream = ? AND (host = '' OR host = "
                             "(SELECT coalesce(host, '') FROM runs WHERE id = ?)) ORDER BY id",
                             (run_id, stream, run_id))
        else:
            rows = self._all("SELECT key, id FROM metrics WHERE run_id = ? AND stream = ? AND host = ? ORDER BY id",
                             (run_id, stream, host))
        ids: dict[str, list[int]] = {}
        for k, mid in rows:
            ids.setdefault(k, []).append(mid)
        if keys is None:
            return ids
        return {k: ids[k] for k in keys if k in ids}

    def system_hosts(self, run_id: str) -> list[str]:
        """The hosts that recorded system metrics into the run (a job on several nodes: one per node), the
        run's own host first, then by name. Samples from before hosts were recorded count as the run's host."""
        run = self._all("SELECT host FROM runs WHERE id = ?", (run_id,))
        own = (run[0][0] if run else None) or ""
        if not self._has_hosts():
            found = self._all("SELECT 1 FROM metrics WHERE run_id = ? AND stream = 'system' LIMIT 1", (run_id,))
            return [own] if found else []
        hosts = {h or own for (h,) in self._all(
            "SELECT DISTINCT host FROM metrics WHERE run_id = ? AND stream = 'system'", (run_id,))}
        return sorted(hosts, key=lambda h: (h != own, h))

    def history(self, run_id: str, keys: Sequence[str] | None = None, since_step: int = -1,
                limit: int | None = None) -> dict[str, list[tuple[int, Any]]]:
        """Raw points (step, value) per key with step > since_step, in step order."""
        out: dict[str, list[tuple[int, Any]]] = {}
        sql = "SELECT step, value, kind, text FROM history WHERE metric_id = ? AND step > ? ORDER BY step"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        decode = codec.decode
        for key, mid in self._metric_ids(run_id, keys, "history").items():
            out[key] = [(s, v if k == 0 else decode(v, k, t)) for s, v, k, t in self._all(sql, (mid, since_step))]
        return out

    def step_range(self, run_id: str, key: str) -> tuple[int, int] | None:
        """The first and last step at which key was logged."""
        ids = self._metric_ids(run_id, [key], "history")
        if not ids:
            return None
        mid = ids[key]
        lo = self._all("SELECT min(step) FROM history WHERE metric_id = ?", (mid,))[0][0]
        hi = self._all("SELECT max(step) FROM history WHERE metric_id = ?", (mid,))[0][0]
        return None if lo is None else (lo, hi)

    def sampled(self, run_id: str, key: str, buckets: int, lo: int | None = None,
                hi: int | None = None) -> Sampled:
        """key downsampled to at most `buckets` buckets over steps lo..hi, min and max kept per bucket.

        Wide ranges read the writer's rollup (256 steps a row), narrow ones history itself, so the cost
        follows the number of buckets, not the length of the run.
        """
        empty = Sampled([], [], [], [], [], [], [])
        ids = self._metric_ids(run_id, [key], "history")
        if not ids or buckets < 1:
            return empty
        mid = ids[key]
        if lo is None or hi is None:
            rng = self.step_range(run_id, key)
            if rng is None:
                return empty
            lo = rng[0] if lo is None else lo
            hi = rng[1] if hi is None else hi
        span = hi - lo + 1
        if span <= 0:
            return empty
        width = min(max(1, -(-span // buckets)), _MAX_INT)  # steps span up to 2**63: one bucket holds them all
        if width >= (1 << ROLLUP_SHIFT):
            rows = self._all(
                "SELECT min(first_step), max(last_step), min(vmin), max(vmax), coalesce(sum(vsum), 0.0), "
                "CAST(sum(n) AS BIGINT), CAST(sum(n_special) AS BIGINT) FROM history_rollup "
                "WHERE metric_id = ? AND bucket BETWEEN ? AND ? "
                "GROUP BY ((bucket << ?) - ?) / ? ORDER BY 1",
                (mid, lo >> ROLLUP_SHIFT, hi >> ROLLUP_SHIFT, ROLLUP_SHIFT, lo, width),
            )
            specials = [(r[0], r[1]) for r in rows if r[6]]
            special = self._specials(mid, specials) if specials else []
        else:
            rows = self._all(
                "SELECT min(step), max(step), min(CASE WHEN kind <= 1 THEN value END), "
                "max(CASE WHEN kind <= 1 THEN value END), coalesce(sum(CASE WHEN kind <= 1 THEN value END), 0.0), "
                "sum(CASE WHEN kind <= 1 THEN 1 ELSE 0 END), sum(CASE WHEN kind BETWEEN 2 AND 4 THEN 1 ELSE 0 END) "
                "FROM history "
                "WHERE metric_id = ? AND step BETWEEN ? AND ? GROUP BY (step - ?) / ? ORDER BY 1",
                (mid, lo, hi, lo, width),
            )
            special = self._specials(mid, [(r[0], r[1]) for r in rows if r[6]]) if rows else []
        out = Sampled([], [], [], [], [], [], special)
        for first, last, vmin, vmax, vsum, n, _ in rows:
            if not n:
                continue
            out.first_step.append(first)
            out.last_step.append(last)
            out.vmin.append(vmin)
            out.vmax.append(vmax)
            out.mean.append(vsum / n)
            out.count.append(n)
        return out

    def _specials(self, mid: int, ranges: list[tuple[int, int]], cap: int = 2000) -> list[tuple[int, float]]:
        out: list[tuple[int, float]] = []
        for a, b in ranges:
            for step, value, kind in self._all(
                "SELECT step, value, kind FROM history WHERE metric_id = ? AND step BETWEEN ? AND ? "
                "AND kind BETWEEN 2 AND 4 LIMIT ?", (mid, a, b, cap - len(out))
            ):
                out.append((step, codec.decode(value, kind)))
            if len(out) >= cap:
                break
        return out

    def step_times(self, run_id: str, lo: int | None = None, hi: int | None = None) -> dict[int, float]:
        """Wall time (seconds since the epoch) of each step of a run in lo..hi."""
        return dict(self._all(
            "SELECT step, ts FROM steps WHERE run_id = ? AND step BETWEEN ? AND ? ORDER BY step",
            (run_id, -_MAX_INT if lo is None else lo, _MAX_INT if hi is None else hi),
        ))

    def step_times_sampled(self, run_id: str, points: int = 512) -> tuple[list[int], list[float]]:
        """About `points` (step, wall time) pairs spread evenly over a run's steps (one indexed look-up
        each), for charts whose x-axis is time: the cost follows points, not the run's length."""
        # two queries: SQLite answers a lone min() or max() from the index, both together by a scan
        first = self._all("SELECT min(step) FROM steps WHERE run_id = ?", (run_id,))
        last = self._all("SELECT max(step) FROM steps WHERE run_id = ?", (run_id,))
        if not first or first[0][0] is None:
            return [], []
        lo, hi = first[0][0], last[0][0]
        n = max(1, min(points, hi - lo + 1))
        targets = sorted({lo + (hi - lo) * i // max(1, n - 1) for i in range(n)})
        steps: list[int] = []
        times: list[float] = []
        for t in targets:
            row = self._all("SELECT step, ts FROM steps WHERE run_id = ? AND step >= ? ORDER BY step LIMIT 1",
                            (run_id, t))
            if row and (not steps or row[0][0] > steps[-1]):
                steps.append(row[0][0])
                times.append(row[0][1])
        return steps, times

    def history_rows(self, run_id: str, keys: Sequence[str] | None = None,
                     page: int = 1000) -> Iterator[dict[str, Any]]:
        """Every step as a dict with _step, _timestamp and the keys logged at it, paged by steps."""
        ids = self._metric_ids(run_id, keys, "history")
        if not ids:
            return
        names = {mid: key for key, mid in ids.items()}
        marks = ",".join("?" * len(names))
        after = -_MAX_INT
        while True:
            steps = self._all("SELECT step, ts FROM steps WHERE run_id = ? AND step > ? ORDER BY step LIMIT ?",
                              (run_id, after, page))
            if not steps:
                return
            lo, hi = steps[0][0], steps[-1][0]
            rows: dict[int, dict[str, Any]] = {s: {"_step": s, "_timestamp": ts} for s, ts in steps}
            for mid, step, value, kind, text in self._all(
                f"SELECT metric_id, step, value, kind, text FROM history WHERE metric_id IN ({marks}) "
                "AND step BETWEEN ? AND ?", (*names, lo, hi)
            ):
                rows[step][names[mid]] = codec.decode(value, kind, text)
            for s, _ in steps:
                if len(rows[s]) > 2 or keys is None:
                    yield rows[s]
            after = hi

    # ------------------------------------------------------------ system, logs, files

    def system(self, run_id: str, keys: Sequence[str] | None = None, since_ts: float = 0.0,
               host: str | None = None) -> dict[str, list[tuple[float, float | None]]]:
        """System samples (ts, value) per key newer than since_ts, of one host: by default the run's own
        (the host that started it); system_hosts() lists the others (the nodes of a multi-node job)."""
        if host is not None and self._has_hosts():
            own = self._all("SELECT host FROM runs WHERE id = ?", (run_id,))
            if own and own[0][0] == host:
                host = None  # the run's own host includes its samples from before hosts were recorded
        out: dict[str, list[tuple[float, float | None]]] = {}
        sql = "SELECT ts, value FROM system WHERE metric_id = ? AND ts > ? ORDER BY ts"
        for key, mids in self._metric_id_lists(run_id, keys, "system", host).items():
            if len(mids) == 1:
                out[key] = self._all(sql, (mids[0], since_ts))
            else:
                out[key] = sorted(p for mid in mids for p in self._all(sql, (mid, since_ts)))
        return out

    def logs(self, run_id: str, since_seq: int = 0, limit: int = 10_000) -> list[tuple[int, float, str, str]]:
        """Console lines (seq, ts, stream, line) after since_seq, oldest first."""
        return self._all("SELECT seq, ts, stream, line FROM logs WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                         (run_id, since_seq, limit))

    def logs_tail(self, run_id: str, n: int = 1000) -> list[tuple[int, float, str, str]]:
        """The last n console lines, oldest first."""
        rows = self._all("SELECT seq, ts, stream, line FROM logs WHERE run_id = ? ORDER BY seq DESC LIMIT ?",
                         (run_id, n))
        return rows[::-1]

    def alerts(self, run_id: str, since_seq: int = 0, limit: int = 1000) -> list[tuple[int, float, str]]:
        """run.alert() lines (seq, ts, line) after since_seq, oldest first (codec.parse_alert reads a line)."""
        return self._all("SELECT seq, ts, line FROM logs WHERE run_id = ? AND seq > ? AND stream = ? "
                         "ORDER BY seq LIMIT ?", (run_id, since_seq, codec.ALERT_STREAM, limit))

    def files(self, run_id: str) -> list[tuple[str, int, float]]:
        """Files attached to a run: (name, size, created_at)."""
        return self._all("SELECT name, size, created_at FROM files WHERE run_id = ? ORDER BY name", (run_id,))

    def file_bytes(self, run_id: str, name: str) -> bytes | None:
        """The content of one attached file."""
        rows = self._all("SELECT b.data FROM files f JOIN blobs b ON b.sha256 = f.sha256 "
                         "WHERE f.run_id = ? AND f.name = ?", (run_id, name))
        return bytes(rows[0][0]) if rows else None


def open_reader(dir: str | os.PathLike[str] | Path | None = None) -> Reader:
    """A Reader on dir (or the default root)."""
    return Reader(dir)
