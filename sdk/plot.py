"""tracktui.plot: charts stored as a typed spec plus their data rows, so a terminal can draw them.

    run.log({"loss_curve": tracktui.plot.line(table, "step", "loss", title="Loss")})

Every function returns a Plot (a media object); its data is a Table whose rows are stored one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tracktui.store.media import Item

from .media import Table
from .media.base import Media, to_numpy

MAX_CURVE_POINTS = 500  # points per class kept by pr_curve and roc_curve


class Plot(Media):
    """A chart: spec (its type, which columns are x / y / series, title...) and a Table of its data."""

    _type = "plot"

    def __init__(self, spec: dict[str, Any], table: Table):
        self.spec = dict(spec)
        self.table = table

    def _item(self) -> Item:
        item = self.table._item()
        return Item(
            "plot",
            {"spec": self.spec, "columns": list(self.table.columns), "rows": len(self.table.data)},
            rows=item.rows,
        )

    def _ref(self) -> dict[str, Any]:
        return {
            "_type": "plot",
            "plot": self.spec.get("type"),
            "title": self.spec.get("title", ""),
            "rows": len(self.table.data),
        }


def _columns(table: Table, *names: str | None) -> Table:
    if not isinstance(table, Table):
        raise TypeError(f"tracktui.plot: the data must be a tracktui.Table, not {type(table).__name__}")
    wanted = [n for n in names if n is not None]
    missing = [n for n in wanted if n not in table.columns]
    if missing:
        raise ValueError(f"tracktui.plot: the table has no column {missing[0]!r} (columns: {table.columns})")
    idx = [table.columns.index(n) for n in wanted]
    return Table(columns=wanted, data=[[row[i] for i in idx] for row in table.data])


def line(
    table: Table, x: str, y: str, stroke: str | None = None, title: str = "", split_table: bool = False
) -> Plot:
    """A line chart of column y over column x (one line per value of stroke, when given)."""
    return Plot(
        {"type": "line", "x": x, "y": y, "stroke": stroke, "title": title}, _columns(table, x, y, stroke)
    )


def scatter(table: Table, x: str, y: str, title: str = "", split_table: bool = False) -> Plot:
    """A scatter plot of column y against column x."""
    return Plot({"type": "scatter", "x": x, "y": y, "title": title}, _columns(table, x, y))


def bar(table: Table, label: str, value: str, title: str = "", split_table: bool = False) -> Plot:
    """A bar chart: one bar per row, labelled by column label, as long as column value."""
    return Plot(
        {"type": "bar", "label": label, "value": value, "title": title}, _columns(table, label, value)
    )


def histogram(table: Table, value: str, title: str = "", split_table: bool = False) -> Plot:
    """A histogram of the values of one column."""
    return Plot({"type": "histogram", "value": value, "title": title}, _columns(table, value))


def line_series(
    xs: Sequence[Any],
    ys: Sequence[Sequence[Any]],
    keys: Sequence[str] | None = None,
    title: str = "",
    xname: str = "x",
    split_table: bool = False,
) -> Plot:
    """Several lines on one chart: ys[i] over xs (or over xs[i] when xs is a list of lists), named keys[i]."""
    ys = [list(to_numpy(y).ravel().tolist()) for y in ys]
    xs_list = to_numpy(xs).tolist() if hasattr(xs, "shape") else list(xs)
    per_series = bool(xs_list) and isinstance(xs_list[0], (list, tuple))
    if per_series and len(xs_list) != len(ys):
        raise ValueError(f"tracktui.plot.line_series: {len(xs_list)} x lists for {len(ys)} y lists")
    names = [str(k) for k in keys] if keys is not None else [f"key_{i}" for i in range(len(ys))]
    if len(names) != len(ys):
        raise ValueError(f"tracktui.plot.line_series: {len(names)} keys for {len(ys)} series")
    table = Table(columns=["series", xname, "y"])
    for i, (name, y) in enumerate(zip(names, ys, strict=False)):
        x = list(xs_list[i]) if per_series else xs_list
        if len(x) != len(y):
            raise ValueError(
                f"tracktui.plot.line_series: series {name!r} has {len(y)} y values for {len(x)} x"
            )
        for xv, yv in zip(x, y, strict=False):
            table.add_data(name, xv, yv)
    return Plot(
        {"type": "line_series", "x": xname, "y": "y", "series": "series", "title": title, "keys": names},
        table,
    )


def confusion_matrix(
    probs: Any = None,
    y_true: Any = None,
    preds: Any = None,
    class_names: Sequence[str] | None = None,
    title: str = "Confusion Matrix",
) -> Plot:
    """Counts of (actual, predicted) class pairs; preds, or the argmax of probs, against y_true."""
    import numpy as np

    if y_true is None:
        raise ValueError("tracktui.plot.confusion_matrix needs y_true")
    if (probs is None) == (preds is None):
        raise ValueError("tracktui.plot.confusion_matrix needs preds or probs (one of them)")
    t = to_numpy(y_true).ravel()
    p = to_numpy(preds).ravel() if preds is not None else to_numpy(probs).argmax(axis=-1).ravel()
    if len(t) != len(p):
        raise ValueError(f"tracktui.plot.confusion_matrix: {len(t)} labels for {len(p)} predictions")
    if t.dtype.kind not in "iu" or p.dtype.kind not in "iu":
        raise TypeError("tracktui.plot.confusion_matrix: y_true and preds must be class indices (integers)")
    n = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    if class_names is not None:
        if len(class_names) < n:
            raise ValueError(
                f"tracktui.plot.confusion_matrix: {len(class_names)} class names for class "
                f"indices up to {n - 1}"
            )
        n = len(class_names)
    names = [str(c) for c in class_names] if class_names is not None else [str(i) for i in range(n)]
    if t.min(initial=0) < 0 or p.min(initial=0) < 0:
        raise ValueError("tracktui.plot.confusion_matrix: class indices must not be negative")
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (t, p), 1)
    table = Table(columns=["Actual", "Predicted", "nPredictions"])
    for i in range(n):
        for j in range(n):
            table.add_data(names[i], names[j], int(counts[i, j]))
    return Plot(
        {
            "type": "confusion_matrix",
            "actual": "Actual",
            "predicted": "Predicted",
            "value": "nPredictions",
            "class_names": names,
            "title": title,
        },
        table,
    )


def _curves(
    kind: str, y_true: Any, y_probas: Any, labels: Sequence[str] | None, classes_to_plot: Sequence[Any] | None
) -> tuple[list[str], Table]:
    import numpy as np

    t = to_numpy(y_true).ravel()
    pr = to_numpy(y_probas).astype(np.float64)
    if pr.ndim == 1:
        pr = np.stack([1 - pr, pr], axis=1)
    if pr.ndim != 2 or pr.shape[0] != len(t):
        raise ValueError(
            f"tracktui.plot.{kind}: y_probas must be N×classes for {len(t)} labels, got shape {pr.shape}"
        )
    n_classes = pr.shape[1]
    names = [str(x) for x in labels] if labels is not None else [str(i) for i in range(n_classes)]
    if len(names) != n_classes:
        raise ValueError(f"tracktui.plot.{kind}: {len(names)} labels for {n_classes} classes")
    if t.dtype.kind not in "iub":  # labels given as names
        index = {n: i for i, n in enumerate(names)}
        try:
            t = np.array([index[str(v)] for v in t.tolist()])
        except KeyError as e:
            raise ValueError(f"tracktui.plot.{kind}: label {e.args[0]!r} is not among {names}") from e
    classes = (
        range(n_classes)
        if classes_to_plot is None
        else [c if isinstance(c, int) else names.index(str(c)) for c in classes_to_plot]
    )
    xname, yname = ("recall", "precision") if kind == "pr_curve" else ("fpr", "tpr")
    table = Table(columns=["class", xname, yname])
    for c in classes:
        pos = t == c
        order = np.argsort(-pr[:, c], kind="stable")
        hits = pos[order]
        tp = np.cumsum(hits)
        fp = np.cumsum(~hits)
        n_pos, n_neg = int(pos.sum()), int((~pos).sum())
        if kind == "pr_curve":
            x = tp / max(n_pos, 1)
            y = tp / np.maximum(tp + fp, 1)
            x, y = np.concatenate([[0.0], x]), np.concatenate([[1.0], y])
        else:
            x = fp / max(n_neg, 1)
            y = tp / max(n_pos, 1)
            x, y = np.concatenate([[0.0], x]), np.concatenate([[0.0], y])
        if len(x) > MAX_CURVE_POINTS:
            keep = np.unique(np.linspace(0, len(x) - 1, MAX_CURVE_POINTS).round().astype(int))
            x, y = x[keep], y[keep]
        for xv, yv in zip(x.tolist(), y.tolist(), strict=False):
            table.add_data(names[c], xv, yv)
    return names, table


def pr_curve(
    y_true: Any = None,
    y_probas: Any = None,
    labels: Sequence[str] | None = None,
    classes_to_plot: Sequence[Any] | None = None,
    title: str = "Precision v. Recall",
) -> Plot:
    """Precision against recall per class (one-vs-rest), from labels and predicted probabilities."""
    names, table = _curves("pr_curve", y_true, y_probas, labels, classes_to_plot)
    return Plot(
        {
            "type": "pr_curve",
            "x": "recall",
            "y": "precision",
            "series": "class",
            "title": title,
            "labels": names,
        },
        table,
    )


def roc_curve(
    y_true: Any = None,
    y_probas: Any = None,
    labels: Sequence[str] | None = None,
    classes_to_plot: Sequence[Any] | None = None,
    title: str = "ROC",
) -> Plot:
    """True-positive rate against false-positive rate per class (one-vs-rest)."""
    names, table = _curves("roc_curve", y_true, y_probas, labels, classes_to_plot)
    return Plot(
        {"type": "roc_curve", "x": "fpr", "y": "tpr", "series": "class", "title": title, "labels": names},
        table,
    )


__all__ = [
    "Plot",
    "line",
    "scatter",
    "bar",
    "histogram",
    "line_series",
    "confusion_matrix",
    "pr_curve",
    "roc_curve",
]
