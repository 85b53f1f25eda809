"""The local spool: records a writer could not send to a remote store wait here, on disk, until it answers.

One file per writer stream (one per process and store): a header line, then one line per record with its
position in the stream. The store keeps, per stream, how many records it holds (writer_progress, updated in
the same transaction as the records), so whoever sends a spool (the writer when the server returns, or
`tracktui sync`) skips what is already there: each record is stored exactly once.

Records are written as tagged JSON (tuples, bytes, media items, NaN and Inf are kept exactly); nothing read
back from a spool is unpickled or evaluated. A spool file is locked (flock) by the process that writes or
sends it; the directory is 0700, files 0600. The spool is bounded (TRACKTUI_SPOOL_MAX_MB, 1024 MiB by
default): past that, records wait in memory and log() feels the writer's usual back-pressure.
"""

from __future__ import annotations

import base64
import dataclasses
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .location import StoreURL
from .paths import default_root
from .records import TYPES as _RECORD_TYPES  # written as plain tuples: segment files share this format
from .records import Record

ENV_DIR = "TRACKTUI_SPOOL_DIR"
ENV_MAX = "TRACKTUI_SPOOL_MAX_MB"
DEFAULT_MAX_MB = 1024
SUFFIX = ".spool"


class Unspoolable(Exception):
    """A record holds something the spool cannot write (it stays in memory)."""


def spool_root() -> Path:
    """Where spools live: TRACKTUI_SPOOL_DIR, else spool/ under the local store root's default."""
    env = os.environ.get(ENV_DIR)
    return Path(env).expanduser() if env else default_root() / "spool"


def store_dir(target: StoreURL) -> Path:
    """The spool folder of one store (named by a hash of its URL without the password)."""
    digest = hashlib.sha256(target.redacted.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return spool_root() / digest


def max_bytes() -> int:
    try:
        return int(float(os.environ.get(ENV_MAX, DEFAULT_MAX_MB)) * 2**20)
    except ValueError:
        return DEFAULT_MAX_MB * 2**20


# ---------------------------------------------------------------- encoding


def _item_types() -> dict[str, type]:
    from .media import Item

    return {"Item": Item}


def _enc(obj: Any) -> Any:
    t = type(obj)
    if obj is None or t is bool or t is int or t is str:
        return obj
    if t is float:
        return obj if obj - obj == 0.0 and not (obj == 0.0 and str(obj)[0] == "-") else {"$f": repr(obj)}
    if t is list:
        return [_enc(x) for x in obj]
    if t is tuple or _RECORD_TYPES.get(t.__name__) is t:  # a typed record (records.py) is written as its tuple
        return {"$t": [_enc(x) for x in obj]}
    if t is dict:
        return {"$m": [[_enc(k), _enc(v)] for k, v in obj.items()]}
    if t is bytes or t is bytearray or t is memoryview:
        return {"$b": base64.b64encode(bytes(obj)).decode("ascii")}
    if dataclasses.is_dataclass(obj) and t.__name__ in _item_types():
        return {"$i": t.__name__, "f": {f.name: _enc(getattr(obj, f.name)) for f in dataclasses.fields(obj)}}
    raise Unspoolable(f"{t.__name__} cannot be spooled")


def _dec(obj: Any) -> Any:
    if type(obj) is list:
        return [_dec(x) for x in obj]
    if type(obj) is not dict:
        return obj
    if "$t" in obj:
        return tuple(_dec(x) for x in obj["$t"])
    if "$m" in obj:
        return {_dec(k): _dec(v) for k, v in obj["$m"]}
    if "$f" in obj:
        return float(obj["$f"])
    if "$b" in obj:
        return base64.b64decode(obj["$b"])
    if "$i" in obj:
        cls = _item_types()[obj["$i"]]
        return cls(**{k: _dec(v) for k, v in obj["f"].items()})
    raise ValueError(f"not a spooled value: {sorted(obj)[:3]}")


def encode(pos: int, record: Record) -> bytes:
    """One spool line for record at position pos in its stream."""
    return json.dumps([pos, _enc(record)], ensure_ascii=True, allow_nan=False).encode("ascii") + b"\n"


def decode(line: bytes) -> tuple[int, Record]:
    pos, rec = json.loads(line)
    return int(pos), _dec(rec)


# ---------------------------------------------------------------- files


def _make_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


class Spool:
    """The spool file of one writer stream. Only its owner appends; it holds the file's lock while it lives."""

    def __init__(self, target: StoreURL, stream: str, path: Path | None = None):
        self.target = target
        self.stream = stream
        self.path = path or store_dir(target) / f"{stream}{SUFFIX}"
        self.count = 0  # records in the file not yet known to be sent
        self.size = 0
        self.limit = max_bytes()
        self._fd: int | None = None

    def _open(self) -> int:
        if self._fd is None:
            _make_dir(self.path.parent)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_size == 0:
                os.write(fd, json.dumps({"tracktui_spool": 1, "store": self.target.redacted,
                                         "stream": self.stream}).encode() + b"\n")
            self._fd = fd
            self.size = os.fstat(fd).st_size
        return self._fd

    def append(self, items: list[tuple[int, Record]]) -> int:
        """Write records (pos, record) in order; return how many were written (fewer when full or a record
        cannot be spooled: that one and the rest stay with the caller)."""
        lines = []
        size = self.size
        for pos, rec in items:
            try:
                line = encode(pos, rec)
            except (Unspoolable, ValueError, TypeError):
                break
            if size + len(line) > self.limit:
                break
            lines.append(line)
            size += len(line)
        if lines:
            fd = self._open()
            data = b"".join(lines)
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
            self.size = size
            self.count += len(lines)
        return len(lines)

    def read(self) -> Iterator[tuple[int, Record]]:
        """The spooled records, oldest first."""
        if not self.path.exists():
            return
        yield from read_file(self.path)

    def clear(self) -> None:
        """Everything was sent: remove the file."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        self.close()
        self.count = 0
        self.size = 0

    def close(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None


def read_header(path: Path) -> dict[str, Any]:
    with open(path, "rb") as f:
        head = json.loads(f.readline() or b"{}")
    return head if isinstance(head, dict) else {}


def read_file(path: Path) -> Iterator[tuple[int, Record]]:
    """The records of a spool file (a torn last line, from a crash mid-write, is skipped)."""
    with open(path, "rb") as f:
        f.readline()
        for line in f:
            if not line.endswith(b"\n"):
                break
            yield decode(line)


def lock(path: Path) -> int | None:
    """An exclusive lock on a spool file not held by a live writer (None when someone holds it)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def pending(target: StoreURL) -> list[Path]:
    """Spool files waiting for this store, oldest first."""
    d = store_dir(target)
    if not d.is_dir():
        return []
    files = [p for p in d.iterdir() if p.name.endswith(SUFFIX)]
    return sorted(files, key=lambda p: p.stat().st_mtime)
