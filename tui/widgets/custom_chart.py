"""The run view's custom chart: several metrics of one run overlaid (`m` picks them, `M` removes it).

The chart is a Chart (tui/widgets/chart.py) in a "custom" section at the top of the run's ChartGrid
(RunChartsPanel owns it). Its series are read by step (tui/chart_data.py read_custom, whatever step metric a
metric has), so the metrics share one x; the panel's chart options (x-axis, smoothing, log y, cursor)
apply to it as to every other chart. It lives as long as the panel does: nothing is stored.
"""

from __future__ import annotations

from textual.binding import Binding

CUSTOM_BINDINGS = [
    Binding("m", "custom_chart", "Custom", show=False,
            tooltip="custom chart: overlay several metrics of this run (space selects, enter confirms)"),
    Binding("M", "remove_custom", "Remove custom", tooltip="remove the custom chart"),
]

CUSTOM_KEY = "custom chart"  # the chart's key: full screen and the cursor read-out name it so


def custom_title(keys: list[str]) -> str:
    """The custom chart's title."""
    return "custom: " + ", ".join(keys)
