"""Media in the store: the "media" writer op (encoding on the writer thread) and the read-side queries.

A logged media object reaches the writer as ("media", run_id, key, step, [Item, ...]) (a list: a gallery).
Before the write transaction opens, the writer encodes what the calling thread left raw (pixels to PNG,
samples to WAV, frames to GIF, points to float32) and hashes the bytes; the handler then stores the bytes
once in `blobs` (content-addressed by sha256) and one `media` row per item (type + JSON metadata), plus one
`media_rows` row per table row. No file is ever created from a key or any other user string.

Nothing here imports the SDK; numpy and Pillow are imported only when something needs them.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from . import codec, report
from .writer import PREPARERS, Batch, Record, register_handler

MAX_MEDIA_BYTES = 64 << 20  # one encoded image, audio, video, HTML page or 3D file
MAX_TABLE_ROWS = 200_000  # rows of one table or plot
MAX_TABLE_CELLS = 5_000_000  # cells of one table
MAX_PENDING_BYTES = 512 << 20  # raw pixels/samples queued for encoding before log() waits for the writer
PNG_COMPRESS_LEVEL = 6  # Pillow's default: smaller stores, encoding happens on the writer thread anyway

_pending_bytes = 0
_pending_cv = threading.Condition()


def too_big(what: str, size: int, cap: int = MAX_MEDIA_BYTES) -> str:
    """The message for an object over a size cap."""
    return (
        f"{what} is {size / 2**20:.1f} MiB, more than the {cap / 2**20:.0f} MiB a single media object "
        f"may take in the store; resize it, or save the file with run.save() instead"
    )


@dataclass
class Item:
    """One media object on its way to the store: what the SDK made of it, cheap to build."""

    type: str  # image, table, histogram, plot, audio, video, html, object3d, text, molecule, plotly
    meta: dict[str, Any] = field(default_factory=dict)
    data: bytes | None = None  # the encoded bytes, when already known
    raw: Any = None  # pixels / samples / frames / points to encode on the writer thread
    rows: list[list[Any]] | None = None  # table and plot rows; image cells are Items
    sha256: str | None = None
    error: str | None = None
    blobs: dict[str, bytes] = field(default_factory=dict)  # bytes of image cells and masks, by sha256
    masks: dict[str, Any] | None = None  # an image's masks (H×W uint8 class ids) by name, to encode as PNG
    row_json: list[str] | None = None
    meta_json: str | None = None
    pending: int = 0  # raw bytes counted in the queue-wide total until encoded

    def ref(self) -> dict[str, Any]:
        """The JSON a table cell keeps for this (image) item."""
        return {"_type": self.type, "sha256": self.sha256, **self.meta}


# ---------------------------------------------------------------- encoding (writer thread)


def encode_png(raw: Any) -> bytes:
    """PNG bytes of a uint8 array (H×W, H×W×3, H×W×4) or of a PIL image."""
    from PIL import Image as PILImage

    img = raw if isinstance(raw, PILImage.Image) else PILImage.fromarray(raw)
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buf.getvalue()


def encode_wav(raw: Any, sample_rate: int) -> bytes:
    """16-bit PCM WAV bytes of samples (n,) or (n, channels): floats in -1..1 or int16."""
    import wave

    import numpy as np

    a = np.asarray(raw)
    if a.dtype != np.int16:
        a = (np.clip(a.astype(np.float64), -1.0, 1.0) * 32767.0).round().astype("<i2")
    channels = 1 if a.ndim == 1 else a.shape[1]
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(np.ascontiguousarray(a, dtype="<i2").tobytes())
    return buf.getvalue()


def encode_gif(frames: Any, fps: float) -> bytes:
    """An animated GIF of uint8 frames (T×H×W×C, C in 1, 3, 4)."""
    from PIL import Image as PILImage

    imgs = []
    for f in frames:
        if f.shape[-1] == 1:
            f = f[..., 0]
        img = PILImage.fromarray(f)
        imgs.append(img.convert("RGB") if img.mode == "RGBA" else img)
    buf = io.BytesIO()
    imgs[0].save(
        buf, format="GIF", save_all=True, append_images=imgs[1:], loop=0, duration=max(1, round(1000 / fps))
    )
    return buf.getvalue()


VIDEO_CODECS = {"mp4": "libx264", "webm": "libvpx-vp9", "ogg": "libtheora"}  # what ffmpeg encodes each with
VIDEO_MUXERS = {"mp4": "mp4", "webm": "webm", "ogg": "ogg"}
VIDEO_MAGIC = {"mp4": b"ftyp", "webm": b"\x1aE\xdf\xa3", "ogg": b"OggS"}


def video_encoder() -> str | None:
    """The package that encodes frames as mp4/webm/ogg ("imageio" with imageio-ffmpeg), or None; imports
    nothing."""
    import importlib.util

    found = all(importlib.util.find_spec(m) is not None for m in ("imageio", "imageio_ffmpeg"))
    return "imageio" if found else None


def encode_ffmpeg(frames: Any, fps: float, fmt: str) -> bytes:
    """mp4 (H.264), webm (VP9) or ogg (Theora) bytes of uint8 frames T×H×W×C, through imageio's ffmpeg
    plugin; odd sizes are padded by one black row/column (yuv420p needs even sizes)."""
    import os
    import tempfile

    import imageio.v2 as iio
    import numpy as np

    a = np.asarray(frames)
    if a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
    elif a.shape[-1] == 4:
        a = a[..., :3]
    pad_h, pad_w = a.shape[1] % 2, a.shape[2] % 2
    if pad_h or pad_w:
        a = np.pad(a, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)))
    fd, path = tempfile.mkstemp(suffix=".mkv")  # imageio takes no .ogg name: the muxer is named instead
    os.close(fd)
    try:
        with iio.get_writer(path, format="FFMPEG", mode="I", fps=fps, codec=VIDEO_CODECS[fmt],
                            pixelformat="yuv420p", macro_block_size=1, ffmpeg_log_level="error",
                            output_params=["-f", VIDEO_MUXERS[fmt]]) as w:
            for f in a:
                w.append_data(np.ascontiguousarray(f))
        with open(path, "rb") as f:
            data = f.read()
    finally:
        os.unlink(path)
    if VIDEO_MAGIC[fmt] not in data[:12]:  # ffmpeg failed (a missing codec...) and imageio did not say so
        raise RuntimeError(f"ffmpeg wrote no {fmt} ({len(data)} bytes)")
    return data


def encode_video(frames: Any, meta: dict[str, Any]) -> bytes:
    """The frames in meta["format"] (gif, mp4, webm, ogg); a failed ffmpeg encoding falls back to GIF with one
    warning (meta["format"] then says gif)."""
    fmt, fps = meta.get("format", "gif"), meta.get("fps") or 4
    if fmt in VIDEO_CODECS:
        try:
            return encode_ffmpeg(frames, fps, fmt)
        except Exception as e:  # noqa: BLE001 - no encoder, a codec missing from ffmpeg...: keep the frames
            report.once(f"video-encode:{fmt}:{type(e).__name__}",
                        f"tracktui.Video: encoding {fmt} failed ({type(e).__name__}: {e}); the video is stored "
                        f"as GIF instead")
            meta["format"] = "gif"
    return encode_gif(frames, fps)


def _encode(item: Item) -> None:
    """Fill item.data (and sha256) from item.raw; set item.error instead of raising."""
    if item.sha256 is not None or item.error is not None:
        return
    try:
        if item.data is None and item.raw is not None:
            t = item.type
            if t == "image":
                item.data = encode_png(item.raw)
            elif t == "audio":
                item.data = encode_wav(item.raw, item.meta["sample_rate"])
            elif t == "video":
                item.data = encode_video(item.raw, item.meta)
            elif t == "object3d":
                import numpy as np

                item.data = np.ascontiguousarray(item.raw, dtype="<f4").tobytes()
            else:
                raise ValueError(f"nothing encodes raw data of a {t}")
            item.raw = None
        if item.masks:
            _encode_masks(item)
        if item.data is not None:
            if len(item.data) > MAX_MEDIA_BYTES:
                raise ValueError(too_big(f"the encoded {item.type}", len(item.data)))
            item.sha256 = hashlib.sha256(item.data).hexdigest()
        if item.rows is not None:
            _encode_rows(item)
        try:
            item.meta_json = json.dumps(item.meta, allow_nan=False)
        except ValueError:  # NaN or Inf somewhere: tagged as codec does
            item.meta_json = codec.dumps(item.meta)
    except Exception as e:  # noqa: BLE001 - reported once, the other items and keys are kept
        item.error = f"{type(e).__name__}: {e}"
        item.raw = item.data = None


def encoded_bytes(item: Item) -> bytes:
    """The bytes the writer will store for item (encoding its raw data now, on the calling thread)."""
    _encode(item)
    if item.error is not None:
        raise ValueError(item.error)
    return item.data or b""


def _encode_masks(item: Item) -> None:
    """Each mask as a PNG blob (mode L, one class id a pixel), its sha256 noted in meta["masks"][name]."""
    for name, ids in item.masks.items():
        data = encode_png(ids)
        sha = hashlib.sha256(data).hexdigest()
        item.blobs[sha] = data
        item.meta["masks"][name]["sha256"] = sha
    item.masks = None


def _encode_rows(item: Item) -> None:
    rows = item.rows or []
    out = []
    dumps = codec.dumps
    for row in rows:
        if any(isinstance(c, Item) for c in row):
            cells = []
            for c in row:
                if isinstance(c, Item):
                    _encode(c)
                    if c.error is not None:
                        raise ValueError(f"an image cell could not be stored ({c.error})")
                    if c.sha256 is not None and c.data is not None:
                        item.blobs[c.sha256] = c.data
                    item.blobs.update(c.blobs)  # the cell's masks
                    c = c.ref()
                cells.append(c)
            row = cells
        out.append(dumps(row))
    item.row_json = out
    item.rows = None


def prepare(records: list[Record]) -> None:
    """Encode every item of these media records (the writer calls this before its transaction)."""
    global _pending_bytes
    for r in records:
        for item in r[4]:
            _encode(item)
            if item.pending:
                with _pending_cv:
                    _pending_bytes -= item.pending
                    item.pending = 0
                    _pending_cv.notify_all()


def _raw_size(raw: Any) -> int:
    size = getattr(raw, "nbytes", None)
    if isinstance(size, int):
        return size
    if hasattr(raw, "size") and hasattr(raw, "getbands"):  # a PIL image
        return int(raw.size[0] * raw.size[1] * len(raw.getbands()))
    return 0


def count_pending(items: list[Item]) -> bool:
    """Add the raw bytes of items to the queue-wide total; True when it is over MAX_PENDING_BYTES."""
    global _pending_bytes
    with _pending_cv:
        for item in items:
            raw = item.raw
            if raw is not None and item.pending == 0 and item.sha256 is None and item.error is None:
                item.pending = _raw_size(raw)
                _pending_bytes += item.pending
        return _pending_bytes > MAX_PENDING_BYTES


def wait_pending(timeout: float) -> bool:
    """Wait until the raw bytes waiting for the encoder are under MAX_PENDING_BYTES; False on timeout."""
    with _pending_cv:
        return _pending_cv.wait_for(lambda: _pending_bytes <= MAX_PENDING_BYTES, timeout)


def pending_bytes() -> int:
    """Raw bytes queued for encoding (all runs of this process)."""
    return _pending_bytes


def _write_media(batch: Batch, records: list[Record]) -> None:
    """("media", run_id, key, step, [Item, ...]): one media row per item; a later log of the same key and
    step replaces the earlier one."""
    conn = batch.conn
    prepare(records)  # a no-op when the writer's prepare step already ran
    blob_sql = "INSERT INTO blobs(sha256, size, data) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
    for _, run_id, key, step, items in records:
        conn.execute("DELETE FROM media WHERE run_id = ? AND key = ? AND step = ?", (run_id, key, step))
        conn.execute("DELETE FROM media_rows WHERE run_id = ? AND key = ? AND step = ?", (run_id, key, step))
        for idx, item in enumerate(items):
            if item.error is not None:
                report.once(
                    f"media:{run_id}:{key}:{item.error[:40]}",
                    f"tracktui: the {item.type} logged under {key!r} at step {step} could not be stored "
                    f"({item.error}); it was skipped",
                )
                continue
            for sha, data in item.blobs.items():
                conn.execute(blob_sql, (sha, len(data), data))
            if item.data is not None:
                conn.execute(blob_sql, (item.sha256, len(item.data), item.data))
            conn.execute(
                "INSERT INTO media(run_id, key, step, idx, type, sha256, size, meta) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(run_id, key, step, idx) DO UPDATE SET "
                "type = excluded.type, sha256 = excluded.sha256, size = excluded.size, meta = excluded.meta",
                (
                    run_id,
                    key,
                    step,
                    idx,
                    item.type,
                    item.sha256,
                    None if item.data is None else len(item.data),
                    item.meta_json or codec.dumps(item.meta),
                ),
            )
            if item.row_json:
                conn.executemany(
                    "INSERT INTO media_rows(run_id, key, step, idx, row, cells) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT(run_id, key, step, idx, row) DO UPDATE SET cells = excluded.cells",
                    [(run_id, key, step, idx, i, cells) for i, cells in enumerate(item.row_json)],
                )


register_handler("media", _write_media)
PREPARERS["media"] = prepare


# ---------------------------------------------------------------- reading


@dataclass
class MediaKey:
    """A media key of a run: its type, how many steps hold it, the first and last of them."""

    key: str
    type: str
    steps: int
    first_step: int
    last_step: int


@dataclass
class MediaRow:
    """One stored media item: where it was logged, its type, its bytes' sha256 and size, its metadata."""

    run_id: str
    key: str
    step: int
    index: int
    type: str
    sha256: str | None
    size: int | None
    meta: dict[str, Any]


