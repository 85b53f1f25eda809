"""run.config: hyperparameters, dict-like with attribute access, persisted on every change.

Secrets never reach the store: a value under a secret-looking key (api_key, password, token, ...) becomes
"***", and token-looking text (sk-..., hf_..., user:password@ in URLs) is masked inside any value, with
the same rules as the run's metadata (capture/redact.py). The config holds what is stored, so a masked
value reads back as "***" from run.config too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .keyed import KeyedValues


def _redact(key: str, value: Any) -> Any:
    from .capture.redact import redact_value  # on first use: `import tracktui` stays light

    return redact_value(key, value)


def _redact_all(data: Mapping[str, Any]) -> dict[str, Any]:
    from .capture.redact import redact_mapping

    return redact_mapping(data)


def as_dict(obj: Any) -> dict[str, Any]:
    """A config given as a dict, an argparse Namespace, or any object with __dict__ / to_dict; secrets
    masked."""
    return _redact_all(_plain_dict(obj))


def _plain_dict(obj: Any) -> dict[str, Any]:
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
        object.__setattr__(self, "_data", _redact_all(data or {}))
        object.__setattr__(self, "_on_change", on_change)

    def _changed(self) -> None:
        if self._on_change is not None:
            # again on the whole: a nested dict changed in place since it was set is masked here too
            self._on_change(_redact_all(self._data))

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[str(key)] = _redact(str(key), value)
        self._changed()

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def update(self, d: Any = None, allow_val_change: bool | None = None, **kwargs: Any) -> None:  # type: ignore[override]
        """Merge a dict or Namespace (and keyword arguments) into the config, persisted once."""
        self._data.update(as_dict(d))
        self._data.update(as_dict(kwargs))
        self._changed()

    def setdefaults(self, d: Mapping[str, Any]) -> None:
        """Set only the keys not present yet."""
        for k, v in as_dict(d).items():
            self._data.setdefault(k, v)
        self._changed()

    def as_dict(self) -> dict[str, Any]:
        """A plain dict copy."""
        return dict(self._data)
