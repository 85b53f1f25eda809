"""Artifacts in the store: named, versioned sets of files (wandb's Artifact) and which runs made and used them.

Tables (schema version 2):

- artifacts: one per (project, name), with its type.
- artifact_versions: v0, v1, ... of an artifact. `digest` is the sha256 of the version's manifest, unique per
  artifact: logging the same content again finds the existing version instead of making a new one. `run_id`
  is the run that logged it (NULL for a version first stored by use_artifact).
- artifact_files: the manifest of a version: a path inside the artifact and either the sha256 and size of its
  bytes or a reference URI (recorded, never fetched).
- artifact_aliases: alias -> version of an artifact; "latest" is always kept on the highest version, other
  aliases move to the version they were last logged with.
- artifact_runs: which runs logged (role 'logged') and used (role 'used') which versions; a run that logs
  content identical to an existing version is recorded as logging it, while `run_id` keeps the first.
- blob_chunks: a file bigger than one chunk is kept as chunks, each a row of `blobs` (content-addressed like
  any other bytes); the file's own sha256 names the whole content. A file of one chunk is a plain blob.

Every write runs in its own short write transaction on the writer's connection (the SDK calls them through
the Writer's artifact_* methods), so a checkpoint of gigabytes goes in chunk by chunk while the writer thread
keeps committing metrics between chunks. Reads take a Reader (or a connection and its engine). The SQL is the
common ground of both engines (SQLite and PostgreSQL); what differs (transactions, the per-artifact lock that
numbers versions on a server shared by many writers, a missing table) goes through the engine.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import codec
from .engine import SQLITE, Engine

CHUNK_BYTES = 16 << 20  # bytes of one chunk of a big file (also what is held in memory at once)
LATEST = "latest"
VERSION_RE = re.compile(r"^v(\d+)$")
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")  # artifact names and types, as wandb allows them
SHA_RE = re.compile(r"^[0-9a-f]{64}$")
SHARED_BLOBS_DIR = "blobs"  # under a shared store root: blobs/<2 hex digits>/<sha256> (store/shared_artifacts.py)
SHARED_META_SQL = "CREATE TABLE IF NOT EXISTS shared_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)"


class ArtifactNotFound(ValueError, LookupError):
    """No artifact or version matches a reference: the message names what was looked for and where."""


class ArtifactTypeError(ValueError):
    """An artifact name is already used in the project with another type."""


@dataclass
class FileRow:
    """One entry of a version's manifest: bytes (sha256, size) or a reference (ref)."""

    path: str
    sha256: str | None = None
    size: int | None = None
    ref: str | None = None
    chunks: list[tuple[str, int]] = field(default_factory=list)  # (sha256, size) when stored in chunks


@dataclass
class VersionRow:
    """One stored version of an artifact."""

    id: int
    project: str
    name: str
    type: str
    version: int
    digest: str
    description: str | None
    metadata: dict[str, Any]
    size: int
    file_count: int
    run_id: str | None
    created_at: float
    aliases: list[str]
    created: bool = False  # log_version made it (False: the same content was there already)


Query = Callable[[str, Sequence[Any]], list[Any]]


