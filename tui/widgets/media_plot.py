"""Plots drawn from their stored spec: line, scatter, bar, histogram, line series, PR and ROC curves with
plotext; a confusion matrix as a coloured grid of counts. Labels from the store go through safe_text."""

from __future__ import annotations

import math
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget
from textual_plotext import PlotextPlot

from ..text import safe_text

COLORS = ("cyan", "orange", "green", "magenta", "blue", "red", "yellow", "white")
MAX_SERIES = 8


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) if math.isfinite(v) else None


def _col(columns: list[str], name: Any) -> int | None:
    return columns.index(name) if isinstance(name, str) and name in columns else None


def _xy(rows: list[list[Any]], xi: int, yi: int) -> tuple[list[float], list[float]]:
    pts = []
    for r in rows:
        x, y = _num(r[xi]), _num(r[yi])
        if x is not None and y is not None:
            pts.append((x, y))
    return [p[0] for p in pts], [p[1] for p in pts]


def _groups(rows: list[list[Any]], gi: int | None) -> dict[str, list[list[Any]]]:
    if gi is None:
        return {"": rows}
    out: dict[str, list[list[Any]]] = {}
    for r in rows:
        out.setdefault(safe_text(r[gi], limit=24), []).append(r)
    return out


class PlotChart(PlotextPlot):
    """A plotext chart of a plot spec (every type but the confusion matrix)."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.spec: dict[str, Any] = {}
        self.columns: list[str] = []
        self.rows: list[list[Any]] = []

    def show(self, spec: dict[str, Any], columns: list[str], rows: list[list[Any]]) -> None:
        """Draw this spec over these rows."""
        self.spec, self.columns, self.rows = spec, columns, rows
        self.refresh()

    def render(self) -> Any:
        """Plot the rows the way the spec's type says."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        spec, cols, rows = self.spec, self.columns, self.rows
        kind = spec.get("type")
        if kind in ("line", "scatter", "line_series", "pr_curve", "roc_curve"):
            xi, yi = _col(cols, spec.get("x")), _col(cols, spec.get("y"))
            gi = _col(cols, spec.get("series") or spec.get("stroke"))
            if xi is not None and yi is not None:
                groups = list(_groups(rows, gi).items())
                for i, (name, grp) in enumerate(groups[:MAX_SERIES]):
                    xs, ys = _xy(grp, xi, yi)
                    if kind != "scatter":
                        ordered = kind in ("line", "line_series")
                        order = sorted(range(len(xs)), key=xs.__getitem__) if ordered else range(len(xs))
                        xs, ys = [xs[j] for j in order], [ys[j] for j in order]
                    draw = plt.scatter if kind == "scatter" else plt.plot
                    draw(xs, ys, marker="braille", color=COLORS[i % len(COLORS)], label=name or None)
                if kind == "roc_curve":
                    plt.plot([0, 1], [0, 1], marker="braille", color="gray")
                if kind in ("pr_curve", "roc_curve"):
                    plt.xlim(0, 1)
                    plt.ylim(0, 1.02)
                plt.xlabel(safe_text(spec.get("xname") or spec.get("x"), limit=30))
                plt.ylabel(safe_text(spec.get("y"), limit=30))
        elif kind == "bar":
            li, vi = _col(cols, spec.get("label")), _col(cols, spec.get("value"))
            if li is not None and vi is not None:
                bars = [(safe_text(r[li], limit=16), _num(r[vi])) for r in rows]
                bars = [(label, v) for label, v in bars if v is not None][:100]
                if bars:
                    plt.bar([b[0] for b in bars], [b[1] for b in bars], color="cyan")
        elif kind == "histogram":
            vi = _col(cols, spec.get("value"))
            if vi is not None:
                vals = [v for v in (_num(r[vi]) for r in rows) if v is not None]
                if vals:
                    plt.hist(vals, bins=min(40, max(5, int(math.sqrt(len(vals))))), color="cyan")
        else:
            plt.title(f"cannot draw a plot of type {safe_text(kind, limit=30)}")
        return super().render()


