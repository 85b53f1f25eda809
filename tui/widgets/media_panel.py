"""MediaPanel: the media of one run, live: a list of media keys on the left, the viewer of one on the right.

    MediaPanel(live, run_id)

Its reads go through the live-data layer (tui/live.py): a feed reads the media keys and only the steps newer
than those already known; the viewer's data (decoded images, table rows, histograms over steps, plot rows,
metadata) and table thumbnails are one-off loads of the same layer (a failed read is shown and retried).

Keys: ←/→ scrub steps, [ and ] move through a gallery (enter: the selected item alone), l follows the latest
step, s sorts a table by the cursor's column (again, or S: the other way round), enter on a table's image cell
opens it full screen, w writes the item out to ./tracktui-media/<sha256 prefix>.<ext>, o opens it with the
system's viewer. Images with masks and boxes get the overlay keys (media_overlay.py): b boxes, m masks,
c each set and class, +/- the score threshold, f the score it reads.
Every string from the store is shown as data (Text, safe_text), never as markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import ContentSwitcher, DataTable, OptionList, Static
from textual.widgets.option_list import Option
from tracktui.store import Reader
from tracktui.store import media as smedia

from ..live import Feed, Live
from ..messages import ImageFullScreenRequested
from ..text import safe_text
from .media_file import FileViewer, describe_text, export_path, open_with_system, waveform, write_out
from .media_histogram import HistogramViewer, StepHistogram
from .media_image import HalfBlockImage, ImageViewer, decode
from .media_overlay import OVERLAY_BINDINGS, Overlay, OverlayKeys, OverlayView, read_overlay
from .media_plot import PlotViewer
from .media_table import MAX_ROWS_SHOWN, MediaTable, TableViewer, image_ref

MAX_GALLERY = 48  # gallery items decoded per step
MAX_PLOT_ROWS = 20_000  # rows of a plot read to draw it
MAX_HEATMAP_STEPS = 200  # histograms read for the heatmap (evenly spread over the steps, latest kept)
PREVIEW_BYTES = 64 << 10  # text and HTML read for the preview
GLYPHS = {"image": "▣", "table": "▦", "histogram": "▥", "plot": "◩", "audio": "♪", "video": "▶",
          "html": "⌘", "object3d": "◆", "text": "¶", "classes": "◈"}
VIEWS = {"image": "v-image", "table": "v-table", "histogram": "v-histogram", "plot": "v-plot"}
VIEWERS: dict[str, type[Widget]] = {"v-image": ImageViewer, "v-table": TableViewer,
                                    "v-histogram": HistogramViewer, "v-plot": PlotViewer, "v-file": FileViewer}


@dataclass
class MediaPolled:
    """The media keys of a run, and per key the steps newer than the ones the panel knew."""

    run_id: str
    keys: list[smedia.MediaKey]
    new_steps: dict[str, list[int]]


@dataclass
class ThumbnailLoaded:
    """A decoded image cell of a table (image None: it could not be read)."""

    cell: str  # cell_key() of the cell
    image: Any
    overlay: Overlay | None = None
    full: bool = False  # open it full screen


@dataclass
class MediaLoaded:
    """What the viewer of one key at one step needs, read in a thread (token: which load it answers)."""

    token: int
    key: str
    step: int | None
    items: list[smedia.MediaRow]
    payload: dict[str, Any] = field(default_factory=dict)


class MediaKeyList(OptionList):
    """The media keys; ←/→ are left to the panel (scrubbing), so the footer shows them."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """No horizontal scrolling here."""
        if action in ("scroll_left", "scroll_right"):
            return False
        return super().check_action(action, parameters)


class MediaPanel(OverlayKeys, Horizontal):
    """Every media key of a run: images and galleries (masks and boxes drawn on them), tables, histograms,
    plots, files; live."""

    BINDINGS = [
        Binding("left", "step(-1)", "Steps", key_display="←/→"),
        Binding("right", "step(1)", "Next step", show=False),
        Binding("left_square_bracket", "item(-1)", "Items", key_display="[/]"),
        Binding("right_square_bracket", "item(1)", "Next item", show=False),
        Binding("l", "latest", "Latest"),
        Binding("enter", "zoom", "Zoom", show=False),
        Binding("s", "sort", "Sort"),
        Binding("S", "sort_direction", "Sort direction", show=False),
        Binding("w", "write_out", "Write out"),
        Binding("o", "open_file", "Open"),
        *OVERLAY_BINDINGS,
    ]

    DEFAULT_CSS = """
    MediaPanel { height: 1fr; }
    MediaPanel > #media-keys { width: 28; height: 1fr; border: round $panel-lighten-2;
                               text-wrap: nowrap; text-overflow: ellipsis; }
    MediaPanel > #media-keys:focus { border: round $accent; }
    MediaPanel > #media-view { width: 1fr; height: 1fr; }
    MediaPanel #media-status { height: 1; background: $panel; text-wrap: nowrap; text-overflow: ellipsis; }
    MediaPanel ContentSwitcher { height: 1fr; }
    MediaPanel #v-empty { padding: 1 2; color: $text-muted; }
    """

    def __init__(self, live: Live, run_id: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.live = live
        self.run_id = run_id
        self.feed = live.feed(self, self._poll_read, name="media", cursor={})
        self._loads: dict[str, Feed] = {}  # the one-off load in flight per kind ("view", "thumb", "export")
        self.error: str | None = None  # why the last read failed (the layer retries)
        self.keys: list[smedia.MediaKey] = []
        self.steps: dict[str, list[int]] = {}
        self.current: str | None = None
        self.pos: dict[str, int | None] = {}  # index into steps[key]; None follows the latest
        self.item: dict[str, int] = {}
        self.sort: dict[str, tuple[int | None, bool]] = {}
        self.shown: MediaLoaded | None = None
        self.last_export: Path | None = None
        self.status = Text()
        self.zoom = False  # a gallery shows only its selected item
        self.thumbs: dict[str, tuple[Any, Overlay | None]] = {}  # decoded image cells by cell_key (a few)
        self.thumb_wanted: str | None = None
        self.overlay_view = OverlayView()  # what is drawn on images, the same for every key and step
        self._token = 0
        self._polled = False

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        keys = MediaKeyList(id="media-keys")
        keys.border_title = "media"
        yield keys
        with Vertical(id="media-view"):
            yield Static(id="media-status")
            with ContentSwitcher(initial="v-empty"):
                yield Static(Text("no media logged in this run yet"), id="v-empty")

    def on_mount(self) -> None:
        self.feed.start()

    # ------------------------------------------------------------ live data

    def _poll_read(self, r: Reader, known: dict[str, int]) -> tuple[MediaPolled, dict[str, int]]:
        """(worker thread) The media keys, and the steps of each newer than the last one known."""
        keys = smedia.media_keys(r, self.run_id)
        new: dict[str, list[int]] = {}
        for k in keys:
            last = known.get(k.key)
            if last is None or k.last_step > last:
                new[k.key] = smedia.media_steps(r, self.run_id, k.key, -1 if last is None else last)
        cursor = dict(known)
        for key, steps in new.items():
            if steps:
                cursor[key] = max(steps[-1], cursor.get(key, -1))
        return MediaPolled(self.run_id, keys, new), cursor

    def _load(self, kind: str, read: Any) -> None:
        """A one-off read of `kind` through the layer; a newer one of the same kind replaces it."""
        old = self._loads.get(kind)
        if old is not None:
            old.stop()
        self._loads[kind] = self.live.load(self, read, name=f"media-{kind}")

    def on_feed_failed(self, message: Feed.Failed) -> None:
        """Say why the media cannot be read (the layer tries again)."""
        message.stop()
        self.error = message.text
        self.update_status()

    async def on_feed_updated(self, message: Feed.Updated) -> None:
        """Route what a read brought: the poll, the viewer's data, a thumbnail, an export."""
        message.stop()
        if self.error is not None:
            self.error = None
            self.update_status()
        if message.feed is self.feed:
            self.on_media_polled(message.data)
        elif isinstance(message.data, MediaLoaded):
            await self.on_media_loaded(message.data)
        elif isinstance(message.data, ThumbnailLoaded):
            self.on_thumbnail_loaded(message.data)
        elif isinstance(message.data, tuple):  # an export: (path or None, what to say)
            path, text = message.data
            if path is not None:
                self._exported(path, text)
            else:
                self.notify(text, severity="error", markup=False)

    def on_media_polled(self, message: MediaPolled) -> None:
        """Merge new keys and steps; follow the latest step of the shown key."""
        old_names = [k.key for k in self.keys]
        self.keys = message.keys
        for key, steps in message.new_steps.items():
            self.steps.setdefault(key, []).extend(steps)
        self._fill_key_list(old_names != [k.key for k in self.keys])
        if self.current is None and self.keys:
            self.select_key(self.keys[0].key)
        elif self.current in message.new_steps and self._polled:
            ktype = self._type(self.current)
            if self.pos.get(self.current) is None or ktype == "histogram":
                self.load()
            else:
                self.update_status()
        self._polled = True

    def _fill_key_list(self, rebuild: bool) -> None:
        ol = self.query_one("#media-keys", OptionList)
        options = []
        for k in self.keys:
            t = Text(GLYPHS.get(k.type, "?") + " ", style="cyan")
            t.append(safe_text(k.key, limit=60))
            t.append(f"  {k.steps}", style="dim")
            options.append(Option(t, id=None))
        if rebuild or ol.option_count != len(options):
            highlighted = ol.highlighted
            ol.clear_options()
            ol.add_options(options)
            if self.current is not None:
                names = [k.key for k in self.keys]
                highlighted = names.index(self.current) if self.current in names else 0
            if options:
                ol.highlighted = highlighted or 0
        else:
            for i, opt in enumerate(options):
                ol.replace_option_prompt_at_index(i, opt.prompt)

    def _type(self, key: str | None) -> str | None:
        return next((k.type for k in self.keys if k.key == key), None)

    # ------------------------------------------------------------ choosing what to show

    @on(OptionList.OptionHighlighted, "#media-keys")
    def _key_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if 0 <= event.option_index < len(self.keys):
            self.select_key(self.keys[event.option_index].key)

    @on(OptionList.OptionSelected, "#media-keys")
    def _key_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_zoom()

    def select_key(self, key: str) -> None:
        """Show one media key (at the step last scrubbed to, or its latest)."""
        if key == self.current:
            return
        self.current = key
        names = [k.key for k in self.keys]
        ol = self.query_one("#media-keys", OptionList)
        if key in names and ol.highlighted != names.index(key):
            ol.highlighted = names.index(key)
        self.load()

    def current_step(self) -> int | None:
        """The step shown for the current key."""
        steps = self.steps.get(self.current or "", [])
        if not steps:
            return None
        pos = self.pos.get(self.current or "")
        return steps[-1] if pos is None else steps[max(0, min(pos, len(steps) - 1))]

    def load(self) -> None:
        """Read what the viewer needs for the current key and step (in a thread)."""
        key = self.current
        if key is None:
            return
        self._token += 1
        ktype = self._type(key)
        sort_col, desc = self.sort.get(key, (None, False))
        hist_steps = list(self.steps.get(key, [])) if ktype == "histogram" else []
        token, step = self._token, self.current_step()
        self._load("view", lambda r: self._load_read(r, token, key, step, ktype, sort_col, desc, hist_steps))

    def _load_read(self, r: Reader, token: int, key: str, step: int | None, ktype: str | None,
                   sort_col: int | None, desc: bool, hist_steps: list[int]) -> MediaLoaded:
        """(worker thread) What the viewer needs for one key at one step."""
        payload: dict[str, Any] = {}
        items = smedia.media_items(r, self.run_id, key, step)
        step = items[0].step if items else step
        kind = items[0].type if items else ktype
        if kind == "image":
            images, captions, overlays = [], [], []
            for it in items[:MAX_GALLERY]:
                data = smedia.blob(r, it.sha256) if it.sha256 else None
                try:
                    images.append(decode(data) if data else None)
                except Exception:  # noqa: BLE001 - an unreadable image is shown as missing
                    images.append(None)
                cap = it.meta.get("caption")
                captions.append(None if cap is None else str(cap))
                overlays.append(read_overlay(r, it.meta))
            payload.update(images=images, captions=captions, overlays=overlays)
        elif kind in ("table", "plot") and items:
            limit = MAX_ROWS_SHOWN if kind == "table" else MAX_PLOT_ROWS
            payload["rows"] = smedia.table_rows(r, self.run_id, key, items[0].step, 0, limit=limit,
                                                order_by=sort_col, descending=desc)
            payload["count"] = smedia.table_count(r, self.run_id, key, items[0].step, 0)
        elif kind == "histogram":
            payload["histograms"] = _histograms(r, self.run_id, key, hist_steps, step)
        elif kind in ("text", "html") and items and items[0].sha256:
            data = smedia.blob(r, items[0].sha256) or b""
            payload["preview"] = data[:PREVIEW_BYTES].decode("utf-8", errors="replace")
        elif kind in ("audio", "video") and items and items[0].sha256:
            fmt = items[0].meta.get("format")
            if (kind, fmt) in (("audio", "wav"), ("video", "gif")):
                data = smedia.blob(r, items[0].sha256) or b""
                try:
                    if kind == "audio":
                        payload["wave"] = waveform(data)
                    else:
                        payload["poster"] = decode(data)  # the first frame
                except Exception:  # noqa: BLE001 - unreadable: described by its metadata only
                    pass
        return MediaLoaded(token, key, step, items, payload)

    async def _use_view(self, view: str) -> None:
        """Show one viewer, mounting it the first time it is needed (a run screen opens faster)."""
        switcher = self.query_one(ContentSwitcher)
        try:
            switcher.get_child_by_id(view)
        except NoMatches:
            await switcher.add_content(VIEWERS[view](id=view))
        switcher.current = view

    async def on_media_loaded(self, message: MediaLoaded) -> None:
        """Show what was read, if it is still what is wanted."""
        if not self.is_attached or message.token != self._token:
            return
        items = message.items
        view = "v-empty" if not items else VIEWS.get(items[0].type, "v-file")
        await self._use_view(view)
        if message.token != self._token:  # a newer load started while the viewer was mounted
            return
        self.shown = message
        if not items:
            self.update_status()
            return
        kind = items[0].type
        p = message.payload
        if kind == "image":
            self._show_images()
        elif kind == "table":
            col, desc = self.sort.get(message.key, (None, False))
            self.query_one(MediaTable).show(list(items[0].meta.get("columns") or []), p.get("rows", []),
                                            col, desc)
            self._update_thumbnail()
        elif kind == "plot":
            meta = items[0].meta
            self.query_one(PlotViewer).show(dict(meta.get("spec") or {}), list(meta.get("columns") or []),
                                            p.get("rows", []))
        elif kind == "histogram":
            hs: list[StepHistogram] = p.get("histograms", [])
            current = next((h for h in hs if h.step == message.step), hs[-1] if hs else None)
            self.query_one(HistogramViewer).show(hs, current)
        else:
            it = items[self._item_index()]
            desc = describe_text(kind, it.meta, smedia.describe({"_type": kind, **it.meta}), it.sha256,
                                 it.size, p.get("preview"))
            first = self._item_index() == 0  # the poster and waveform are read for the first item
            self.query_one(FileViewer).show(desc, p.get("poster") if first else None,
                                            p.get("wave") if first else None)
        self.update_status()
        self.refresh_bindings()  # the overlay keys show only for images that have overlays

    def _show_images(self) -> None:
        if self.shown is None:
            return
        p = self.shown.payload
        self.query_one(ImageViewer).show(p.get("images", []), p.get("captions", []), self._item_index(),
                                         self.zoom, p.get("overlays"), self.overlay_view)
        self.refresh_bindings()

    def _item_index(self) -> int:
        n = len(self.shown.items) if self.shown else 0
        i = self.item.get(self.current or "", 0)
        return max(0, min(i, n - 1)) if n else 0

    def update_status(self) -> None:
        """Key, step (position among the key's steps), gallery item, description, caption."""
        t = self.status = Text(no_wrap=True, overflow="ellipsis")
        if self.error:
            t.append(f" ⚠ {safe_text(self.error, limit=160)} ", style="bold red")
        key = self.current
        if key is None:
            self.query_one("#media-status", Static).update(t)
            return
        t.append(" " + safe_text(key, limit=50), style="bold")
        steps = self.steps.get(key, [])
        step = self.shown.step if self.shown and self.shown.key == key else self.current_step()
        if step is not None:
            idx = steps.index(step) + 1 if step in steps else len(steps)
            t.append(f" · step {step:,} ({idx}/{len(steps)})")
            if self.pos.get(key) is None:
                t.append(" latest", style="green")
        shown = self.shown if self.shown and self.shown.key == key else None
        if shown and shown.items:
            n = len(shown.items)
            it = shown.items[self._item_index()]
            if n > 1:
                t.append(f" · item {self._item_index() + 1}/{n}")
            desc = smedia.describe({"_type": it.type, **it.meta})
            t.append(" · " + safe_text(desc, limit=60), style="cyan")
            if it.type in ("table", "plot") and "count" in shown.payload:
                count = shown.payload["count"]
                if count > len(shown.payload.get("rows", [])):
                    t.append(f" (first {len(shown.payload['rows']):,} of {count:,})", style="yellow")
            cap = it.meta.get("caption")
            if cap is not None:
                t.append(" · ")
                t.append(safe_text(cap, limit=60), style="italic")
        self.query_one("#media-status", Static).update(t)

    # ------------------------------------------------------------ overlays

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The overlay keys only where an image shown has what they work on."""
        found = self.check_overlay_action(action)
        return super().check_action(action, parameters) if found is None else found

    def shown_overlays(self) -> list[Overlay]:
        """The overlays of the images shown: the gallery's tiles, or a table's image cell under the cursor."""
        if self.shown is None or not self.shown.items or self.shown.key != self.current:
            return []
        kind = self.shown.items[0].type
        try:
            if kind == "image":
                viewer = self.query_one(ImageViewer)
                return [o for i in viewer.shown_range(self.zoom) if i < len(viewer.overlays)
                        if (o := viewer.overlays[i]) is not None]
            if kind == "table":
                thumb = self.query_one(TableViewer).query_one(HalfBlockImage)
                return [thumb.overlay] if thumb.overlay is not None and thumb.image is not None else []
        except NoMatches:  # the viewer is not mounted yet
            pass
        return []

    def redraw_overlays(self) -> None:
        """Draw the images again as overlay_view says."""
        if self.shown is None or not self.shown.items:
            return
        if self.shown.items[0].type == "image":
            self.query_one(ImageViewer).redraw_overlays()
        elif self.shown.items[0].type == "table":
            self.query_one(TableViewer).query_one(HalfBlockImage).redraw()
        self.refresh_bindings()

    # ------------------------------------------------------------ actions

    def action_step(self, delta: int) -> None:
        """Scrub to the previous or next step of the shown key."""
        key = self.current
        steps = self.steps.get(key or "", [])
        if key is None or not steps:
            return
        pos = self.pos.get(key)
        cur = len(steps) - 1 if pos is None else pos
        new = max(0, min(len(steps) - 1, cur + delta))
        if new == cur:
            return
        self.pos[key] = None if new == len(steps) - 1 and delta > 0 else new
        self.load()

    def action_latest(self) -> None:
        """Show the latest step and follow new ones."""
        if self.current is not None:
            self.pos[self.current] = None
            self.load()

    async def action_item(self, delta: int) -> None:
        """Move to the previous or next item of a gallery."""
        if self.current is None or self.shown is None or not self.shown.items:
            return
        n = len(self.shown.items)
        self.item[self.current] = max(0, min(n - 1, self._item_index() + delta))
        if self.shown.items[0].type == "image":
            self._show_images()
        else:
            await self.on_media_loaded(self.shown)
        self.update_status()

    def action_zoom(self) -> None:
        """A gallery: show the selected item alone, or all of them again."""
        if self.shown is not None and self.shown.items and self.shown.items[0].type == "image":
            self.zoom = not self.zoom
            self._show_images()

    def action_sort_direction(self) -> None:
        """Reverse the sort of a table (sorting by its first column if it was unsorted)."""
        key = self.current
        if key is None or self._type(key) != "table":
            return
        col, desc = self.sort.get(key, (None, False))
        self.sort[key] = (0 if col is None else col, not desc)
        self.load()

    def action_sort(self) -> None:
        """Sort a table by the column under the cursor (again: the other way round)."""
        if self.shown is None or not self.shown.items or self.shown.items[0].type != "table":
            return
        table = self.query_one(MediaTable)
        col = table.cursor_column if table.columns_names else 0
        self.sort_table(col)

    def sort_table(self, column: int) -> None:
        """Sort the shown table by a column index (the store sorts all rows)."""
        key = self.current
        if key is None:
            return
        old_col, desc = self.sort.get(key, (None, False))
        self.sort[key] = (column, not desc if old_col == column else False)
        self.load()

    @on(DataTable.HeaderSelected)
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_table(event.column_index)

    def _cursor_image(self) -> dict[str, Any] | None:
        """The image cell under the table's cursor, when a table is shown."""
        if self.shown is None or not self.shown.items or self.shown.items[0].type != "table":
            return None
        table = self.query_one(MediaTable)
        rows = self.shown.payload.get("rows", [])
        r, c = table.cursor_coordinate
        if not (0 <= r < len(rows)) or not (0 <= c < len(rows[r])):
            return None
        return image_ref(rows[r][c])

    @on(DataTable.CellHighlighted)
    def _cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        event.stop()
        self._update_thumbnail()

    @on(DataTable.CellSelected)
    def _cell_selected(self, event: DataTable.CellSelected) -> None:
        """enter on an image cell: that image full screen, with its masks and boxes."""
        event.stop()
        ref = self._cursor_image()
        if ref is None:
            return
        if cell_key(ref) in self.thumbs:
            self._open_cell(ref, *self.thumbs[cell_key(ref)])
        else:
            self._thumb_read(ref, full=True)

    def _update_thumbnail(self) -> None:
        ref = self._cursor_image()
        viewer = self.query_one(TableViewer)
        if ref is None:
            self.thumb_wanted = None
            viewer.set_thumbnail(None)
            self.refresh_bindings()
            return
        key = cell_key(ref)
        self.thumb_wanted = key
        if key in self.thumbs:
            viewer.set_thumbnail(*self.thumbs[key], self.overlay_view)
            self.refresh_bindings()
        else:
            self._thumb_read(ref)

    def _thumb_read(self, ref: dict[str, Any], full: bool = False) -> None:
        self._load("thumb", lambda r: self._thumb_load(r, ref, full))

    @staticmethod
    def _thumb_load(r: Reader, ref: dict[str, Any], full: bool) -> ThumbnailLoaded:
        """(worker thread) A decoded image cell of a table."""
        sha = ref["sha256"]
        overlay = None
        data = smedia.blob(r, sha)
        try:
            overlay = read_overlay(r, ref)
        except Exception:  # noqa: BLE001 - drawn without its overlay
            overlay = None
        try:
            image = decode(data) if data else None
        except Exception:  # noqa: BLE001 - an unreadable cell shows no thumbnail
            image = None
        return ThumbnailLoaded(cell_key(ref), image, overlay, full)

    def on_thumbnail_loaded(self, message: ThumbnailLoaded) -> None:
        """Show the thumbnail if the cursor is still on that cell (or open it full screen, if asked)."""
        if not self.is_attached:
            return
        if len(self.thumbs) >= 64:
            self.thumbs.clear()
        self.thumbs[message.cell] = (message.image, message.overlay)
        if message.cell == self.thumb_wanted:
            self.query_one(TableViewer).set_thumbnail(message.image, message.overlay, self.overlay_view)
            self.refresh_bindings()
        ref = self._cursor_image()
        if message.full and ref is not None and cell_key(ref) == message.cell:
            self._open_cell(ref, message.image, message.overlay)

    def _open_cell(self, ref: dict[str, Any], image: Any, overlay: Overlay | None) -> None:
        """Ask the screen to show a table's image cell full screen (the overlay view shared with this tab)."""
        if image is None:
            self.notify("this image could not be read", severity="warning", markup=False)
            return
        shown = self.shown
        title = f"{self.current} · step {shown.step if shown else '?'} · {smedia.describe(ref)}"
        self.post_message(ImageFullScreenRequested(title, image, overlay, self.overlay_view,
                                                   on_change=self.redraw_overlays))

    def _current_file(self) -> smedia.MediaRow | None:
        if self.shown is None or not self.shown.items or self.shown.key != self.current:
            return None
        it = self.shown.items[self._item_index()]
        cell = self._cursor_image()
        if cell is not None:  # a table's image cell under the cursor
            meta = {k: v for k, v in cell.items() if k not in ("_type", "sha256")}
            return smedia.MediaRow(it.run_id, it.key, it.step, it.index, "image", cell["sha256"], None, meta)
        return it if it.sha256 else None

    def action_write_out(self) -> None:
        """Write the shown item's bytes to ./tracktui-media/<sha256 prefix>.<ext>."""
        it = self._current_file()
        if it is None:
            self.notify("this item has no file to write out (tables, plots and histograms live in the store)",
                        severity="warning", markup=False)
            return
        self._export(it, Path.cwd(), False)

    def action_open_file(self) -> None:
        """Write the shown item out, then open it with the system's viewer (xdg-open / open)."""
        it = self._current_file()
        if it is None:
            self.notify("this item has no file to open", severity="warning", markup=False)
            return
        self._export(it, Path.cwd(), True)

    def _exported(self, path: Path, message: str) -> None:
        self.last_export = path
        self.notify(message, markup=False)

    def _export(self, it: smedia.MediaRow, base: Path, open_it: bool) -> None:
        self._load("export", lambda r: self._export_read(r, it, base, open_it))

    @staticmethod
    def _export_read(r: Reader, it: smedia.MediaRow, base: Path, open_it: bool) -> tuple[Path | None, str]:
        """(worker thread) Write an item's bytes out: (the path, what to say), or (None, why not)."""
        data = smedia.blob(r, it.sha256 or "")  # a store that cannot be read is retried by the layer
        try:
            if data is None:
                raise LookupError("its bytes are missing from the store")
            path = write_out(data, export_path(it.sha256 or "", it.type, it.meta, base))
            shown = str(path.relative_to(base)) if path.is_relative_to(base) else str(path)
            msg = f"wrote {len(data):,} bytes to {shown}"
            if open_it:
                opener = open_with_system(path)
                msg += f"; opened with {opener}" if opener else "; no system viewer (xdg-open / open) found"
            return path, msg
        except Exception as e:  # noqa: BLE001 - a failed export is reported, never raised
            return None, f"could not write the file out: {e}"


