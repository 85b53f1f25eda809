"""Console capture: stdout/stderr teed into the run's logs, one stored line per printed line.

Three producers feed one ConsoleCapture:
- "python" mode wraps sys.stdout/sys.stderr (the tee's hot path is one write plus one deque append);
- "fd" mode puts a pipe on file descriptors 1 and 2 (child processes, C extensions) and copies it through;
- `tracktui run` reads its child's pipes the same way.
A pump thread turns chunks into lines every PUMP_INTERVAL: carriage-return progress bars collapse to their
final state, long lines are cut, and past the run's cap only the beginning and the end are kept.
"""

from __future__ import annotations

import codecs
import collections
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from tracktui.store.records import LogLine, LogTrim

PUMP_INTERVAL = 0.2  # seconds between turning printed chunks into stored lines
GROUP_SECONDS = 0.02  # lines printed this close together share one timestamp (the last one's)
DEFAULT_MAX_BYTES = 32 * 1024 * 1024  # per run: the first half and the last half are kept
DEFAULT_MAX_LINE = 16 * 1024  # characters per stored line
TAIL_ERROR_LINES = 40  # stderr lines kept in memory for a failed `tracktui run`'s error

Put = Callable[[tuple[Any, ...]], None]


def _overwrite(cur: str, col: int | None, piece: str) -> tuple[str, int | None]:
    """Write piece at column col (None: at the end), as a terminal would; return the line and the column."""
    if col is None:
        return cur + piece, None
    cur = cur[:col] + piece + cur[col + len(piece):]
    col += len(piece)
    return cur, (None if col >= len(cur) else col)


def collapse_cr(line: str) -> str:
    """What a terminal shows for a line that a progress bar rewrote with carriage returns."""
    if "\r" not in line:
        return line
    cur, col = "", None
    for i, seg in enumerate(line.split("\r")):
        if i:
            col = 0 if cur else None
        cur, col = _overwrite(cur, col, seg)
    return cur


class _Stream:
    """The line being assembled for one stream: its displayed text and the cursor column."""

    __slots__ = ("name", "cur", "col", "cut")

    def __init__(self, name: str):
        self.name = name
        self.cur = ""
        self.col: int | None = None  # None: the cursor is at the end of cur
        self.cut = 0  # characters dropped from the current line


