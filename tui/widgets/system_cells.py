"""Building blocks of the system panel: a one-line gauge, a small time chart, a cell of both, a GPU block."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.align import Align
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.content import Content
from textual.widget import Widget
from textual_plotext import PlotextPlot

from ..text import safe_text
from .system_series import SeriesStore, thin, time_ticks

NA = "N/A"
Color = tuple[int, int, int]  # RGB: plotext and Rich draw it alike, whatever the terminal's palette


def rich_color(c: Color) -> str:
    """An RGB colour as Rich spells it."""
    return f"rgb({c[0]},{c[1]},{c[2]})"


@dataclass
class Line:
    """One series of a chart: a store key drawn in a colour, its values mapped by scale() (None: skip)."""

    key: str
    color: Color
    scale: Callable[[], float | None] = lambda: 1.0


@dataclass
class GaugeSpec:
    """One gauge: read() returns (fraction 0..1 or None, the value as text or None for N/A)."""

    name: str
    label: str
    color: Color
    read: Callable[[SeriesStore], tuple[float | None, str | None]]
    highlight: bool = False
    keys: set[str] = field(default_factory=set)  # store keys read() uses beyond the chart's lines


@dataclass
class CellSpec:
    """A cell: title, gauges, chart lines and the chart's fixed y-range (None: follow the data)."""

    name: str
    title: str
    gauges: list[GaugeSpec]
    lines: list[Line]
    ylim: tuple[float, float] | None = None
    keys: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.keys |= {ln.key for ln in self.lines}
        for g in self.gauges:
            self.keys |= g.keys


class Gauge(Widget):
    """label ▕████░░░░▏ value — the current value of one metric; 'N/A' when it was never sampled."""

    DEFAULT_CSS = """
    Gauge { height: 1; width: 1fr; }
    Gauge.-highlight { background: $accent 15%; }
    """

    def __init__(self, spec: GaugeSpec, **kwargs: Any):
        super().__init__(classes="-highlight" if spec.highlight else None, **kwargs)
        self.spec = spec
        self.fraction: float | None = None
        self.text = NA

    def set_value(self, fraction: float | None, text: str | None) -> None:
        """Show a new reading (None text: N/A)."""
        if fraction is not None and not math.isfinite(fraction):
            fraction = None
        fraction = None if fraction is None else min(1.0, max(0.0, fraction))
        new = NA if text is None else safe_text(text, limit=21)
        if (fraction, new) != (self.fraction, self.text):
            self.fraction, self.text = fraction, new
            self.refresh()

    def render(self) -> Table:
        """A grid of label, bar and value (Rich renderables: nothing here is parsed as markup)."""
        spec = self.spec
        color = rich_color(spec.color)
        grid = Table.grid(expand=True, padding=(0, 1))
        grid.add_column(width=10, no_wrap=True)
        grid.add_column(ratio=1)
        grid.add_column(width=21, justify="right", no_wrap=True)
        mark = "◆" if spec.highlight else "■"
        label = Text(mark + " ", style=color)
        label.append(safe_text(spec.label, limit=8), style="bold" if spec.highlight else "")
        if self.fraction is None:  # a dashed track for N/A; nothing for a value without a scale
            track = "╌" if self.text == NA else " "
            bar: Any = Text(track * 200, style="dim", no_wrap=True, overflow="crop")
        else:
            bar = ProgressBar(total=1.0, completed=self.fraction, complete_style=color,
                              finished_style=color, style="grey30")
        value = Text(self.text, style="dim" if self.text == NA else ("bold" if spec.highlight else ""))
        grid.add_row(label, bar, value)
        return grid


