"""SystemPanel: a run's system metrics (CPU, memory, disk, network, and each GPU) as small live charts.

The panel owns its poll: a thread worker opens its own Reader, reads only the samples newer than the last
one held per key (Reader.system with since_ts), downsamples a first read of a long run, and posts
SystemPolled; the handler (main thread) merges the points, adds GPU blocks as GPUs appear, refreshes the
cells and schedules the next poll. Keys are the capture's (sdk/capture/system.py and gpu.py, wandb's names);
static GPU facts come from run.metadata["gpus"].
"""

from __future__ import annotations

import math
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Static
from tracktui.store import Reader, StoreError
from tracktui.store.location import resolve_store

from ..text import safe_text
from .system_cells import CellSpec, GaugeSpec, GpuBlock, Line, SystemCell, rich_color
from .system_series import (
    MAX_POINTS,
    SeriesStore,
    disk_paths,
    gpu_fact,
    gpu_indices,
    human_bytes,
    rate,
    read_samples,
)

DEFAULT_INTERVAL = 2.0  # seconds: the capture samples every 2 s by default
WIDE = 150  # columns from which the host cells go left and the GPUs right (SCREENS.md, System (2))
GPU_BLOCK_WIDTH = 90  # columns a GPU block wants for its 2x2 grid of cells
MB = 1024 * 1024
MAX_DISKS = 3  # disk paths with a usage gauge (the capture samples "/" unless told otherwise)
IDLE_FACTOR = 5  # an ended run is polled this many times less often once it brings nothing new

# Colours (plotext names, which Rich understands too): the same meaning on every cell.
PROCESS, MACHINE, THIS_RUN = (80, 190, 230), (245, 150, 40), (235, 70, 210)
OTHER, HEAT, POWER, GREY = (140, 200, 60), (235, 85, 80), (230, 200, 50), (128, 128, 128)


@dataclass
class SystemPolled(Message):
    """New system samples of one run: per key the points (ts, value) after the panel's cursor."""

    run_id: str
    keys: list[str]
    points: dict[str, list[tuple[float, float | None]]]
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: float | None = None
    error: str | None = None
    running: bool = True
    hosts: list[str] = field(default_factory=list)  # nodes of a multi-node run (read by the top panel only)


def _pct(key: str) -> Any:
    """A gauge reader for a 0..100 percentage key."""

    def read(store: SeriesStore) -> tuple[float | None, str | None]:
        v = store.latest(key)
        return (None, None) if v is None else (v / 100.0, f"{v:.1f} %")

    return read


