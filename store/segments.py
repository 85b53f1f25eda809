"""The shared-mode engine: segment files on the shared filesystem, folded by readers into a local cache.

Layout of a shared store root (no SQLite file, lock or WAL is ever opened there):

    tracktui-shared.json                        marks the root as shared (readers need no setting)
    segments/<host>/<pid>-<random>/             one directory per writer process, written by it alone
        0000000000-0000000000.seg               segment 0, published atomically (temp name, fsync, rename)
        0000000001-0000000003.seg               segments 1 to 3, merged (`tracktui compact`, or the writer)
    files/<run id>/                             run.dir, as in local mode
    blobs/<ab>/<sha256>                         an artifact's bytes, content-addressed (store/shared_artifacts.py)

A segment file is a header line, `tracktui-segment <version>`, then one line per record:
`<crc32 of the body, 8 hex digits> <body>` where the body is `[seq, record]` in the spool's tagged JSON
(store/spool.py: tuples, bytes, NaN, Inf and -0.0 kept exactly; nothing is unpickled or evaluated), or, for
a history record of plain values, the short form `[seq, ["H", run_id, step, ts, [[key, value, kind, text],
...], rewrite]]`. A
record is the tuple the writer's handlers take (history, system, log, file, media, run columns) or
`("run_insert", fields)`, so a segment carries everything local mode stores, and readers fold it with the
same handlers into their cache. A line whose checksum does not match (a torn or foreign tail) is skipped and
counted, never misread; a file without the header is skipped with one message; a file of a newer version is
left for a newer tracktui, with one message, and folding that writer stops there.

Readers keep, in the cache, per writer directory, the next segment number to fold, updated in the same
transaction as the records: folding twice changes nothing and a reader killed mid-fold loses nothing.
"""

from __future__ import annotations

import collections
import gc
import json
import os
import re
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

from . import artifacts as sart
from . import report, shared_artifacts
from .engine import SQLITE
from .procinfo import hostname
from .schema import StoreError
from .shared import MARKER, SEGMENTS_DIR
from .spool import Unspoolable, _enc
from .writer import (
    HANDLERS,
    HEARTBEAT_INTERVAL,
    MAX_QUEUED,
    Batch,
    Record,
    Writer,
    _prepare,
    _report_dropped,
    apply_run_updates,
)

VERSION = 1
MAGIC = b"tracktui-segment "
PUBLISH_INTERVAL = 1.0  # seconds between publications of a writer with records waiting (at most 2 s: README)
PENDING_MAX = 256 * 2**20  # bytes of encoded records waiting to be published before log() feels back-pressure
FOLD_CHUNK = 20_000  # records per fold transaction
SELF_COMPACT_EVERY = 100  # publications after which a writer merges its own small segment files
QUIET_AFTER = 60.0  # seconds without a new segment after which a reader looks at a writer less often
QUIET_EVERY = 10.0  # seconds between two looks at such a quiet writer (a live one publishes every 5 s at least)
_NAME = re.compile(r"^(\d{10})-(\d{10})\.seg$")
_TMP_MAX_AGE = 3600.0  # seconds after which compact removes a temp file a killed writer left


# ---------------------------------------------------------------- the format


def _header() -> bytes:
    return MAGIC + str(VERSION).encode() + b"\n"


_dumps = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode
_quote = encode_basestring_ascii  # a str as JSON, escaped to ASCII (what _dumps does to every str)
_frepr = float.__repr__  # a finite float as JSON writes it
_irepr = int.__repr__  # an int as JSON writes it


def _plain_history(record: Record) -> list[Any] | None:
    """The short form of a history record whose values are all plain (str keys, finite floats or ints that
    are not -0.0, None, str texts): ["H", run_id, step, ts, [[key, value, kind, text], ...], rewrite]. It
    skips the tagged encoding, the writer thread's main cost in shared mode. None: use the tagged form."""
    if len(record) != 6:
        return None
    _, run_id, step, ts, items, rewrite = record
    if (type(run_id) is not str or type(step) is not int or type(ts) is not float or type(rewrite) is not bool
            or ts - ts != 0.0):  # a NaN or infinite time: the tagged form keeps it (JSON cannot)
        return None
    out = []
    for it in items:
        if type(it) is not tuple or len(it) != 4:
            return None
        key, value, kind, text = it
        tv = type(value)
        if type(key) is not str or type(kind) is not int or not (text is None or type(text) is str):
            return None
        if tv is float:
            if value - value != 0.0 or (value == 0.0 and str(value)[0] == "-"):
                return None
        elif not (value is None or tv is int):
            return None
        out.append(list(it))
    return ["H", run_id, step, ts, out, rewrite]


