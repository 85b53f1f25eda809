"""The live-data layer: every panel's reads of the store go through here.

One `Live` belongs to the app. It owns the store location, the schedule (one interval, pause/resume in one
place), the worker threads (Textual thread workers, one read at a time per feed), and turns results and
errors into Textual messages posted to the panel that asked. A panel never opens a Reader and never reads
`self.app`: it is given a `Live` (or a `Feed`) when it is made.

How a panel uses it::

    class LogPanel(Widget):
        def __init__(self, live: Live, run_id: str):
            super().__init__()
            self.feed = live.feed(self, self._read, name="logs", cursor=0)

        def on_mount(self) -> None:
            self.feed.start()                      # first read now, then every live.interval seconds

        @staticmethod                              # runs in a worker thread, with a Reader opened there
        def _read(reader: Reader, cursor: int) -> tuple[list[Row], int]:
            rows = reader.logs(run_id, since_seq=cursor)
            return rows, (rows[-1][0] if rows else cursor)   # (data, next cursor)

        def on_feed_updated(self, message: Feed.Updated) -> None:   # main thread
            if message.feed is self.feed:
                ...                                # show message.data; message.first on the first read

        def on_feed_failed(self, message: Feed.Failed) -> None:     # main thread
            show(message.text)                     # "store unreadable: <reason>, retrying in 2 s"

The rules it keeps:

- `read(reader, cursor)` runs in a worker thread with a `Reader` opened in that thread (a sqlite3
  connection made in one thread fails in another) and closed after. It returns `(data, next_cursor)`. The
  cursor is the feed's (`feed.cursor`); it advances only when a read succeeded, on the main thread.
- A feed reads every `interval` seconds (a Textual interval timer of the panel), never two reads of one
  feed at once. A failed read (any exception: a locked, missing or corrupt store, a broken connection)
  posts `Feed.Failed` with a line to show, and is tried again after `RETRY` seconds; updates never stop
  silently. The worker thread only posts messages (thread-safe): it never waits on the main thread.
- A feed whose panel is not on screen (another screen on top, an inactive tab, display off) does not read:
  it sleeps and is woken when its panel shows again (`Live.wake()`, called on tab and screen changes, and a
  slow check as a safety net). While paused (`Live.pause()`), no feed reads; `resume()` wakes them all.
- A commit to the store wakes the feeds early: one thread per `Live` (not per panel) waits in
  `Reader.wait_for_change` (LISTEN/NOTIFY on PostgreSQL, SQLite's data_version) and, on a change,
  the feeds on screen read at once, or, if one is reading or read less than `change_gap` seconds ago
  (CHANGE_GAP, more for a feed slower than the app), once that much has passed: a writer committing
  non-stop makes a feed read at most that often, and a point waits at most that long. The
  interval stays the safety net: what a commit does not announce (a run's derived state going stale, a
  shared folder's fold) is read on schedule, and a tick is skipped when the feed read less than half an
  interval ago. The thread only posts to the main thread (`app.call_later`), never waits on it, and ends
  with the app.
- `interval=None` (the app made with poll_interval=None: snapshot tests) reads once and never again (and
  no thread waits for changes).
- `Live.load(owner, read)` is a one-off read (a file's bytes, a media step): it posts `Feed.Updated` /
  `Feed.Failed` like a feed, retried on failure, not repeated on success, and not held back by pause.
- `Live.reads` counts the reads that reached the store, per feed name (tests: a hidden panel reads nothing).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widget import Widget
from tracktui.store import Reader, StoreError
from tracktui.store.location import StoreURL

RETRY = 2.0  # seconds before a failed read is tried again
WAKE_CHECK = 2.0  # how often sleeping feeds are checked for being on screen again (safety net)
CHANGE_GAP = 0.5  # a commit makes a feed read at once unless it read less than this long ago (the writer's batch)
WATCH_TIMEOUT = 1.0  # the change watcher's longest wait: how soon it notices that the app has ended
WATCH_POLL = 0.1  # SQLite: how often the watcher looks at data_version (about 0.2 % of a core; PostgreSQL waits)

Read = Callable[[Reader, Any], "tuple[Any, Any]"]


def describe_error(e: BaseException) -> str:
    """One line for a failed read: 'store unreadable: <reason>' for store errors, the type else."""
    reason = " ".join(str(e).split()) or type(e).__name__
    if len(reason) > 90:  # the whole line must fit a status line, "retrying in 2 s" included
        reason = reason[:89] + "…"
    if isinstance(e, (sqlite3.Error, OSError, StoreError)):
        return f"store unreadable: {reason}"
    return f"read failed: {type(e).__name__}: {reason}"


def is_shown(widget: Widget) -> bool:
    """Whether a widget is on the screen the user sees: its screen is the top one (or under modal screens
    only) and neither it nor any container above it has display off (an inactive tab)."""
    if not widget.is_attached:
        return False
    try:
        app = widget.app
        screen = widget.screen
    except Exception:  # detached while we looked
        return False
    stack = app.screen_stack
    for top in reversed(stack):
        if top is screen:
            break
        if not isinstance(top, ModalScreen):
            return False
    else:
        return False
    node: Any = widget
    while node is not None and node is not screen:
        if not node.display:
            return False
        node = node.parent
    return True


class Feed:
    """One panel's subscription to the store: what it reads, its cursor, its schedule."""

    class Updated(Message):
        """A read of `feed` succeeded: `data` is what its read returned; `first` on its first success."""

        bubble = False  # for the panel that owns the feed only

        def __init__(self, feed: Feed, data: Any, first: bool) -> None:
            super().__init__()
            self.feed = feed
            self.data = data
            self.first = first

    class Failed(Message):
        """A read of `feed` failed; `text` is the line to show ("store unreadable: ..., retrying in 2 s")."""

        bubble = False

        def __init__(self, feed: Feed, error: str, retry_in: float) -> None:
            super().__init__()
            self.feed = feed
            self.error = error
            self.retry_in = retry_in

        @property
        def text(self) -> str:
            return f"{self.error}, retrying in {self.retry_in:g} s"

    def __init__(self, live: Live, owner: Widget, read: Read, *, name: str, cursor: Any = None,
                 interval: float | None | bool = True, once: bool = False) -> None:
        self.live = live
        self.owner = owner
        self.read = read
        self.name = name
        self.cursor = cursor
        self._interval = interval  # True: the live interval; a number: this feed's own; None: read once
        self.once = once
        self.started = False
        self.loaded = False  # a read has succeeded
        self.failing: str | None = None  # the last error while reads fail, None once one succeeds
        self.busy = False  # a read is in flight
        self.sleeping = False  # skipped a read because hidden or paused: wake() starts one
        self.stopped = False
        self._timer: Timer | None = None
        self._not_before = 0.0  # monotonic time before which scheduled reads are skipped (retry, idle)
        self._last_start = -1e9  # monotonic time the last read started
        self._later: Timer | None = None  # a read for a commit that came while reading or just after a read

    @property
    def interval(self) -> float | None:
        if self._interval is True:
            return self.live.interval
        return self._interval or None  # type: ignore[return-value]

    @interval.setter
    def interval(self, value: float | None) -> None:
        self._interval = value

    # ------------------------------------------------------------ schedule (main thread)

    def start(self) -> None:
        """Read now (if shown and not paused), then every `interval` seconds while shown."""
        self.started = True
        self.stopped = False
        if self.interval and not self.once and self._timer is None:
            self._timer = self.owner.set_interval(self.interval, self._tick, name=f"live {self.name}")
            self.live.start_watch()
        self.poll_now()

    def stop(self) -> None:
        """No more reads (a panel going away, or a load that is no longer wanted)."""
        self.stopped = True
        for timer in (self._timer, self._later):
            if timer is not None:
                timer.stop()
        self._timer = self._later = None

    def poll_now(self) -> None:
        """Read now, unless a read is in flight, the panel is not on screen or updates are paused (then
        the feed sleeps until wake())."""
        if self.stopped or self.busy:
            return
        if not self.once and (self.live.paused or not is_shown(self.owner)):
            self.sleeping = True
            return
        self.sleeping = False
        self.busy = True
        self._last_start = time.monotonic()
        self.live.reads[self.name] += 1
        self.owner.run_worker(self._work, thread=True, group=f"live-{self.name}-{id(self)}",
                              exit_on_error=False, name=f"live {self.name}")

    def next_in(self, delay: float) -> None:
        """Make the next scheduled read come no sooner than `delay` seconds from now (a panel that knows
        it is idle)."""
        self._not_before = time.monotonic() + delay

    def reset(self, cursor: Any = None) -> None:
        """Start over from `cursor` (the panel dropped what it had): the next result is a first one."""
        self.cursor = cursor
        self.loaded = False
        if self.started:
            self.poll_now()

    def _tick(self) -> None:
        now = time.monotonic()
        # a read woken by a commit moments ago makes this one redundant
        if now >= self._not_before and now - self._last_start >= (self.interval or 0) / 2:
            self.poll_now()

    def changed(self, now: float) -> None:
        """A writer committed: read now if this feed is live and on schedule; if it is reading or read just
        before, once change_gap has passed since that read (one such read pending at most)."""
        if self.once or self.stopped or not self.started or self.sleeping or self.interval is None:
            return
        if now < self._not_before:  # retrying after a failure, or idle by the panel's choice: on schedule
            return
        wait = self._last_start + self.change_gap - now
        if not self.busy and wait <= 0:
            self.poll_now()
        elif self._later is None:  # a read in flight may have started before the commit: one more after it
            delay = wait if wait > 0 else self.change_gap
            self._later = self.owner.set_timer(delay, self._changed_later, name=f"live {self.name} change")

    def _changed_later(self) -> None:
        self._later = None
        self.changed(time.monotonic())

    @property
    def change_gap(self) -> float:
        """How long after a read a commit waits for this feed's next one: CHANGE_GAP, longer in proportion
        for a feed slower than the app's interval (heavy reads), never more than its interval."""
        interval = self.interval or 0.0
        scale = interval / self.live.interval if self.live.interval else 1.0
        return min(CHANGE_GAP * max(1.0, scale), interval)

    # ------------------------------------------------------------ the read (worker thread)

    def _work(self) -> None:
        """Read with a Reader opened in this thread; post the result or the error to the panel (posting is
        thread-safe; nothing here waits on the main thread)."""
        while True:
            try:
                with Reader(self.live.store_root) as reader:
                    data, cursor = self.read(reader, self.cursor)
            except Exception as e:  # noqa: BLE001 - every failure is shown and retried, never silent
                if self.stopped:  # no longer wanted (a newer load, a panel going away)
                    self.busy = False
                    return
                error = describe_error(e)
                self.failing = error
                self.owner.post_message(Feed.Failed(self, error, RETRY))
                if not self.once:  # the schedule tries again after RETRY
                    self._not_before = time.monotonic() + RETRY
                    self.busy = False
                    return
                if not self._wait_retry():  # a one-off load tries again here
                    self.busy = False
                    return
                continue
            if self.stopped:  # no longer wanted: its result is dropped
                self.busy = False
                return
            first = not self.loaded
            self.cursor = cursor
            self.loaded = True
            self.failing = None
            if self.once:
                self.stopped = True
            self.busy = False
            self.owner.post_message(Feed.Updated(self, data, first))
            return

    def _wait_retry(self) -> bool:
        """(worker thread) Sleep RETRY seconds; False when the load is no longer wanted."""
        end = time.monotonic() + RETRY
        while time.monotonic() < end:
            if self.stopped or not self.owner.is_attached or not self.live.app.is_running:
                return False
            time.sleep(0.1)
        return not self.stopped and self.owner.is_attached


