"""tracktui.Artifact: versioned sets of files (checkpoints, datasets) kept in the store, with wandb's names.

    art = tracktui.Artifact("mnist-cnn", type="model", metadata={"acc": 0.93})
    art.add_file("model.pt")
    run.log_artifact(art, aliases=["best"])          # -> mnist-cnn:v0, aliases latest, best
    path = run.use_artifact("mnist-cnn:best").download()

Building an artifact checks its arguments and raises (a missing path is the caller's mistake, as in wandb).
log_artifact reads the files at that moment, chunk by chunk: it hashes them and stores their bytes once
(content-addressed) in short transactions, then records the version; a problem there is one message through
the `tracktui` logger (data not stored, see tracktui.warn) and never an exception in the training loop.
use_artifact answers at once (it resolves "name:v3", "name:alias" or "name:latest" on the writer's
connection) and records that the run used that version.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from tracktui.store import artifacts as sart

from .warn import lost, warn_once

BATCH_BLOBS = 1000  # small files stored per transaction at most


def _check_name(what: str, value: Any) -> str:
    if not isinstance(value, str) or not sart.NAME_RE.match(value):
        raise ValueError(f"artifact {what} must be 1-128 letters, digits, '-', '_' or '.', got {value!r}")
    return value


def _entry_name(name: Any) -> str:
    """A path inside an artifact: relative, '/'-separated, no '..'."""
    text = os.fspath(name) if isinstance(name, os.PathLike) else name
    if not isinstance(text, str) or not text or "\0" in text:
        raise ValueError(f"a file name inside an artifact must be a non-empty string, got {name!r}")
    p = PurePosixPath(text.replace(os.sep, "/"))
    parts = [x for x in p.parts if x not in ("", ".")]
    if p.is_absolute() or not parts or ".." in parts:
        raise ValueError(f"a file name inside an artifact must be a relative path without '..', got {name!r}")
    return "/".join(parts)


def _safe_dest(root: Path, path: str) -> Path:
    """Where an entry goes under root; refuses any name that would leave root (a store edited by hand)."""
    dest = root.joinpath(*_entry_name(path).split("/"))
    if not dest.resolve().is_relative_to(root.resolve()):
        raise ValueError(f"artifact entry {path!r} would be written outside {root}")
    return dest


def _file_sha256(path: Path) -> str | None:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


@dataclass
class ArtifactEntry:
    """One file of an artifact (wandb's manifest entry): its path inside the artifact, sha256 and size, or
    the URI of a reference. local_path is where a not yet logged artifact reads it from."""

    path: str
    digest: str | None = None
    size: int | None = None
    ref: str | None = None
    local_path: str | None = None
    _artifact: Artifact | None = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        """The path inside the artifact (wandb's File.name)."""
        return self.path

    def download(self, root: str | os.PathLike[str] | None = None) -> str:
        """Write this file under root (default: the artifact's download directory); return its path."""
        if self._artifact is None:
            raise ValueError(f"{self.path!r} belongs to no logged artifact")
        root_path = self._artifact._download_root(root)
        return str(self._artifact._write_entry(root_path, self))


@dataclass
class ArtifactManifest:
    """The files of an artifact by path (wandb's artifact.manifest.entries)."""

    entries: dict[str, ArtifactEntry]

    def __len__(self) -> int:
        return len(self.entries)


class Artifact:
    """A named, versioned set of files: build it with add_file/add_dir/add_reference/new_file, then
    run.log_artifact(it). Versions are v0, v1, ... per name within a project; the same content logged
    again is the same version."""

    def __init__(self, name: str, type: str, description: str | None = None,
                 metadata: dict[str, Any] | None = None, incremental: bool = False, use_as: str | None = None,
                 **kwargs: Any):
        self._base_name = _check_name("name", name)
        self.type = _check_name("type", type)
        if description is not None and not isinstance(description, str):
            raise TypeError(f"artifact description must be a string, got {type_name(description)}")
        if metadata is not None and not isinstance(metadata, dict):
            raise TypeError(f"artifact metadata must be a dict, got {type_name(metadata)}")
        self.description = description
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.aliases: list[str] = []
        self._entries: dict[str, ArtifactEntry] = {}
        self._row: sart.VersionRow | None = None
        self._root: Path | None = None  # the store it was logged to or read from
        self._files: list[ArtifactEntry] | None = None
        self._tmp: str | None = None

    # ------------------------------------------------------------ what it is

    @classmethod
    def _from_row(cls, root: Path, row: sart.VersionRow) -> Artifact:
        art = cls(row.name, row.type, row.description, row.metadata)
        art._set_stored(root, row)
        return art

    def _set_stored(self, root: Path, row: sart.VersionRow) -> None:
        self._root = root
        self._row = row
        self._base_name, self.type = row.name, row.type
        self.description, self.metadata, self.aliases = row.description, dict(row.metadata), list(row.aliases)
        self._files = None

    @property
    def name(self) -> str:
        """"name:v3" once logged (as wandb names a logged artifact), the bare name before."""
        return self._base_name if self._row is None else f"{self._base_name}:v{self._row.version}"

    @property
    def source_name(self) -> str:
        """The name with its version, as name does for a logged artifact."""
        return self.name

    @property
    def qualified_name(self) -> str:
        """project/name:vN."""
        return f"{self.project}/{self.name}"

    @property
    def version(self) -> str | None:
        """"v3", or None while the artifact is not logged."""
        return None if self._row is None else f"v{self._row.version}"

    @property
    def project(self) -> str | None:
        """The project it belongs to (None before it is logged)."""
        return None if self._row is None else self._row.project

    @property
    def id(self) -> str | None:
        """The version's id in the store."""
        return None if self._row is None else str(self._row.id)

    @property
    def digest(self) -> str | None:
        """sha256 of the manifest: equal digests, equal contents."""
        return None if self._row is None else self._row.digest

    @property
    def size(self) -> int:
        """Bytes of all its files (references count 0 unless their size was given)."""
        if self._row is not None:
            return self._row.size
        return sum(e.size or 0 for e in self._entries.values())

    @property
    def file_count(self) -> int:
        """How many entries (files and references) it holds."""
        return self._row.file_count if self._row is not None else len(self._entries)

    @property
    def created_at(self) -> float | None:
        """When the version was first logged (seconds since the epoch)."""
        return None if self._row is None else self._row.created_at

    @property
    def state(self) -> str:
        """"COMMITTED" once logged, "PENDING" before (wandb's states)."""
        return "PENDING" if self._row is None else "COMMITTED"

    def is_draft(self) -> bool:
        """True until the artifact is logged."""
        return self._row is None

    def __repr__(self) -> str:
        state = "" if self._row is not None else "draft, "
        return f"<Artifact {self.name} ({state}{self.type})>"

    # ------------------------------------------------------------ building

    def _check_draft(self, what: str) -> None:
        if self._row is not None:
            raise ValueError(f"artifact {self.name} is already logged; {what} needs a new tracktui.Artifact")

    def _add(self, entry: ArtifactEntry, overwrite: bool) -> ArtifactEntry:
        old = self._entries.get(entry.path)
        if old is not None and not overwrite and (old.local_path != entry.local_path or old.ref != entry.ref):
            raise ValueError(f"artifact {self._base_name} already has a file named {entry.path!r} "
                             f"(pass overwrite=True to replace it)")
        entry._artifact = self
        self._entries[entry.path] = entry
        return entry

    def add_file(self, local_path: str | os.PathLike[str], name: str | None = None, is_tmp: bool = False,
                 skip_cache: bool | None = None, policy: str | None = None,
                 overwrite: bool = False) -> ArtifactEntry:
        """Add a file, under name (default: its file name). Its bytes are read when the artifact is logged.

        Raises ValueError if local_path is not a file."""
        self._check_draft("add_file")
        path = os.fspath(local_path)
        if not os.path.isfile(path):
            raise ValueError(f"Path is not a file: {path!r}")
        entry_name = _entry_name(os.path.basename(path) if name is None else name)
        size = os.path.getsize(path)
        return self._add(ArtifactEntry(entry_name, size=size, local_path=os.path.abspath(path)), overwrite)

    def add_dir(self, local_path: str | os.PathLike[str], name: str | None = None,
                skip_cache: bool | None = None, policy: str | None = None, merge: bool = False) -> None:
        """Add every file under a directory (recursively), under the prefix name if given.

        Raises ValueError if local_path is not a directory."""
        self._check_draft("add_dir")
        base = os.fspath(local_path)
        if not os.path.isdir(base):
            raise ValueError(f"Path is not a directory: {base!r}")
        prefix = _entry_name(name) + "/" if name else ""
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for fn in sorted(filenames):
                full = os.path.join(dirpath, fn)
                if os.path.isfile(full):
                    rel = os.path.relpath(full, base)
                    self.add_file(full, name=prefix + Path(rel).as_posix(), overwrite=merge)

    def add_reference(self, uri: str, name: str | None = None, checksum: bool = True,
                      max_objects: int | None = None) -> list[ArtifactEntry]:
        """Record a reference (s3://..., https://..., file://...) without fetching it; name defaults to the
        last part of the URI's path."""
        self._check_draft("add_reference")
        if not isinstance(uri, str) or not uri.strip():
            raise ValueError(f"a reference must be a non-empty URI string, got {uri!r}")
        if name is None:
            from urllib.parse import urlparse

            tail = urlparse(uri).path.rstrip("/").rsplit("/", 1)[-1]
            name = tail or urlparse(uri).netloc or uri
        return [self._add(ArtifactEntry(_entry_name(name), ref=uri), overwrite=False)]

    @contextmanager
    def new_file(self, name: str, mode: str = "x", encoding: str | None = None) -> Iterator[IO[Any]]:
        """Write a new file straight into the artifact: `with art.new_file("labels.txt") as f: f.write(...)`."""
        self._check_draft("new_file")
        entry_name = _entry_name(name)
        if entry_name in self._entries:
            raise ValueError(f"artifact {self._base_name} already has a file named {entry_name!r}")
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="tracktui-artifact-")
            weakref.finalize(self, shutil.rmtree, self._tmp, True)
        path = os.path.join(self._tmp, str(len(os.listdir(self._tmp))))  # never named after a user string
        if "b" not in mode and encoding is None:
            encoding = "utf-8"
        with open(path, mode, encoding=encoding) as f:
            yield f
        self.add_file(path, name=entry_name)

    def remove(self, item: str | ArtifactEntry) -> None:
        """Take a file back out of a not yet logged artifact."""
        self._check_draft("remove")
        path = item.path if isinstance(item, ArtifactEntry) else _entry_name(item)
        if self._entries.pop(path, None) is None:
            raise FileNotFoundError(f"artifact {self._base_name} has no file {path!r}")

    # ------------------------------------------------------------ reading

    def files(self, names: Sequence[str] | None = None, per_page: int = 50) -> list[ArtifactEntry]:
        """Its files (and references), by path."""
        if self._row is None:
            entries = [self._entries[k] for k in sorted(self._entries)]
        else:
            if self._files is None:
                from tracktui.store import Reader

                with Reader(self._root) as r:
                    rows = sart.files(r, self._row.id)
                self._files = [ArtifactEntry(f.path, f.sha256, f.size, f.ref, _artifact=self) for f in rows]
            entries = self._files
        return [e for e in entries if names is None or e.path in names]

    @property
    def manifest(self) -> ArtifactManifest:
        """The files by path."""
        return ArtifactManifest({e.path: e for e in self.files()})

    def get_entry(self, name: str) -> ArtifactEntry:
        """One file by its path inside the artifact; KeyError if there is none."""
        path = _entry_name(name)
        for e in self.files():
            if e.path == path:
                return e
        raise KeyError(f"artifact {self.name} has no file {path!r}")

    get_path = get_entry

    def _download_root(self, root: str | os.PathLike[str] | None) -> Path:
        if self._row is None:
            raise ValueError(f"artifact {self.name} is not logged yet: log it (run.log_artifact) before download")
        return Path(root) if root is not None else Path("artifacts") / self.name

    def _write_entry(self, root: Path, entry: ArtifactEntry) -> Path:
        """Write one file's bytes from the store to root (atomically; kept if the same bytes are there)."""
        from tracktui.store import Reader

        dest = _safe_dest(root, entry.path)
        if dest.is_file() and dest.stat().st_size == entry.size and _file_sha256(dest) == entry.digest:
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tracktui-part")
        h = hashlib.sha256()
        try:
            with Reader(self._root) as r, open(tmp, "wb") as out:
                for chunk in sart.read_blob(r, entry.digest or ""):
                    out.write(chunk)
                    h.update(chunk)
            if h.hexdigest() != entry.digest:
                raise ValueError(f"the stored bytes of {entry.path!r} do not match their sha256")
            os.replace(tmp, dest)
        finally:
            if tmp.exists():
                tmp.unlink()
        return dest

    def download(self, root: str | os.PathLike[str] | None = None, allow_missing_references: bool = False,
                 skip_cache: bool | None = None, path_prefix: str | None = None, **kwargs: Any) -> str:
        """Write its files under root (default ./artifacts/<name>:<version>/) and return that directory.

        Files already there with the same bytes are left alone; references are not fetched."""
        root_path = self._download_root(root)
        root_path.mkdir(parents=True, exist_ok=True)
        for entry in self.files():
            if entry.ref is None and (path_prefix is None or entry.path.startswith(path_prefix)):
                self._write_entry(root_path, entry)
        return str(root_path)

    def wait(self, timeout: float | None = None) -> Artifact:
        """Logging is finished when log_artifact returns: nothing to wait for."""
        return self

    def logged_by(self) -> Any:
        """The run that logged this version (an Api run), or None."""
        if self._row is None or self._row.run_id is None:
            return None
        from .api import Api

        try:
            return Api(self._root).run(self._row.run_id)
        except ValueError:
            return None

    def used_by(self) -> list[Any]:
        """The runs that used this version (Api runs)."""
        if self._row is None:
            return []
        from tracktui.store import Reader

        from .api import Api

        with Reader(self._root) as r:
            ids = sart.users(r, self._row.id)
        api = Api(self._root)
        out = []
        for rid in ids:
            try:
                out.append(api.run(rid))
            except ValueError:
                pass
        return out


def type_name(obj: Any) -> str:
    return type(obj).__name__


# ---------------------------------------------------------------- the run's side


class _BlobSink:
    """Bytes on their way to the store: small files go in batches, a big file's chunks one by one."""

    def __init__(self, writer: Any):
        self.writer = writer
        self.pending: list[tuple[str, bytes]] = []
        self.bytes = 0

    def put(self, sha: str, data: bytes) -> None:
        self.pending.append((sha, data))
        self.bytes += len(data)
        if self.bytes >= sart.CHUNK_BYTES or len(self.pending) >= BATCH_BLOBS:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            batch, self.pending, self.bytes = self.pending, [], 0
            self.writer.artifact_put_blobs(batch)


def _store_file(sink: _BlobSink, path: str, local_path: str) -> sart.FileRow:
    """Hash and store one file in chunks of CHUNK_BYTES (never more in memory)."""
    chunk_size = sart.CHUNK_BYTES
    whole = hashlib.sha256()
    chunks: list[tuple[str, int]] = []
    with open(local_path, "rb") as f:
        while True:
            data = f.read(chunk_size)
            if not data and chunks:
                break
            sha = hashlib.sha256(data).hexdigest()
            whole.update(data)
            sink.put(sha, data)
            chunks.append((sha, len(data)))
            if len(data) < chunk_size:
                break
    return sart.FileRow(path, whole.hexdigest(), sum(n for _, n in chunks), chunks=chunks)


def _file_rows(writer: Any, artifact: Artifact) -> list[sart.FileRow]:
    if artifact._row is not None:  # logged before: the same manifest (only aliases can change)
        return [sart.FileRow(e.path, e.digest, e.size, e.ref) for e in artifact.files()]
    sink = _BlobSink(writer)
    rows = []
    for path in sorted(artifact._entries):
        e = artifact._entries[path]
        if e.ref is not None:
            rows.append(sart.FileRow(path, None, e.size, e.ref))
        else:
            rows.append(_store_file(sink, path, e.local_path or ""))
    sink.flush()
    return rows


def _clean_aliases(aliases: Any) -> list[str]:
    if aliases is None:
        return []
    if isinstance(aliases, str):
        aliases = [aliases]
    out = []
    for a in aliases:
        if isinstance(a, str) and a and ":" not in a and "/" not in a and not sart.VERSION_RE.match(a):
            out.append(a)
        else:
            warn_once(f"artifact-alias:{a!r}", f"tracktui: {a!r} cannot be an artifact alias (a non-empty "
                                               f"string without ':' or '/', not like 'v3'); it was left out")
    return out


def _store(run: Any, artifact: Artifact, aliases: list[str], producer: str | None) -> sart.VersionRow:
    writer = run._writer_for_this_process()
    rows = _file_rows(writer, artifact)
    return writer.artifact_log_version(
        project=run.project, name=artifact._base_name, type=artifact.type, files=rows,
        description=artifact.description, metadata=artifact.metadata, aliases=aliases, run_id=producer)


def _as_artifact(artifact_or_path: Any, name: str | None, type: str | None) -> Artifact:
    if isinstance(artifact_or_path, Artifact):
        return artifact_or_path
    if not isinstance(artifact_or_path, (str, os.PathLike)):
        raise TypeError(f"log_artifact takes a tracktui.Artifact or a path, not {type_name(artifact_or_path)}")
    text = os.fspath(artifact_or_path)
    if "://" in text:
        art = Artifact(name or _safe_name(text.rstrip("/").rsplit("/", 1)[-1]), type or "unspecified")
        art.add_reference(text)
    elif os.path.isdir(text):
        art = Artifact(name or _safe_name(os.path.basename(os.path.abspath(text))), type or "unspecified")
        art.add_dir(text)
    else:
        art = Artifact(name or _safe_name(os.path.basename(text)), type or "unspecified")
        art.add_file(text)
    return art


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)[-128:] or "artifact"