def _history_json(record: Record) -> bytes | None:
    """The short form's JSON made straight from a history record: byte for byte what
    _dumps(_plain_history(record)) gives, in one pass, with no list per item and no general encoder (about
    30% less CPU per record). The same checks as _plain_history; None: the tagged form is needed."""
    if len(record) != 6:
        return None
    _, run_id, step, ts, items, rewrite = record
    if (type(run_id) is not str or type(step) is not int or type(ts) is not float or type(rewrite) is not bool
            or ts - ts != 0.0):
        return None
    q = _quote
    out = []
    append = out.append
    for it in items:
        if type(it) is not tuple or len(it) != 4:
            return None
        key, value, kind, text = it
        tv = type(value)
        if tv is float:
            if value - value != 0.0:
                return None
            v = _frepr(value)
            if value == 0.0 and v[0] == "-":
                return None
        elif tv is int:
            v = _irepr(value)
        elif value is None:
            v = "null"
        else:
            return None
        if type(key) is not str or type(kind) is not int:
            return None
        if text is None:
            append(f"[{q(key)},{v},{_irepr(kind)},null]")
        elif type(text) is str:
            append(f"[{q(key)},{v},{_irepr(kind)},{q(text)}]")
        else:
            return None
    return (f'["H",{q(run_id)},{_irepr(step)},{_frepr(ts)},[{",".join(out)}],'
            f'{"true" if rewrite else "false"}]').encode("ascii")


def encode_record(record: Record) -> bytes:
    """The JSON of one record (raises Unspoolable, ValueError or TypeError for what cannot be written)."""
    if record[0] == "history":
        enc = _history_json(record)
        if enc is not None:
            return enc
        plain = _plain_history(record)
        if plain is not None:
            return _dumps(plain).encode("ascii")
    return _dumps(_enc(record)).encode("ascii")


def _hook(d: dict[str, Any]) -> Any:
    """The spool's tags, decoded bottom-up by the JSON parser (what store/spool.py's _dec does)."""
    if "$t" in d:
        return tuple(d["$t"])
    if "$f" in d:
        return float(d["$f"])
    if "$m" in d:
        return {k: v for k, v in d["$m"]}
    if "$b" in d:
        import base64

        return base64.b64decode(d["$b"])
    if "$i" in d:
        from .media import Item

        if d["$i"] != "Item" or not isinstance(d.get("f"), dict):
            raise ValueError("not a media item")
        return Item(**d["f"])
    return d  # the fields of a media item (checked above); anything else fails the record's shape check


_loads = json.JSONDecoder(object_hook=_hook).decode


def _record(obj: Any) -> tuple[int, Record]:
    """(seq, record) from a decoded line body; ValueError when its shape is not a record's."""
    if type(obj) is not list or len(obj) != 2 or type(obj[0]) is not int:
        raise ValueError("shape")
    seq, rec = obj
    if type(rec) is list and rec and rec[0] == "H" and len(rec) == 6:
        rec = ("history", rec[1], rec[2], rec[3], rec[4], rec[5])  # items stay [key, value, kind, text] lists
    if type(rec) is not tuple or not rec or type(rec[0]) is not str:
        raise ValueError("shape")
    return seq, rec


def line(seq: int, encoded: bytes) -> bytes:
    body = b"[%d,%s]" % (seq, encoded)
    return b"%08x %s\n" % (zlib.crc32(body), body)


@dataclass
class Parsed:
    """What a segment file holds: its version (None: not a segment), records (seq, record), lines skipped."""

    version: int | None
    records: list[tuple[int, Record]] = field(default_factory=list)
    bad: int = 0
    lines: list[bytes] = field(default_factory=list)  # the good lines verbatim (compact keeps them as they are)


def parse(data: bytes, keep_lines: bool = False) -> Parsed:
    """Read a segment file's bytes: every line checked against its checksum; bad lines skipped and counted."""
    out, bodies, good = _check(data)
    if not bodies:
        return out
    try:  # one parse for the whole file (the lines were checked one by one above)
        records = [_record(o) for o in _loads((b"[" + b",".join(bodies) + b"]").decode("ascii"))]
        kept = good
    except Exception:  # noqa: BLE001 - some line with a good checksum is still not a record: one by one
        records, kept = [], []
        for body, ln in zip(bodies, good, strict=True):
            try:
                records.append(_record(_loads(body.decode("ascii"))))
                kept.append(ln)
            except Exception:  # noqa: BLE001
                out.bad += 1
    out.records = records
    if keep_lines:
        out.lines = [ln + b"\n" for ln in kept]
    return out


def _check(data: bytes) -> tuple[Parsed, list[bytes], list[bytes]]:
    """The header's version, and the bodies and lines whose checksums match (the others counted in bad)."""
    nl = data.find(b"\n")
    head = data[:nl] if nl >= 0 else b""
    if not head.startswith(MAGIC):
        return Parsed(None), [], []
    try:
        version = int(head[len(MAGIC):])
    except ValueError:
        return Parsed(None), [], []
    out = Parsed(version)
    if version > VERSION:
        return out, [], []
    body_lines = data[nl + 1:].split(b"\n")
    if body_lines[-1]:  # a torn tail (no newline): skipped
        out.bad += 1
    del body_lines[-1]
    bodies: list[bytes] = []
    good: list[bytes] = []
    crc32 = zlib.crc32
    for ln in body_lines:
        body = ln[9:]
        try:
            if ln[8:9] != b" " or crc32(body) != int(ln[:8], 16):
                raise ValueError("checksum")
        except ValueError:  # a foreign or damaged line: skipped, counted
            out.bad += 1
            continue
        bodies.append(body)
        good.append(ln)
    return out, bodies, good


