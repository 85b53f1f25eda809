"""tracktui.Audio, Video, Html, Object3D and Text: bytes plus the metadata a terminal can describe them by."""

from __future__ import annotations

import io
import json
import os
import re
import wave
from pathlib import Path
from typing import Any

from tracktui.store.media import MAX_MEDIA_BYTES, Item, too_big

from .base import Media, is_path, need_pil, read_file, to_numpy


def _caption(meta: dict[str, Any], caption: Any) -> dict[str, Any]:
    if caption is not None:
        meta["caption"] = str(caption)
    return meta


def _sniff_audio(data: bytes) -> str:
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"fLaC":
        return "flac"
    if data[:4] == b"OggS":
        return "ogg"
    if data[:3] == b"ID3" or data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "mp3"
    return "bin"


class Audio(Media):
    """Sound: a numpy array (samples, or samples × channels; floats in -1..1 or int16) with its sample_rate,
    or a file path / bytes (WAV, FLAC, OGG, MP3). Arrays are stored as 16-bit WAV."""

    _type = "audio"

    def __init__(self, data_or_path: Any, sample_rate: int | None = None, caption: str | None = None):
        self._data: bytes | None = None
        self._raw: Any = None
        meta: dict[str, Any] = {}
        if is_path(data_or_path) or isinstance(data_or_path, (bytes, bytearray)):
            data = read_file(data_or_path, "Audio") if is_path(data_or_path) else bytes(data_or_path)
            if len(data) > MAX_MEDIA_BYTES:
                raise ValueError(too_big("the audio", len(data)))
            fmt = _sniff_audio(data)
            meta["format"] = fmt
            if fmt == "wav":
                try:
                    with wave.open(io.BytesIO(data)) as w:
                        meta.update(
                            sample_rate=w.getframerate(),
                            channels=w.getnchannels(),
                            samples=w.getnframes(),
                            duration=w.getnframes() / w.getframerate(),
                        )
                except (wave.Error, EOFError, ZeroDivisionError) as e:
                    raise ValueError(f"tracktui.Audio: not a readable WAV file ({e})") from e
            elif sample_rate is not None:
                meta["sample_rate"] = int(sample_rate)
            self._data = data
        elif hasattr(data_or_path, "shape") or isinstance(data_or_path, (list, tuple)):
            if sample_rate is None or int(sample_rate) <= 0:
                raise ValueError("tracktui.Audio: an array needs sample_rate= (samples per second)")
            a = to_numpy(data_or_path)
            if a.ndim == 2 and a.shape[0] < a.shape[1] and a.shape[0] <= 8:
                a = a.T  # channels × samples to samples × channels
            if a.ndim not in (1, 2) or a.shape[0] == 0 or (a.ndim == 2 and not 1 <= a.shape[1] <= 8):
                raise ValueError(
                    f"tracktui.Audio: samples must be 1-d or samples × channels (1..8), got shape {a.shape}"
                )
            if a.dtype.kind == "f":
                import numpy as np

                if not np.all(np.isfinite(a)):
                    raise ValueError("tracktui.Audio: the samples hold NaN or Inf")
                a = a.astype(np.float32)
            elif a.dtype.name != "int16":
                raise TypeError(f"tracktui.Audio: samples must be floats in -1..1 or int16, got {a.dtype}")
            else:
                a = a.copy()
            if a.shape[0] * (1 if a.ndim == 1 else a.shape[1]) * 2 > MAX_MEDIA_BYTES:
                raise ValueError(too_big("the audio as WAV", a.shape[0] * 2))
            self._raw = a
            n = int(a.shape[0])
            meta.update(
                format="wav",
                sample_rate=int(sample_rate),
                channels=1 if a.ndim == 1 else int(a.shape[1]),
                samples=n,
                duration=n / int(sample_rate),
            )
        else:
            raise TypeError(
                f"tracktui.Audio takes a numpy array with sample_rate, a file path or bytes, "
                f"not {type(data_or_path).__name__}"
            )
        self._meta = _caption(meta, caption)

    def _item(self) -> Item:
        return Item("audio", dict(self._meta), data=self._data, raw=self._raw)


