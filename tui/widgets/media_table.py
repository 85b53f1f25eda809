"""Tables logged as media, in a DataTable sorted by the store (SQL), so sorting is right for any size.

Cells are shown as plain Text (never markup); image cells as a marker such as "[image 64×64]" (with "+boxes"
or "+masks" when something is drawn on them).
"""

from __future__ import annotations

import math
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable

from ..text import safe_text
from .media_image import HalfBlockImage
from .media_overlay import Overlay, OverlayView

MAX_ROWS_SHOWN = 1000  # rows read into the view; the sort happens in the store over all of them


def cell_text(value: Any) -> Text:
    """One table cell as plain text: numbers right-aligned, None dim, image cells as a marker."""
    if value is None:
        return Text("—", style="dim")
    if isinstance(value, bool):
        return Text(str(value).lower())
    if isinstance(value, int):
        return Text(f"{value:,}", justify="right")
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return Text(str(value), style="red", justify="right")
        return Text(f"{value:.6g}", justify="right")
    if isinstance(value, dict):
        kind = safe_text(value.get("_type", "object"), limit=20)
        if kind == "image":
            extra = "".join(f" +{k}" for k in ("boxes", "masks") if value.get(k))
            return Text(f"[image {value.get('width')}×{value.get('height')}{extra}]", style="cyan")
        return Text(f"[{kind}]", style="cyan")
    return Text(safe_text(value, limit=200), no_wrap=True, overflow="ellipsis")


class MediaTable(DataTable):
    """The rows of one stored table (or a plot's data); the header shows the sort column and direction."""

    DEFAULT_CSS = """
    MediaTable { height: 1fr; }
    """

    def __init__(self, **kwargs: Any):
        super().__init__(zebra_stripes=True, cursor_type="cell", **kwargs)
        self.columns_names: list[str] = []
        self.sort_column: int | None = None
        self.descending = False

    def show(self, columns: list[str], rows: list[list[Any]], sort_column: int | None,
             descending: bool) -> None:
        """Show these rows (already in order) under these columns."""
        keep = self.cursor_coordinate
        same_columns = columns == self.columns_names
        self.columns_names = list(columns)
        self.sort_column, self.descending = sort_column, descending
        self.clear(columns=True)
        for i, name in enumerate(columns):
            label = Text(safe_text(name, limit=40), style="bold")
            if i == sort_column:
                label.append(" ▼" if descending else " ▲", style="bold cyan")
            self.add_column(label, key=str(i))
        for row in rows:
            cells = [cell_text(row[i] if i < len(row) else None) for i in range(len(columns))]
            self.add_row(*cells)
        if same_columns and self.row_count:
            self.cursor_coordinate = keep


def image_ref(value: Any) -> dict[str, Any] | None:
    """The reference of an image cell (a dict with a sha256), or None."""
    if isinstance(value, dict) and value.get("_type") == "image" and isinstance(value.get("sha256"), str):
        return value
    return None


class TableViewer(Vertical):
    """A MediaTable, and below it a thumbnail of the image cell under the cursor."""

    DEFAULT_CSS = """
    TableViewer { height: 1fr; }
    TableViewer > HalfBlockImage { height: 10; display: none; border-top: solid $panel-lighten-2; }
    TableViewer.-thumb > HalfBlockImage { display: block; }
    """

    def compose(self) -> ComposeResult:
        yield MediaTable()
        yield HalfBlockImage()

    def set_thumbnail(self, image: Any, overlay: Overlay | None = None, view: OverlayView | None = None) -> None:
        """Show a thumbnail (a PIL image, with its masks and boxes drawn as view says), or hide it (None)."""
        self.query_one(HalfBlockImage).set_image(image, overlay, view)
        self.set_class(image is not None, "-thumb")
