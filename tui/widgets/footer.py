"""KeysFooter: Textual's Footer, rebuilt only when the keys it shows change."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# Kept however narrow the screen (with escape and the tab keys): they lead to everything else (`?` lists
# every key of the screen).
ESSENTIAL = ("help", "quit", "back", "command_palette")


def key_width(key: FooterKey) -> int:
    """Cells a FooterKey takes in the normal (not compact) footer: " key " then "description "."""
    return len(key.key_display) + 2 + (len(key.description) + 1 if key.description else 0)


def fit_keys(keys: list[FooterKey], width: int) -> list[FooterKey]:
    """The keys that fit in width cells: essential keys and tab keys always, the others in their order,
    dropping from the far end (the app's and the screen's general keys come after the focused widget's)."""
    def essential(k: FooterKey) -> bool:
        return k.action in ESSENTIAL or k.key == "escape" or k.action.startswith("tab(")

    kept = list(keys)
    used = sum(key_width(k) + (2 if k.has_class("-command-palette") else 0) for k in kept)
    for k in reversed(keys):
        if used <= width:
            break
        if not essential(k):
            kept.remove(k)
            used -= key_width(k)
    return kept


class KeysFooter(Footer):
    """A Footer that coalesces binding refreshes and skips a rebuild that would show the same keys.

    Textual's Footer recomposes (unmounts and mounts a widget per key) on every bindings signal, and one
    focus change sends two (the focus watcher, then an after-refresh call); switching a tab of the run view
    sent 2 to 12. Each rebuild mounts and styles every key again: about half of a tab switch's CPU time.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple[object, ...] | None = None
        self._pending = False

    def compose(self) -> ComposeResult:
        """Textual's keys, made with the footer's compact setting (else each key is styled again on mount),
        as many as fit the screen's width."""
        widgets = list(super().compose())
        keys = [w for w in widgets if isinstance(w, FooterKey)]
        if len(keys) == len(widgets) and self.app.size.width:  # (grouped keys are left as they are)
            widgets = list(fit_keys(keys, self.app.size.width))
        for widget in widgets:
            bound = isinstance(widget, FooterKey) and "compact" in (widget._reactive_connect or {})
            if bound:  # data_bind(compact=Footer.compact) on mount then changes nothing
                widget.set_reactive(FooterKey.compact, self.compact)
                widget.set_class(self.compact, "-compact", update=False)
            yield widget

    def bindings_changed(self, screen: Screen[Any]) -> None:
        """Schedule one rebuild after the refresh, however many signals arrive before it."""
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._pending:
            self._pending = True
            self.call_after_refresh(self._rebuild)

    def keys_shown(self) -> tuple[object, ...]:
        """What compose() would show now: the keys, their labels and states, the palette key."""
        app = self.app
        return (app.size.width, self.compact, self.show_command_palette, app.ENABLE_COMMAND_PALETTE, tuple(
            (binding.key, app.get_key_display(binding), binding.description, binding.action, enabled, tooltip,
             binding.group, key == app.COMMAND_PALETTE_BINDING)
            for key, (_, binding, enabled, tooltip) in self.screen.active_bindings.items()
            if binding.show or key == app.COMMAND_PALETTE_BINDING))

    def on_resize(self) -> None:
        """Another width may fit more or fewer keys."""
        if self.is_attached and not self._pending:
            self._pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        """Recompose unless the keys shown would be the same."""
        self._pending = False
        if not self.is_attached:
            return
        shown = self.keys_shown()
        if shown == self._shown:
            return
        self._shown = shown
        await self.recompose()
