"""define_metric's arguments, checked as wandb checks them, the Metric object it returns, and how a
definition merges into the earlier ones of the same name.

A definition is stored in the run's metric_defs as a dict: name (escaped dots "a\\.b" kept as given),
step_metric, step_sync, summary (a list of aggregates; empty: the last value, plain), hidden, goal
("minimize", "maximize" or None).
"""

from __future__ import annotations

from typing import Any

from .errors import UsageError

SUMMARY_OPS = ("min", "max", "mean", "best", "last", "first", "copy", "none")
_GOALS = {"min": "minimize", "max": "maximize"}


class Metric:
    """What define_metric() returns: the call's own arguments (the stored definition may merge several)."""

    def __init__(self, name: str, step_metric: str | None = None, step_sync: bool | None = None,
                 hidden: bool | None = None, summary: tuple[str, ...] | None = None, goal: str | None = None,
                 overwrite: bool | None = None):
        self._name = name
        self._step_metric = step_metric
        self._step_sync = step_sync if step_sync is not None else step_metric is not None
        self._hidden = hidden
        self._summary = summary
        self._goal = goal
        self._overwrite = overwrite

    name = property(lambda self: self._name, doc="The metric's name or glob, as given.")
    step_metric = property(lambda self: self._step_metric, doc="The metric it is plotted against, if any.")
    step_sync = property(lambda self: self._step_sync, doc="True by default when step_metric is set.")
    hidden = property(lambda self: self._hidden, doc="Hidden from the automatic charts.")
    summary = property(lambda self: self._summary, doc="The aggregates asked for, e.g. ('min', 'max'), or None.")
    goal = property(lambda self: self._goal, doc="'minimize', 'maximize' or None.")
    overwrite = property(lambda self: self._overwrite, doc="True: this call replaced the earlier definition.")

    def as_entry(self) -> dict[str, Any]:
        """The stored form of this call alone."""
        ops = [op for op in (self._summary or ()) if op != "copy"]
        return {"name": self._name, "step_metric": self._step_metric, "step_sync": bool(self._step_sync),
                "summary": ops, "hidden": bool(self._hidden), "goal": self._goal}

    def __repr__(self) -> str:
        return (f"<Metric {self._name!r} step_metric={self._step_metric!r} summary={self._summary!r} "
                f"goal={self._goal!r}>")


def parse(name: Any, step_metric: Any = None, step_sync: Any = None, hidden: Any = None, summary: Any = None,
          goal: Any = None, overwrite: Any = None) -> Metric:
    """The Metric for define_metric's arguments; a wrong one raises UsageError (a tracktui.Error and a
    ValueError), before anything is recorded, as wandb raises wandb.Error."""
    if isinstance(step_metric, Metric):
        step_metric = step_metric.name
    if not name:
        raise UsageError("define_metric() needs a non-empty metric name")
    for arg, value, kind in (("name", name, str), ("step_metric", step_metric, str), ("step_sync", step_sync, bool),
                             ("hidden", hidden, bool), ("summary", summary, str), ("goal", goal, str),
                             ("overwrite", overwrite, bool)):
        if value is not None and not isinstance(value, kind):
            raise UsageError(f"define_metric(): {arg} must be a {kind.__name__}, not {type(value).__name__}")
    ops: tuple[str, ...] | None = None
    if summary:
        items = tuple(s.strip().lower() for s in summary.split(","))
        bad = [s for s in items if s not in SUMMARY_OPS]
        if bad:
            raise UsageError(f"define_metric(): unknown summary {', '.join(map(repr, bad))}; use "
                             f"{', '.join(SUMMARY_OPS)} (comma separated)")
        ops = tuple(dict.fromkeys(items))
    goal_name = None
    if goal is not None:
        goal_name = _GOALS.get(goal[:3].lower())
        if goal_name is None:
            raise UsageError(f"define_metric(): goal must be 'minimize' or 'maximize', got {goal!r}")
    return Metric(name, step_metric, step_sync, hidden, ops, goal_name, overwrite)


def merge(defs: list[dict[str, Any]], metric: Metric) -> list[dict[str, Any]]:
    """defs with metric's definition folded in, as wandb does: overwrite=True replaces the earlier definition
    of the same name; otherwise what this call leaves out is kept, summaries add up, and "none" switches the
    summary off until a later call asks for one again."""
    new = metric.as_entry()
    old = next((d for d in defs if d.get("name") == new["name"]), None)
    rest = [d for d in defs if d.get("name") != new["name"]]
    if old is None or metric.overwrite:
        return [*rest, new]
    ops = [op for op in old.get("summary") or () if op != "none"]
    if new["summary"]:
        ops += [op for op in new["summary"] if op not in ops and op != "none"]
        if "none" in new["summary"]:
            ops.append("none")
    elif "none" in (old.get("summary") or ()):
        ops.append("none")
    merged = {
        "name": new["name"],
        "step_metric": new["step_metric"] or old.get("step_metric"),
        "step_sync": bool(old.get("step_sync")) or new["step_sync"],
        "summary": ops,
        "hidden": bool(old.get("hidden")) or new["hidden"],
        "goal": new["goal"] or old.get("goal"),
    }
    return [*rest, merged]


def aggregates(entry: dict[str, Any] | None) -> tuple[str, ...] | None:
    """The aggregates a definition keeps in the summary: None for the plain last value, ("none",) for no
    summary, else names among min, max, mean, last, first and "best:min" / "best:max" (best by the goal,
    minimize unless the goal says maximize)."""
    if not entry:
        return None
    ops = [op for op in entry.get("summary") or () if op != "copy"]
    if "none" in ops:
        return ("none",)
    if not ops:
        return None
    best = "best:max" if entry.get("goal") == "maximize" else "best:min"
    return tuple(best if op == "best" else op for op in ops)