def _is_record(obj: Any) -> bool:
    """Whether a decoded line body has a record's shape: [seq, record], the record a tuple of the tagged form
    (its type first) or the short history form ["H", run_id, step, ts, items, rewrite]."""
    if type(obj) is not list or len(obj) != 2 or type(obj[0]) is not int:
        return False
    rec = obj[1]
    if type(rec) is list:
        return len(rec) == 6 and rec[0] == "H" and type(rec[4]) is list
    return type(rec) is tuple and len(rec) > 0 and type(rec[0]) is str


def _parse_fold(data: bytes) -> tuple[Parsed, list[list[Any]]]:
    """parse() for folding: the records as decoded, [seq, record], a history record of the short form left
    as its list ["H", ...] (the history handler takes it as it is: no tuple made per record)."""
    out, bodies, _ = _check(data)
    if not bodies:
        return out, []
    try:
        objs = _loads((b"[" + b",".join(bodies) + b"]").decode("ascii"))
    except Exception:  # noqa: BLE001 - some line with a good checksum is not JSON: one by one
        objs = []
        for body in bodies:
            try:
                objs.append(_loads(body.decode("ascii")))
            except Exception:  # noqa: BLE001
                out.bad += 1
    # _is_record, spelled out: one comprehension over the file, no call per record
    bad = [o for o in objs if not (type(o) is list and len(o) == 2 and type(o[0]) is int and (
        (type(r := o[1]) is list and len(r) == 6 and r[0] == "H" and type(r[4]) is list)
        or (type(r) is tuple and len(r) > 0 and type(r[0]) is str)))]
    if bad:
        objs = [o for o in objs if _is_record(o)]
        out.bad += len(bad)
    return out, objs


@dataclass(frozen=True)
class SegFile:
    path: Path
    first: int
    last: int


def writer_dirs(root: Path) -> Iterator[tuple[str, Path]]:
    """(key, directory) of every writer of a shared store: key is '<host>/<pid>-<random>'."""
    base = root / SEGMENTS_DIR
    try:
        hosts = sorted(os.scandir(base), key=lambda e: e.name)
    except FileNotFoundError:
        return
    for h in hosts:
        if not h.is_dir(follow_symlinks=False):
            continue
        try:
            ws = sorted(os.scandir(h.path), key=lambda e: e.name)
        except OSError:
            continue
        for w in ws:
            if w.is_dir(follow_symlinks=False):
                yield f"{h.name}/{w.name}", Path(w.path)


def seg_files(d: Path) -> list[SegFile]:
    """A writer's published segment files, by first segment (a merged file before the ones it covers)."""
    out = []
    try:
        names = os.listdir(d)
    except OSError:
        return []
    for n in names:
        m = _NAME.match(n)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            if a <= b:
                out.append(SegFile(d / n, a, b))
    out.sort(key=lambda s: (s.first, -s.last))
    return out


def _seg_name(first: int, last: int) -> str:
    return f"{first:010d}-{last:010d}.seg"


def publish_file(d: Path, name: str, data: bytes) -> Path:
    """Write data as d/name atomically: a temp name in d, fsync, rename, fsync of d where the fs allows.
    d must exist (it is never made here: a mount that went away shows as FileNotFoundError)."""
    tmp = d / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    os.close(fd)
    final = d / name
    os.rename(tmp, final)
    try:
        dfd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass  # some network filesystems cannot fsync a directory; the rename is what publishes
    return final


# ---------------------------------------------------------------- the writer