class Live:
    """The app's one live-data layer: a store, an interval, pause/resume, and the feeds of the panels."""

    def __init__(self, app: App[Any], store_root: Any, interval: float | None = 1.0, project: str | None = None,
                 fixed_now: float | None = None) -> None:
        self.app = app
        self.store_root: Any = store_root  # a Path, or a StoreURL
        self.interval = interval
        self.project = project
        self.fixed_now = fixed_now  # the clock of ages and runtimes where pinned (snapshots)
        self.paused = False
        self.reads: Counter[str] = Counter()
        self._feeds: list[Feed] = []
        self._waker: Timer | None = None
        self._watch: threading.Thread | None = None  # the one thread that waits for commits
        self.changes = 0  # commits the watcher reported (tests)

    @property
    def is_url(self) -> bool:
        return isinstance(self.store_root, StoreURL)

    def feed(self, owner: Widget, read: Read, *, name: str, cursor: Any = None,
             interval: float | None | bool = True) -> Feed:
        """A feed for `owner`: `read(reader, cursor) -> (data, next_cursor)` on schedule once started.
        interval: True for the app's interval, a number of seconds for this feed's own, None to read once."""
        f = Feed(self, owner, read, name=name, cursor=cursor, interval=interval)
        self._feeds = [x for x in self._feeds if not x.stopped and (x.owner.is_attached or not x.started)]
        self._feeds.append(f)
        return f

    def load(self, owner: Widget, read: Callable[[Reader], Any], *, name: str) -> Feed:
        """A one-off read for `owner` now: `read(reader) -> data`, posted as Feed.Updated (retried until it
        succeeds or the returned feed is stopped)."""
        f = Feed(self, owner, lambda r, c: (read(r), c), name=name, interval=None, once=True)
        f.start()
        return f

    # ------------------------------------------------------------ schedule

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False
        self.wake()

    def wake(self) -> None:
        """Start a read of every sleeping feed whose panel is on screen now (tab or screen changes)."""
        if self.paused:
            return
        for f in list(self._feeds):
            if f.stopped or not f.owner.is_attached and f.started:
                continue
            if f.sleeping and is_shown(f.owner):
                f.poll_now()

    def start_waker(self) -> None:
        """The safety net: every WAKE_CHECK seconds, wake feeds whose panel came on screen unannounced."""
        if self._waker is None and self.interval:
            self._waker = self.app.set_interval(WAKE_CHECK, self.wake, name="live wake")

    # ------------------------------------------------------------ waking on commits

    def start_watch(self) -> None:
        """Start the thread that waits for commits (once per Live; the first feed with an interval starts it)."""
        if self._watch is not None or not self.interval:
            return
        self._watch = threading.Thread(target=self._watch_loop, name="tracktui live watch", daemon=True)
        self._watch.start()

    def _watch_loop(self) -> None:
        """(the watch thread) Wait for commits with a Reader of its own; on each, ask the main thread to read.
        A failed wait (the server away) is tried again after RETRY seconds; the feeds show the error. Ends
        within WATCH_TIMEOUT (RETRY while failing) seconds of the app."""
        reader: Reader | None = None
        ran = False  # the app has been seen running (a feed may start before it is)
        try:
            while True:
                if self.app.is_running:
                    ran = True
                elif ran:  # the app has ended
                    break
                try:
                    if reader is None:
                        reader = Reader(self.store_root)
                        reader.wait_for_change(0)  # the first call starts watching (the feeds read already)
                    changed = reader.wait_for_change(WATCH_TIMEOUT, poll=WATCH_POLL)
                except Exception:  # noqa: BLE001 - the feeds' own reads show what is wrong; try again
                    if reader is not None:
                        try:
                            reader.close()
                        except Exception:  # noqa: BLE001
                            pass
                    reader = None
                    time.sleep(RETRY)
                    continue
                if changed:
                    self.app.call_later(self._changed)  # thread-safe: a message to the app, no waiting
        finally:
            if reader is not None:
                try:
                    reader.close()
                except Exception:  # noqa: BLE001
                    pass

    def _changed(self) -> None:
        """(main thread) A writer committed: the feeds on screen read now (those that did not just read)."""
        self.changes += 1
        if self.paused:
            return
        now = time.monotonic()
        for f in list(self._feeds):
            if f.owner.is_attached:
                f.changed(now)
