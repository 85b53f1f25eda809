"""tracktui.Video: frames (T×C×H×W, T×H×W×C, or batched B×T×C×H×W tiled into a grid as wandb does) encoded as
GIF, or as mp4/webm/ogg when imageio with imageio-ffmpeg is installed; or a video file stored as given."""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracktui.store.media import MAX_MEDIA_BYTES, too_big, video_encoder

from ..warn import warn_once
from .base import is_path, need_pil, to_numpy
from .content import FileMedia, file_name, source_bytes, with_caption

EXTS = ("gif", "mp4", "webm", "ogg")  # what wandb.Video accepts
ENCODER_HINT = "pip install imageio imageio-ffmpeg"


def sniff(data: bytes) -> str | None:
    """The container of some video bytes, from their magic number."""
    if data[:4] == b"GIF8":
        return "gif"
    if data[4:8] == b"ftyp":
        return "mp4"
    if data[:4] == b"\x1aE\xdf\xa3":
        return "webm"
    if data[:4] == b"OggS":
        return "ogg"
    return None


class Video(FileMedia):
    """A video: a file path, an open file, a BytesIO or bytes (gif, mp4, webm, ogg), stored as given; or frames
    as an array T×C×H×W (wandb's layout), T×H×W×C, or B×T×C×H×W (the batch tiled into a grid, as wandb does),
    uint8, other integers in 0..255, floats in 0..1 (scaled) or 0..255, encoded at fps frames per second (4 by
    default) as format: "gif" (default), or "mp4"/"webm"/"ogg" when imageio and imageio-ffmpeg are installed
    (GIF otherwise, with one warning). Equal to another Video of the same bytes (as wandb)."""

    _type = "video"

    def __init__(self, data_or_path: Any, caption: str | None = None, fps: float | None = None,
                 format: str | None = None):
        meta: dict[str, Any] = {}
        if fps is not None and (isinstance(fps, bool) or not isinstance(fps, (int, float)) or not fps > 0):
            raise ValueError(f"tracktui.Video: fps must be a positive number, got {fps!r}")
        fmt = None if format is None else str(format).lower()
        if fmt is not None and fmt not in EXTS:
            raise ValueError(f"tracktui.Video: format must be one of {', '.join(EXTS)}, got {format!r}")
        x = data_or_path
        path = file_name(x) or (x if is_path(x) else None)
        if path is not None or isinstance(x, (bytes, bytearray, memoryview)) or hasattr(x, "read"):
            if path is not None:
                ext = Path(path).suffix.lstrip(".").lower()
                if ext not in EXTS:
                    raise ValueError(f"tracktui.Video: a video file must be one of {', '.join(EXTS)}, "
                                     f"got {Path(path).name!r}")
                fmt = ext
            data, _ = source_bytes(path if path is not None else x, "Video")
            fmt = fmt or sniff(data) or "gif"
            meta["format"] = fmt
            meta.update(_gif_info(data) if fmt == "gif" else mp4_info(data) if fmt == "mp4" else {})
            self._data = data
        elif hasattr(x, "shape"):
            frames = prepare_frames(x)
            fmt = fmt or "gif"
            if fmt != "gif" and video_encoder() is None:
                warn_once("video-no-encoder", f"tracktui.Video: format={fmt!r} needs an encoder "
                                              f"({ENCODER_HINT}); frames are stored as GIF instead")
                fmt = "gif"
            fps = float(fps or 4)
            self._raw = frames
            meta.update(format=fmt, frames=int(frames.shape[0]), width=int(frames.shape[2]),
                        height=int(frames.shape[1]), fps=fps, duration=frames.shape[0] / fps)
        else:
            raise TypeError(f"tracktui.Video takes a file path, an open file, bytes or a frames array, "
                            f"not {type(x).__name__}")
        self._meta = with_caption(meta, caption)

    @property
    def format(self) -> str:
        """gif, mp4, webm or ogg."""
        return self._meta["format"]


def prepare_frames(x: Any) -> Any:
    """Frames as uint8 T×H×W×C (C in 1, 3, 4); a batch B×T×... is tiled into a grid of 2**k rows as wandb
    does (the batch padded with black videos to a power of two)."""
    import numpy as np

    a = to_numpy(x)
    if a.ndim not in (4, 5):
        raise ValueError(f"tracktui.Video: frames must be T×C×H×W (or B×T×C×H×W, batched), got shape {a.shape}")
    if a.shape[-3] in (1, 3, 4) and a.shape[-1] not in (1, 3, 4):  # channels first: move them last
        a = np.moveaxis(a, -3, -1)
    if a.shape[-1] not in (1, 3, 4) or 0 in a.shape:
        raise ValueError(f"tracktui.Video: frames need 1, 3 or 4 channels, got shape {a.shape}")
    a = _uint8(a)
    if a.ndim == 5:
        a = tile_batch(a)
    if a.nbytes > 4 * MAX_MEDIA_BYTES:
        raise ValueError(too_big("the frames", a.nbytes, 4 * MAX_MEDIA_BYTES))
    return a


