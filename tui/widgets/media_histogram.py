"""Histograms over steps: a heatmap (one row per step, one column per value bin) and the latest as bars.

Each step's counts are re-binned onto one value range shared by all rows (a bin's count is spread over the
columns it overlaps), and coloured relative to that row's largest count, so the shape of every step shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Any

from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget
from textual_plotext import PlotextPlot

# viridis, eight anchors: low counts dark blue-purple, high counts yellow
PALETTE = [(68, 1, 84), (70, 50, 126), (54, 92, 141), (39, 127, 142), (31, 161, 135), (74, 193, 109),
           (160, 218, 57), (253, 231, 37)]
EMPTY_BG = (30, 30, 36)


@dataclass
class StepHistogram:
    """One step's histogram: counts and their edges (len(counts) + 1)."""

    step: int
    counts: list[float]
    edges: list[float]


def colour(v: float) -> tuple[int, int, int]:
    """The palette colour of v in 0..1."""
    v = min(1.0, max(0.0, v)) * (len(PALETTE) - 1)
    i = min(int(v), len(PALETTE) - 2)
    f = v - i
    a, b = PALETTE[i], PALETTE[i + 1]
    return (round(a[0] + (b[0] - a[0]) * f), round(a[1] + (b[1] - a[1]) * f), round(a[2] + (b[2] - a[2]) * f))


LEVELS = 64  # colour steps of the heatmap
_LEVEL_STYLES: list[Style] = []


def level_style(v: float) -> Style:
    """The background style of v in 0..1 (one of LEVELS, built once)."""
    if not _LEVEL_STYLES:
        _LEVEL_STYLES.extend(Style(bgcolor=Color.from_rgb(*colour(i / (LEVELS - 1)))) for i in range(LEVELS))
    return _LEVEL_STYLES[min(LEVELS - 1, max(0, int(v * (LEVELS - 1) + 0.5)))]


def rebin(counts: list[float], edges: list[float], lo: float, hi: float, columns: int) -> list[float]:
    """counts over edges spread onto `columns` equal bins over lo..hi (by overlap)."""
    out = [0.0] * columns
    width = (hi - lo) / columns if hi > lo else 1.0
    for c, a, b in zip(counts, edges, edges[1:], strict=False):
        if not c:
            continue
        if b <= a:  # a zero-width bin: all in the column holding it
            j = min(columns - 1, max(0, int((a - lo) / width)))
            out[j] += c
            continue
        first = min(columns - 1, max(0, int((a - lo) / width)))
        last = min(columns - 1, max(0, int((b - lo) / width)))
        for j in range(first, last + 1):
            left, right = lo + j * width, lo + (j + 1) * width
            overlap = min(b, right) - max(a, left)
            if overlap > 0:
                out[j] += c * overlap / (b - a)
    return out


def _num(x: float) -> str:
    return f"{x:.3g}"


class HistogramHeatmap(Widget):
    """Steps (rows, latest at the bottom) by value bins (columns), coloured by count."""

    DEFAULT_CSS = """
    HistogramHeatmap { height: 1fr; }
    """

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.histograms: list[StepHistogram] = []
        self._cache: tuple[tuple[int, int], Text] | None = None

    def show(self, histograms: list[StepHistogram]) -> None:
        """Draw these histograms (in step order)."""
        self.histograms = histograms
        self._cache = None
        self.refresh()

    def render(self) -> Text:
        """The heatmap for the widget's size (built again only when the size or the data change)."""
        size = (self.size.width, self.size.height)
        if self._cache is None or self._cache[0] != size:
            self._cache = (size, self.build(*size))
        return self._cache[1]

    def build(self, width: int, height: int) -> Text:
        """The heatmap in width × height cells: a step label column, the cells, a value axis below."""
        hs = self.histograms
        out = Text(no_wrap=True, overflow="crop")
        if not hs:
            out.append("no histograms", style="dim")
            return out
        label_w = max(len(f"{h.step:,}") for h in hs) + 1
        cols = max(4, width - label_w - 1)
        rows_free = max(1, height - 2)
        per_step = max(1, min(3, rows_free // len(hs)))
        if len(hs) > rows_free:  # evenly spread, always keeping the latest
            picks = sorted({round(i * (len(hs) - 1) / (rows_free - 1)) for i in range(rows_free)}
                           if rows_free > 1 else {len(hs) - 1})
            hs = [hs[i] for i in picks]
        lo = min(h.edges[0] for h in hs)
        hi = max(h.edges[-1] for h in hs)
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        empty = Style(bgcolor=Color.from_rgb(*EMPTY_BG))
        for h in hs:
            row = rebin(h.counts, h.edges, lo, hi, cols)
            top = max(row) or 1.0
            cells = Text()
            styles = [empty if v <= 0 else level_style(v / top) for v in row]
            for style, run in groupby(styles):  # one span per run of equal cells
                cells.append(" " * sum(1 for _ in run), style=style)
            for k in range(per_step):
                out.append((f"{h.step:,}" if k == 0 else "").rjust(label_w - 1) + " ", style="dim")
                out.append_text(cells)
                out.append("\n")
        left, right = _num(lo), _num(hi)
        axis = " " * label_w + left + " " * max(1, cols - len(left) - len(right)) + right
        out.append(axis + "\n", style="dim")
        out.append(" " * label_w + "step ↓  value →  colour: count / row max", style="dim")
        return out


class HistogramBars(PlotextPlot):
    """The latest histogram as bars."""

    DEFAULT_CSS = """
    HistogramBars { height: 1fr; min-height: 8; border: round $panel-lighten-2; }
    """

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.histogram: StepHistogram | None = None

    def show(self, h: StepHistogram | None) -> None:
        """Draw this histogram."""
        self.histogram = h
        self.border_title = Content(f"step {h.step:,}" if h else "")
        self.refresh()

    def render(self) -> Any:
        """Bars at the bin centres."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        h = self.histogram
        if h is not None and h.counts:
            centres = [(a + b) / 2 for a, b in zip(h.edges, h.edges[1:], strict=False)]
            plt.bar(centres, h.counts, color="cyan")
            n = min(6, len(centres))
            ticks = [centres[round(i * (len(centres) - 1) / max(1, n - 1))] for i in range(n)]
            plt.xticks(ticks, [_num(t) for t in ticks])
        return super().render()


class HistogramViewer(Vertical):
    """The heatmap over steps above the latest histogram's bars."""

    DEFAULT_CSS = """
    HistogramViewer { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield HistogramHeatmap()
        yield HistogramBars()

    def show(self, histograms: list[StepHistogram], current: StepHistogram | None) -> None:
        """Draw the heatmap of histograms and the bars of current (the step scrubbed to)."""
        self.query_one(HistogramHeatmap).show(histograms)
        self.query_one(HistogramBars).show(current)