def log_artifact(run: Any, artifact_or_path: Any, name: str | None = None, type: str | None = None,
                 aliases: Sequence[str] | None = None, tags: Sequence[str] | None = None) -> Artifact:
    """Store an artifact as a new version (or find the identical one) made by run; never raises for a
    tracking problem (one message), only for a bad argument (a path that is not there, a bad name)."""
    artifact = _as_artifact(artifact_or_path, name, type)
    if getattr(run, "_finished", False):
        lost(f"artifact-after-finish:{run.id}", f"tracktui: log_artifact() after run {run.name} finished; "
                                                f"{artifact.name} was not stored")
        return artifact
    wanted = _clean_aliases([*artifact.aliases, *(aliases or [])])
    try:
        row = _store(run, artifact, wanted, run.id)
    except Exception as e:  # noqa: BLE001 - tracking never raises into training code
        lost(f"log_artifact:{type_name(e)}", f"tracktui: log_artifact({artifact.name}) failed "
                                             f"({type_name(e)}: {e}); it was not stored, training goes on")
        return artifact
    artifact._set_stored(run._root, row)
    return artifact


def use_artifact(run: Any, artifact_or_name: Any, type: str | None = None,
                 aliases: Sequence[str] | None = None, use_as: str | None = None) -> Artifact:
    """The stored version a reference names ("name", "name:v3", "name:alias", "project/name:latest") or an
    Artifact, recorded as used by run. Raises ValueError (ArtifactNotFound) when there is no such version."""
    writer = run._writer_for_this_process()
    if isinstance(artifact_or_name, Artifact):
        art = artifact_or_name
        if art._row is None:  # a new artifact used as an input: stored without a producing run
            art._set_stored(run._root, _store(run, art, _clean_aliases([*art.aliases, *(aliases or [])]), None))
        row = art._row
        assert row is not None
    else:
        project, name, tag = sart.parse_ref(artifact_or_name)
        row = writer.artifact_resolve(project or run.project, name, tag)
    if type is not None and row.type != type:
        raise ValueError(f"artifact {row.name}:v{row.version} has type {row.type!r}, not {type!r}")
    try:
        writer.artifact_use(run.id, row.id)
    except Exception as e:  # noqa: BLE001 - the script gets its artifact; the lineage is what is lost
        lost(f"use_artifact:{type_name(e)}", f"tracktui: recording that run {run.name} used "
                                             f"{row.name}:v{row.version} failed ({e})")
    return artifact_or_name if isinstance(artifact_or_name, Artifact) else Artifact._from_row(run._root, row)