def _all(reader: Any, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    try:
        return reader._all(sql, params)
    except sqlite3.OperationalError as e:  # a store made before the media tables existed
        if "no such table" in str(e):
            return []
        raise


def media_keys(reader: Any, run_id: str) -> list[MediaKey]:
    """The media keys of a run (sorted), with their type and step range."""
    rows = _all(
        reader,
        "SELECT key, min(type), count(DISTINCT step), min(step), max(step) FROM media "
        "WHERE run_id = ? GROUP BY key ORDER BY key",
        (run_id,),
    )
    return [MediaKey(*r) for r in rows]


def media_steps(reader: Any, run_id: str, key: str, since_step: int = -1) -> list[int]:
    """The steps at which key holds media, after since_step, in order."""
    return [
        r[0]
        for r in _all(
            reader,
            "SELECT DISTINCT step FROM media WHERE run_id = ? AND key = ? AND step > ? ORDER BY step",
            (run_id, key, since_step),
        )
    ]


def media_items(reader: Any, run_id: str, key: str, step: int | None = None) -> list[MediaRow]:
    """The items (one, or a gallery) of key at step; step None means the last step that has any."""
    if step is None:
        last = _all(reader, "SELECT max(step) FROM media WHERE run_id = ? AND key = ?", (run_id, key))
        if not last or last[0][0] is None:
            return []
        step = last[0][0]
    rows = _all(
        reader,
        "SELECT idx, type, sha256, size, meta FROM media WHERE run_id = ? AND key = ? AND step = ? "
        "ORDER BY idx",
        (run_id, key, step),
    )
    return [
        MediaRow(run_id, key, step, idx, t, sha, size, codec.loads(meta)) for idx, t, sha, size, meta in rows
    ]


def blob(reader: Any, sha256: str) -> bytes | None:
    """The bytes stored under a sha256."""
    rows = _all(reader, "SELECT data FROM blobs WHERE sha256 = ?", (sha256,))
    return bytes(rows[0][0]) if rows else None


def table_rows(
    reader: Any,
    run_id: str,
    key: str,
    step: int,
    index: int = 0,
    offset: int = 0,
    limit: int | None = None,
    where: dict[int, Any] | None = None,
    order_by: int | None = None,
    descending: bool = False,
) -> list[list[Any]]:
    """Rows (lists of cells) of a stored table or plot; where = {column index: value} filters by equality,
    order_by sorts by a column index (row order otherwise). Image cells come back as dicts with a sha256."""
    engine = reader.engine
    sql = "SELECT cells FROM media_rows WHERE run_id = ? AND key = ? AND step = ? AND idx = ?"
    params: list[Any] = [run_id, key, step, index]
    for col, value in (where or {}).items():
        if value is None:
            sql += f" AND {engine.json_cell_is_null('cells', col)}"
        else:
            sql += f" AND {engine.json_cell('cells', col)} = ?"
            params.append(engine.json_param(value))
    if order_by is not None:
        sql += f" ORDER BY {engine.order_cell('cells', order_by, descending)}, row"
    else:
        sql += " ORDER BY row"
    sql += " LIMIT ? OFFSET ?"
    params += [1 << 62 if limit is None else int(limit), int(offset)]
    return [codec.loads(r[0]) for r in _all(reader, sql, params)]


def table_count(reader: Any, run_id: str, key: str, step: int, index: int = 0) -> int:
    """How many rows a stored table or plot has."""
    rows = _all(
        reader,
        "SELECT count(*) FROM media_rows WHERE run_id = ? AND key = ? AND step = ? AND idx = ?",
        (run_id, key, step, index),
    )
    return rows[0][0] if rows else 0


def describe(ref: dict[str, Any]) -> str:
    """A one-line description of a media reference or metadata (what a TUI cell or `show` prints)."""
    t = str(ref.get("_type") or ref.get("type") or "media")
    count = ref.get("count")
    prefix = f"{count} × " if isinstance(count, int) and count > 1 else ""

    def num(x: Any) -> str:
        return f"{x:.4g}" if isinstance(x, float) else str(x)

    if t == "image":
        text = f"image {ref.get('width')}×{ref.get('height')} {ref.get('mode', '')}".rstrip()
        boxes, masks = ref.get("boxes"), ref.get("masks")
        if isinstance(boxes, dict) and boxes:
            n = sum(len(b.get("box_data") or []) for b in boxes.values() if isinstance(b, dict))
            text += f", {n} box{'es' if n != 1 else ''}"
        if isinstance(masks, dict) and masks:
            text += f", {len(masks)} mask{'s' if len(masks) != 1 else ''}"
    elif t == "classes":
        text = f"classes ({len(ref.get('class_set') or [])})"
    elif t == "table":
        cols = ref.get("columns") or []
        text = f"table {ref.get('rows')} rows × {len(cols)} columns"
    elif t == "histogram":
        lo = ref.get("min", ref.get("lo"))
        hi = ref.get("max", ref.get("hi"))
        text = f"histogram {ref.get('num_bins')} bins [{num(lo)}, {num(hi)}]"
    elif t == "plot":
        spec = ref.get("spec") or {}
        kind = ref.get("plot") or spec.get("type")
        title = ref.get("title") or spec.get("title")
        text = f"plot {kind}" + (f" {title!r}" if title else "") + f" ({ref.get('rows')} points)"
    elif t == "audio":
        text = f"audio {num(ref.get('duration', '?'))} s"
        if ref.get("sample_rate"):
            text += f" {ref['sample_rate']} Hz"
    elif t == "video":
        text = f"video {ref.get('format', '')} {ref.get('frames', '?')} frames".replace("  ", " ")
        if ref.get("width"):
            text += f" {ref['width']}×{ref['height']}"
    elif t == "object3d":
        text = f"3D {ref.get('format', '')} {ref.get('point_count', '?')} points"
        if ref.get("box_count"):
            text += f" {ref['box_count']} boxes"
    elif t == "molecule":
        text = f"molecule {ref.get('format', '')}".rstrip()
        if ref.get("atoms"):
            text += f" {ref['atoms']} atoms"
    elif t == "plotly":
        text = "plotly" + (f" {ref['title']!r}" if ref.get("title") else "") + f" {ref.get('traces', '?')} traces"
    elif t == "html":
        text = "html" + (f" {ref['title']!r}" if ref.get("title") else f" {ref.get('chars', '?')} chars")
    elif t == "text":
        text = f"{ref.get('format', 'text')} {ref.get('lines', '?')} lines"
    else:
        text = t
    return prefix + text