class Video(Media):
    """A video: a file path (mp4, webm, gif, ...) or frames as an array T×C×H×W (wandb's layout) or T×H×W×C,
    uint8 or floats in 0..1, which are stored as an animated GIF at fps frames per second."""

    _type = "video"

    def __init__(
        self,
        data_or_path: Any,
        caption: str | None = None,
        fps: float | None = None,
        format: str | None = None,
    ):
        self._data: bytes | None = None
        self._raw: Any = None
        meta: dict[str, Any] = {}
        if fps is not None and not (isinstance(fps, (int, float)) and fps > 0):
            raise ValueError(f"tracktui.Video: fps must be a positive number, got {fps!r}")
        if is_path(data_or_path) or isinstance(data_or_path, (bytes, bytearray)):
            if is_path(data_or_path):
                data = read_file(data_or_path, "Video")
                fmt = format or Path(data_or_path).suffix.lstrip(".").lower() or "bin"
            else:
                data = bytes(data_or_path)
                if len(data) > MAX_MEDIA_BYTES:
                    raise ValueError(too_big("the video", len(data)))
                fmt = format or ("gif" if data[:4] == b"GIF8" else "bin")
            meta["format"] = fmt
            if fmt == "gif":
                try:
                    img = need_pil("Video").open(io.BytesIO(data))
                    frames = int(getattr(img, "n_frames", 1))
                    meta.update(width=img.size[0], height=img.size[1], frames=frames)
                    ms = img.info.get("duration")
                    if ms:
                        meta["fps"] = 1000.0 / ms
                        meta["duration"] = frames * ms / 1000.0
                except Exception as e:  # noqa: BLE001
                    raise ValueError(f"tracktui.Video: not a readable GIF ({e})") from e
            elif fps:
                meta["fps"] = float(fps)
            self._data = data
        elif hasattr(data_or_path, "shape"):
            if format not in (None, "gif"):
                raise ValueError(
                    f"tracktui.Video: frames from an array are stored as GIF; format={format!r} "
                    f"needs a file path (encode it yourself and pass the file)"
                )
            import numpy as np

            a = to_numpy(data_or_path)
            if a.ndim != 4:
                raise ValueError(f"tracktui.Video: frames must be T×C×H×W or T×H×W×C, got shape {a.shape}")
            if a.shape[1] in (1, 3, 4) and a.shape[-1] not in (1, 3, 4):
                a = a.transpose(0, 2, 3, 1)
            if a.shape[-1] not in (1, 3, 4) or 0 in a.shape:
                raise ValueError(f"tracktui.Video: frames need 1, 3 or 4 channels, got shape {a.shape}")
            if a.dtype.kind == "f":
                if not (float(a.min()) >= 0.0 and float(a.max()) <= 1.0):
                    raise ValueError("tracktui.Video: float frames must lie in 0..1")
                a = (a * 255.0 + 0.5).astype(np.uint8)
            elif a.dtype != np.uint8:
                raise TypeError(f"tracktui.Video: frames must be uint8 or floats in 0..1, got {a.dtype}")
            else:
                a = a.copy()
            if a.nbytes > 4 * MAX_MEDIA_BYTES:
                raise ValueError(too_big("the frames", a.nbytes, 4 * MAX_MEDIA_BYTES))
            fps = float(fps or 4)
            self._raw = a
            meta.update(
                format="gif",
                frames=int(a.shape[0]),
                width=int(a.shape[2]),
                height=int(a.shape[1]),
                fps=fps,
                duration=a.shape[0] / fps,
            )
        else:
            raise TypeError(
                f"tracktui.Video takes a file path, bytes or a frames array, "
                f"not {type(data_or_path).__name__}"
            )
        self._meta = _caption(meta, caption)

    def _item(self) -> Item:
        return Item("video", dict(self._meta), data=self._data, raw=self._raw)


class Html(Media):
    """An HTML page: a string of HTML, a path to an .html file, or an open text file."""

    _type = "html"

    def __init__(self, data: Any, inject: bool = True):
        if hasattr(data, "read"):
            data = data.read()
        if isinstance(data, os.PathLike) or (
            isinstance(data, str)
            and "<" not in data
            and len(data) < 4096
            and data.lower().endswith((".html", ".htm"))
        ):
            text = read_file(data, "Html").decode("utf-8", errors="replace")
        elif isinstance(data, str):
            text = data
        elif isinstance(data, bytes):
            text = data.decode("utf-8", errors="replace")
        else:
            raise TypeError(
                f"tracktui.Html takes a string of HTML, a path or a file, not {type(data).__name__}"
            )
        self._data = text.encode("utf-8")
        if len(self._data) > MAX_MEDIA_BYTES:
            raise ValueError(too_big("the HTML", len(self._data)))
        meta: dict[str, Any] = {"format": "html", "chars": len(text)}
        m = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        if m:
            meta["title"] = m.group(1).strip()[:200]
        self._meta = meta

    def _item(self) -> Item:
        return Item("html", dict(self._meta), data=self._data)


