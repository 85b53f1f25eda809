"""The records the SDK hands to the writer: one typed tuple per kind, named by its first field `op`.

Each is a NamedTuple (a tuple, so the writer's handlers unpack them and the queue stays cheap) whose `op`
is filled in by the constructor: `History(run_id, step, ts, items)` is the tuple
("history", run_id, step, ts, items, False). The writer dispatches on `op` (HANDLERS in writer.py). The
spool and the shared mode's segment files write them as the plain tuples they are (their on-disk format does
not change), so records read back from disk are plain tuples of the same shape, which every handler takes.
"""

from __future__ import annotations

import threading
from typing import Any, NamedTuple

# One point of a history record: (key, value, kind, text). value is the float (NaN kept as its kind), kind
# a codec kind (FINITE, NAN, POS_INF, NEG_INF, NEG_ZERO, TEXT, NONE, MEDIA...), text the string or the JSON
# of a media reference. Plain tuples: there is one per key of every log() call.
HistoryItem = tuple[str, "float | None", int, "str | None"]
# One sample of a system record: (key, value).
SystemItem = tuple[str, "float | None"]


class _RunFields(NamedTuple):
    op: str
    run_id: str
    fields: dict[str, Any]


class RunFields(_RunFields):
    """Columns of a run row to set (config, metadata, metric_defs, the end state...), later ones win."""

    __slots__ = ()

    def __new__(cls, run_id: str, fields: dict[str, Any]) -> RunFields:
        return tuple.__new__(cls, ("run", run_id, fields))


class _History(NamedTuple):
    op: str
    run_id: str
    step: int
    ts: float
    items: list[HistoryItem]
    rewrite: bool


class History(_History):
    """The values of one step. rewrite: the step is at or below one already logged (its rollup buckets are
    recomputed from history rather than folded)."""

    __slots__ = ()

    def __new__(cls, run_id: str, step: int, ts: float, items: list[HistoryItem], rewrite: bool = False) -> History:
        return tuple.__new__(cls, ("history", run_id, step, ts, items, rewrite))


class _System(NamedTuple):
    op: str
    run_id: str
    ts: float
    items: list[SystemItem]
    host: str


class System(_System):
    """System samples (CPU, memory, GPU...) taken at one time on the node named host ('': the run's own)."""

    __slots__ = ()

    def __new__(cls, run_id: str, ts: float, items: list[SystemItem], host: str = "") -> System:
        return tuple.__new__(cls, ("system", run_id, ts, items, host))


class _LogLine(NamedTuple):
    op: str
    run_id: str
    ts: float
    stream: str
    line: str


class LogLine(_LogLine):
    """One console line (stream: stdout, stderr, tracktui, or the alerts stream); numbered by the writer."""

    __slots__ = ()

    def __new__(cls, run_id: str, ts: float, stream: str, line: str) -> LogLine:
        return tuple.__new__(cls, ("log", run_id, ts, stream, line))


class _LogTrim(NamedTuple):
    op: str
    run_id: str
    marker: str
    keep: int


class LogTrim(_LogTrim):
    """Delete the stored lines between the marker line and the last `keep` lines (console capture's cap)."""

    __slots__ = ()

    def __new__(cls, run_id: str, marker: str, keep: int) -> LogTrim:
        return tuple.__new__(cls, ("log_trim", run_id, marker, keep))


class _FileRecord(NamedTuple):
    op: str
    run_id: str
    name: str
    data: bytes


class FileRecord(_FileRecord):
    """A file attached to a run (a later one of the same name replaces it)."""

    __slots__ = ()

    def __new__(cls, run_id: str, name: str, data: bytes) -> FileRecord:
        return tuple.__new__(cls, ("file", run_id, name, data))


class _Media(NamedTuple):
    op: str
    run_id: str
    key: str
    step: int
    items: list[Any]  # store.media.Item, one per object of a gallery


class Media(_Media):
    """Media objects logged under a key at a step (encoded to bytes on the writer thread)."""

    __slots__ = ()

    def __new__(cls, run_id: str, key: str, step: int, items: list[Any]) -> Media:
        return tuple.__new__(cls, ("media", run_id, key, step, items))


class _Sync(NamedTuple):
    op: str
    event: threading.Event


class Sync(_Sync):
    """A marker: its event is set once every record queued before it is committed (Writer.flush)."""

    __slots__ = ()

    def __new__(cls, event: threading.Event) -> Sync:
        return tuple.__new__(cls, ("sync", event))


Record = tuple[Any, ...]  # any of the above (or a plain tuple of the same shape)

# name -> type: what the spool writes as a plain tuple
TYPES: dict[str, type[tuple[Any, ...]]] = {
    t.__name__: t for t in (RunFields, History, System, LogLine, LogTrim, FileRecord, Media)
}
