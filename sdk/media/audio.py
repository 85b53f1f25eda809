"""tracktui.Audio: sound from arrays (stored as 16-bit WAV) or from files as given (WAV of any sample format
read here; FLAC, OGG, MP3... described by soundfile when it is installed)."""

from __future__ import annotations

import io
import struct
from typing import Any

from tracktui.store.media import MAX_MEDIA_BYTES, too_big

from ..warn import warn_once
from .base import is_path, to_numpy
from .content import FileMedia, source_bytes, with_caption

SOUNDFILE_HINT = "pip install soundfile"
WAV_PCM, WAV_FLOAT, WAV_EXTENSIBLE = 1, 3, 0xFFFE


def sniff(data: bytes) -> str:
    """The audio format of some bytes, from their magic number ("bin" when unknown)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"fLaC":
        return "flac"
    if data[:4] == b"OggS":
        return "ogg"
    if data[:3] == b"ID3" or data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "mp3"
    return "bin"


def wav_info(data: bytes) -> dict[str, Any]:
    """What a WAV file's header says: sample_rate, channels, samples, duration, sample_format (pcm8, pcm16,
    pcm24, pcm32, float32, float64) and where its samples are (data_offset, data_size). PCM, IEEE float and
    WAVE_FORMAT_EXTENSIBLE files; a ValueError for anything else."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    pos, fmt, where = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = pos + 8
        if cid == b"fmt " and size >= 16:
            code, channels, rate, _, block, bits = struct.unpack_from("<HHIIHH", data, body)
            if code == WAV_EXTENSIBLE and size >= 26:
                code = struct.unpack_from("<H", data, body + 24)[0]
            fmt = (code, channels, rate, block, bits)
        elif cid == b"data":
            where = (body, min(size, len(data) - body))  # a streamed file may say 0xFFFFFFFF
            break
        pos = body + size + (size & 1)
    if fmt is None or where is None:
        raise ValueError("no fmt or data chunk")
    code, channels, rate, block, bits = fmt
    kinds = {(WAV_PCM, 8): "pcm8", (WAV_PCM, 16): "pcm16", (WAV_PCM, 24): "pcm24", (WAV_PCM, 32): "pcm32",
             (WAV_FLOAT, 32): "float32", (WAV_FLOAT, 64): "float64"}
    if (code, bits) not in kinds:
        raise ValueError(f"WAV sample format {code} with {bits} bits is not PCM or IEEE float")
    if channels == 0 or rate == 0 or block == 0:
        raise ValueError("a WAV header with no channels, sample rate or block size")
    samples = where[1] // block
    return {"sample_rate": rate, "channels": channels, "samples": samples, "duration": samples / rate,
            "sample_format": kinds[(code, bits)], "data_offset": where[0], "data_size": samples * block}


def wav_samples(data: bytes) -> Any:
    """The samples of a WAV file as stored (uint8, int16, int32, float32 or float64; 24-bit as int32 scaled
    to the full range): 1-d for mono, samples × channels otherwise."""
    import numpy as np

    info = wav_info(data)
    raw = data[info["data_offset"]:info["data_offset"] + info["data_size"]]
    kind = info["sample_format"]
    if kind == "pcm24":
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        a = (b[:, 0] << 8 | b[:, 1] << 16 | b[:, 2] << 24)  # sign lands in the top byte
    else:
        dtype = {"pcm8": "u1", "pcm16": "<i2", "pcm32": "<i4", "float32": "<f4", "float64": "<f8"}[kind]
        a = np.frombuffer(raw, dtype=dtype).copy()
    channels = info["channels"]
    return a.reshape(-1, channels) if channels > 1 else a


def soundfile_info(data: bytes) -> dict[str, Any] | None:
    """sample_rate, channels, samples, duration of a FLAC/OGG/MP3... file through soundfile; None (with one
    warning) when soundfile is not installed or cannot read it."""
    try:
        import soundfile
    except ImportError:
        warn_once("audio-soundfile", f"tracktui.Audio: the file is stored as given, without its duration and "
                                     f"sample rate, which need the soundfile package ({SOUNDFILE_HINT})")
        return None
    try:
        info = soundfile.info(io.BytesIO(data))
    except Exception as e:  # noqa: BLE001 - libsndfile raises its own error types; wandb stores any file
        warn_once(f"audio-unreadable:{type(e).__name__}", f"tracktui.Audio: soundfile cannot read the file "
                                                          f"({e}); it is stored as given, without its duration")
        return None
    return {"sample_rate": int(info.samplerate), "channels": int(info.channels), "samples": int(info.frames),
            "duration": float(info.frames) / info.samplerate if info.samplerate else None,
            "sample_format": str(info.subtype).lower()}


