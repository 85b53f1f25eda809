"""The SDK's usage errors, and the stand-ins for tracktui.config / tracktui.summary before init()."""

from __future__ import annotations

from typing import Any


class Error(Exception):
    """A usage error of the SDK (e.g. log() before init())."""


class UsageError(Error, ValueError):
    """A bad argument to an SDK call (also a ValueError, for code that catches those)."""


class PreInit:
    """What tracktui.config and tracktui.summary are before init(): any use raises a clear Error."""

    def __init__(self, name: str):
        object.__setattr__(self, "_name", name)

    def _fail(self, what: str) -> Error:
        return Error(f"call tracktui.init() before using tracktui.{self._name}{what}")

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):  # dunder and private lookups (copy, repr, IPython) are not a use
            raise AttributeError(key)
        raise self._fail(f".{key}")

    def __setattr__(self, key: str, value: Any) -> None:
        raise self._fail(f".{key}")

    def __getitem__(self, key: Any) -> Any:
        raise self._fail(f"[{key!r}]")

    def __setitem__(self, key: Any, value: Any) -> None:
        raise self._fail(f"[{key!r}]")

    def __contains__(self, key: Any) -> bool:
        raise self._fail(f" ({key!r} in ...)")

    def __iter__(self) -> Any:
        raise self._fail(" (iteration)")

    def __len__(self) -> int:
        raise self._fail(" (len)")

    def __bool__(self) -> bool:
        return False  # `if tracktui.config:` reads as "nothing there yet"

    def __repr__(self) -> str:
        return f"<tracktui.{self._name} before init()>"
