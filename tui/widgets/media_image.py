"""Images drawn in the terminal with half-block characters (two pixels a cell), and galleries of them.

Half blocks work in every terminal with 24-bit or 256 colours; the picture is scaled to the widget's size
(nearest neighbour when enlarging, so small images stay crisp) and cached per size.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from rich.color import Color, ColorType
from rich.color_triplet import ColorTriplet
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from ..text import safe_text
from .media_overlay import Label, Overlay, OverlayView, draw_overlay, label_segments, legend

UPPER_HALF = "\u2580"
BACKDROP = (24, 24, 28)  # what transparent pixels are drawn over
MAX_SOURCE = 512  # images are kept at most this big (in pixels) once decoded
GALLERY_TILES = 6  # at most this many gallery items side by side


def decode(data: bytes) -> Any:
    """A PIL RGB image of PNG/JPEG bytes, transparency composited over the backdrop, at most MAX_SOURCE."""
    import io

    from PIL import Image as PILImage

    img = PILImage.open(io.BytesIO(data))
    img.load()
    if img.mode in ("RGBA", "LA", "P", "PA") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        back = PILImage.new("RGBA", rgba.size, BACKDROP + (255,))
        img = PILImage.alpha_composite(back, rgba)
    img = img.convert("RGB")
    if max(img.size) > MAX_SOURCE:
        img.thumbnail((MAX_SOURCE, MAX_SOURCE))
    return img


def half_block_rows(img: Any, width: int, height: int, draw: Callable[[Any], tuple[Any, list[Label]]] | None = None
                    ) -> list[list[Segment]]:
    """The image fitted into width × height cells (aspect kept) as rows of half-block segments; draw (an
    overlay) paints on the fitted image and returns labels printed over it as text."""
    from PIL import Image as PILImage

    if width <= 0 or height <= 0:
        return []
    w0, h0 = img.size
    scale = min(width / w0, (2 * height) / h0)
    w = max(1, int(w0 * scale))
    h = max(1, int(h0 * scale))
    resample = PILImage.Resampling.NEAREST if scale >= 1 else PILImage.Resampling.BOX
    small = img.resize((w, h), resample)
    labels: list[Label] = []
    if draw is not None:
        small, labels = draw(small)
    if h % 2:
        padded = PILImage.new("RGB", (w, h + 1), BACKDROP)
        padded.paste(small, (0, 0))
        small = padded
        h += 1
    px = small.load()
    styles: dict[tuple[Any, Any], Style] = {}
    rows = []
    for y in range(0, h, 2):
        row = []
        for x in range(w):
            top, bottom = px[x, y], px[x, y + 1]
            style = styles.get((top, bottom))
            if style is None:
                style = styles[(top, bottom)] = Style.from_color(_color(top), _color(bottom))
            row.append(Segment(UPPER_HALF, style))
        rows.append(row)
    for col, line, text, color in labels:
        if 0 <= line < len(rows):
            for i, (ch, style) in enumerate(label_segments(text, color)):
                if col + i < w:
                    rows[line][col + i] = Segment(ch, Style.parse(style))
    return [Segment.simplify(row) for row in rows]


_HEX = [f"{i:02x}" for i in range(256)]


def _color(rgb: tuple[int, int, int]) -> Color:
    """A truecolor Color, built without Color.from_rgb's per-call formatting (a cell each)."""
    r, g, b = rgb[0], rgb[1], rgb[2]
    return Color("#" + _HEX[r] + _HEX[g] + _HEX[b], ColorType.TRUECOLOR, triplet=ColorTriplet(r, g, b))