def cell_key(ref: dict[str, Any]) -> str:
    """What tells image cells apart: the same pixels may carry other masks and boxes."""
    import json

    drawn = {k: ref.get(k) for k in ("masks", "boxes", "classes") if ref.get(k)}
    return ref["sha256"] + (":" + json.dumps(drawn, sort_keys=True, default=str) if drawn else "")


def _histograms(r: Reader, run_id: str, key: str, steps: list[int],
                current: int | None) -> list[StepHistogram]:
    """Histograms of key at up to MAX_HEATMAP_STEPS steps (evenly spread; the latest and current kept)."""
    if len(steps) > MAX_HEATMAP_STEPS:
        n = MAX_HEATMAP_STEPS
        picks = {steps[round(i * (len(steps) - 1) / (n - 1))] for i in range(n)}
    else:
        picks = set(steps)
    if current is not None:
        picks.add(current)
    out = []
    for step in sorted(picks):
        items = smedia.media_items(r, run_id, key, step)
        if not items or items[0].type != "histogram":
            continue
        h = _step_histogram(step, items[0].meta)
        if h is not None:
            out.append(h)
    return out


def _step_histogram(step: int, meta: dict[str, Any]) -> StepHistogram | None:
    counts = meta.get("values")
    if not isinstance(counts, list) or not counts:
        return None
    counts = [c if isinstance(c, (int, float)) and not isinstance(c, bool) else 0 for c in counts]
    if isinstance(meta.get("bins"), list):
        edges = meta["bins"]
    else:
        lo, hi, n = meta.get("lo"), meta.get("hi"), len(counts)
        if not isinstance(lo, (int, float)) or not isinstance(hi, (int, float)):
            return None
        edges = [lo + i * (hi - lo) / n for i in range(n)] + [hi]
    if len(edges) != len(counts) + 1:
        return None
    return StepHistogram(step, counts, edges)
