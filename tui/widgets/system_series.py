"""Data side of the system panel: capped time series per key, GPU discovery, ticks and units (no Textual)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

MAX_POINTS = 1200  # per key kept in memory; beyond it the oldest half is thinned (every other point)
FIRST_READ_POINTS = 600  # a first read of a long run: downsampled to this many points a key

_GPU_KEY = re.compile(r"^gpu\.(\d+)\.")
_GPU_PROC_KEY = re.compile(r"^gpu\.process\.(\d+)\.")
_DISK_PATH_KEY = re.compile(r"^disk\.(.+)\.(usagePercent|usageGB)$")

Points = list[tuple[float, float | None]]


def gpu_indices(keys: Iterable[str]) -> list[int]:
    """The GPU indices that have at least one metric (gpu.{i}.* or gpu.process.{i}.*), sorted."""
    found: set[int] = set()
    for k in keys:
        m = _GPU_PROC_KEY.match(k) or _GPU_KEY.match(k)
        if m:
            found.add(int(m.group(1)))
    return sorted(found)


def disk_paths(keys: Iterable[str]) -> list[str]:
    """The disk paths whose usage was sampled (disk.{path}.usagePercent / usageGB), in first-seen order."""
    out: list[str] = []
    for k in keys:
        m = _DISK_PATH_KEY.match(k)
        if m and m.group(1) not in out:
            out.append(m.group(1))
    return out


def thin(points: Sequence[tuple[float, float | None]], n: int) -> Points:
    """About n points at most: per bucket the first, min and max samples (spikes survive), and the last."""
    if len(points) <= n:
        return list(points)
    per = max(1, math.ceil(len(points) * 3 / n))
    out: Points = []
    for i in range(0, len(points), per):
        chunk = points[i:i + per]
        finite = [p for p in chunk if p[1] is not None and math.isfinite(p[1])]
        keep = {0}
        if finite:
            lo = min(finite, key=lambda p: p[1])  # type: ignore[arg-type, return-value]
            hi = max(finite, key=lambda p: p[1])  # type: ignore[arg-type, return-value]
            keep |= {chunk.index(lo), chunk.index(hi)}
        out.extend(chunk[j] for j in sorted(keep))
    if out[-1] is not points[-1]:  # the newest sample is the gauges' value and the next read's cursor
        out.append(points[-1])
    return out


class SeriesStore:
    """Time series per key with the last timestamp read (the cursor of the next incremental read)."""

    def __init__(self, cap: int = MAX_POINTS):
        self.cap = cap
        self.points: dict[str, Points] = {}
        self.last_ts: dict[str, float] = {}

    def add(self, key: str, pts: Sequence[tuple[float, float | None]]) -> bool:
        """Append points newer than what is held; True when something was added."""
        last = self.last_ts.get(key, -math.inf)
        new = [(float(t), v) for t, v in pts if t > last]
        if not new:
            return False
        cur = self.points.setdefault(key, [])
        cur.extend(new)
        self.last_ts[key] = new[-1][0]
        while len(cur) > self.cap:  # keep every other point of the oldest half: bounded memory, shape kept
            half = len(cur) // 2
            cur[:half] = cur[:half:2]
        return True

    def latest(self, key: str) -> float | None:
        """The newest finite value of key, or None (absent, or the last sample was NaN/missing)."""
        pts = self.points.get(key)
        if not pts:
            return None
        v = pts[-1][1]
        return v if v is not None and math.isfinite(v) else None

    def has(self, key: str) -> bool:
        """Whether key has any sample."""
        return bool(self.points.get(key))

    def cursors(self, keys: Iterable[str]) -> dict[float, list[str]]:
        """Keys grouped by their read cursor (one Reader.system call per group; usually a single group)."""
        groups: dict[float, list[str]] = {}
        for k in keys:
            groups.setdefault(self.last_ts.get(k, 0.0), []).append(k)
        return groups


def read_samples(reader: Any, run_id: str, cursors: dict[str, float],
                 host: str | None = None) -> tuple[list[str], dict[str, Points]]:
    """The run's system keys and, per key, the samples after its cursor (one query per distinct cursor);
    a key read for the first time is downsampled to FIRST_READ_POINTS, a long gap to MAX_POINTS.
    host: one node of a multi-node run (None: the run's own host)."""
    keys: list[str] = reader.keys(run_id, stream="system", host=host)
    groups: dict[float, list[str]] = {}
    for k in keys:
        groups.setdefault(cursors.get(k, 0.0), []).append(k)
    points: dict[str, Points] = {}
    for since, group in groups.items():
        for key, pts in reader.system(run_id, group, since_ts=since, host=host).items():
            if pts:
                points[key] = thin(pts, MAX_POINTS if key in cursors else FIRST_READ_POINTS)
    return keys, points


def rate(points: Sequence[tuple[float, float | None]]) -> float | None:
    """Per-second rate of a cumulative counter from its last two finite samples."""
    finite = [(t, v) for t, v in points[-4:] if v is not None and math.isfinite(v)]
    if len(finite) < 2:
        return None
    (t0, v0), (t1, v1) = finite[-2], finite[-1]
    return (v1 - v0) / (t1 - t0) if t1 > t0 else None


def human_bytes(n: float | None) -> str:
    """1536 -> '1.5 KiB'; None -> 'N/A'."""
    if n is None or not math.isfinite(n):
        return "N/A"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1000 or unit == "TiB":  # 1000, not 1024: "1020.0 KiB" does not fit a gauge
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def time_label(s: float, step: float) -> str:
    """A relative time tick: 45s, 12m, 1h30 (the precision follows the tick step)."""
    s = round(s)
    if step < 60 and s < 3600:
        return f"{s // 60}:{s % 60:02d}" if s >= 60 else f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    h, m = divmod(s // 60, 60)
    if h >= 48 and step >= 86400:
        return f"{h // 24}d"
    return f"{h}h{m:02d}" if m else f"{h}h"


def time_ticks(lo: float, hi: float, n: int = 4) -> tuple[list[float], list[str]]:
    """About n ticks over seconds lo..hi at a round step, with their labels."""
    span = max(hi - lo, 1.0)
    step = next((s for s in _STEPS if span / s <= n), 86400 * math.ceil(span / (n * 86400)))
    first = math.ceil(lo / step) * step
    ticks = []
    t = first
    while t <= hi + 1e-9:
        ticks.append(float(t))
        t += step
    return ticks, [time_label(t, step) for t in ticks]


def gpu_fact(metadata: dict[str, Any], index: int) -> dict[str, Any]:
    """The static facts of GPU index from run.metadata['gpus'] (the capture's NVML facts), or {}."""
    gpus = metadata.get("gpus") if isinstance(metadata, dict) else None
    if isinstance(gpus, list) and 0 <= index < len(gpus) and isinstance(gpus[index], dict):
        return gpus[index]
    return {}
