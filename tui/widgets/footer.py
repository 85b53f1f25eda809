"""KeysFooter: Textual's Footer, rebuilt only when the keys it shows change."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


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
        """Textual's keys, made with the footer's compact setting (else each key is styled again on mount)."""
        for widget in super().compose():
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
        return (self.compact, self.show_command_palette, app.ENABLE_COMMAND_PALETTE, tuple(
            (binding.key, app.get_key_display(binding), binding.description, binding.action, enabled, tooltip,
             binding.group, key == app.COMMAND_PALETTE_BINDING)
            for key, (_, binding, enabled, tooltip) in self.screen.active_bindings.items()
            if binding.show or key == app.COMMAND_PALETTE_BINDING))

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
