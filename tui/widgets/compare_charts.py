"""CompareCharts: every metric (or system metric) of several runs overlaid, one colour per run, with the
chart controls and grouping (mean line with a min-max band per group)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static
from tracktui.store import Reader
from tracktui.store.codec import metric_def

from ..messages import Series
from .charts_panel import chart_id, section_grid
from .controlled_chart import CONTROL_BINDINGS, ESCAPE_BINDING, ChartControls, ControlledChart, filter_box, status_line
from .run_charts import read_basis

if TYPE_CHECKING:
    from ..app import TrackTuiApp

BUCKETS = 200  # points per series: about two per column of a wide chart


@dataclass
class CompareRead(Message):
    """Series of every run: key -> run id -> series; default x bases: key -> run id -> basis."""

    series: dict[str, dict[str, Series]]
    default_bases: dict[str, dict[str, tuple[list[float], list[float]]]]
    step_metrics: dict[str, str]
    t0: dict[str, float]


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
    """Every metric of every run, downsampled by the store (history) or here (system samples)."""
    out: dict[str, dict[str, Series]] = {}
    bases: dict[str, dict[str, tuple[list[float], list[float]]]] = {}
    step_metrics: dict[str, str] = {}
    t0: dict[str, float] = {}
    for rid in run_ids:
        rec = r.run(rid)
        if rec is None:
            continue
        t0[rid] = rec.created_at
        if system:
            for key, pts in r.system(rid).items():
                good = [(ts - rec.created_at, v) for ts, v in pts if isinstance(v, (int, float))]
                xs = [p[0] for p in good if math.isfinite(p[1])]
                ys = [float(p[1]) for p in good if math.isfinite(p[1])]
                xs, ys = bucket_mean(xs, ys, buckets)
                special = [(x, float(v)) for x, v in good if not math.isfinite(v)]
                out.setdefault(key, {})[rid] = Series(xs, ys, special, x_label="time")
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
    return CompareRead(out, bases, step_metrics, t0)


class CompareCharts(ChartControls, VerticalScroll):
    """Metrics of several runs overlaid (system=True: their system metrics against time)."""

    app: TrackTuiApp

    BINDINGS = [*CONTROL_BINDINGS, ESCAPE_BINDING]

    DEFAULT_CSS = """
    CompareCharts { height: 1fr; }
    CompareCharts .section { height: 1; color: $text-muted; text-style: bold; }
    CompareCharts Grid { height: auto; grid-size: 2; grid-gutter: 0 1; grid-rows: 14; }
    CompareCharts ControlledChart { height: 14; }
    CompareCharts #chart-status { dock: bottom; height: 1; background: $panel; }
    CompareCharts #metric-filter { dock: bottom; }
    CompareCharts #compare-empty { padding: 1 2; }
    """

    can_focus = True

    def __init__(self, run_ids: list[str], labels: dict[str, str], colors: dict[str, str], system: bool = False,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.init_controls()
        self.run_ids = run_ids
        self.labels = labels
        self.run_colors = colors
        self.system = system
        self.charts: dict[str, ControlledChart] = {}
        self.groups: list[tuple[str, str, list[str]]] = []
        self.loaded = False
        self.bases_loaded = 0
        if system:
            self.opts.x_mode = "relative"

    def compose(self) -> Any:
        yield Static(Text("reading…", style="dim"), id="compare-empty")
        yield status_line()
        yield filter_box()

    def on_mount(self) -> None:
        self.reload()
        self.update_readout()

    def on_resize(self) -> None:
        self.apply_visibility()

    def control_charts(self) -> list[ControlledChart]:
        """Every chart."""
        return list(self.charts.values())

    def reload(self) -> None:
        """Read every run's series again (unless live updates are paused: then on resume)."""
        if self.app.paused:
            self.app.waiting_polls.add(self.reload)
            return
        self._read(list(self.run_ids), self.system)

    @work(thread=True, exclusive=True, group="compare-read", exit_on_error=False)
    def _read(self, run_ids: list[str], system: bool) -> None:
        with Reader(self.app.store_root) as r:
            msg = read_compare(r, run_ids, system)
        self.post_message(msg)

    def on_compare_read(self, message: CompareRead) -> None:
        """Build or update one chart per metric, one series per run."""
        message.stop()
        if not self.is_attached:
            return
        self.opts.t0.update(message.t0)
        for key, per_run in message.series.items():
            chart = self.charts.get(key) or self._add_chart(key)
            chart.series = {rid: per_run[rid] for rid in self.run_ids if rid in per_run}
            chart.labels = {rid: self.labels.get(rid, rid) for rid in chart.series}
            chart.run_colors = {rid: self.run_colors[rid] for rid in chart.series}
            chart.run_of = {rid: rid for rid in chart.series}
            chart.default_bases = message.default_bases.get(key, {})
            chart.x_label = message.step_metrics.get(key, "time" if self.system else "step")
            chart.groups = self.groups
            chart.invalidate()
        empty = self.query_one("#compare-empty", Static)
        empty.update(Text("no metrics logged" if not self.system else "no system metrics recorded", style="dim"))
        empty.display = not self.charts
        self.loaded = True
        self.apply_visibility()
        if self.app.poll_interval and any(self.running()):
            self.set_timer(max(2.0, self.app.poll_interval * 2), self.reload)

    def running(self) -> list[str]:
        """Runs still running (the screen re-reads while any is)."""
        states = getattr(self.screen, "states", {})
        return [rid for rid in self.run_ids if states.get(rid) == "running"]

    def _add_chart(self, key: str) -> ControlledChart:
        grid, _ = section_grid(self, key, before="#chart-status")
        chart = ControlledChart(key, self.opts, id=chart_id(key))
        chart.time_axis = self.system
        grid.mount(chart)
        self.charts[key] = chart
        return chart

    def set_groups(self, groups: list[tuple[str, str, list[str]]]) -> None:
        """Draw groups (label, colour, run ids) as a mean line with a min-max band; [] draws every run."""
        self.groups = groups
        for c in self.charts.values():
            c.groups = groups
        self._redraw()

    def x_changed(self, old: str) -> bool:
        """Time and metric x-axes need each run's basis (read once, downsampled)."""
        mode = self.opts.x_mode
        if self.system or mode in ("default", "step"):
            return False
        self._load_bases(mode, list(self.run_ids))
        return True

    def action_x_axis(self) -> None:
        """Cycle the x-axis (system charts: relative or wall time)."""
        if self.system:
            self.set_x_mode("wall" if self.opts.x_mode == "relative" else "relative")
        else:
            super().action_x_axis()

    @work(thread=True, exclusive=True, group="compare-basis", exit_on_error=False)
    def _load_bases(self, mode: str, run_ids: list[str]) -> None:
        with Reader(self.app.store_root) as r:
            got = {rid: read_basis(r, rid, mode, buckets=2 * BUCKETS) for rid in run_ids}
        self.app.call_from_thread(self._bases_loaded, mode, got)

    def _bases_loaded(self, mode: str, got: dict[str, tuple[list[float], list[float]] | None]) -> None:
        if mode != self.opts.x_mode:
            return
        for rid, b in got.items():
            if b is not None:
                self.opts.bases[rid] = b
        self.bases_loaded += 1
        self._redraw()
