"""Artifacts in shared mode: bytes as content-addressed files on the shared root, metadata in segments.

A shared store root holds no database, so an artifact is kept in two parts:

    blobs/<first 2 hex digits>/<sha256>     the bytes of a file (or of a 16 MiB chunk of a big one), written
                                            once: a temp name, fsync, then link() (or rename where the
                                            filesystem has no hard links) to the final name; a blob already
                                            there is never written again
    segments/...                            ("artifact", fields): a version logged (its manifest, aliases,
                                            the run that logged it), ("artifact_use", fields): a run used one

A writer stores every blob before it publishes the record that names them, so a writer killed in the middle
of log_artifact leaves at most unreferenced blobs (and temp files `tracktui compact` removes after an hour),
never a version whose bytes are missing.

Version numbers are not chosen by the writer (two hosts may log one name at the same moment, and nothing on a
network filesystem is a lock they could share): readers number them while folding, the same way everywhere.
Every record carries a key (at, writer, n): `at` is the writer's clock, raised above every record of that
artifact the writer had folded when it logged (a Lamport clock: a version that a writer had seen always sorts
before the one it logs, whatever the hosts' clocks say), `writer` the writer directory's name, `n` a counter
of the writer. The versions of an artifact are its distinct manifests in the order of their first record by
that key, numbered from v0; an alias points at the version of the last record (by key) that named it;
`latest` at the highest version. A reader that has folded the same segments holds the same numbers and
aliases as any other; two logs that saw nothing of each other are ordered by their keys, so a reader that
folded only one of them may see its number move once the other is published (both then agree).

Readers keep every artifact record in cache-only tables (shared_artifact_log, shared_artifact_use) and
derive, per artifact touched by a fold, the same tables as local mode (artifacts, artifact_versions,
artifact_files, artifact_aliases, artifact_runs, blob_chunks): the Reader, Api, CLI and app read a shared
store's artifacts exactly as a local one's. The bytes are read from the shared root (store/artifacts.py's
read_blob finds it through the cache's shared_meta).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from . import artifacts as sart
from . import codec, report

BLOBS_DIR = sart.SHARED_BLOBS_DIR
_TMP_MAX_AGE = 3600.0  # seconds after which compact removes a blob temp file a killed writer left

CACHE_SQL = (
    "CREATE TABLE IF NOT EXISTS shared_artifact_log(writer TEXT NOT NULL, n INTEGER NOT NULL, at REAL NOT NULL, "
    "project TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, digest TEXT NOT NULL, description TEXT, "
    "metadata TEXT NOT NULL, aliases TEXT NOT NULL, run_id TEXT, PRIMARY KEY (writer, n))",
    "CREATE INDEX IF NOT EXISTS shared_artifact_log_name ON shared_artifact_log(project, name)",
    "CREATE TABLE IF NOT EXISTS shared_artifact_use(writer TEXT NOT NULL, n INTEGER NOT NULL, at REAL NOT NULL, "
    "run_id TEXT NOT NULL, project TEXT NOT NULL, name TEXT NOT NULL, digest TEXT NOT NULL, "
    "PRIMARY KEY (writer, n))",
    "CREATE INDEX IF NOT EXISTS shared_artifact_use_name ON shared_artifact_use(project, name)",
)


# ---------------------------------------------------------------- blobs on the shared root


def write_blob(root: Path, sha: str, data: bytes) -> bool:
    """Store data as the blob sha under root (False: it was there already, nothing written)."""
    final = sart.shared_blob_path(root, sha)
    if final.exists():
        return False
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{sha}.{uuid.uuid4().hex[:8]}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, final)  # fails if another writer stored it meanwhile: the blob is never rewritten
        except FileExistsError:
            return False
        except OSError:  # no hard links on this filesystem: rename (the same bytes, if it raced)
            if final.exists():
                return False
            os.rename(tmp, final)
        return True
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def remove_old_temps(root: Path, now: float | None = None) -> int:
    """Remove blob temp files a killed writer left more than an hour ago; how many."""
    now = time.time() if now is None else now
    removed = 0
    try:
        dirs = list(os.scandir(root / BLOBS_DIR))
    except OSError:
        return 0
    for d in dirs:
        if not d.is_dir(follow_symlinks=False):
            continue
        try:
            names = os.listdir(d.path)
        except OSError:
            continue
        for n in names:
            if n.startswith(".") and n.endswith(".tmp"):
                p = Path(d.path) / n
                try:
                    if now - p.stat().st_mtime > _TMP_MAX_AGE:
                        p.unlink()
                        removed += 1
                except OSError:
                    pass
    return removed


# ---------------------------------------------------------------- records (the writer's side)


def log_record(*, writer: str, n: int, at: float, project: str, name: str, type: str,
               files: list[sart.FileRow], description: str | None, metadata: dict[str, Any] | None,
               aliases: list[str], run_id: str | None) -> tuple[str, dict[str, Any]]:
    """The segment record of a logged version."""
    return ("artifact", {
        "writer": writer, "n": n, "at": at, "project": project, "name": name, "type": type,
        "digest": sart.manifest_digest(files),
        "files": [[f.path, f.sha256, f.size, f.ref, [[c, s] for c, s in f.chunks] if len(f.chunks) > 1 else []]
                  for f in files],
        "description": description, "metadata": codec.dumps(metadata or {}),
        "aliases": [a for a in dict.fromkeys(aliases) if a != sart.LATEST], "run_id": run_id})


def use_record(*, writer: str, n: int, at: float, run_id: str, project: str, name: str,
               digest: str) -> tuple[str, dict[str, Any]]:
    """The segment record of a run using a version (named by its manifest's digest: ids are per cache)."""
    return ("artifact_use", {"writer": writer, "n": n, "at": at, "run_id": run_id, "project": project,
                             "name": name, "digest": digest})


def next_at(conn: Any, project: str, name: str) -> float:
    """The `at` of a new record of project/name: now, or just above every record of it folded here."""
    now = time.time()
    try:
        row = conn.execute("SELECT max(at) FROM shared_artifact_log WHERE project = ? AND name = ?",
                           (project, name)).fetchone()
    except Exception:  # noqa: BLE001 - no such table yet: nothing folded
        row = None
    if row and row[0] is not None and row[0] >= now:
        return float(row[0]) + 1e-3
    return now


# ---------------------------------------------------------------- folding (a reader's cache)


def _str(v: Any, what: str, none: bool = False) -> Any:
    if v is None and none:
        return v
    if type(v) is not str:
        raise ValueError(f"artifact record: {what} is not a string")
    return v


def _key_fields(f: Any) -> tuple[str, int, float]:
    if type(f) is not dict:
        raise ValueError("artifact record: not a dict")
    w, n, at = f.get("writer"), f.get("n"), f.get("at")
    if type(w) is not str or type(n) is not int or type(at) not in (int, float):
        raise ValueError("artifact record: no key")
    return w, n, float(at)


def _files(raw: Any) -> list[sart.FileRow]:
    if type(raw) is not list:
        raise ValueError("artifact record: files is not a list")
    out = []
    for e in raw:
        if type(e) is not list or len(e) != 5:
            raise ValueError("artifact record: bad file entry")
        path, sha, size, ref, chunks = e
        if type(path) is not str or not (sha is None or (type(sha) is str and sart.SHA_RE.match(sha))):
            raise ValueError("artifact record: bad file entry")
        if not (size is None or type(size) is int) or not (ref is None or type(ref) is str):
            raise ValueError("artifact record: bad file entry")
        rows = []
        for c in chunks if type(chunks) is list else ():
            if type(c) is not list or len(c) != 2 or type(c[0]) is not str or not sart.SHA_RE.match(c[0]) \
                    or type(c[1]) is not int:
                raise ValueError("artifact record: bad chunk")
            rows.append((c[0], c[1]))
        out.append(sart.FileRow(path, sha, size, ref, rows))
    return out


def fold_logs(batch: Any, records: list[Any]) -> None:
    """("artifact", fields) records into the cache: logged, then every touched artifact settled."""
    conn = batch.conn
    touched: set[int] = set()
    for _, f in records:
        writer, n, at = _key_fields(f)
        project, name, type_ = _str(f.get("project"), "project"), _str(f.get("name"), "name"), \
            _str(f.get("type"), "type")
        digest = _str(f.get("digest"), "digest")
        files = _files(f.get("files"))
        if sart.manifest_digest(files) != digest:
            raise ValueError("artifact record: the manifest does not match its digest")
        aliases = f.get("aliases") or []
        if type(aliases) is not list or any(type(a) is not str for a in aliases):
            raise ValueError("artifact record: bad aliases")
        run_id = _str(f.get("run_id"), "run_id", none=True)
        description = _str(f.get("description"), "description", none=True)
        metadata = _str(f.get("metadata"), "metadata")
        cur = conn.execute(
            "INSERT INTO shared_artifact_log(writer, n, at, project, name, type, digest, description, metadata, "
            "aliases, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (writer, n, at, project, name, type_, digest, description, metadata, json.dumps(aliases), run_id))
        if cur.rowcount == 0:
            continue  # folded before
        conn.execute("INSERT INTO artifacts(project, name, type, created_at) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT(project, name) DO NOTHING", (project, name, type_, at))
        art_id, old_type = conn.execute("SELECT id, type FROM artifacts WHERE project = ? AND name = ?",
                                        (project, name)).fetchone()
        if old_type != type_:
            report.once(f"artifact-type:{project}/{name}:{type_}",
                        f"tracktui: artifact {name!r} of project {project!r} has type {old_type!r}; a version "
                        f"logged with type {type_!r} (by {writer}) is left out")
            continue
        if conn.execute("SELECT 1 FROM artifact_versions WHERE artifact_id = ? AND digest = ?",
                        (art_id, digest)).fetchone() is None:
            (vid,) = conn.execute(
                "INSERT INTO artifact_versions(artifact_id, version, digest, description, metadata, size, "
                "file_count, run_id, created_at) VALUES (?, (SELECT coalesce(max(version) + 1, 0) FROM "
                "artifact_versions WHERE artifact_id = ?), ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (art_id, art_id, digest, description, metadata, sum(x.size or 0 for x in files), len(files),
                 run_id, at)).fetchone()
            conn.executemany("INSERT INTO artifact_files(version_id, path, sha256, size, ref) VALUES (?, ?, ?, ?, ?)",
                             [(vid, x.path, x.sha256, x.size, x.ref) for x in files])
            conn.executemany(
                "INSERT INTO blob_chunks(sha256, idx, chunk, size) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(x.sha256, i, c, s) for x in files if len(x.chunks) > 1 for i, (c, s) in enumerate(x.chunks)])
        touched.add(art_id)
    for art_id in touched:
        settle(conn, art_id)


def fold_uses(batch: Any, records: list[Any]) -> None:
    """("artifact_use", fields) records into the cache; a use of a version not folded yet waits for it."""
    conn = batch.conn
    names: set[tuple[str, str]] = set()
    for _, f in records:
        writer, n, at = _key_fields(f)
        row = tuple(_str(f.get(k), k) for k in ("run_id", "project", "name", "digest"))
        conn.execute("INSERT INTO shared_artifact_use(writer, n, at, run_id, project, name, digest) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", (writer, n, at, *row))
        names.add((row[1], row[2]))
    for project, name in names:
        found = conn.execute("SELECT id FROM artifacts WHERE project = ? AND name = ?", (project, name)).fetchone()
        if found:
            _link_uses(conn, found[0], project, name)


def _link_uses(conn: Any, art_id: int, project: str, name: str) -> None:
    conn.execute(
        "INSERT INTO artifact_runs(run_id, role, version_id, at) SELECT u.run_id, 'used', v.id, min(u.at) "
        "FROM shared_artifact_use u JOIN artifact_versions v ON v.artifact_id = ? AND v.digest = u.digest "
        "WHERE u.project = ? AND u.name = ? GROUP BY u.run_id, v.id ON CONFLICT DO NOTHING",
        (art_id, project, name))


def settle(conn: Any, art_id: int) -> None:
    """Number the versions of an artifact, and place its aliases and lineage, from every record folded:
    what any reader that folded the same records computes."""
    project, name, type_ = conn.execute("SELECT project, name, type FROM artifacts WHERE id = ?",
                                        (art_id,)).fetchone()
    logs = conn.execute(
        "SELECT at, digest, description, metadata, aliases, run_id FROM shared_artifact_log "
        "WHERE project = ? AND name = ? AND type = ? ORDER BY at, writer, n", (project, name, type_)).fetchall()
    first: dict[str, tuple[Any, ...]] = {}
    alias_to: dict[str, str] = {}
    for rec in logs:
        first.setdefault(rec[1], rec)
        for a in json.loads(rec[4]):
            alias_to[a] = rec[1]
    rows = {d: (vid, num, desc, meta, run, created) for vid, num, d, desc, meta, run, created in conn.execute(
        "SELECT id, version, digest, description, metadata, run_id, created_at FROM artifact_versions "
        "WHERE artifact_id = ?", (art_id,))}
    order = [d for d in first if d in rows]
    if any(rows[d][1] != i for i, d in enumerate(order)):
        conn.execute("UPDATE artifact_versions SET version = -1 - version WHERE artifact_id = ?", (art_id,))
        conn.executemany("UPDATE artifact_versions SET version = ? WHERE id = ?",
                         [(i, rows[d][0]) for i, d in enumerate(order)])
    changed = [(f[2], f[3], f[5], f[0], rows[d][0]) for d, f in first.items() if d in rows
               and (rows[d][2], rows[d][3], rows[d][4], rows[d][5]) != (f[2], f[3], f[5], f[0])]
    if changed:  # the first log of a version (by key) is who made it, as in local mode
        conn.executemany("UPDATE artifact_versions SET description = ?, metadata = ?, run_id = ?, created_at = ? "
                         "WHERE id = ?", changed)
    conn.execute("DELETE FROM artifact_aliases WHERE artifact_id = ?", (art_id,))
    conn.executemany("INSERT INTO artifact_aliases(artifact_id, alias, version_id) VALUES (?, ?, ?)",
                     [(art_id, a, rows[d][0]) for a, d in alias_to.items() if d in rows and a != sart.LATEST])
    if order:
        conn.execute("INSERT INTO artifact_aliases(artifact_id, alias, version_id) VALUES (?, ?, ?)",
                     (art_id, sart.LATEST, rows[order[-1]][0]))
    conn.executemany("INSERT INTO artifact_runs(run_id, role, version_id, at) VALUES (?, 'logged', ?, ?) "
                     "ON CONFLICT DO NOTHING", [(rec[5], rows[rec[1]][0], rec[0]) for rec in logs
                                                if rec[5] is not None and rec[1] in rows])
    _link_uses(conn, art_id, project, name)