class SystemPanel(VerticalScroll):
    """System and GPU metrics of one run, live: small charts over relative time plus current gauges."""

    BINDINGS = [  # g/G as in the log view; arrows, page keys, home and end scroll as everywhere
        Binding("g", "scroll_home", "Top"),
        Binding("G", "scroll_end", "Bottom"),
    ]

    DEFAULT_CSS = """
    SystemPanel { height: 1fr; }
    SystemPanel #sys-status { height: 1; color: $text-muted; padding: 0 1; }
    SystemPanel #sys-empty { padding: 1 2; }
    SystemPanel #sys-body { height: auto; layout: vertical; }
    SystemPanel.-wide #sys-body { layout: horizontal; }
    SystemPanel #sys-host { height: auto; width: 1fr; grid-size: 2; grid-gutter: 0 0; }
    SystemPanel #sys-gpus { height: auto; width: 1fr; grid-size: 1; grid-gutter: 0 0; }
    SystemPanel.-wide #sys-host { grid-size: 1; }
    SystemPanel.-wide #sys-gpus { width: 2fr; }
    SystemPanel.-node { height: auto; overflow-y: hidden; border-top: solid $panel-lighten-2; }
    SystemPanel #sys-nodes { height: auto; }
    """

    def __init__(self, store_dir: str | os.PathLike[str] | Path | None, run_id: str,
                 interval: float | None = DEFAULT_INTERVAL, host: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.store_root = resolve_store(store_dir)
        self.run_id = run_id
        self.host = host  # None: the run's own host; else one more node of a multi-node run (a nested panel)
        self.hosts: list[str] = []
        self.interval = interval
        self.store = SeriesStore(MAX_POINTS)
        self.keys: list[str] = []
        self.metadata: dict[str, Any] = {}
        self.t0: float | None = None
        self.cells: dict[str, SystemCell] = {}
        self.gpu_blocks: dict[int, GpuBlock] = {}
        self.disks: list[str] = []
        self.polls = 0
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="sys-status")
        yield Static(Text("No system metrics recorded for this run yet (capture off, or not sampled yet).",
                          style="dim"), id="sys-empty")
        with Vertical(id="sys-body"):
            yield Grid(id="sys-host")
            yield Grid(id="sys-gpus")
        if self.host is None:
            yield Vertical(id="sys-nodes")

    def on_mount(self) -> None:
        self.query_one("#sys-body").display = False
        self.poll()

    # ------------------------------------------------------------ polling

    def poll(self) -> None:
        """One poll now, unless the app is paused (the handler schedules the next)."""
        app: Any = self.app
        if getattr(app, "paused", False) and isinstance(getattr(app, "waiting_polls", None), set):
            app.waiting_polls.add(self.poll)
            return
        self._read(self.run_id, dict(self.store.last_ts))

    @work(thread=True, exclusive=True, group="system-poll", exit_on_error=False)
    def _read(self, run_id: str, cursors: dict[str, float]) -> None:
        try:
            with Reader(self.store_root) as r:
                rec = r.run(run_id)
                keys, points = read_samples(r, run_id, cursors, self.host)
                hosts = r.system_hosts(run_id) if self.host is None else []
        except (sqlite3.Error, OSError, StoreError) as e:
            self.post_message(SystemPolled(run_id, [], {}, error=f"{type(e).__name__}: {e}"))
            return
        md = rec.metadata if rec is not None and isinstance(rec.metadata, dict) else {}
        if self.host is not None:
            md = {}  # the run's GPU facts are those of its own host
        running = rec is None or rec.state == "running"
        self.post_message(SystemPolled(run_id, keys, points, md, rec.created_at if rec else None,
                                       running=running, hosts=hosts))

    def on_system_polled(self, message: SystemPolled) -> None:
        """Merge new samples, build what is new, refresh what changed, schedule the next poll."""
        message.stop()
        if not self.is_attached or message.run_id != self.run_id:
            return
        self.polls += 1
        self.error = message.error
        if message.error is None:
            self.keys = message.keys
            self.metadata = message.metadata
            if self.t0 is None:
                firsts = [pts[0][0] for pts in message.points.values() if pts]
                self.t0 = message.created_at if message.created_at is not None else min(firsts, default=None)
            changed = {k for k, pts in message.points.items() if self.store.add(k, pts)}
            self._build()
            self._add_nodes(message.hosts)
            for cell in self.cells.values():
                if changed & cell.spec.keys or self.polls == 1 or not cell.chart.drawn_points:
                    cell.update_data(self.t0 or 0.0)
            for i, block in self.gpu_blocks.items():
                block.set_title(self._gpu_facts(i))
        self._update_status()
        if self.interval:
            # a run that has ended and brought nothing new is polled less often (it may be resumed)
            idle = not message.running and not message.points
            self.set_timer(self.interval * (IDLE_FACTOR if idle else 1), self.poll)

    # ------------------------------------------------------------ layout

    def _build(self) -> None:
        """Mount the host cells once samples exist, a GPU block per GPU index seen, disks as they come."""
        has_samples = any(self.store.has(k) for k in self.keys)
        self.query_one("#sys-empty").display = not has_samples
        self.query_one("#sys-body").display = has_samples
        if not has_samples:
            return
        host = self.query_one("#sys-host", Grid)
        disks = disk_paths(self.keys)
        if not self.cells:
            self.disks = disks[:MAX_DISKS]
            for spec in (self._cpu(), self._memory(), self._disk(self.disks), self._network()):
                cell = SystemCell(spec, self.store, id=f"cell-{spec.name}")
                self.cells[spec.name] = cell
                host.mount(cell)
        else:
            cell = self.cells["disk"]
            for path in [p for p in disks if p not in self.disks][:MAX_DISKS - len(self.disks)]:
                cell.remove_gauge("disk-usage-none")
                cell.add_gauge(_disk_usage(len(self.disks), path), before="disk-in")
                self.disks.append(path)
        gpus = self.query_one("#sys-gpus", Grid)
        for i in gpu_indices(self.keys):
            if i in self.gpu_blocks:
                continue
            specs = self._gpu(i)
            cells = [SystemCell(s, self.store, id=f"cell-{s.name}") for s in specs]
            for c in cells:
                self.cells[c.spec.name] = c
            block = GpuBlock(i, cells, id=f"gpu-{i}")
            self.gpu_blocks[i] = block
            gpus.mount(block)
        gpus.display = bool(self.gpu_blocks)
        self._layout()

    def _add_nodes(self, hosts: list[str]) -> None:
        """A multi-node run (a cluster job): one nested panel per node beyond the run's own host, below it."""
        if self.host is not None or len(hosts) <= 1:
            return
        new = [h for h in hosts[1:] if h not in self.hosts[1:]]
        self.hosts = list(hosts)
        if new:
            self.query_one("#sys-nodes", Vertical).mount_all(
                SystemPanel(self.store_root, self.run_id, self.interval, host=h, classes="-node") for h in new)

    def on_resize(self) -> None:
        self._layout()

    def _layout(self) -> None:
        """Wide: host cells left, GPUs right; otherwise stacked, host cells two a row when they fit."""
        w = self.size.width
        wide = bool(self.gpu_blocks) and w >= WIDE
        self.set_class(wide, "-wide")
        host = self.query_one("#sys-host", Grid)
        host.styles.grid_size_columns = 1 if wide or w < 76 else 2
        gpu_w = w * 2 // 3 if wide else w
        self.query_one("#sys-gpus", Grid).styles.grid_size_columns = max(1, gpu_w // GPU_BLOCK_WIDTH)

    def _update_status(self) -> None:
        """One line: samples held, the time of the last one, the GPUs (or why there are none)."""
        t = Text()
        if self.host is not None or len(self.hosts) > 1:
            t.append(f"node {safe_text(self.host or self.hosts[0], limit=60)}", style="bold")
            t.append(" · ")
        if self.error:
            t.append(f"store unreadable: {safe_text(self.error, limit=100)}", style="red")
        else:
            n = max((len(p) for p in self.store.points.values()), default=0)
            t.append(f"{n} samples held")
            last = max(self.store.last_ts.values(), default=None)
            if last is not None and self.t0 is not None:
                t.append(f" · last at +{_clock(last - self.t0)}")
            gpus = len(self.gpu_blocks)
            if gpus:
                t.append(f" · {gpus} GPU{'s' if gpus > 1 else ''}")
                t.append("  ◆ this run's GPU memory", style=f"bold {rich_color(THIS_RUN)}")
            elif n:
                note = self.metadata.get("gpu_note")
                t.append(" · no GPU metrics" + (f" ({safe_text(note, limit=60)})" if note else ""))
        self.query_one("#sys-status", Static).update(t)

    # ------------------------------------------------------------ what each cell shows

    def _cpu(self) -> CellSpec:
        def read_threads(store: SeriesStore) -> tuple[float | None, str | None]:
            v = store.latest("proc.cpu.threads")
            return (None, None) if v is None else (None, f"{v:.0f}")

        return CellSpec("cpu", "CPU %", [
            GaugeSpec("cpu-process", "process", PROCESS, _pct("cpu")),
            GaugeSpec("cpu-machine", "machine", MACHINE, _pct("cpu.percent")),
            GaugeSpec("cpu-threads", "threads", GREY, read_threads),
        ], [Line("cpu", PROCESS), Line("cpu.percent", MACHINE)], ylim=(0.0, 100.0),
            keys={"proc.cpu.threads"})

    def _memory(self) -> CellSpec:
        def read_rss(store: SeriesStore) -> tuple[float | None, str | None]:
            rss = store.latest("proc.memory.rssMB")
            pct = store.latest("proc.memory.percent")
            if rss is None:
                return (None if pct is None else pct / 100.0), (None if pct is None else f"{pct:.1f} %")
            return (None if pct is None else pct / 100.0), human_bytes(rss * MB)

        def read_avail(store: SeriesStore) -> tuple[float | None, str | None]:
            v = store.latest("proc.memory.availableMB")
            return (None, None) if v is None else (None, human_bytes(v * MB))

        return CellSpec("memory", "Memory % (process RSS, machine)", [
            GaugeSpec("mem-process", "process", PROCESS, read_rss),
            GaugeSpec("mem-machine", "machine", MACHINE, _pct("memory_percent")),
            GaugeSpec("mem-avail", "free", GREY, read_avail),
        ], [Line("proc.memory.percent", PROCESS), Line("memory_percent", MACHINE)], ylim=(0.0, 100.0),
            keys={"proc.memory.rssMB", "proc.memory.availableMB"})

    def _disk(self, paths: list[str]) -> CellSpec:
        def read_io(key: str) -> Any:
            def read(store: SeriesStore) -> tuple[float | None, str | None]:
                v = store.latest(key)
                if v is None:
                    return None, None
                r = rate(store.points.get(key, []))
                text = human_bytes(v * MB) + (f" {human_bytes(r * MB)}/s" if r is not None else "")
                return None, text

            return read

        gauges = [_disk_usage(i, p) for i, p in enumerate(paths)]
        if not paths:
            gauges.append(GaugeSpec("disk-usage-none", "usage", OTHER, lambda s: (None, None)))
        gauges += [GaugeSpec("disk-in", "read", PROCESS, read_io("disk.in")),
                   GaugeSpec("disk-out", "write", MACHINE, read_io("disk.out"))]
        return CellSpec("disk", "Disk I/O MiB since start", gauges,
                        [Line("disk.in", PROCESS), Line("disk.out", MACHINE)])

    def _network(self) -> CellSpec:
        def read(key: str) -> Any:
            def fn(store: SeriesStore) -> tuple[float | None, str | None]:
                v = store.latest(key)
                if v is None:
                    return None, None
                r = rate(store.points.get(key, []))
                peak = _peak_rate(store.points.get(key, []))
                frac = None if r is None or not peak else r / peak
                return frac, human_bytes(v) + (f" {human_bytes(r)}/s" if r is not None else "")

            return fn

        return CellSpec("network", "Network MiB since start (bar: rate / peak)", [
            GaugeSpec("net-sent", "sent", PROCESS, read("network.sent")),
            GaugeSpec("net-recv", "recv", MACHINE, read("network.recv")),
        ], [Line("network.sent", PROCESS, lambda: 1 / MB), Line("network.recv", MACHINE, lambda: 1 / MB)])

    def _gpu_total(self, i: int) -> float | None:
        """Total memory of GPU i in bytes: the metadata fact, else derived from used bytes and percent."""
        total = gpu_fact(self.metadata, i).get("memory_total")
        if isinstance(total, (int, float)) and not isinstance(total, bool) and total > 0:
            return float(total)
        used = self.store.latest(f"gpu.{i}.memoryAllocatedBytes")
        pct = self.store.latest(f"gpu.{i}.memoryAllocated")
        return used * 100.0 / pct if used and pct else None

    def _gpu_facts(self, i: int) -> str:
        fact = gpu_fact(self.metadata, i)
        parts = []
        if fact.get("name"):
            parts.append(safe_text(fact["name"], limit=40))
        total = self._gpu_total(i)
        if total:
            parts.append(human_bytes(total))
        return " · ".join(parts)

    def _gpu(self, i: int) -> list[CellSpec]:
        p = f"gpu.{i}."
        own = f"gpu.process.{i}.memoryAllocatedBytes"

        def read_mem(store: SeriesStore) -> tuple[float | None, str | None]:
            pct = store.latest(p + "memoryAllocated")
            used = store.latest(p + "memoryAllocatedBytes")
            if pct is None and used is None:
                return None, None
            text = human_bytes(used) if used is not None else f"{pct:.1f} %"
            return (None if pct is None else pct / 100.0), text

        def read_own(store: SeriesStore) -> tuple[float | None, str | None]:
            used = store.latest(own)
            if used is None:
                return None, None
            total = self._gpu_total(i)
            return (used / total if total else None), human_bytes(used)

        def read_temp(store: SeriesStore) -> tuple[float | None, str | None]:
            v = store.latest(p + "temp")
            return (None, None) if v is None else (v / 100.0, f"{v:.0f} °C")

        def read_power(store: SeriesStore) -> tuple[float | None, str | None]:
            w = store.latest(p + "powerWatts")
            if w is None:
                return None, None
            limit = store.latest(p + "enforcedPowerLimitWatts")
            pct = store.latest(p + "powerPercent")
            frac = pct / 100.0 if pct is not None else (w / limit if limit else None)
            return frac, f"{w:.0f} W" + (f" / {limit:.0f}" if limit else "")

        def own_scale() -> float | None:
            total = self._gpu_total(i)
            return 100.0 / total if total else None

        return [
            CellSpec(f"gpu{i}-util", "Utilisation %", [
                GaugeSpec(f"gpu{i}-util", "gpu", PROCESS, _pct(p + "gpu")),
                GaugeSpec(f"gpu{i}-memutil", "mem bus", OTHER, _pct(p + "memory")),
            ], [Line(p + "gpu", PROCESS), Line(p + "memory", OTHER)], ylim=(0.0, 100.0)),
            CellSpec(f"gpu{i}-mem", "Memory % (◆ this run)", [
                GaugeSpec(f"gpu{i}-mem", "device", MACHINE, read_mem),
                GaugeSpec(f"gpu{i}-own", "this run", THIS_RUN, read_own, highlight=True),
            ], [Line(p + "memoryAllocated", MACHINE), Line(own, THIS_RUN, own_scale)], ylim=(0.0, 100.0),
                keys={p + "memoryAllocatedBytes"}),
            CellSpec(f"gpu{i}-temp", "Temperature °C", [
                GaugeSpec(f"gpu{i}-temp", "temp", HEAT, read_temp),
            ], [Line(p + "temp", HEAT)]),
            CellSpec(f"gpu{i}-power", "Power W", [
                GaugeSpec(f"gpu{i}-power", "power", POWER, read_power),
            ], [Line(p + "powerWatts", POWER)], keys={p + "enforcedPowerLimitWatts", p + "powerPercent"}),
        ]


def _disk_usage(i: int, path: str) -> GaugeSpec:
    """The usage gauge of the i-th sampled disk path (percent as the bar, used GB as text)."""
    pct_key, gb_key = f"disk.{path}.usagePercent", f"disk.{path}.usageGB"

    def read(store: SeriesStore) -> tuple[float | None, str | None]:
        pct, gb = store.latest(pct_key), store.latest(gb_key)
        if pct is None and gb is None:
            return None, None
        text = f"{pct:.0f} %" if pct is not None else ""
        if gb is not None:
            text += f" {gb:.0f} GB"
        return (None if pct is None else pct / 100.0), text.strip()

    return GaugeSpec(f"disk-usage-{i}", safe_text(path, limit=8), OTHER, read, keys={pct_key, gb_key})


def _peak_rate(points: list[tuple[float, float | None]]) -> float | None:
    """The highest per-second rate between consecutive samples of a cumulative counter."""
    best = None
    prev = None
    for t, v in points:
        if v is None or not math.isfinite(v):
            continue
        if prev is not None and t > prev[0]:
            r = (v - prev[1]) / (t - prev[0])
            best = r if best is None or r > best else best
        prev = (t, v)
    return best if best and best > 0 else None


def _clock(seconds: float) -> str:
    """Seconds as h:mm:ss (or m:ss)."""
    s = max(0, int(seconds))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"