def prepare_shared_root(root: Path) -> Path:
    """Make the store root (marked shared) and this process's writer directory; StoreError if it cannot."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        if not (root / MARKER).exists():
            data = json.dumps({"tracktui_shared": VERSION}).encode() + b"\n"
            try:
                publish_file(root, MARKER, data)
            except FileExistsError:
                pass
        host = re.sub(r"[^A-Za-z0-9_.-]", "_", hostname() or "host")[:64] or "host"
        d = root / SEGMENTS_DIR / host / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        d.mkdir(parents=True, exist_ok=False)
        return d
    except OSError as e:
        raise StoreError(f"cannot write the shared tracktui store at {root}: {e.strerror or e}") from e


class SegmentWriter(Writer):
    """The process's writer for a shared store: records go to segment files of its own, never to SQLite.

    The same calling side as Writer (put, flush, close, attach/detach, back-pressure, wait_deadline); the
    writer thread encodes queued records and publishes them at least every PUBLISH_INTERVAL, at flush()
    (finish(), SIGTERM) and at exit. A publication that fails (the mount is away) keeps the records, in
    memory and in order, and is retried; past PENDING_MAX bytes the queue fills and log() feels the usual
    back-pressure. What is still unpublished at close is counted in one message.
    """

    def __init__(self, target: Path, durable: bool = False):  # noqa: D107 - fields as Writer's
        self.target = target
        self.root = target
        self.durable = durable
        self.engine = SQLITE
        self.conn = None  # no connection: nothing of SQLite on a shared filesystem
        self.dir = prepare_shared_root(target)
        self._queue: collections.deque[Record] = collections.deque()
        self._wake = threading.Event()
        self._drained = threading.Condition()
        self._write_lock = threading.Lock()
        self._state_fns: dict[str, Any] = {}
        self._metric_ids: dict[tuple[str, str], dict[str, int]] = {}
        self._closed = False
        self.max_queued = MAX_QUEUED
        self._failures = 0
        self._last_heartbeat = 0.0
        self._unsent_state: dict[str, dict[str, Any]] = {}
        self.wait_deadline: float | None = None
        self.stream = self.dir.name
        self._head = 0
        self._in_doubt = False
        self._spool = None
        self._offline = False
        self._probe = None
        self._probed = None
        self._orphans_checked = True
        self._last_try = 0.0
        self._probe_lock = threading.Lock()
        self._art_lock = threading.Lock()
        self._art_n = 0  # artifact records of this writer so far (their key's n)
        self._seq = 0
        self._pending: list[bytes] = []  # encoded records (without their segment number) waiting to publish
        self._pending_bytes = 0
        self._pending_syncs: list[Any] = []
        self._last_publish = time.monotonic()
        self.published = 0  # records published so far
        self._thread = threading.Thread(target=self._loop, name="tracktui-writer", daemon=False)
        self._thread.start()

    @property
    def unpublished(self) -> int:
        """Records queued or encoded but not yet published."""
        return len(self._pending) + sum(1 for r in list(self._queue) if r[0] != "sync")

    def _encode(self, records: list[Record]) -> None:
        _prepare(records)  # media encoded to bytes first, as for the spool
        pending = self._pending
        for r in records:
            if r[0] == "sync":
                self._pending_syncs.append(r[1])
                continue
            try:
                enc = encode_record(r)
            except (Unspoolable, ValueError, TypeError, OverflowError) as e:
                _report_dropped(r, e)
                continue
            pending.append(enc)
            self._pending_bytes += len(enc)

    def _state_records(self, heartbeat: bool) -> None:
        state, self._unsent_state = self._unsent_state, {}
        for run_id, fn in list(self._state_fns.items()):
            try:
                fields = fn(heartbeat)
            except Exception:  # noqa: BLE001 - a run's state must not stop the writer
                fields = None
            if fields:
                state.setdefault(run_id, {}).update(fields)
        for run_id, fields in state.items():
            self._encode([("run", run_id, fields)])

    def _write_pending(self) -> None:
        try:
            self._encode_and_publish()
        finally:  # put() calls waiting on back-pressure go on as soon as the queue is taken
            with self._drained:
                self._drained.notify_all()

    def _encode_and_publish(self) -> None:
        with self._write_lock:
            q = self._queue
            if self._pending_bytes < PENDING_MAX and q:
                popleft = q.popleft
                self._encode([popleft() for _ in range(len(q))])
                with self._drained:
                    self._drained.notify_all()
            now = time.time()
            heartbeat = now - self._last_heartbeat >= HEARTBEAT_INTERVAL
            exiting = not threading.main_thread().is_alive()
            due = (self._pending_syncs or heartbeat or exiting or self._closed
                   or (self._pending and time.monotonic() - self._last_publish >= PUBLISH_INTERVAL))
            if not due:
                return
            if heartbeat or self._state_fns:
                self._state_records(heartbeat)
            self._publish()
            if heartbeat:
                self._last_heartbeat = now
            syncs, self._pending_syncs = self._pending_syncs, []
            for ev in syncs:  # everything queued before them was encoded, and is now published
                ev.set()
            if q:
                self._wake.set()

    def _publish(self) -> None:
        """One segment of everything pending; raises OSError (the records stay pending) when it cannot."""
        if not self._pending:
            self._last_publish = time.monotonic()
            return
        seq = self._seq
        data = b"".join([_header(), *(line(seq, e) for e in self._pending)])
        publish_file(self.dir, _seg_name(seq, seq), data)
        self._seq = seq + 1
        if self._seq % SELF_COMPACT_EVERY == 0:  # a long run leaves hundreds of files, not one per second
            try:
                compact_dir(self.dir, CompactResult(), max_bytes=16 * 2**20, max_file=2**20)
            except Exception:  # noqa: BLE001 - the small files stay; readers read them as they are
                pass
        self.published += len(self._pending)
        self._pending = []
        self._pending_bytes = 0
        self._last_publish = time.monotonic()

    def _publish_now(self, records: list[Record]) -> None:
        """Records the caller needs published now (init's run row): best effort, retried by the thread."""
        with self._write_lock:
            q = self._queue
            self._encode([q.popleft() for _ in range(len(q))])  # what was queued first stays first
            self._encode(records)
            try:
                self._publish()
            except OSError as e:
                report.once(f"shared-publish:{self.target}",
                            f"tracktui: publishing to the shared store {self.target} failed ({e}); records wait "
                            "in memory and are published when it can be written again")

    # ------------------------------------------------------------ the calls init() makes

    def execute_now(self, fn: Any) -> Any:
        raise StoreError(f"the shared store {self.target} has no database to run this on")

    # ------------------------------------------------------------ artifacts (store/shared_artifacts.py)

    @property
    def key(self) -> str:
        """This writer's name among the store's writers: '<host>/<pid>-<random>'."""
        return f"{self.dir.parent.name}/{self.dir.name}"

    def _next_n(self) -> int:
        with self._art_lock:
            self._art_n += 1
            return self._art_n

    def _folded_cache(self) -> Any:
        """A read connection to this host's cache of the store, folded now (raises StoreError if it cannot)."""
        from . import schema
        from .shared import cache_root

        cache = cache_root(self.target)
        fold(self.target, cache)
        conn = schema.connect_reader(cache)
        if conn is None:
            raise StoreError(f"the cache {cache} of the shared store {self.target} could not be opened")
        return conn

    def artifact_put_blobs(self, blobs: Any) -> None:
        for sha, data in blobs:
            shared_artifacts.write_blob(self.target, sha, data)

    def artifact_log_version(self, *, project: str, name: str, type: str, files: Any, description: Any,
                             metadata: Any, aliases: Any, run_id: Any) -> Any:
        """Publish the version's record (its blobs are on the shared root already) and read back the version
        as this host's cache numbers it."""
        digest = sart.manifest_digest(files)
        conn = self._folded_cache()
        try:
            row = conn.execute("SELECT type FROM artifacts WHERE project = ? AND name = ?", (project, name)).fetchone()
            if row is not None and row[0] != type:
                raise sart.ArtifactTypeError(f"artifact {name!r} of project {project!r} has type {row[0]!r}, "
                                             f"not {type!r}")
            existed = conn.execute("SELECT 1 FROM artifact_versions v JOIN artifacts a ON a.id = v.artifact_id "
                                   "WHERE a.project = ? AND a.name = ? AND v.digest = ?",
                                   (project, name, digest)).fetchone() is not None
            at = shared_artifacts.next_at(conn, project, name)
        finally:
            conn.close()
        record = shared_artifacts.log_record(
            writer=self.key, n=self._next_n(), at=at, project=project, name=name, type=type, files=list(files),
            description=description, metadata=metadata, aliases=list(aliases), run_id=run_id)
        with self._write_lock:
            q = self._queue
            self._encode([q.popleft() for _ in range(len(q))])  # what was logged first stays first
            self._encode([record])
            try:
                self._publish()
            except OSError as e:
                raise StoreError(f"the record of artifact {name!r} could not be published to {self.target} "
                                 f"({e}); it waits in memory and is published when the store can be written "
                                 "again") from e
        conn = self._folded_cache()
        try:
            out = sart.resolve_digest(conn, project, name, digest)
        finally:
            conn.close()
        if out is None:
            raise StoreError(f"artifact {name!r} was published to {self.target} but this host's cache does not "
                             "show it (folding it failed: see the message above)")
        out.created = not existed
        return out

    def artifact_resolve(self, project: str, name: str, tag: str) -> Any:
        conn = self._folded_cache()
        try:
            return sart.resolve(conn, project, name, tag)
        finally:
            conn.close()

    def artifact_use(self, run_id: str, version_id: int) -> None:
        conn = self._folded_cache()  # the version ids are this host's cache's
        try:
            v = sart.version(conn, version_id)
        finally:
            conn.close()
        if v is None:
            raise sart.ArtifactNotFound(f"no artifact version {version_id} in the cache of {self.target}")
        self.put(shared_artifacts.use_record(writer=self.key, n=self._next_n(), at=time.time(), run_id=run_id,
                                             project=v.project, name=v.name, digest=v.digest))

    def _cache_query(self, sql: str, params: tuple[Any, ...], fold_first: bool = True) -> Any:
        from . import schema
        from .shared import cache_root

        cache = cache_root(self.target)
        try:
            if fold_first:
                fold(self.target, cache)
            conn = schema.connect_reader(cache)
        except Exception as e:  # noqa: BLE001 - init() goes on as for a new run
            report.once(f"shared-cache:{self.target}", f"tracktui: the shared store {self.target} could not be "
                        f"read ({type(e).__name__}: {e}); runs already there are not seen by this process")
            return None
        if conn is None:
            return None
        try:
            return conn.execute(sql, params).fetchone()
        finally:
            conn.close()

    def run_row(self, run_id: str) -> dict[str, Any] | None:
        from .writer import _RUN_ROW

        row = self._cache_query(f"SELECT {', '.join(_RUN_ROW)} FROM runs WHERE id = ?", (run_id,))
        return None if row is None else dict(zip(_RUN_ROW, row, strict=True))

    def count_runs(self, project: str) -> int:
        # only for a new run's name: the cache as run_row() just folded it
        row = self._cache_query("SELECT count(*) FROM runs WHERE project = ?", (project,), fold_first=False)
        return 0 if row is None else int(row[0])

    def save_run(self, fields: dict[str, Any]) -> None:
        self._publish_now([("run_insert", dict(fields))])

    def update_run_now(self, run_id: str, fields: dict[str, Any]) -> None:
        self._publish_now([("run", run_id, dict(fields))])

    def close(self, timeout: float | None = None) -> bool:
        ok = super().close(timeout)
        self._report_unpublished()
        return ok

    def _loop(self) -> None:
        super()._loop()
        self._report_unpublished()

    def _report_unpublished(self) -> None:
        """One message counting what never reached the shared filesystem (never silently gone)."""
        left = self.unpublished
        if left:
            report.once(f"shared-unpublished:{self.dir}",
                        f"tracktui: {left} records could not be published to the shared store {self.target} "
                        f"(it could not be written: {self.dir}) and are lost")


# ---------------------------------------------------------------- readers: folding into the local cache


def _fold_run_insert(batch: Batch, records: list[Record]) -> None:
    """("run_insert", {column: value}): create a run row or refresh its columns (init's save_run)."""
    from .writer import RUN_COLUMNS

    conn = batch.conn
    now = time.time()
    for _, fields in records:
        cols = [c for c in fields if c in RUN_COLUMNS or c == "id"]
        updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in ("id", "created_at"))
        conn.execute(
            f"INSERT INTO runs({', '.join(cols)}, updated_at, rev) VALUES ({', '.join('?' * len(cols))}, ?, "
            f"(SELECT coalesce(max(rev), 0) + 1 FROM runs)) "
            f"ON CONFLICT(id) DO UPDATE SET {updates}, updated_at = excluded.updated_at, rev = excluded.rev",
            (*[fields[c] for c in cols], now),
        )


