"""Media a terminal cannot play (audio, video, HTML, 3D objects, text): described by their metadata, written
out to a file named after its sha256 (never after the key), opened with the system's viewer on request."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static
from textual_plotext import PlotextPlot

from ..text import safe_text
from .media_image import HalfBlockImage

EXPORT_DIR = "tracktui-media"  # under the current directory
PREVIEW_LINES = 40
WAVE_POINTS = 400  # min/max pairs of the drawn waveform
_EXT = re.compile(r"[a-z0-9]{1,8}")
_3D_EXT = {"obj": "obj", "gltf": "gltf", "glb": "glb", "babylon": "babylon", "stl": "stl", "ply": "ply",
           "pts.json": "pts.json", "points": "f32"}


def extension(type_: str, meta: dict[str, Any]) -> str:
    """A safe file extension for a stored item (from a fixed list or [a-z0-9]{1,8}, else "bin")."""
    fmt = str(meta.get("format") or "").lower()
    if type_ == "image":
        return {"png": "png", "jpeg": "jpg", "jpg": "jpg"}.get(fmt, "png")
    if type_ == "html":
        return "html"
    if type_ == "text":
        return "md" if fmt == "markdown" else "txt"
    if type_ == "object3d":
        return _3D_EXT.get(fmt, "bin")
    if type_ in ("audio", "video") and _EXT.fullmatch(fmt):
        return fmt
    return "bin"


def export_path(sha256: str, type_: str, meta: dict[str, Any], base: Path | None = None) -> Path:
    """Where an item is written out: <base or cwd>/tracktui-media/<first 16 hex of sha256>.<ext>."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256 or ""):
        raise ValueError("not a sha256")
    return (base or Path.cwd()) / EXPORT_DIR / f"{sha256[:16]}.{extension(type_, meta)}"


def write_out(data: bytes, path: Path) -> Path:
    """Write data to path (atomically; kept when a file of the same size is there: names are hashes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file() and path.stat().st_size == len(data):
        return path
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def system_opener() -> str | None:
    """The command that opens a file with the desktop's viewer (xdg-open, open), if there is one."""
    for name in ("xdg-open", "open") if sys.platform != "darwin" else ("open", "xdg-open"):
        found = shutil.which(name)
        if found:
            return found
    return None


def open_with_system(path: Path) -> str | None:
    """Start the system viewer on path, detached; the opener's name, or None when there is none."""
    opener = system_opener()
    if opener is None:
        return None
    subprocess.Popen([opener, str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True)
    return Path(opener).name


def describe_text(type_: str, meta: dict[str, Any], description: str, sha256: str | None,
                  size: int | None, preview: str | None) -> Text:
    """The metadata of an item as plain text lines, then the keys, then a preview of text and HTML."""
    t = Text(no_wrap=False)
    t.append(safe_text(description, limit=200) + "\n", style="bold")
    for k in sorted(meta):
        v = meta[k]
        if k in ("values", "bins") or isinstance(v, (list, dict)):
            continue
        t.append(f"  {safe_text(k, limit=30)}: ", style="dim")
        t.append(safe_text(v, limit=200) + "\n")
    if size is not None:
        t.append("  size: ", style="dim")
        t.append(f"{size:,} bytes\n")
    if sha256:
        t.append("  sha256: ", style="dim")
        t.append(sha256 + "\n")
        t.append("\n  w", style="bold cyan")
        t.append(f" writes it to ./{EXPORT_DIR}/{sha256[:16]}.{extension(type_, meta)}   ")
        t.append("o", style="bold cyan")
        t.append(" opens it with the system's viewer\n")
    if preview is not None:
        t.append("\n")
        lines = preview.splitlines()
        for line in lines[:PREVIEW_LINES]:
            t.append(safe_text(line, one_line=True, limit=300) + "\n", style="dim")
        if len(lines) > PREVIEW_LINES:
            t.append(f"… {len(lines) - PREVIEW_LINES} more lines\n", style="dim")
    return t


def waveform(data: bytes, points: int = WAVE_POINTS) -> tuple[list[float], list[float]] | None:
    """Min and max of the first channel of 16-bit WAV bytes in `points` buckets (-1..1), or None."""
    import array
    import io
    import wave

    try:
        with wave.open(io.BytesIO(data)) as w:
            if w.getsampwidth() != 2 or w.getnframes() == 0:
                return None
            channels = w.getnchannels()
            frames = w.readframes(w.getnframes())
    except (wave.Error, EOFError):
        return None
    samples = array.array("h")
    samples.frombytes(frames[: len(frames) - len(frames) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    first = samples[::channels]
    n = len(first)
    buckets = min(points, n)
    lo, hi = [], []
    for i in range(buckets):
        chunk = first[i * n // buckets:(i + 1) * n // buckets] or first[i:i + 1]
        lo.append(min(chunk) / 32768)
        hi.append(max(chunk) / 32768)
    return lo, hi


class WavePlot(PlotextPlot):
    """An audio waveform: the min and max of each bucket of samples."""

    DEFAULT_CSS = """
    WavePlot { height: 10; border: round $panel-lighten-2; }
    """

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.wave: tuple[list[float], list[float]] | None = None

    def show(self, wave: tuple[list[float], list[float]] | None) -> None:
        """Draw this waveform."""
        self.wave = wave
        self.refresh()

    def render(self) -> Any:
        """The envelope, as two lines."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        if self.wave:
            lo, hi = self.wave
            xs = list(range(len(lo)))
            plt.plot(xs, hi, marker="braille", color="cyan")
            plt.plot(xs, lo, marker="braille", color="cyan")
            plt.ylim(-1, 1)
            plt.xticks([])
        return super().render()


class FileViewer(VerticalScroll):
    """The description of an item the terminal does not play: a video's first frame and an audio
    waveform where they can be read, then the metadata, the keys and a preview of text."""

    DEFAULT_CSS = """
    FileViewer { height: 1fr; }
    FileViewer > #file-poster { height: 14; display: none; }
    FileViewer > WavePlot { display: none; }
    FileViewer.-poster > #file-poster { display: block; }
    FileViewer.-wave > WavePlot { display: block; }
    FileViewer > #file-desc { height: auto; padding: 1 2; }
    """

    def compose(self) -> ComposeResult:
        yield HalfBlockImage(id="file-poster")
        yield WavePlot()
        yield Static(id="file-desc")

    def show(self, text: Text, poster: Any = None,
             wave: tuple[list[float], list[float]] | None = None) -> None:
        """Show a description (see describe_text), a poster frame (a PIL image) and a waveform."""
        self.query_one("#file-desc", Static).update(text)
        self.query_one("#file-poster", HalfBlockImage).set_image(poster)
        self.query_one(WavePlot).show(wave)
        self.set_class(poster is not None, "-poster")
        self.set_class(wave is not None, "-wave")
