"""run.summary: the last value of each key by default, what define_metric asks for otherwise.

As in wandb: "min", "max" and "mean" are over the numbers logged (strings and media are skipped) and become
NaN once a NaN was logged (wandb's summary does the same; the history keeps every value, so the best finite
value is still there to find); "first" and "last" are the values as logged; "best" is the min or the max by
the definition's goal. Nested keys are stored flat ("a.b"), and read either way: summary["a.b"] and
summary["a"]["b"].
"""

from __future__ import annotations

from typing import Any

from tracktui.store.codec import metric_def

from .keyed import KeyedValues
from .metric import aggregates as def_aggregates

_NAN = float("nan")


def nested(data: dict[str, Any], key: str) -> dict[str, Any] | None:
    """The flat keys under "key." as a nested dict ({"b": {"c": 1}} for "key.b.c"), or None if there are none."""
    prefix = key + "."
    out: dict[str, Any] = {}
    for k, v in data.items():
        if not k.startswith(prefix):
            continue
        *path, leaf = k[len(prefix):].split(".")
        node = out
        for part in path:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):  # "a.b" is a value and "a.b.c" too: the value is kept
                break
            node = child
        else:
            node.setdefault(leaf, v)
    return out or None


class Summary(KeyedValues):
    """Dict-like; assignment overrides a key until it is logged again, as in wandb."""

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self._aggs: dict[str, dict[str, Any]] = {}
        self._defs: list[dict[str, Any]] = []
        self._key_aggs: dict[str, tuple[str, ...] | None] = {}  # cache: key -> aggregates (None: plain last)
        self.dirty = False

    def _changed(self) -> None:
        self.dirty = True

    def __getitem__(self, key: str) -> Any:
        try:
            return self._data[key]
        except KeyError:
            found = nested(self._data, key) if isinstance(key, str) else None
            if found is None:
                raise
            return found

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Set several keys."""
        for k, v in dict(*args, **kwargs).items():
            self[k] = v

    # ---- from log()
    def set_defs(self, defs: list[dict[str, Any]]) -> None:
        """New define_metric entries: forget cached resolutions."""
        self._defs = defs
        self._key_aggs.clear()

    def aggregates(self, key: str) -> tuple[str, ...] | None:
        """The aggregates key's summary keeps (None for the default: the last value)."""
        try:
            return self._key_aggs[key]
        except KeyError:
            aggs = def_aggregates(metric_def(self._defs, key)) if self._defs else None
            self._key_aggs[key] = aggs
            return aggs

    def observe(self, key: str, value: Any, aggs: tuple[str, ...]) -> None:
        """Fold a logged value into key's aggregates."""
        if aggs == ("none",):
            return
        state = self._aggs.get(key)
        if state is None:
            state = self._aggs[key] = {"first": value, "n": 0, "sum": 0.0, "nan": False}
        state["last"] = value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if value != value:
                state["nan"] = True
            else:
                if "min" not in state or value < state["min"]:
                    state["min"] = value
                if "max" not in state or value > state["max"]:
                    state["max"] = value
                state["sum"] += value
            state["n"] += 1
        out = {}
        for a in aggs:
            if a in ("first", "last"):
                out[a] = state[a]
            elif not state["n"]:
                continue
            elif state["nan"]:
                out["best" if a.startswith("best") else a] = _NAN
            elif a == "mean":
                out["mean"] = state["sum"] / state["n"]
            elif a in ("min", "max"):
                out[a] = state[a]
            elif a == "best:min" or a == "best:max":
                out["best"] = state[a[5:]]
        if out:
            self._data[key] = out
            self.dirty = True


class SummaryDict(dict):  # type: ignore[type-arg]
    """A stored summary (Api runs): a plain dict that also reads nested keys, summary["a"]["b"] for "a.b"."""

    def __missing__(self, key: Any) -> Any:
        found = nested(self, key) if isinstance(key, str) else None
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or (isinstance(key, str) and nested(self, key) is not None)

    def get(self, key: Any, default: Any = None) -> Any:
        """d[key] (nested keys too), or default."""
        try:
            return self[key]
        except KeyError:
            return default
