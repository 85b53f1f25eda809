"""run.summary: the last value of each key by default, what define_metric asks for otherwise."""

from __future__ import annotations

from typing import Any

from tracktui.store.codec import metric_def

from .keyed import KeyedValues

AGGREGATES = ("min", "max", "mean", "last", "first", "none")


def parse_summary(spec: str | None) -> tuple[str, ...]:
    """'min,max' -> ('min', 'max'); raises ValueError for an unknown aggregate."""
    if spec is None:
        return ("last",)
    parts = tuple(p.strip().lower() for p in str(spec).split(",") if p.strip())
    bad = [p for p in parts if p not in AGGREGATES]
    if bad or not parts:
        raise ValueError(f"define_metric summary must be among {', '.join(AGGREGATES)} (comma separated), "
                         f"got {spec!r}")
    return ("none",) if "none" in parts else parts


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
            d = metric_def(self._defs, key) if self._defs else None
            aggs = tuple(d["summary"]) if d and d.get("summary") else None
            if aggs == ("last",):
                aggs = None
            self._key_aggs[key] = aggs
            return aggs

    def observe(self, key: str, value: Any, aggs: tuple[str, ...]) -> None:
        """Fold a logged value into key's aggregates (min/max/mean over numbers only)."""
        if aggs == ("none",):
            return
        state = self._aggs.get(key)
        if state is None:
            state = self._aggs[key] = {"first": value, "n": 0, "sum": 0.0}
        state["last"] = value
        if isinstance(value, float) and value == value:
            if "min" not in state or value < state["min"]:
                state["min"] = value
            if "max" not in state or value > state["max"]:
                state["max"] = value
            state["n"] += 1
            state["sum"] += value
        out = {}
        for a in aggs:
            if a == "mean":
                if state["n"]:
                    out["mean"] = state["sum"] / state["n"]
            elif a in state:
                out[a] = state[a]
        self._data[key] = out
        self.dirty = True
