"""What the charts read from the store (no widgets here): a run's metric series, downsampled or only what
is new, x-axis bases, the custom chart's metrics, and every run's series for the comparison.

These run in worker threads, each with its own Reader; the widgets get the results as messages.
"""

from __future__ import annotations

import math
from typing import Any

from tracktui.store import Reader
from tracktui.store.codec import metric_def

from .messages import CompareRead, MetricsPolled, Series

MAX_POINTS = 4000  # points of one series read at once (a chart keeps about this many)
RAW_LIMIT = 20_000  # a step-metric chart reads raw points up to this many, then falls back to steps


def _split(points: list[tuple[Any, Any]]) -> tuple[list[float], list[float], list[tuple[float, float]]]:
    xs, ys, special = [], [], []
    for x, v in points:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or isinstance(x, bool):
            continue
        if not isinstance(x, (int, float)) or not math.isfinite(x):
            continue
        if math.isfinite(v):
            xs.append(float(x))
            ys.append(float(v))
        else:
            special.append((float(x), float(v)))
    return xs, ys, special


def read_series(r: Reader, run_id: str, key: str, step_metric: str | None, buckets: int,
                since_step: int | None) -> tuple[Series, bool] | None:
    """A key's series: a fresh downsampled one when since_step is None, else the points after it."""
    if step_metric:
        rng = r.step_range(run_id, key)
        if rng is not None and (since_step is not None or rng[1] - rng[0] < RAW_LIMIT):
            hist = r.history(run_id, [key, step_metric], since_step=-1 if since_step is None else since_step)
            xmap = dict(hist.get(step_metric, []))
            pts = hist.get(key, [])
            last = pts[-1][0] if pts else (since_step if since_step is not None else -1)
            xs, ys, special = _split([(xmap.get(s), v) for s, v in pts])
            return Series(xs, ys, special, last_step=last), since_step is None
    if since_step is None:
        s = r.sampled(run_id, key, buckets=buckets)
        xs = [float((a + b) // 2) for a, b in zip(s.first_step, s.last_step, strict=True)]
        last = s.last_step[-1] if s.last_step else -1
        special = [(float(st), float(v)) for st, v in s.special]
        if special:
            last = max(last, int(max(st for st, _ in s.special)))
        return Series(xs, list(s.mean), special, last_step=last, sampled=True), True
    pts = r.history(run_id, [key], since_step=since_step, limit=MAX_POINTS).get(key, [])
    if not pts:
        return None
    xs, ys, special = _split([(float(st), v) for st, v in pts])
    return Series(xs, ys, special, last_step=pts[-1][0]), False


def read_basis(r: Reader, run_id: str, mode: str, buckets: int = 512) -> tuple[list[float], list[float]] | None:
    """A run's step -> x basis for an x mode: sampled step times, or a metric's downsampled values."""
    if mode in ("wall", "relative"):
        steps, times = r.step_times_sampled(run_id, points=buckets)
        return [float(s) for s in steps], times
    if mode.startswith("metric:"):
        s = r.sampled(run_id, mode[len("metric:"):], buckets=buckets)
        return [float(a + b) / 2 for a, b in zip(s.first_step, s.last_step, strict=True)], list(s.mean)
    return None


def read_metrics(r: Reader, run_id: str, known: dict[str, tuple[int | None, str | None]], x_mode: str,
                 buckets: int, only: str | None) -> MetricsPolled:
    """What is new for a run's charts: fresh series for new keys (or keys whose x changed), new points for
    the others. x_mode "auto" reads each metric against its define_metric step metric, "step" by step."""
    rec = r.run(run_id)
    defs = rec.metric_defs if rec else []
    keys = [k for k in r.keys(run_id) if only is None or k == only]
    series: dict[str, Series] = {}
    replace: set[str] = set()
    for key in keys:
        d = metric_def(defs, key)
        if d and d.get("hidden"):
            continue
        sm = d.get("step_metric") if (d and x_mode == "auto") else None
        sm = sm if sm and sm != key else None
        last, old_sm = known.get(key, (None, None))
        since = last if (key in known and old_sm == sm) else None
        got = read_series(r, run_id, key, sm, buckets, since)
        if got is None:
            continue
        s, fresh = got
        s.x_label = sm or "step"
        series[key] = s
        if fresh:
            replace.add(key)
    return MetricsPolled(run_id, keys, series, replace, defs)


def read_custom(r: Reader, run_id: str, known: dict[str, int | None], buckets: int) -> dict[str, tuple[Series, bool]]:
    """The custom chart's metrics, by step: a fresh downsampled series for a metric read the first time
    (known None), else its points after the known step."""
    got: dict[str, tuple[Series, bool]] = {}
    for key, since in known.items():
        s = read_series(r, run_id, key, None, buckets, since)
        if s is not None:
            got[key] = s
    return got


BUCKETS = 200  # points per series: about two per column of a wide chart


def bucket_mean(xs: list[float], ys: list[float], buckets: int) -> tuple[list[float], list[float]]:
    """Time series downsampled by mean per bucket of equal count (system samples are not rolled up)."""
    if len(xs) <= buckets:
        return xs, ys
    w = -(-len(xs) // buckets)
    ox, oy = [], []
    for i in range(0, len(xs), w):
        cx, cy = xs[i:i + w], ys[i:i + w]
        ox.append(sum(cx) / len(cx))
        oy.append(sum(cy) / len(cy))
    return ox, oy


def read_compare(r: Reader, run_ids: list[str], system: bool, buckets: int = BUCKETS) -> CompareRead:
    """Every metric of every run, downsampled by the store (history) or here (system samples). System
    samples: each run's own host under the plain keys (overlaid), and each further node of a multi-node run in
    a block of its own (node_key), where every run that sampled that host shows."""
    out: dict[str, dict[str, Series]] = {}
    bases: dict[str, dict[str, tuple[list[float], list[float]]]] = {}
    step_metrics: dict[str, str] = {}
    t0: dict[str, float] = {}
    nodes: dict[str, dict[str, Series]] = {}  # system: the further nodes of multi-node runs, after the own hosts
    for rid in run_ids:
        rec = r.run(rid)
        if rec is None:
            continue
        t0[rid] = rec.created_at
        if system:
            hosts = r.system_hosts(rid)
            for i, host in enumerate(hosts or [None]):
                for key, pts in r.system(rid, host=host if i else None).items():
                    good = [(ts - rec.created_at, v) for ts, v in pts if isinstance(v, (int, float))]
                    xs = [p[0] for p in good if math.isfinite(p[1])]
                    ys = [float(p[1]) for p in good if math.isfinite(p[1])]
                    xs, ys = bucket_mean(xs, ys, buckets)
                    special = [(x, float(v)) for x, v in good if not math.isfinite(v)]
                    into = (nodes, node_key(host, key)) if i else (out, key)
                    into[0].setdefault(into[1], {})[rid] = Series(xs, ys, special, x_label="time")
            continue
        cache: dict[str, tuple[list[float], list[float]] | None] = {}
        for key in r.keys(rid):
            d = metric_def(rec.metric_defs, key)
            if d and d.get("hidden"):
                continue
            s = r.sampled(rid, key, buckets=buckets)
            xs = [float(a + b) / 2 for a, b in zip(s.first_step, s.last_step, strict=True)]
            out.setdefault(key, {})[rid] = Series(xs, list(s.mean), [(float(a), float(v)) for a, v in s.special],
                                                  last_step=s.last_step[-1] if s.last_step else -1, sampled=True)
            sm = d.get("step_metric") if d else None
            if sm and sm != key:
                if sm not in cache:
                    cache[sm] = read_basis(r, rid, "metric:" + sm, buckets=512)
                if cache[sm]:
                    bases.setdefault(key, {})[rid] = cache[sm]  # type: ignore[assignment]
                    step_metrics[key] = sm
    out.update(sorted(nodes.items()))
    return CompareRead(out, bases, step_metrics, t0)


def node_key(host: str | None, key: str) -> str:
    """The compare System tab's key of a system metric of a further node of a multi-node run (a cluster job):
    each run's own host keeps the plain keys, each further node is a section of its own (ChartGrid's
    sections are the prefix before the first '/'; a host name holds no '/')."""
    return f"node {host}/{key}"


