"""Messages that thread workers post to the main thread: small dataclasses, past-tense names."""

from __future__ import annotations

import threading
from collections.abc import Callable
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


@dataclass
class ChartFullScreenRequested(Message):
    """A chart panel asks for one of its charts on the whole screen (enter); the screen decides how: a
    screen of its own, or the chart filling its panel (grid.show_full(key))."""

    grid: Any  # the ChartGrid that asks
    key: str  # the chart's key
    run_id: str | None = None  # the run whose metric it is (None: not one stored metric, e.g. the custom chart)


@dataclass
class PickRequested(Message):
    """A widget asks the user to pick one value (many=False) or several (many=True); the screen shows the
    picker and calls done with the value, the list, or None when the user cancelled."""

    title: str
    values: list[str]
    done: Callable[[Any], None]
    labels: list[str] | None = None
    chosen: list[str] = field(default_factory=list)
    many: bool = False
    hint: str | None = None  # the line under a many-pick's list (None: the picker's own)


@dataclass
class ImageFullScreenRequested(Message):
    """A widget asks for one image on the whole screen, its masks and boxes drawn with the overlay view it
    shares; the screen shows it and calls on_change whenever the overlay keys there change the view."""

    title: str
    image: Any  # the decoded picture (PIL)
    overlay: Any  # its tracktui.tui.widgets.media_overlay.Overlay, or None
    view: Any  # the OverlayView, shared: a switch there shows in the widget too
    on_change: Callable[[], None] | None = None


@dataclass
class CompareRead(Message):
    """Series of every run: key -> run id -> series; default x bases: key -> run id -> basis."""

    series: dict[str, dict[str, Series]]
    default_bases: dict[str, dict[str, tuple[list[float], list[float]]]]
    step_metrics: dict[str, str]
    t0: dict[str, float]