_FOLD_HANDLERS = {"run_insert": _fold_run_insert, "artifact": shared_artifacts.fold_logs,
                  "artifact_use": shared_artifacts.fold_uses}

_PROGRESS_SQL = "CREATE TABLE IF NOT EXISTS shared_progress(writer TEXT PRIMARY KEY, next_seq INTEGER NOT NULL)"


@dataclass
class FoldResult:
    records: int = 0  # records applied to the cache
    segments: int = 0  # segment files read
    skipped_lines: int = 0  # lines whose checksum or shape was wrong
    skipped_files: int = 0  # files that are not segments, or of a newer version


def _handler(op: str) -> Any:
    h = _FOLD_HANDLERS.get(op) or HANDLERS.get(op)
    if h is None and op == "media":
        from . import media  # noqa: F401 - registers the media handler

        h = HANDLERS.get(op)
    return h


def _apply_chunk(conn: Any, metric_ids: dict[Any, Any], records: list[Record]) -> None:
    """The records of one chunk, grouped by type in order of first appearance (as Writer batches are); a
    history record of the short form ("H") is one of the history group, in its place."""
    ops = {r[0] for r in records}
    if len(ops) == 1:  # the rule: a chunk of history records only
        first = records[0][0]
        by_op = {"history" if first == "H" else first: records}
    else:
        by_op = {}
        for r in records:
            op = r[0]
            by_op.setdefault("history" if op == "H" else op, []).append(r)
    batch = Batch(conn, metric_ids, SQLITE)
    for op, recs in by_op.items():
        h = _handler(op)
        if h is None:
            report.once(f"fold-op:{op}", f"tracktui: records of type {op!r} in a shared store are not known to "
                        "this tracktui and are skipped (written by a newer one?)")
            continue
        h(batch, recs)
    if batch.run_updates:
        apply_run_updates(conn, batch.run_updates, SQLITE)


