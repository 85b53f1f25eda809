"""run.config: hyperparameters, dict-like with attribute access, persisted on every change.

Secrets never reach the store: a value under a secret-looking key (api_key, password, token, ...) becomes
"***", and token-looking text (sk-..., hf_..., user:password@ in URLs) is masked inside any value, with
the same rules as the run's metadata (capture/redact.py). The config holds what is stored, so a masked
value reads back as "***" from run.config too.

As in wandb, a key's value does not change once set unless the change is allowed: config.update(d,
allow_val_change=True), or inside a notebook. wandb raises ConfigError there; tracking must not stop
training, so tracktui warns once per key and keeps the old value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .keyed import KeyedValues
from .warn import warn_once


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

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __setitem__(self, key: str, value: Any) -> None:
        key = str(key)
        value = _redact(key, value)
        if not self._keeps_old(key, value, None):
            self._data[key] = value
            self._changed()

    def update(self, d: Any = None, allow_val_change: bool | None = None, **kwargs: Any) -> None:  # type: ignore[override]
        """Merge a dict or Namespace (and keyword arguments) into the config, persisted once. A key that has a
        different value already keeps it (one warning) unless allow_val_change=True."""
        for k, v in {**as_dict(d), **as_dict(kwargs)}.items():
            k = str(k)
            if not self._keeps_old(k, v, allow_val_change):
                self._data[k] = v
        self._changed()

    def _keeps_old(self, key: str, value: Any, allow_val_change: bool | None) -> bool:
        """True (after one warning per key) when setting key to value would change it without leave."""
        if allow_val_change or key not in self._data or _same(self._data[key], value):
            return False
        if allow_val_change is None:
            from .settings import in_notebook

            if in_notebook():
                return False
        warn_once(f"config-change:{id(self)}:{key}",
                  f"tracktui: config[{key!r}] is already {_short(self._data[key])}; not changed to {_short(value)} "
                  "(pass allow_val_change=True to config.update() to change it)")
        return True

    def setdefaults(self, d: Mapping[str, Any]) -> None:
        """Set only the keys not present yet."""
        for k, v in as_dict(d).items():
            self._data.setdefault(k, v)
        self._changed()

    def as_dict(self) -> dict[str, Any]:
        """A plain dict copy."""
        return dict(self._data)


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        eq = a == b
        if isinstance(eq, bool):
            return eq
    except Exception:  # noqa: BLE001 - arrays and odd objects: compare their text
        pass
    return repr(a) == repr(b)


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 80 else text[:77] + "..."
