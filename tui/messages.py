"""Messages that thread workers post to the main thread: small dataclasses, past-tense names."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from textual.message import Message
from tracktui.store import RunRecord


@dataclass
class RunsPolled(Message):
    """Runs changed since the last poll (all of them on the first), and the new cursor."""

    runs: list[RunRecord]
    cursor: int
    first: bool = False
    partial: bool = False  # the newest runs only, painted while the rest loads
    painted: threading.Event | None = None  # set once a partial page is on screen
    error: str | None = None  # the read failed (the store is locked, missing, corrupt): try again later
    snapshot: str | None = None  # the store cannot be written here: read as a frozen snapshot (why)


@dataclass
class Series:
    """Points of one chart: x values, y values, and the (x, value) of NaN/Inf points."""

    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    special: list[tuple[float, float]] = field(default_factory=list)
    last_step: int = -1
    sampled: bool = False
    x_label: str = "step"


@dataclass
class MetricsPolled(Message):
    """New chart data of one run: keys in logged order, and per key either a replacement series
    (replace=True, a fresh downsampled read) or points to append."""

    run_id: str
    keys: list[str]
    series: dict[str, Series]
    replace: set[str]
    defs: list[dict[str, Any]]


@dataclass
class FilesPolled(Message):
    """The files attached to a run: (name, size, created_at), and its artifacts: ("logged" or "used",
    tracktui.store.artifacts.VersionRow)."""

    run_id: str
    files: list[tuple[str, int, float]]
    artifacts: list[tuple[str, Any]] = field(default_factory=list)