class SysChart(PlotextPlot):
    """A small live chart of one or more system series over relative time (seconds since the run began)."""

    DEFAULT_CSS = """
    SysChart { height: 7; width: 1fr; }
    """

    points_per_column = 1  # plotext joins points with lines: one a column looks the same and is fast

    def __init__(self, store: SeriesStore, lines: Sequence[Line], ylim: tuple[float, float] | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.store = store
        self.lines = list(lines)
        self.ylim = ylim
        self.t0 = 0.0
        self.drawn_points = 0

    def render(self) -> Any:
        """Draw every line that has samples; 'N/A' when none has."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.xlabel("")
        plt.ylabel("")
        lo_x, hi_x = math.inf, -math.inf
        lo_y, hi_y = math.inf, -math.inf
        drawn = 0
        budget = max(20, self.points_per_column * self.size.width)
        for line in self.lines:
            scale = line.scale()
            pts = self.store.points.get(line.key)
            if not pts or scale is None:
                continue
            if len(pts) > budget:
                pts = thin(pts, budget)
            xs, ys = [], []
            for t, v in pts:
                if v is None or not math.isfinite(v):
                    continue  # a missing reading is a gap in the samples, not a zero
                xs.append(t - self.t0)
                ys.append(v * scale)
            if not xs:
                continue
            drawn += len(xs)
            lo_x, hi_x = min(lo_x, xs[0]), max(hi_x, xs[-1])
            lo_y, hi_y = min(lo_y, min(ys)), max(hi_y, max(ys))
            plt.plot(xs, ys, marker="braille", color=line.color)
        self.drawn_points = drawn
        if not drawn:
            return Align.center(Text(NA, style="dim"), vertical="middle")
        lo_x = min(lo_x, 0.0)  # relative time from the run's start
        hi_x = max(hi_x, lo_x + 1.0)
        plt.xlim(lo_x, hi_x)
        ticks, labels = time_ticks(lo_x, hi_x, n=max(2, self.size.width // 12))
        plt.xticks(ticks, labels)
        if self.ylim is not None:
            top = max(self.ylim[1], hi_y)
            plt.ylim(self.ylim[0], top)
        elif hi_y - lo_y < 1e-9:
            plt.ylim(lo_y - 1.0, hi_y + 1.0)
        plt.yfrequency(3)
        return super().render()


class SystemCell(Vertical):
    """A bordered cell: its gauges above a small chart."""

    DEFAULT_CSS = """
    SystemCell { height: auto; border: round $panel-lighten-2; padding: 0 1 0 0; }
    """

    def __init__(self, spec: CellSpec, store: SeriesStore, **kwargs: Any):
        super().__init__(**kwargs)
        self.spec = spec
        self.store = store
        self.border_title = Content(safe_text(spec.title, limit=60))
        self.gauges = {g.name: Gauge(g, id=f"gauge-{g.name}") for g in spec.gauges}
        self.chart = SysChart(store, spec.lines, spec.ylim, id=f"sys-chart-{spec.name}")

    def compose(self) -> ComposeResult:
        yield from self.gauges.values()
        yield self.chart

    def add_gauge(self, spec: GaugeSpec, before: str | None = None) -> None:
        """Add a gauge (a disk path that appeared later), before the named gauge or the chart."""
        gauge = Gauge(spec, id=f"gauge-{spec.name}")
        self.gauges[spec.name] = gauge
        self.spec.gauges.append(spec)
        self.spec.keys |= spec.keys
        self.mount(gauge, before=self.gauges.get(before or "", self.chart))
        gauge.set_value(*spec.read(self.store))

    def remove_gauge(self, name: str) -> None:
        """Remove a gauge if it is there."""
        gauge = self.gauges.pop(name, None)
        if gauge is not None:
            self.spec.gauges = [g for g in self.spec.gauges if g.name != name]
            gauge.remove()

    def update_data(self, t0: float) -> None:
        """Read the gauges' values from the store and redraw the chart."""
        for g in self.gauges.values():
            g.set_value(*g.spec.read(self.store))
        self.chart.t0 = t0
        self.chart.refresh()


class GpuBlock(Vertical):
    """One GPU: name and memory in the border, utilisation, memory, temperature and power cells in a grid."""

    DEFAULT_CSS = """
    GpuBlock { height: auto; border: round $accent 60%; }
    GpuBlock > Grid { height: auto; grid-size: 2; grid-gutter: 0 0; }
    """

    def __init__(self, index: int, cells: list[SystemCell], **kwargs: Any):
        super().__init__(**kwargs)
        self.index = index
        self.cells = cells
        self.set_title("")

    def set_title(self, facts: str) -> None:
        """'GPU i' followed by the static facts (name, total memory), sanitised."""
        title = f"GPU {self.index}" + (f" · {facts}" if facts else "")
        self.border_title = Content(safe_text(title, limit=80))

    def compose(self) -> ComposeResult:
        with Grid():
            yield from self.cells

    def on_resize(self) -> None:
        """Two columns of cells when there is room, else one."""
        self.query_one(Grid).styles.grid_size_columns = 2 if self.size.width >= 70 else 1