class ConfusionGrid(Widget):
    """A confusion matrix: actual classes down, predicted across, counts in cells coloured by size
    (the diagonal in green, errors in red)."""

    DEFAULT_CSS = """
    ConfusionGrid { height: 1fr; }
    """

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.names: list[str] = []
        self.counts: dict[tuple[str, str], float] = {}

    def show(self, spec: dict[str, Any], columns: list[str], rows: list[list[Any]]) -> None:
        """Collect (actual, predicted) counts from the rows."""
        ai, pi = _col(columns, spec.get("actual")), _col(columns, spec.get("predicted"))
        vi = _col(columns, spec.get("value"))
        names: list[str] = [str(n) for n in spec.get("class_names") or []]
        counts: dict[tuple[str, str], float] = {}
        if ai is not None and pi is not None and vi is not None:
            for r in rows:
                a, p, v = str(r[ai]), str(r[pi]), _num(r[vi])
                for n in (a, p):
                    if n not in names:
                        names.append(n)
                counts[(a, p)] = counts.get((a, p), 0.0) + (v or 0.0)
        self.names, self.counts = names, counts
        self.refresh()

    def render(self) -> Text:
        """The grid, with a header of predicted classes."""
        names = self.names
        out = Text(no_wrap=True, overflow="crop")
        if not names:
            out.append("no data", style="dim")
            return out
        biggest = max(self.counts.values(), default=0) or 1.0
        shown = [safe_text(n, limit=12) for n in names]
        label_w = min(14, max(len("actual ↓"), *(len(s) for s in shown))) + 1
        cell_w = max(6, min(12, max(len(s) for s in shown) + 1, len(f"{int(biggest):,}") + 2))
        out.append("actual ↓".ljust(label_w), style="dim")
        out.append("predicted →\n", style="dim")
        out.append(" " * label_w)
        for s in shown:
            out.append(s[: cell_w - 1].rjust(cell_w - 1) + " ", style="bold")
        out.append("\n")
        for a, sa in zip(names, shown, strict=True):
            out.append(sa[: label_w - 1].ljust(label_w), style="bold")
            for p in names:
                v = self.counts.get((a, p), 0.0)
                text = f"{int(v):,}" if float(v).is_integer() else f"{v:.3g}"
                f = v / biggest
                if a == p:
                    bg = (20, round(60 + 140 * f), 40) if v else (30, 30, 36)
                else:
                    bg = (round(60 + 170 * f), 25, 30) if v else (30, 30, 36)
                fg = "white" if f < 0.7 or a != p else "black"
                out.append(text.rjust(cell_w - 1) + " ", style=Style(color=fg, bgcolor=f"rgb{bg}"))
            out.append("\n")
        return out


class PlotViewer(Vertical):
    """A stored plot: the chart (or the confusion grid) under its title."""

    DEFAULT_CSS = """
    PlotViewer { height: 1fr; border: round $panel-lighten-2; }
    PlotViewer > ConfusionGrid { display: none; padding: 1 1; }
    PlotViewer.-confusion > ConfusionGrid { display: block; }
    PlotViewer.-confusion > PlotChart { display: none; }
    """

    def compose(self) -> ComposeResult:
        yield PlotChart()
        yield ConfusionGrid()

    def show(self, spec: dict[str, Any], columns: list[str], rows: list[list[Any]]) -> None:
        """Draw a plot from its spec."""
        kind = safe_text(spec.get("type"), limit=30)
        title = safe_text(spec.get("title") or "", limit=60)
        self.border_title = Content(f"{kind}: {title}" if title else kind)
        confusion = spec.get("type") == "confusion_matrix"
        self.set_class(confusion, "-confusion")
        if confusion:
            self.query_one(ConfusionGrid).show(spec, columns, rows)
        else:
            self.query_one(PlotChart).show(spec, columns, rows)


__all__ = ["PlotViewer", "PlotChart", "ConfusionGrid"]
