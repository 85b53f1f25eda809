"""The dict protocol that run.config and run.summary share: a plain dict inside, keys as attributes."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any


class KeyedValues(MutableMapping[str, Any]):
    """A mutable mapping over self._data that reads keys as attributes and calls _changed() on writes."""

    _data: dict[str, Any]

    def _changed(self) -> None:
        """Called after every write (subclasses persist or mark themselves dirty)."""

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[str(key)] = value
        self._changed()

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self._changed()

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._data))

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"{type(self).__name__.lower()} has no key {key!r}") from None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"
