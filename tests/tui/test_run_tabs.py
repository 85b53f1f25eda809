"""The run view's tab keys: from every tab, each number key shows its tab and focuses its content."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import TabbedContent
from tracktui.tui.app import make_app
from tracktui.tui.screens.run import TABS, RunScreen

from .conftest import NOW, wait_for


async def test_every_tab_key_from_every_tab(seeded: Path) -> None:
    app = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: getattr(app.screen, "loaded", False))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen))
        tabs = app.screen.query_one(TabbedContent)
        keys = every_pair(len(TABS))
        for a, b in zip(keys, keys[1:], strict=False):
            await pilot.press(str(b + 1))
            await pilot.pause(0.05)
            assert tabs.active == TABS[b], f"{b + 1} from {TABS[a]} showed {tabs.active}"
            focused = app.focused
            assert focused is not None and tabs.get_pane(TABS[b]) in focused.ancestors_with_self, (
                TABS[a], TABS[b], focused)


def every_pair(n: int) -> list[int]:
    """A walk over 0..n-1 that steps from every node to every other node once (an Euler circuit)."""
    todo = {a: [b for b in range(n) if b != a] for a in range(n)}
    stack, walk = [0], []
    while stack:
        a = stack[-1]
        if todo[a]:
            stack.append(todo[a].pop())
        else:
            walk.append(stack.pop())
    return walk[::-1]


def test_every_pair_covers_all_steps() -> None:
    walk = every_pair(6)
    assert walk[0] == 0 and len(walk) == 31
    pairs = {(a, b) for a, b in zip(walk, walk[1:], strict=False)}
    assert pairs == {(a, b) for a in range(6) for b in range(6) if a != b}


async def test_a_late_tab_activation_does_not_take_the_next_tab_back(seeded: Path) -> None:
    """4 then 6 typed quickly on a busy machine: the Overview's activation can be handled after 6 switched to
    Media. Focusing the Overview then would switch back to it (the pty safety test saw Overview stay)."""
    app = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: getattr(app.screen, "loaded", False))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen))
        screen = app.screen
        tabs = screen.query_one(TabbedContent)
        await pilot.press("4")
        await pilot.pause(0.05)
        overview = tabs.get_pane("overview")
        await pilot.press("6")
        await pilot.pause(0.05)
        assert tabs.active == "media"
        # the Overview's activation, arriving late, as it does under load
        screen.on_tabbed_content_tab_activated(TabbedContent.TabActivated(tabs, tabs.get_tab("overview")))
        await pilot.pause(0.2)
        assert tabs.active == "media", "a late activation of the Overview took the Media tab back"
        assert app.focused is not None and overview not in app.focused.ancestors_with_self