def tile_batch(a: Any) -> Any:
    """B×T×H×W×C to T×(rows·H)×(cols·W)×C: wandb's grid (B padded to a power of two, 2**((b.bit_length()-1)//2)
    rows)."""
    import numpy as np

    b, t, h, w, c = (int(n) for n in a.shape)
    if b & (b - 1):
        a = np.concatenate([a, np.zeros((2 ** b.bit_length() - b, t, h, w, c), dtype=a.dtype)])
    rows = 2 ** ((b.bit_length() - 1) // 2)
    cols = a.shape[0] // rows
    return a.reshape(rows, cols, t, h, w, c).transpose(2, 0, 3, 1, 4, 5).reshape(t, rows * h, cols * w, c)


def _uint8(a: Any) -> Any:
    import numpy as np

    kind = a.dtype.kind
    if a.dtype == np.uint8:
        return np.array(a, copy=True, order="C")
    if kind == "b":
        return a.astype(np.uint8) * 255
    if kind in "iu":
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi > 255:
            raise ValueError(f"tracktui.Video: integer frames must lie in 0..255, got {lo}..{hi}")
        return a.astype(np.uint8)
    if kind == "f":
        lo, hi = float(a.min()), float(a.max())
        if not (lo >= 0.0 and hi <= 255.0):  # also False for NaN
            raise ValueError(f"tracktui.Video: float frames must lie in 0..1 or 0..255, got {lo:g}..{hi:g}")
        if hi <= 1.0:
            return (a.astype(np.float32) * 255.0 + 0.5).astype(np.uint8)
        return a.astype(np.uint8)  # 0..255 floats are cast, as wandb does
    raise TypeError(f"tracktui.Video: frames must be numbers, got dtype {a.dtype}")


def _gif_info(data: bytes) -> dict[str, Any]:
    try:
        img = need_pil("Video").open(io.BytesIO(data))
        frames = int(getattr(img, "n_frames", 1))
        info: dict[str, Any] = {"width": img.size[0], "height": img.size[1], "frames": frames}
        ms = img.info.get("duration")
        if ms:
            info.update(fps=1000.0 / ms, duration=frames * ms / 1000.0)
        return info
    except ImportError:
        raise
    except Exception as e:  # noqa: BLE001 - Pillow raises several types for unreadable data
        raise ValueError(f"tracktui.Video: not a readable GIF ({e})") from e


# ------------------------------------------------------------------ mp4 headers (ISO base media file format)


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        head = 8
        if size == 1 and pos + 16 <= end:
            size, head = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:
            size = end - pos
        if size < head:
            return
        yield kind, pos + head, min(pos + size, end)
        pos += size


def _child(data: bytes, start: int, end: int, *path: bytes) -> tuple[int, int] | None:
    for kind, s, e in _boxes(data, start, end):
        if kind == path[0]:
            return (s, e) if len(path) == 1 else _child(data, s, e, *path[1:])
    return None


def mp4_info(data: bytes) -> dict[str, Any]:
    """width, height, frames, fps and duration of an mp4 from its header boxes (moov/mvhd, the video
    track's tkhd and stsz); {} for what it cannot read (the file is stored as given all the same)."""
    info: dict[str, Any] = {}
    try:
        moov = _child(data, 0, len(data), b"moov")
        if moov is None:
            return info
        mvhd = _child(data, *moov, b"mvhd")
        if mvhd is not None:
            s, v1 = mvhd[0], data[mvhd[0]] == 1
            scale, dur = struct.unpack_from(">IQ" if v1 else ">II", data, s + (20 if v1 else 12))
            if scale:
                info["duration"] = dur / scale
        for kind, s, e in _boxes(data, *moov):
            hdlr = _child(data, s, e, b"mdia", b"hdlr") if kind == b"trak" else None
            if hdlr is None or data[hdlr[0] + 8:hdlr[0] + 12] != b"vide":
                continue
            tkhd = _child(data, s, e, b"tkhd")
            if tkhd is not None and tkhd[1] - tkhd[0] >= 84:
                w, h = struct.unpack_from(">II", data, tkhd[1] - 8)
                info.update(width=w >> 16, height=h >> 16)
            stsz = _child(data, s, e, b"mdia", b"minf", b"stbl", b"stsz")
            if stsz is not None:
                info["frames"] = struct.unpack_from(">I", data, stsz[0] + 8)[0]
                if info.get("duration"):
                    info["fps"] = info["frames"] / info["duration"]
            break
    except (struct.error, IndexError):
        return {}
    return info