def _dropped(record: Any, error: BaseException) -> None:
    """_report_dropped for a record as folded (a short-form history record named as a history one)."""
    try:
        if record[0] == "H":
            record = ("history", record[1], record[2], record[3], [tuple(it) for it in record[4]], record[5])
        _report_dropped(record, error)
    except Exception:  # noqa: BLE001 - a record too damaged to be named
        report.once(f"dropped-fold:{type(error).__name__}", "tracktui: a record of a shared store could not "
                    f"be stored and was dropped ({type(error).__name__}: {error})")


def _apply_isolating(conn: Any, metric_ids: dict[Any, Any], records: list[Record]) -> None:
    """Apply records; a chunk that fails is applied record by record, each bad one dropped with a message."""
    conn.execute("SAVEPOINT chunk")
    try:
        _apply_chunk(conn, metric_ids, records)
        conn.execute("RELEASE chunk")
        return
    except Exception as e:  # noqa: BLE001
        conn.execute("ROLLBACK TO chunk")
        conn.execute("RELEASE chunk")
        metric_ids.clear()
        if SQLITE.transient(e):
            raise
    for r in records:
        conn.execute("SAVEPOINT one")
        try:
            _apply_chunk(conn, metric_ids, [r])
            conn.execute("RELEASE one")
        except Exception as e:  # noqa: BLE001
            conn.execute("ROLLBACK TO one")
            conn.execute("RELEASE one")
            metric_ids.clear()
            if SQLITE.transient(e):
                raise
            _dropped(r, e)