_3D_FORMATS = ("obj", "gltf", "glb", "babylon", "stl", "ply", "pts.json")


class Object3D(Media):
    """A 3D object: a point cloud as an array N×3 (x y z), N×4 (x y z category) or N×6 (x y z r g b), or a
    file (.obj, .gltf, .glb, .babylon, .stl, .ply, .pts.json). Points are stored as float32."""

    _type = "object3d"

    def __init__(self, data_or_path: Any, caption: str | None = None, **kwargs: Any):
        self._data: bytes | None = None
        self._raw: Any = None
        meta: dict[str, Any] = {}
        if is_path(data_or_path):
            name = str(data_or_path).lower()
            fmt = next((f for f in _3D_FORMATS if name.endswith("." + f)), None)
            if fmt is None:
                raise ValueError(
                    f"tracktui.Object3D: a file must be one of {', '.join(_3D_FORMATS)}, "
                    f"got {Path(data_or_path).name!r}"
                )
            data = read_file(data_or_path, "Object3D")
            meta["format"] = fmt
            count = _point_count(fmt, data)
            if count is not None:
                meta["point_count"] = count
            self._data = data
        elif hasattr(data_or_path, "shape") or isinstance(data_or_path, (list, tuple)):
            import numpy as np

            a = to_numpy(data_or_path)
            if a.ndim != 2 or a.shape[1] not in (3, 4, 6) or a.shape[0] == 0:
                raise ValueError(f"tracktui.Object3D: points must be N×3, N×4 or N×6, got shape {a.shape}")
            if a.dtype.kind not in "biuf":
                raise TypeError(f"tracktui.Object3D: points must be numbers, got dtype {a.dtype}")
            if a.shape[0] * a.shape[1] * 4 > MAX_MEDIA_BYTES:
                raise ValueError(too_big("the points as float32", a.shape[0] * a.shape[1] * 4))
            self._raw = np.array(a, dtype=np.float32)
            meta.update(format="points", point_count=int(a.shape[0]), columns=int(a.shape[1]))
        else:
            raise TypeError(
                f"tracktui.Object3D takes an N×3/4/6 array or a file path, not {type(data_or_path).__name__}"
            )
        self._meta = _caption(meta, caption)

    @classmethod
    def from_numpy(cls, points: Any, caption: str | None = None) -> Object3D:
        """wandb's spelling for a point cloud."""
        return cls(points, caption=caption)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], caption: str | None = None) -> Object3D:
        """wandb's spelling for a 3D file."""
        return cls(path, caption=caption)

    def _item(self) -> Item:
        return Item("object3d", dict(self._meta), data=self._data, raw=self._raw)


def _point_count(fmt: str, data: bytes) -> int | None:
    try:
        if fmt == "obj":
            return sum(1 for line in data.splitlines() if line.startswith(b"v "))
        if fmt == "pts.json":
            return len(json.loads(data))
        if fmt == "ply":
            m = re.search(rb"element vertex (\d+)", data[:4096])
            return int(m.group(1)) if m else None
    except (ValueError, TypeError):
        return None
    return None


class Text(Media):
    """Markdown (or plain) text, shown as a document rather than a metric value."""

    _type = "text"

    def __init__(self, text: str, format: str = "markdown"):
        if not isinstance(text, str):
            raise TypeError(f"tracktui.Text takes a string, not {type(text).__name__}")
        if format not in ("markdown", "plain"):
            raise ValueError(f"tracktui.Text: format must be 'markdown' or 'plain', got {format!r}")
        self._data = text.encode("utf-8")
        if len(self._data) > MAX_MEDIA_BYTES:
            raise ValueError(too_big("the text", len(self._data)))
        self._meta = {"format": format, "chars": len(text), "lines": text.count("\n") + 1}

    def _item(self) -> Item:
        return Item("text", dict(self._meta), data=self._data)
