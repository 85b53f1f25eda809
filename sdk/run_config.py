"""run.config: hyperparameters, dict-like with attribute access, persisted on every change."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .keyed import KeyedValues


def as_dict(obj: Any) -> dict[str, Any]:
    """A config given as a dict, an argparse Namespace, or any object with __dict__ / to_dict."""
    if obj is None:
        return {}
    if isinstance(obj, Mapping):
        return dict(obj)
    if type(obj).__name__ == "Namespace" and hasattr(obj, "__dict__"):  # argparse, without importing it
        return dict(vars(obj))
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    if hasattr(obj, "__dict__"):
        return {k: v for k, v in vars(obj).items() if not k.startswith("_")}
    raise TypeError(f"config must be a dict or an argparse.Namespace, not {type(obj).__name__}")


class Config(KeyedValues):
    """Nested values stay nested; config.lr and config["lr"] are the same."""

    def __init__(self, data: Mapping[str, Any] | None = None,
                 on_change: Callable[[dict[str, Any]], None] | None = None):
        object.__setattr__(self, "_data", dict(data or {}))
        object.__setattr__(self, "_on_change", on_change)

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self._data)

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def update(self, d: Any = None, allow_val_change: bool | None = None, **kwargs: Any) -> None:  # type: ignore[override]
        """Merge a dict or Namespace (and keyword arguments) into the config, persisted once."""
        self._data.update(as_dict(d))
        self._data.update(kwargs)
        self._changed()

    def setdefaults(self, d: Mapping[str, Any]) -> None:
        """Set only the keys not present yet."""
        for k, v in as_dict(d).items():
            self._data.setdefault(k, v)
        self._changed()

    def as_dict(self) -> dict[str, Any]:
        """A plain dict copy."""
        return dict(self._data)
