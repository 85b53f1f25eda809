"""ImageScreen: one image (a table's image cell) on the whole screen, its masks and boxes drawn, with the overlay
keys of the Media tab; what they switch is shared with the tab (escape goes back).

answer_image() is how a screen answers a widget's ImageFullScreenRequested.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from ..messages import ImageFullScreenRequested, PickRequested
from ..text import safe_text
from ..widgets.footer import KeysFooter
from ..widgets.media_image import HalfBlockImage, OverlayLegend
from ..widgets.media_overlay import OVERLAY_BINDINGS, Overlay, OverlayKeys, OverlayView


def answer_image(screen: Screen[Any], message: ImageFullScreenRequested) -> None:
    """Show the image a widget asked for; a change of its overlay view there calls the widget back."""
    message.stop()
    screen.app.push_screen(ImageScreen(message.title, message.image, message.overlay, message.view,
                                       on_change=message.on_change))


class ImageScreen(OverlayKeys, Screen[None]):
    """An image full screen with its overlay and legend."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), *OVERLAY_BINDINGS]

    DEFAULT_CSS = """
    ImageScreen #image-title { height: 1; background: $panel; text-wrap: nowrap; text-overflow: ellipsis; }
    ImageScreen HalfBlockImage { height: 1fr; }
    """

    def __init__(self, title: str, image: Any, overlay: Overlay | None, view: OverlayView,
                 on_change: Callable[[], None] | None = None):
        super().__init__()
        self.title_text = title
        self.image, self.overlay, self.overlay_view = image, overlay, view
        self.on_change = on_change

    def compose(self) -> ComposeResult:
        yield Static(Text(" " + safe_text(self.title_text, limit=200), style="bold"), id="image-title")
        yield HalfBlockImage(self.image, self.overlay, self.overlay_view)
        yield OverlayLegend()
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(OverlayLegend).show([self.overlay], self.overlay_view)

    def on_pick_requested(self, message: PickRequested) -> None:
        """The checklist of sets and classes (c)."""
        from .chart import answer_pick

        answer_pick(self, message)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The overlay keys only for what the image has."""
        found = self.check_overlay_action(action)
        return super().check_action(action, parameters) if found is None else found

    def shown_overlays(self) -> list[Overlay]:
        """This image's overlay."""
        return [self.overlay] if self.overlay is not None else []

    def redraw_overlays(self) -> None:
        """Draw again; the Media tab below follows."""
        self.query_one(HalfBlockImage).redraw()
        self.query_one(OverlayLegend).show([self.overlay], self.overlay_view)
        self.refresh_bindings()
        if self.on_change is not None:
            self.on_change()