def _query(source: Any, engine: Engine | None = None) -> Query:
    """A query function over a Reader or a connection (of engine: SQLite unless said); a store older than
    these tables reads as empty."""
    if hasattr(source, "_all"):
        run, engine = source._all, source.engine
    else:
        run = lambda sql, p: source.execute(sql, p).fetchall()  # noqa: E731
    eng = engine or SQLITE

    def q(sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return run(sql, params)
        except Exception as e:
            if eng.missing_table(e):
                return []
            raise

    return q


def manifest_digest(files: Sequence[FileRow]) -> str:
    """The sha256 of a manifest: the same paths with the same bytes (or references) give the same digest."""
    entries = sorted([f.path, f.sha256, f.size, f.ref] for f in files)
    return hashlib.sha256(json.dumps(entries, separators=(",", ":")).encode()).hexdigest()


def parse_ref(ref: str) -> tuple[str | None, str, str]:
    """"[entity/]project/name:version|alias" -> (project or None, name, version or alias; "latest" if none)."""
    text = str(ref).strip()
    path, sep, tag = text.rpartition(":")
    if not sep:
        path, tag = text, LATEST
    parts = path.split("/")
    name = parts[-1]
    project = parts[-2] if len(parts) >= 2 else None
    if not name or not tag:
        raise ValueError(f"not an artifact reference: {ref!r} (expected name, name:v3, name:alias or "
                         f"project/name:version)")
    return project or None, name, tag


# ---------------------------------------------------------------- writing (on the writer's connection)


def _transaction(conn: Any, engine: Engine, fn: Callable[[], Any]) -> Any:
    engine.begin(conn)
    try:
        out = fn()
        engine.commit(conn)
        return out
    except BaseException:
        engine.rollback(conn)
        raise


def put_blobs(conn: Any, blobs: Sequence[tuple[str, bytes]], engine: Engine = SQLITE) -> None:
    """Store bytes (sha256, data) once each, in one transaction."""
    _transaction(conn, engine, lambda: conn.executemany(
        "INSERT INTO blobs(sha256, size, data) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        [(sha, len(data), data) for sha, data in blobs]))


def log_version(conn: Any, *, project: str, name: str, type: str, files: Sequence[FileRow],
                description: str | None, metadata: dict[str, Any] | None, aliases: Sequence[str],
                run_id: str | None, engine: Engine = SQLITE) -> VersionRow:
    """Record a version of project/name with these files (their bytes already stored) and move aliases to it.

    The same manifest as an existing version finds that version (aliases are still added). Raises
    ArtifactTypeError when the name is used with another type in the project."""
    digest = manifest_digest(files)

    def write() -> tuple[int, bool]:
        now = time.time()
        engine.lock_artifact(conn, project, name)  # versions are numbered one writer at a time
        conn.execute("INSERT INTO artifacts(project, name, type, created_at) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT(project, name) DO NOTHING", (project, name, type, now))
        art_id, old_type = conn.execute("SELECT id, type FROM artifacts WHERE project = ? AND name = ?",
                                        (project, name)).fetchone()
        if old_type != type:
            raise ArtifactTypeError(f"artifact {name!r} of project {project!r} has type {old_type!r}, "
                                    f"not {type!r}")
        row = conn.execute("SELECT id FROM artifact_versions WHERE artifact_id = ? AND digest = ?",
                           (art_id, digest)).fetchone()
        created = row is None
        if created:
            (number,) = conn.execute("SELECT coalesce(max(version) + 1, 0) FROM artifact_versions "
                                      "WHERE artifact_id = ?", (art_id,)).fetchone()
            size = sum(f.size or 0 for f in files)
            (vid,) = conn.execute(
                "INSERT INTO artifact_versions(artifact_id, version, digest, description, metadata, size, "
                "file_count, run_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (art_id, number, digest, description, codec.dumps(metadata or {}), size, len(files), run_id,
                 now)).fetchone()
            conn.executemany("INSERT INTO artifact_files(version_id, path, sha256, size, ref) VALUES (?, ?, ?, ?, ?)",
                             [(vid, f.path, f.sha256, f.size, f.ref) for f in files])
            conn.executemany(
                "INSERT INTO blob_chunks(sha256, idx, chunk, size) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(f.sha256, i, c, n) for f in files if len(f.chunks) > 1 for i, (c, n) in enumerate(f.chunks)])
        else:
            vid = row[0]
        conn.executemany(
            "INSERT INTO artifact_aliases(artifact_id, alias, version_id) VALUES (?, ?, ?) "
            "ON CONFLICT(artifact_id, alias) DO UPDATE SET version_id = excluded.version_id",
            [(art_id, a, vid) for a in dict.fromkeys(aliases) if a != LATEST])
        conn.execute(
            "INSERT INTO artifact_aliases(artifact_id, alias, version_id) SELECT ?, ?, id FROM artifact_versions "
            "WHERE artifact_id = ? ORDER BY version DESC LIMIT 1 "
            "ON CONFLICT(artifact_id, alias) DO UPDATE SET version_id = excluded.version_id",
            (art_id, LATEST, art_id))
        if run_id is not None:
            conn.execute("INSERT INTO artifact_runs(run_id, role, version_id, at) VALUES (?, 'logged', ?, ?) "
                         "ON CONFLICT DO NOTHING", (run_id, vid, now))
        return vid, created

    vid, created = _transaction(conn, engine, write)
    out = version(conn, vid, engine)
    if out is None:  # cannot happen: the row was committed above
        raise ArtifactNotFound(f"version {vid} of artifact {name!r} vanished")
    out.created = created
    return out


def use_version(conn: Any, run_id: str, version_id: int, engine: Engine = SQLITE) -> None:
    """Record that run_id used a version (once per run and version)."""
    _transaction(conn, engine, lambda: conn.execute(
        "INSERT INTO artifact_runs(run_id, role, version_id, at) VALUES (?, 'used', ?, ?) ON CONFLICT DO NOTHING",
        (run_id, version_id, time.time())))


# ---------------------------------------------------------------- reading (a Reader or a connection)

_VERSION_SELECT = (
    "SELECT v.id, a.project, a.name, a.type, v.version, v.digest, v.description, v.metadata, v.size, "
    "v.file_count, v.run_id, v.created_at "
    "FROM artifact_versions v JOIN artifacts a ON a.id = v.artifact_id "
)


def _versions(q: Query, rows: Sequence[Sequence[Any]]) -> list[VersionRow]:
    """VersionRows for rows of _VERSION_SELECT, their aliases read with one more query (per 500 versions)."""
    ids = [r[0] for r in rows]
    aliases: dict[int, list[str]] = {}
    for i in range(0, len(ids), 500):
        part = ids[i:i + 500]
        for vid, alias in q(f"SELECT version_id, alias FROM artifact_aliases WHERE version_id IN "
                            f"({', '.join('?' * len(part))})", part):
            aliases.setdefault(vid, []).append(alias)
    return [VersionRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], codec.loads(r[7]) or {}, r[8], r[9], r[10],
                       r[11], sorted(aliases.get(r[0], []), key=lambda a: (a != LATEST, a))) for r in rows]


def version(source: Any, version_id: int, engine: Engine | None = None) -> VersionRow | None:
    """A version by its id."""
    q = _query(source, engine)
    rows = q(_VERSION_SELECT + "WHERE v.id = ?", (version_id,))
    return _versions(q, rows)[0] if rows else None


def resolve_digest(source: Any, project: str, name: str, digest: str) -> VersionRow | None:
    """The version of project/name whose manifest has this digest (None: there is none)."""
    q = _query(source)
    rows = q(_VERSION_SELECT + "WHERE a.project = ? AND a.name = ? AND v.digest = ?", (project, name, digest))
    return _versions(q, rows)[0] if rows else None


def projects_with(source: Any, name: str) -> list[str]:
    """The projects that hold an artifact of this name."""
    return [r[0] for r in _query(source)("SELECT project FROM artifacts WHERE name = ? ORDER BY project", (name,))]


def resolve(source: Any, project: str, name: str, tag: str = LATEST, engine: Engine | None = None) -> VersionRow:
    """The version of project/name that tag names: "v3", an alias, or "latest". Raises ArtifactNotFound."""
    q = _query(source, engine)
    art = q("SELECT id FROM artifacts WHERE project = ? AND name = ?", (project, name))
    if not art:
        raise ArtifactNotFound(f"no artifact {name!r} in project {project!r}")
    m = VERSION_RE.match(tag)
    if m:
        rows = q(_VERSION_SELECT + "WHERE v.artifact_id = ? AND v.version = ?", (art[0][0], int(m.group(1))))
    else:
        rows = q(_VERSION_SELECT + "WHERE v.id = (SELECT version_id FROM artifact_aliases "
                 "WHERE artifact_id = ? AND alias = ?)", (art[0][0], tag))
    if not rows:
        raise ArtifactNotFound(f"artifact {name!r} of project {project!r} has no version or alias {tag!r}")
    return _versions(q, rows)[0]


def versions(source: Any, project: str | None = None, name: str | None = None,
             type: str | None = None) -> list[VersionRow]:
    """Versions, by project and name, newest version first; optionally of one project, name or type."""
    where, params = [], []
    for col, value in (("a.project", project), ("a.name", name), ("a.type", type)):
        if value is not None:
            where.append(f"{col} = ?")
            params.append(value)
    sql = _VERSION_SELECT + (f"WHERE {' AND '.join(where)} " if where else "")
    sql += "ORDER BY a.project, a.name, v.version DESC"
    q = _query(source)
    return _versions(q, q(sql, params))


def _by_run(source: Any, run_id: str, role: str) -> list[VersionRow]:
    q = _query(source)
    rows = q(_VERSION_SELECT + "JOIN artifact_runs u ON u.version_id = v.id WHERE u.run_id = ? AND u.role = ? "
             "ORDER BY u.at, v.id", (run_id, role))
    return _versions(q, rows)


def logged_by_run(source: Any, run_id: str) -> list[VersionRow]:
    """The versions a run logged (made, or logged again with identical content), in the order it did."""
    return _by_run(source, run_id, "logged")


def used_by_run(source: Any, run_id: str) -> list[VersionRow]:
    """The versions a run used, in the order it used them."""
    return _by_run(source, run_id, "used")


def users(source: Any, version_id: int) -> list[str]:
    """Ids of the runs that used a version."""
    rows = _query(source)("SELECT run_id FROM artifact_runs WHERE version_id = ? AND role = 'used' ORDER BY at",
                          (version_id,))
    return [r[0] for r in rows]


def files(source: Any, version_id: int) -> list[FileRow]:
    """The manifest of a version, by path."""
    rows = _query(source)("SELECT path, sha256, size, ref FROM artifact_files WHERE version_id = ? ORDER BY path",
                          (version_id,))
    return [FileRow(*r) for r in rows]


def shared_blob_path(root: Path, sha256: str) -> Path:
    """Where a shared store root keeps the bytes of sha256 (ValueError for anything but a sha256)."""
    if not SHA_RE.match(sha256):
        raise ValueError(f"not a sha256: {sha256!r}")
    return root / SHARED_BLOBS_DIR / sha256[:2] / sha256


def _shared_root(q: Query) -> Path | None:
    """The shared store root a folded cache was folded from (None: not a cache of a shared store)."""
    rows = q("SELECT value FROM shared_meta WHERE key = 'root'", ())
    return Path(rows[0][0]) if rows else None


def _blob(q: Query, shared: Callable[[], Path | None], sha256: str) -> Iterator[bytes] | None:
    rows = q("SELECT data FROM blobs WHERE sha256 = ?", (sha256,))
    if rows:
        return iter((bytes(rows[0][0]),))
    root = shared()
    if root is None:
        return None
    try:
        f = open(shared_blob_path(root, sha256), "rb")  # noqa: SIM115 - closed by the generator
    except (FileNotFoundError, ValueError):
        return None

    def chunks() -> Iterator[bytes]:
        with f:
            while data := f.read(CHUNK_BYTES):
                yield data

    return chunks()


def read_blob(source: Any, sha256: str) -> Iterator[bytes]:
    """The bytes stored under sha256, a chunk at a time (one short query or file read per chunk): from the
    store's blobs, or, for the cache of a shared store, from the files under the shared root.

    Raises ArtifactNotFound when the store does not hold them."""
    q = _query(source)
    found: list[Path | None] = []

    def shared() -> Path | None:  # asked only when the blobs table lacks the bytes
        if not found:
            found.append(_shared_root(q))
        return found[0]

    whole = _blob(q, shared, sha256)
    if whole is not None:
        yield from whole
        return
    chunks = q("SELECT chunk FROM blob_chunks WHERE sha256 = ? ORDER BY idx", (sha256,))
    if not chunks:
        where = shared()
        raise ArtifactNotFound(f"the store holds no bytes for sha256 {sha256}"
                               + (f" (looked in {where / SHARED_BLOBS_DIR} too)" if where else ""))
    for (chunk,) in chunks:
        part = _blob(q, shared, chunk)
        if part is None:
            raise ArtifactNotFound(f"the store lacks chunk {chunk} of sha256 {sha256}")
        yield from part
