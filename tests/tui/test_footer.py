"""KeysFooter: rebuilt once when the shown keys change, not at all when they do not."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import RichLog
from textual.widgets._footer import FooterKey
from tracktui.tui.app import make_app
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.widgets.charts_panel import ChartsPanel
from tracktui.tui.widgets.footer import KeysFooter

from .conftest import NOW, wait_for


def _keys(screen: RunScreen) -> list[FooterKey]:
    return list(screen.query_one(KeysFooter).query(FooterKey))


async def test_footer_follows_tabs_and_keeps_its_keys_when_nothing_changed(seeded: Path) -> None:
    app = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(160, 30)) as pilot:
        app.open_run("run0")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen)
                       and isinstance(app.screen.focused, ChartsPanel) and len(_keys(app.screen)) > 0)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RunScreen)
        charts_keys = _keys(screen)
        assert "x_axis" in {k.action for k in charts_keys}  # the focused charts' own keys are shown
        screen.refresh_bindings()  # the same keys: the footer keeps its widgets
        screen.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        assert _keys(screen) == charts_keys and all(k.is_attached for k in charts_keys)
        await pilot.press("3")
        await wait_for(pilot, lambda: isinstance(screen.focused, RichLog)
                       and "x_axis" not in {k.action for k in _keys(screen)})
        await pilot.press("1")
        await wait_for(pilot, lambda: isinstance(screen.focused, ChartsPanel)
                       and "x_axis" in {k.action for k in _keys(screen)})
        assert [k.action for k in _keys(screen)] == [k.action for k in charts_keys]