def _apply(conn: Any, metric_ids: dict[Any, Any], key: str, items: list[Any], upto: int) -> int:
    """One transaction: the records of writer `key` not folded yet (items: [seq, record], in order), and its
    progress set to upto."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute("SELECT next_seq FROM shared_progress WHERE writer = ?", (key,)).fetchone()
        done = row[0] if row else 0
        if done >= upto:
            conn.execute("ROLLBACK")
            return 0
        records = [it[1] for it in items if it[0] >= done]
        # a run row first, before what follows it refers to it: the records between run rows go in chunks
        starts = [i for i, r in enumerate(records) if r[0] == "run_insert"]
        at = 0
        for i in starts:
            if i > at:
                _apply_isolating(conn, metric_ids, records[at:i])
            _apply_isolating(conn, metric_ids, [records[i]])
            at = i + 1
        if at < len(records):
            _apply_isolating(conn, metric_ids, records[at:])
        conn.execute("INSERT INTO shared_progress(writer, next_seq) VALUES (?, ?) ON CONFLICT(writer) DO UPDATE "
                     "SET next_seq = excluded.next_seq", (key, upto))
        conn.execute("COMMIT")
        return len(records)
    except BaseException:
        try:
            conn.execute("ROLLBACK")
        except Exception:  # noqa: BLE001
            pass
        metric_ids.clear()
        raise


def _prepare_cache(conn: Any, root: Path) -> None:
    """The cache-only tables (progress, artifact records) and the shared root it is folded from (where
    store/artifacts.py reads a shared store's blobs)."""
    conn.execute(_PROGRESS_SQL)
    conn.execute(sart.SHARED_META_SQL)
    for sql in shared_artifacts.CACHE_SQL:
        conn.execute(sql)
    where = str(root.absolute())
    row = conn.execute("SELECT value FROM shared_meta WHERE key = 'root'").fetchone()
    if row is None or row[0] != where:
        conn.execute("INSERT INTO shared_meta(key, value) VALUES ('root', ?) ON CONFLICT(key) DO UPDATE "
                     "SET value = excluded.value", (where,))


def _read(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def fold(root: Path, cache: Path, conn: Any = None, seen: dict[str, list[float]] | None = None) -> FoldResult:
    """Fold what the writers of the shared store at root published since the last fold into the local
    SQLite store at cache (made if missing). Idempotent; safe to run in several processes at once.

    seen (a reader folding again and again keeps it): per writer, when something new came last and when it
    was last looked at; a writer quiet for QUIET_AFTER (ended: a live one publishes a heartbeat every 5 s)
    is looked at every QUIET_EVERY only, so a store of thousands of ended runs does not slow each fold."""
    from . import schema

    own = conn is None
    if own:
        conn = schema.connect_writer(cache)
    result = FoldResult()
    metric_ids: dict[Any, Any] = {}
    gc_was = gc.isenabled()
    gc.disable()  # millions of small acyclic objects: the cyclic collector would take 2/3 of the time
    try:
        _prepare_cache(conn, root)
        progress = dict(conn.execute("SELECT writer, next_seq FROM shared_progress").fetchall())
        mono = time.monotonic()
        for key, d in writer_dirs(root):
            info = None if seen is None else seen.get(key)
            if info is not None and mono - info[0] > QUIET_AFTER and mono - info[1] < QUIET_EVERY:
                continue
            if seen is not None:
                info = seen.setdefault(key, [mono, mono])
                info[1] = mono
            done = progress.get(key, 0)
            items: list[tuple[int, Record]] = []
            upto = done
            files = seg_files(d)
            listed = {sf.path.name for sf in files}
            i = 0
            while True:
                if i < len(files):
                    sf = files[i]
                    i += 1
                    if sf.last < upto:
                        continue
                    data = _read(sf.path)
                    if data is None:  # merged away by compact meanwhile: the merged file next time
                        break
                else:
                    # The next segment by its exact name: a directory listing may be cached for seconds
                    # (sshfs, NFS attribute caches); a lookup by name is not held back as long.
                    name = _seg_name(upto, upto)
                    if name in listed:
                        break
                    data = _read(d / name)
                    if data is None:
                        break
                    listed.add(name)
                    sf = SegFile(d / name, upto, upto)
                result.segments += 1
                parsed, objs = _parse_fold(data)
                if parsed.version is None:
                    result.skipped_files += 1
                    report.once(f"fold-foreign:{sf.path}", f"tracktui: {sf.path} is not a tracktui segment "
                                "(no header); skipped")
                    upto = max(upto, sf.last + 1)
                    continue
                if parsed.version > VERSION:
                    result.skipped_files += 1
                    report.once(f"fold-newer:{root}", f"tracktui: {sf.path} was written by a newer tracktui "
                                f"(segment version {parsed.version}, this one reads {VERSION}); that writer's "
                                "records are skipped: upgrade tracktui to read them")
                    break
                if parsed.bad:
                    result.skipped_lines += parsed.bad
                    report.once(f"fold-bad:{sf.path}", f"tracktui: {parsed.bad} damaged lines in {sf.path} "
                                "were skipped (checksum mismatch or torn tail)")
                items += [o for o in objs if o[0] >= upto]
                upto = max(upto, sf.last + 1)
                if len(items) >= FOLD_CHUNK:
                    result.records += _apply(conn, metric_ids, key, items, upto)
                    items = []
            if upto > done:
                result.records += _apply(conn, metric_ids, key, items, upto)
                if info is not None:
                    info[0] = mono
    finally:
        if gc_was:
            gc.enable()
        if own:
            SQLITE.close(conn)
    return result


# ---------------------------------------------------------------- compact


@dataclass
class CompactResult:
    merged_files: int = 0  # segment files replaced by merged ones
    written_files: int = 0  # merged files written
    records: int = 0  # records in the merged files
    removed_temps: int = 0
    kept: list[str] = field(default_factory=list)  # files left alone (damaged, foreign, newer)


def compact(root: Path, max_bytes: int = 64 * 2**20, min_files: int = 2) -> CompactResult:
    """Merge each writer's published segments into fewer files, safely while writers and readers run:
    a merged file is published (temp, fsync, rename) before the files it covers are removed; its lines are
    the originals, verbatim, so no record is dropped. Damaged, foreign and newer files are left alone."""
    result = CompactResult()
    for _key, d in writer_dirs(root):
        compact_dir(d, result, max_bytes, min_files)
    result.removed_temps += shared_artifacts.remove_old_temps(root)
    return result


def compact_dir(d: Path, result: CompactResult, max_bytes: int = 64 * 2**20, min_files: int = 2,
                max_file: int | None = None) -> None:
    """compact() for one writer directory; files over max_file bytes are left as they are (a writer merging
    its own small segments does not rewrite its big merged ones again and again)."""
    now = time.time()
    try:
        for n in os.listdir(d):
            if n.startswith(".") and n.endswith(".tmp"):
                p = d / n
                try:
                    if now - p.stat().st_mtime > _TMP_MAX_AGE:
                        p.unlink()
                        result.removed_temps += 1
                except OSError:
                    pass
    except OSError:
        return
    files = seg_files(d)
    covered_to = -1
    group: list[tuple[SegFile, Parsed]] = []
    size = 0

    def flush_group() -> None:
        nonlocal group, size
        if len(group) >= min_files:
            first, last = group[0][0].first, group[-1][0].last
            data = b"".join([_header(), *(ln for _, p in group for ln in p.lines)])
            publish_file(d, _seg_name(first, last), data)
            result.written_files += 1
            result.records += sum(len(p.records) for _, p in group)
            for sf, _ in group:
                if sf.path.name != _seg_name(first, last):
                    try:
                        sf.path.unlink()
                    except FileNotFoundError:
                        pass
                    result.merged_files += 1
        group, size = [], 0

    for sf in files:
        if sf.last <= covered_to:  # covered by a merged file published before (a compact cut short)
            try:
                sf.path.unlink()
            except FileNotFoundError:
                pass
            continue
        data = _read(sf.path)
        if data is None:
            continue
        if max_file is not None and len(data) > max_file:
            flush_group()
            covered_to = max(covered_to, sf.last)
            continue
        parsed = parse(data, keep_lines=True)
        if parsed.version is None or parsed.version > VERSION or parsed.bad or sf.first <= covered_to:
            flush_group()
            result.kept.append(str(sf.path))
            covered_to = max(covered_to, sf.last)
            continue
        if group and (sf.first != group[-1][0].last + 1 or size + len(data) > max_bytes):
            flush_group()
        group.append((sf, parsed))
        size += len(data)
        covered_to = max(covered_to, sf.last)
    flush_group()


def compact_command(store: Any) -> int:
    """`tracktui [--dir D] compact`: merge the segments of a shared store; prints what it did."""
    import sys

    from .location import resolve_store
    from .shared import is_shared

    root = resolve_store(store)
    if not isinstance(root, Path) or not is_shared(root):
        print(f"tracktui: {root} is not a shared store (nothing to compact)", file=sys.stderr)
        return 2
    r = compact(root)
    print(f"merged {r.merged_files} segment files into {r.written_files} ({r.records} records) in {root}"
          + (f"; left alone: {len(r.kept)} damaged or foreign files" if r.kept else ""), file=sys.stderr)
    return 0