class ConsoleCapture:
    """Turns printed text into ("log", run_id, ts, stream, line) records, within the per-run cap."""

    def __init__(self, run_id: str, put: Put, max_bytes: int = DEFAULT_MAX_BYTES,
                 max_line: int = DEFAULT_MAX_LINE):
        self.run_id = run_id
        self._put = put
        self.max_line = max(16, int(max_line))
        self.head_budget = max(1, int(max_bytes) // 2)
        self.tail_budget = max(1, int(max_bytes) - self.head_budget)
        self.chunks: collections.deque[tuple[float, str, str]] = collections.deque()
        self._streams: dict[str, _Stream] = {}
        self._head_used = 0
        self._marker: str | None = None  # set once the head is full
        self._tail: collections.deque[int] = collections.deque()  # sizes of the stored tail lines
        self._tail_used = 0
        self._trim_due = False
        self._tail_stored = 0  # tail lines already queued for the store (the left end of _tail)
        self._cycle: list[tuple[float, str, str]] = []  # tail lines of this pump cycle, not queued yet
        self._cycle_drop = 0  # of which the first ones fell out of the tail before being queued
        self.lines_stored = 0
        self.lines_dropped = 0
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=TAIL_ERROR_LINES)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ producers

    def feed(self, stream: str, text: str, ts: float | None = None) -> None:
        """Queue printed text (any thread)."""
        self.chunks.append((time.time() if ts is None else ts, stream, text))

    # ------------------------------------------------------------ the pump

    def start(self) -> None:
        """Start the pump thread."""
        self._thread = threading.Thread(target=self._loop, name="tracktui-console", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(PUMP_INTERVAL):
            try:
                self.pump()
            except Exception:  # noqa: BLE001 - capture must never take the process down
                pass

    def pump(self, final: bool = False) -> None:
        """Turn queued chunks into stored lines (final: also the unfinished last line of each stream)."""
        with self._lock:
            chunks = self.chunks
            popleft = chunks.popleft
            group: list[str] = []
            g_stream, g_ts0, g_ts = "", 0.0, 0.0
            for _ in range(len(chunks)):  # what is there now: a flood that goes on waits for the next turn
                ts, stream, text = popleft()  # writes to one stream within GROUP_SECONDS are split at once
                if group and (stream != g_stream or ts - g_ts0 > GROUP_SECONDS):
                    self._text(g_ts, g_stream, "".join(group))
                    group = []
                if not group:
                    g_stream, g_ts0 = stream, ts
                group.append(text)
                g_ts = ts
            if group:
                self._text(g_ts, g_stream, "".join(group))
            if final:
                now = time.time()
                for st in self._streams.values():
                    if st.cur or st.cut:
                        self._line(now, st, st.cur)
            if self._cycle:  # a flood: only what is still in the tail window reaches the store
                kept = self._cycle[self._cycle_drop:]
                self._cycle = []
                self._cycle_drop = 0
                for ts, stream, line in kept:
                    self._store(ts, stream, line)
                self._tail_stored += len(kept)
            if self._trim_due and self._marker is not None:
                self._trim_due = False
                self._put(LogTrim(self.run_id, self._marker, len(self._tail)))

    def _text(self, ts: float, stream: str, text: str) -> None:
        st = self._streams.get(stream)
        if st is None:
            st = self._streams[stream] = _Stream(stream)
        if "\n" not in text:
            self._grow(st, text)
            return
        pieces = text.split("\n")
        last = pieces.pop()
        max_line = self.max_line
        line = self._line
        for piece in pieces:
            if st.cur or st.col is not None or "\r" in piece or len(piece) > max_line:
                self._grow(st, piece)
                line(ts, st, st.cur)
            else:  # the common case: a whole plain line
                line(ts, st, piece)
        self._grow(st, last)

    def _grow(self, st: _Stream, piece: str) -> None:
        if not piece:
            return
        if "\r" not in piece:
            cur, col = _overwrite(st.cur, st.col, piece)
        else:
            cur, col = st.cur, st.col
            for i, seg in enumerate(piece.split("\r")):
                if i:
                    col = 0 if cur else None
                cur, col = _overwrite(cur, col, seg)
        if len(cur) > self.max_line:
            st.cut += len(cur) - self.max_line
            cur = cur[: self.max_line]
            if col is not None and col >= len(cur):
                col = None
        st.cur, st.col = cur, col

    def _line(self, ts: float, st: _Stream, line: str) -> None:
        st.cur = ""
        st.col = None
        cut = st.cut
        st.cut = 0
        if not line.isascii():  # lone surrogates (from surrogateescape streams) cannot be stored
            line = line.encode("utf-8", "replace").decode("utf-8")
        if cut:
            line += f" … [{cut} characters cut]"
        if st.name == "stderr":
            self.stderr_tail.append(line)
        size = len(line) + 1
        if self._marker is None:
            if self._head_used + size <= self.head_budget:
                self._head_used += size
                self._store(ts, st.name, line)
                return
            self._marker = (f"[tracktui: console output passed {self.head_budget // 1024} KiB; "
                            f"from here only the last {self.tail_budget // 1024} KiB are kept]")
            self._store(ts, "tracktui", self._marker)
        self._cycle.append((ts, st.name, line))
        tail = self._tail
        tail.append(size)
        self._tail_used += size
        while self._tail_used > self.tail_budget and len(tail) > 1:
            self._tail_used -= tail.popleft()
            self.lines_dropped += 1
            if self._tail_stored:
                self._tail_stored -= 1
                self._trim_due = True  # stored already: deleted by a log_trim record
            else:
                self._cycle_drop += 1

    def _store(self, ts: float, stream: str, line: str) -> None:
        self.lines_stored += 1
        self._put(LogLine(self.run_id, ts, stream, line))

    def stop(self) -> None:
        """Stop the pump and store everything printed so far."""
        self._stop.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(2.0)
        self.pump(final=True)


# ---------------------------------------------------------------- python-level tee


class Tee:
    """Stands in for sys.stdout / sys.stderr: writes through, then queues the text for the run."""

    def __init__(self, stream: Any, name: str, capture: ConsoleCapture):
        self._stream = stream
        self._name = name
        self._chunks = capture.chunks
        self._on = True

    def write(self, s: str) -> int:
        """Write to the real stream, then queue s (the queue append is the whole cost)."""
        n = self._stream.write(s)
        if self._on and s:
            self._chunks.append((time.time(), self._name, s))
        return n

    def writelines(self, lines: Any) -> None:
        """Write each line."""
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


_all_tees: list[Tee] = []


def _after_fork_in_child() -> None:
    # A forked child (a DataLoader worker) has no pump thread: its writes pass straight through.
    for tee in _all_tees:
        tee._on = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class PythonTee:
    """console="python": sys.stdout and sys.stderr wrapped while the run lives."""

    def __init__(self, capture: ConsoleCapture):
        self.capture = capture
        self.tees: list[tuple[str, Tee, Any]] = []

    def start(self) -> None:
        """Wrap the streams."""
        for name in ("stdout", "stderr"):
            real = getattr(sys, name)
            if real is None or isinstance(real, Tee):
                continue
            tee = Tee(real, name, self.capture)
            _all_tees.append(tee)
            setattr(sys, name, tee)
            self.tees.append((name, tee, real))

    def stop(self) -> None:
        """Unwrap (a stream someone wrapped again stays, as a pass-through)."""
        for name, tee, real in self.tees:
            tee._on = False
            if getattr(sys, name) is tee:
                setattr(sys, name, real)
            if tee in _all_tees:
                _all_tees.remove(tee)
        self.tees = []


# ---------------------------------------------------------------- file-descriptor level


def copy_pipe(read_fd: int, out_fd: int | None, stream: str, capture: ConsoleCapture,
              stop: threading.Event | None = None) -> None:
    """Copy bytes from read_fd to out_fd unchanged and feed their text to capture, until EOF."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    feed = capture.feed
    while True:
        try:
            data = os.read(read_fd, 65536)
        except InterruptedError:
            continue
        except OSError:
            break
        if not data:
            break
        if out_fd is not None:
            _write_all(out_fd, data)
        text = decoder.decode(data)
        if text:
            feed(stream, text)
    rest = decoder.decode(b"", final=True)
    if rest:
        feed(stream, rest)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except InterruptedError:
            continue
        except OSError:
            return  # the terminal went away: keep capturing
        view = view[n:]


class FdTee:
    """console="fd": pipes on fds 1 and 2; child processes and C code are captured too."""

    def __init__(self, capture: ConsoleCapture):
        self.capture = capture
        # (fd, saved copy of it, pipe read end, copy thread)
        self._saved: list[tuple[int, int, int, threading.Thread]] = []

    def start(self) -> None:
        """Redirect fds 1 and 2 through pipes read by copy threads."""
        for fd, name, stream in ((1, "stdout", sys.stdout), (2, "stderr", sys.stderr)):
            try:
                if stream is not None:
                    stream.flush()
                saved = os.dup(fd)
                r, w = os.pipe()
                os.dup2(w, fd)
                os.close(w)
            except OSError:
                continue
            t = threading.Thread(target=copy_pipe, args=(r, saved, name, self.capture),
                                 name=f"tracktui-{name}", daemon=True)
            t.start()
            self._saved.append((fd, saved, r, t))

    def stop(self) -> None:
        """Put the original fds back and copy what is left in the pipes."""
        for s in (sys.stdout, sys.stderr):
            try:
                if s is not None:
                    s.flush()
            except Exception:  # noqa: BLE001
                pass
        for fd, saved, r, t in self._saved:
            try:
                os.dup2(saved, fd)  # closes our pipe's write end on fd: EOF once no child holds it
            except OSError:
                pass
            t.join(1.0)  # a child that still holds the pipe keeps it open: stop waiting
            if not t.is_alive():
                for x in (r, saved):
                    try:
                        os.close(x)
                    except OSError:
                        pass
        self._saved = []