def log_model(run: Any, path: str | os.PathLike[str], name: str | None = None,
              aliases: Sequence[str] | None = None) -> None:
    """Log a model file or directory as an artifact of type "model" (name: run-<id>-<file name>)."""
    text = os.fspath(path)
    if not os.path.exists(text):
        raise ValueError(f"log_model: {text!r} is not a file or directory")
    art_name = name or _safe_name(f"run-{run.id}-{os.path.basename(os.path.abspath(text))}")
    log_artifact(run, _as_artifact(text, art_name, "model"), aliases=aliases)


def use_model(run: Any, name: str) -> str:
    """Use a model artifact and download it; return the directory it was written to."""
    art = use_artifact(run, name)
    if "model" not in art.type:
        raise ValueError(f"artifact {art.name} has type {art.type!r}, not a model")
    return art.download()


def read_artifact(dir: Any, ref: str, type: str | None = None) -> Artifact:
    """A stored version by reference, from a store root (Api().artifact): "project/name:tag", or "name:tag"
    when one project holds that name."""
    from tracktui.store import Reader

    project, name, tag = sart.parse_ref(ref)
    with Reader(dir) as r:
        if project is None:
            found = sart.projects_with(r, name)
            if not found:
                raise sart.ArtifactNotFound(f"no artifact {name!r} in {r.store}")
            if len(found) > 1:
                raise ValueError(f"artifact {name!r} exists in projects {', '.join(found)}: "
                                 f"say which, as 'project/{name}:{tag}'")
            project = found[0]
        row = sart.resolve(r, project, name, tag)
        root = r.store  # the store itself (a shared root, not this host's cache of it)
    if type is not None and row.type != type:
        raise ValueError(f"artifact {row.name}:v{row.version} has type {row.type!r}, not {type!r}")
    return Artifact._from_row(root, row)


def read_versions(dir: Any, rows_of: Any) -> list[Artifact]:
    """Artifacts for the versions rows_of(reader) returns."""
    from tracktui.store import Reader

    with Reader(dir) as r:
        rows = rows_of(r)
        root = r.store
    return [Artifact._from_row(root, row) for row in rows]
