"""FileMedia: media stored as one file (Audio, Video, Object3D, Html, Molecule, Plotly, Text), with wandb's
equality (same type, same bytes), and the conversions these types share."""

from __future__ import annotations

import io
import os
import pathlib
from typing import Any

from tracktui.store.media import MAX_MEDIA_BYTES, Item, encoded_bytes, too_big

from .base import Media, is_path, read_file


class FileMedia(Media):
    """A media object whose content is one file: bytes known now (_data), or raw data the writer encodes
    (_raw), plus metadata (_meta). Two are equal when they are of one type and their bytes are the same (what
    wandb compares: the sha256 of the file); Audio also compares captions, as wandb does."""

    _data: bytes | None = None
    _raw: Any = None
    _meta: dict[str, Any]
    _sha: str | None = None
    _eq_caption = False

    def _item(self) -> Item:
        return Item(self._type, dict(self._meta), data=self._data, raw=self._raw)

    @property
    def caption(self) -> str | None:
        """The caption given at construction."""
        return self._meta.get("caption")

    @property
    def sha256(self) -> str:
        """The sha256 of the bytes stored for this object (raw data is encoded to know it)."""
        if self._sha is None:
            import hashlib

            data = self._data if self._data is not None else encoded_bytes(self._item())
            self._sha = hashlib.sha256(data).hexdigest()
        return self._sha

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return False
        assert isinstance(other, FileMedia)
        if self._eq_caption and self.caption != other.caption:
            return False
        return self.sha256 == other.sha256

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.sha256))


def with_caption(meta: dict[str, Any], caption: Any) -> dict[str, Any]:
    """meta with "caption" set when a caption was given."""
    if caption is not None:
        meta["caption"] = str(caption)
    return meta


def file_name(x: Any) -> str | None:
    """The path of an open file object (what wandb reads instead of the stream), else None."""
    if isinstance(x, pathlib.PurePath) or is_path(x):
        return None
    name = getattr(x, "name", None)
    if isinstance(name, str) and hasattr(x, "read") and os.path.isfile(name):
        return name
    return None


def read_stream(x: Any, what: str) -> bytes:
    """The content of a file-like object (text is encoded as UTF-8), from its start."""
    if callable(getattr(x, "seek", None)):
        try:
            x.seek(0)
        except (OSError, io.UnsupportedOperation):
            pass
    data = x.read()
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"tracktui.{what}: reading the file object gave {type(data).__name__}, not text or bytes")
    if len(data) > MAX_MEDIA_BYTES:
        raise ValueError(too_big(f"the {what.lower()}", len(data)))
    return bytes(data)


def source_bytes(x: Any, what: str) -> tuple[bytes, str | None]:
    """(content, path or None) of a path, an open file, a stream or bytes given to a media type."""
    name = file_name(x)
    if name is not None:
        return read_file(name, what), name
    if is_path(x):
        return read_file(x, what), os.fspath(x)
    if isinstance(x, (bytes, bytearray, memoryview)):
        data = bytes(x)
        if len(data) > MAX_MEDIA_BYTES:
            raise ValueError(too_big(f"the {what.lower()}", len(data)))
        return data, None
    if hasattr(x, "read"):
        return read_stream(x, what), None
    raise TypeError(f"tracktui.{what}: not a path, a file or bytes: {type(x).__name__}")


def jsonable(v: Any, where: str) -> Any:
    """v as plain JSON values (numpy arrays and scalars, tuples and torch tensors converted); a clear
    TypeError for what JSON cannot hold."""
    if v is None or isinstance(v, (str, bool, int, float)):
        return v
    if isinstance(v, dict):
        return {str(k): jsonable(x, where) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x, where) for x in v]
    if hasattr(v, "detach") and hasattr(v, "cpu"):  # a torch tensor
        v = v.detach().cpu().numpy()
    tolist = getattr(v, "tolist", None)
    if callable(tolist) and hasattr(v, "dtype"):  # numpy arrays and scalars
        if getattr(v.dtype, "kind", "") not in "biufUSO":
            raise TypeError(f"tracktui: {where} holds an array of dtype {v.dtype}, which JSON cannot hold")
        return jsonable(tolist(), where)
    raise TypeError(f"tracktui: {where} holds a {type(v).__name__}, which JSON cannot hold")