class HalfBlockImage(Widget):
    """One image, fitted into the widget and drawn with half-block characters (with its overlay, if any)."""

    DEFAULT_CSS = """
    HalfBlockImage { width: 1fr; height: 1fr; }
    """

    def __init__(self, image: Any = None, overlay: Overlay | None = None, view: OverlayView | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.image = image
        self.overlay = overlay
        self.view = view
        self._cache: tuple[tuple[int, int], list[Strip]] | None = None

    def set_image(self, image: Any, overlay: Overlay | None = None, view: OverlayView | None = None) -> None:
        """Show another image (a PIL RGB image, or None for nothing), with masks and boxes drawn as view says."""
        self.image, self.overlay, self.view = image, overlay, view
        self.redraw()

    def redraw(self) -> None:
        """Draw again (the overlay view changed)."""
        self._cache = None
        self.refresh()

    def _strips(self) -> list[Strip]:
        size = (self.size.width, self.size.height)
        if self._cache is None or self._cache[0] != size:
            draw = None
            if self.overlay is not None and self.view is not None:
                draw = partial(draw_overlay, self.overlay, self.view)
            rows = half_block_rows(self.image, *size, draw=draw) if self.image is not None else []
            used = Segment.get_line_length(rows[0]) if rows else 0
            pad = max(0, (size[0] - used) // 2)
            strips = [Strip([Segment(" " * pad), *r]) if pad else Strip(r) for r in rows]
            top = max(0, (size[1] - len(strips)) // 2)  # centred both ways
            self._cache = (size, [Strip.blank(size[0])] * top + strips)
        return self._cache[1]

    def render_line(self, y: int) -> Strip:
        """Row y of the picture (blank below it)."""
        strips = self._strips()
        if y < len(strips):
            return strips[y].extend_cell_length(self.size.width)
        return Strip.blank(self.size.width)


class ImageTile(Vertical):
    """A gallery item: the picture with its caption (as plain text) below."""

    DEFAULT_CSS = """
    ImageTile { width: 1fr; height: 1fr; border: round $panel-lighten-2; }
    ImageTile.-selected { border: round $accent; }
    ImageTile > .caption { height: 1; color: $text-muted; }
    """

    def __init__(self, image: Any, caption: str | None, label: str, overlay: Overlay | None = None,
                 view: OverlayView | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.image = image
        self.caption = caption
        self.overlay, self.view = overlay, view
        self.border_title = Content(label)

    def compose(self) -> ComposeResult:
        yield HalfBlockImage(self.image, self.overlay, self.view)
        if self.caption is not None:
            yield Static(Text(safe_text(self.caption, limit=200), no_wrap=True, overflow="ellipsis"),
                         classes="caption")


class OverlayLegend(Static):
    """The legend under images with overlays: classes (colour swatch and name), named sets, score filter."""

    DEFAULT_CSS = """
    OverlayLegend { height: auto; max-height: 3; display: none; padding: 0 1; }
    OverlayLegend.-shown { display: block; }
    """

    def show(self, overlays: list[Overlay | None], view: OverlayView) -> None:
        """The legend of these overlays (hidden when none has any)."""
        text = legend([o for o in overlays if o is not None], view)
        self.set_class(text is not None, "-shown")
        self.update(text if text is not None else "")


class ImageViewer(Vertical):
    """An image or a gallery: the selected item large, or up to GALLERY_TILES items side by side; masks and
    boxes drawn on them, with a legend below."""

    DEFAULT_CSS = """
    ImageViewer { height: 1fr; }
    ImageViewer > #tiles { height: 1fr; }
    """

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.images: list[Any] = []
        self.captions: list[str | None] = []
        self.overlays: list[Overlay | None] = []
        self.view = OverlayView()
        self.selected = 0

    def compose(self) -> ComposeResult:
        yield Horizontal(id="tiles")
        yield OverlayLegend(id="overlay-legend")

    def shown_range(self, zoom: bool) -> list[int]:
        """The indices of the items shown as tiles."""
        n = len(self.images)
        if n == 0:
            return []
        if zoom:
            return [self.selected]
        first = max(0, min(self.selected - GALLERY_TILES // 2, n - GALLERY_TILES))
        return list(range(first, min(n, first + GALLERY_TILES)))

    def show(self, images: list[Any], captions: list[str | None], selected: int, zoom: bool = False,
             overlays: list[Overlay | None] | None = None, view: OverlayView | None = None) -> None:
        """Show these images (one gallery), the selected one highlighted (zoom: the selected one alone), with
        their overlays drawn as view says."""
        self.images, self.captions = images, captions
        self.overlays = list(overlays) if overlays is not None else [None] * len(images)
        self.view = view if view is not None else self.view
        self.selected = max(0, min(selected, len(images) - 1))
        tiles = self.query_one("#tiles", Horizontal)
        tiles.remove_children()
        n = len(images)
        shown = self.shown_range(zoom)
        new = []
        for i in shown:
            ov = self.overlays[i] if i < len(self.overlays) else None
            tile = ImageTile(images[i], captions[i], f"{i + 1}/{n}" if n > 1 else "", ov, self.view)
            if i == self.selected and n > 1:
                tile.add_class("-selected")
            new.append(tile)
        if new:
            tiles.mount_all(new)
        self.query_one(OverlayLegend).show([self.overlays[i] for i in shown if i < len(self.overlays)], self.view)

    def redraw_overlays(self) -> None:
        """Draw the shown tiles again (the overlay view changed), and the legend."""
        for img in self.query(HalfBlockImage):
            img.redraw()
        shown = [t.overlay for t in self.query(ImageTile)]
        self.query_one(OverlayLegend).show(shown, self.view)
