"""KeysFooter: rebuilt once when the shown keys change, not at all when they do not."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import RichLog
from textual.widgets._footer import FooterKey
from tracktui.tui.app import make_app
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.widgets.footer import KeysFooter
from tracktui.tui.widgets.run_charts import RunChartsPanel

from .conftest import NOW, wait_for


def _keys(screen: RunScreen) -> list[FooterKey]:
    return list(screen.query_one(KeysFooter).query(FooterKey))


async def test_footer_follows_tabs_and_keeps_its_keys_when_nothing_changed(seeded: Path) -> None:
    app = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(160, 30)) as pilot:
        app.open_run("run0")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen)
                       and isinstance(app.screen.focused, RunChartsPanel) and len(_keys(app.screen)) > 0)
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
        await wait_for(pilot, lambda: isinstance(screen.focused, RunChartsPanel)
                       and "x_axis" in {k.action for k in _keys(screen)})
        assert [k.action for k in _keys(screen)] == [k.action for k in charts_keys]


async def test_footer_fits_the_width_and_keeps_quit_and_help(seeded: Path) -> None:
    """At 80 columns the runs footer was cut (`q Qui`): the keys that fit are shown whole, ? and q always."""
    from tracktui.tui.screens.runs import RunsScreen

    for width, open_tab in ((80, None), (80, "6"), (120, "6"), (80, "1")):
        app = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
        async with app.run_test(size=(width, 24)) as pilot:
            await wait_for(pilot, lambda app=app: isinstance(app.screen, RunsScreen) and app.screen.loaded)
            if open_tab:
                await pilot.press("enter", open_tab)
                await wait_for(pilot, lambda app=app: isinstance(app.screen, RunScreen))
            await pilot.pause(0.3)
            footer = app.screen.query_one(KeysFooter)
            keys = list(footer.query(FooterKey))
            actions = {k.action for k in keys}
            assert {"help"} <= actions and ("quit" in actions or "back" in actions), (width, actions)
            right = max(k.region.right for k in keys)
            assert right <= width, (width, open_tab, [(k.key_display, k.region) for k in keys])
            for k in keys:  # every key shown whole: its region is as wide as its text
                assert k.region.width >= len(k.key_display) + len(k.description), (width, k.key_display)
