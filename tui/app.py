"""The terminal app: make_app() builds it for the command line and the tests alike."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from tracktui.store.location import StoreURL, resolve_store

from .live import Live
from .screens.runs import RunsScreen


class TrackTuiApp(App[None]):
    """tracktui: the runs of a store, live."""

    CSS_PATH = "app.tcss"
    TITLE = "tracktui"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("p", "pause", "Pause"),
    ]

    def __init__(self, store_dir: str | os.PathLike[str] | None = None, project: str | None = None,
                 poll_interval: float | None = 1.0, fixed_now: float | None = None):
        super().__init__()
        self.store_root: Path | StoreURL = resolve_store(store_dir)  # a root, or a URL (printed without password)
        self.project = project
        self.poll_interval = poll_interval
        self.fixed_now = fixed_now
        self.live = Live(self, self.store_root, interval=poll_interval, project=project, fixed_now=fixed_now)
        self.store_label_text: str | None = None  # shown instead of the root (snapshots of tmp stores)

    @property
    def store_label(self) -> str:
        """The store root as the user would type it (~ for the home directory)."""
        if self.store_label_text is not None:
            return self.store_label_text
        if isinstance(self.store_root, StoreURL):
            return self.store_root.redacted
        home = str(Path.home())
        root = str(self.store_root)
        return "~" + root[len(home):] if root.startswith(home + os.sep) else root

    @property
    def paused(self) -> bool:
        """Whether live updates are paused (kept by self.live)."""
        return self.live.paused

    def on_mount(self) -> None:
        self.live.start_waker()
        self.push_screen(RunsScreen(self.live))

    def on_tabbed_content_tab_activated(self) -> None:
        """A tab came on screen: its panels' sleeping feeds read now."""
        self.call_after_refresh(self.live.wake)

    def open_run(self, run_id: str, tab: str | None = None, at_seq: int | None = None) -> None:
        """Show one run (on a tab; the Logs tab at console line at_seq)."""
        from .screens.run import RunScreen

        self.push_screen(RunScreen(self.live, run_id, tab=tab, at_seq=at_seq))

    def action_pause(self) -> None:
        """Pause or resume live updates."""
        if self.live.paused:
            self.live.resume()
        else:
            self.live.pause()
        self.notify("live updates paused (p resumes)" if self.paused else "live updates resumed", timeout=2)
        for screen in self.screen_stack:
            update = getattr(screen, "update_status", None)
            if callable(update):
                update()

    def action_help(self) -> None:
        """Show every key of the current screen."""
        from .screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette lists every action of the screen, with its key."""
        yield from super().get_system_commands(screen)
        seen: set[str] = set()
        for key, active in screen.active_bindings.items():
            b = active.binding
            if not b.description or b.action in seen or b.action in ("command_palette",):
                continue
            seen.add(b.action)
            node = active.node

            def run(node: Any = node, action: str = b.action) -> None:
                self.call_later(self.run_action, action, node)

            yield SystemCommand(b.description, f"key: {b.key_display or key}", run)


def make_app(store_dir: str | os.PathLike[str] | None = None, project: str | None = None,
             poll_interval: float | None = 1.0, fixed_now: float | None = None) -> TrackTuiApp:
    """The app on a store: a root or a PostgreSQL URL (default: TRACKTUI_STORE, then the normal root);
    poll_interval None turns live updates off, fixed_now pins the clock used for ages and runtimes (snapshot
    tests)."""
    return TrackTuiApp(store_dir=store_dir, project=project, poll_interval=poll_interval, fixed_now=fixed_now)