def decode(data: bytes, fmt: str) -> Any:
    """The samples of stored audio bytes: WAV here, other formats through soundfile (an ImportError naming it
    when it is not installed)."""
    if fmt == "wav":
        return wav_samples(data)
    try:
        import soundfile
    except ImportError as e:
        raise ImportError(f"reading {fmt} audio needs the soundfile package: {SOUNDFILE_HINT}") from e
    samples, _ = soundfile.read(io.BytesIO(data), dtype="float32")
    return samples


class Audio(FileMedia):
    """Sound: a numpy array (samples, or samples × channels; floats in -1..1, int16 or int32) with its
    sample_rate, stored as 16-bit WAV; or a file path, an open file or bytes (WAV, FLAC, OGG, MP3), stored as
    given. Equal to another Audio of the same bytes and caption (as wandb)."""

    _type = "audio"
    _eq_caption = True

    def __init__(self, data_or_path: Any, sample_rate: int | None = None, caption: str | None = None):
        meta: dict[str, Any] = {}
        x = data_or_path
        if is_path(x) or isinstance(x, (bytes, bytearray, memoryview)) or hasattr(x, "read"):
            data, _ = source_bytes(x, "Audio")
            fmt = sniff(data)
            meta["format"] = fmt
            if fmt == "wav":
                try:
                    info = wav_info(data)
                except (ValueError, struct.error) as e:
                    raise ValueError(f"tracktui.Audio: not a readable WAV file ({e})") from e
                info.pop("data_offset")
                info.pop("data_size")
            else:
                info = soundfile_info(data) or {}
            meta.update({k: v for k, v in info.items() if v is not None})
            if sample_rate is not None and "sample_rate" not in meta:
                meta["sample_rate"] = int(sample_rate)
            self._data = data
        elif hasattr(x, "shape") or isinstance(x, (list, tuple)):
            if sample_rate is None or int(sample_rate) <= 0:
                raise ValueError("tracktui.Audio: an array needs sample_rate= (samples per second)")
            self._raw = _samples(x)
            n = int(self._raw.shape[0])
            meta.update(format="wav", sample_rate=int(sample_rate),
                        channels=1 if self._raw.ndim == 1 else int(self._raw.shape[1]), samples=n,
                        duration=n / int(sample_rate))
        else:
            raise TypeError(f"tracktui.Audio takes a numpy array with sample_rate, a file path, an open file or "
                            f"bytes, not {type(x).__name__}")
        self._meta = with_caption(meta, caption)

    @property
    def sample_rate(self) -> int | None:
        """Samples per second (None for a file whose header was not read)."""
        return self._meta.get("sample_rate")

    @property
    def duration(self) -> float | None:
        """Seconds of sound (None for a file whose header was not read)."""
        return self._meta.get("duration")

    @classmethod
    def sample_rates(cls, audio_list: list[Audio]) -> list[int | None]:
        """The sample rate of each (wandb's helper)."""
        return [a.sample_rate for a in audio_list]

    @classmethod
    def durations(cls, audio_list: list[Audio]) -> list[float | None]:
        """The duration of each in seconds (wandb's helper)."""
        return [a.duration for a in audio_list]

    @classmethod
    def captions(cls, audio_list: list[Audio]) -> list[str] | bool:
        """The captions ("" where none), or False when none has one (as wandb)."""
        caps = [a.caption for a in audio_list]
        return False if all(c is None for c in caps) else ["" if c is None else c for c in caps]


def _samples(x: Any) -> Any:
    """Samples as float32 (-1..1) or int16, samples × channels (a channels × samples array is turned)."""
    import numpy as np

    a = to_numpy(x)
    if a.ndim == 2 and a.shape[0] < a.shape[1] and a.shape[0] <= 8:
        a = a.T  # channels × samples to samples × channels
    if a.ndim not in (1, 2) or a.shape[0] == 0 or (a.ndim == 2 and not 1 <= a.shape[1] <= 8):
        raise ValueError(f"tracktui.Audio: samples must be 1-d or samples × channels (1..8), got shape {a.shape}")
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)):
            raise ValueError("tracktui.Audio: the samples hold NaN or Inf")
        a = a.astype(np.float32)
    elif a.dtype.name == "int16":
        a = a.copy()
    elif a.dtype.name == "int32":
        a = (a >> 16).astype(np.int16)
    else:
        raise TypeError(f"tracktui.Audio: samples must be floats in -1..1, int16 or int32, got {a.dtype}")
    if a.size * 2 > MAX_MEDIA_BYTES:
        raise ValueError(too_big("the audio as WAV", a.size * 2))
    return a
