"""tracktui.plot: charts stored as a typed spec plus their data rows, so a terminal can draw them.

    run.log({"loss_curve": tracktui.plot.line(table, "step", "loss", title="Loss")})

Every function returns a Plot (a media object) whose .table holds the same columns and values wandb's chart
table holds (line_series: step, lineKey, lineVal; pr_curve: class, precision, recall; roc_curve: class, fpr,
tpr; confusion_matrix: Actual, Predicted, nPredictions), computed as wandb computes them (scikit-learn's
curves, re-implemented here on numpy so scikit-learn is not needed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tracktui.store.media import Item

from .media import Table
from .media.base import Media, to_numpy

MAX_PLOT_ROWS = 10_000  # rows of a curve's table at most (wandb.Table.MAX_ROWS); longer curves are thinned


class Spec(dict):
    """A plot's spec: a dict (type, which columns are x / y / series, title...), with wandb's views of it
    (string_fields, fields, vega_spec_name) for code written against wandb's CustomChart."""

    _VEGA = {"line": "wandb/line/v0", "scatter": "wandb/scatter-plot/v0", "bar": "wandb/bar/v0",
             "histogram": "wandb/histogram/v0", "line_series": "wandb/lineseries/v0",
             "pr_curve": "wandb/area-under-curve/v0", "roc_curve": "wandb/area-under-curve/v0",
             "confusion_matrix": "wandb/confusion_matrix/v1"}
    _STRINGS = ("title", "xname", "x-axis-title", "y-axis-title")
    _FIELDS = ("x", "y", "stroke", "series", "label", "value", "actual", "predicted")

    @property
    def string_fields(self) -> dict[str, Any]:
        """The chart's strings (title, axis titles), as wandb's spec names them."""
        return {k: self[k] for k in self._STRINGS if k in self}

    @property
    def fields(self) -> dict[str, Any]:
        """Which column plays which part."""
        return {k: self[k] for k in self._FIELDS if self.get(k) is not None}

    @property
    def vega_spec_name(self) -> str | None:
        """The name of the wandb chart preset this spec corresponds to."""
        return self._VEGA.get(self.get("type", ""))


class Plot(Media):
    """A chart: spec (its type, which columns are x / y / series, title...) and a Table of its data."""

    _type = "plot"

    def __init__(self, spec: dict[str, Any], table: Table):
        self.spec = Spec(spec)
        self.table = table

    def _item(self) -> Item:
        item = self.table._item()
        return Item("plot", {"spec": dict(self.spec), "columns": [str(c) for c in self.table.columns],
                             "rows": len(self.table.data)}, rows=item.rows)

    def _ref(self) -> dict[str, Any]:
        return {"_type": "plot", "plot": self.spec.get("type"), "title": self.spec.get("title", ""),
                "rows": len(self.table.data)}


def _columns(table: Table, *names: str | None) -> Table:
    if not isinstance(table, Table):
        raise TypeError(f"tracktui.plot: the data must be a tracktui.Table, not {type(table).__name__}")
    wanted = [n for n in names if n is not None]
    missing = [n for n in wanted if n not in table.columns]
    if missing:
        raise ValueError(f"tracktui.plot: the table has no column {missing[0]!r} (columns: {table.columns})")
    idx = [table.columns.index(n) for n in wanted]
    return Table(columns=wanted, data=[[row[i] for i in idx] for row in table.data])


def line(table: Table, x: str, y: str, stroke: str | None = None, title: str = "",
         split_table: bool = False) -> Plot:
    """A line chart of column y over column x (one line per value of stroke, when given)."""
    return Plot({"type": "line", "x": x, "y": y, "stroke": stroke, "title": title}, _columns(table, x, y, stroke))


def scatter(table: Table, x: str, y: str, title: str = "", split_table: bool = False) -> Plot:
    """A scatter plot of column y against column x."""
    return Plot({"type": "scatter", "x": x, "y": y, "title": title}, _columns(table, x, y))


def bar(table: Table, label: str, value: str, title: str = "", split_table: bool = False) -> Plot:
    """A bar chart: one bar per row, labelled by column label, as long as column value."""
    return Plot({"type": "bar", "label": label, "value": value, "title": title}, _columns(table, label, value))


def histogram(table: Table, value: str, title: str = "", split_table: bool = False) -> Plot:
    """A histogram of the values of one column."""
    return Plot({"type": "histogram", "value": value, "title": title}, _columns(table, value))


def _seq(x: Any, what: str) -> Any:
    if hasattr(x, "detach") or hasattr(x, "shape"):
        return to_numpy(x)
    if isinstance(x, (str, bytes)) or not isinstance(x, Iterable):
        raise TypeError(f"tracktui.plot.line_series: {what} must be a sequence, not {type(x).__name__}")
    return x


def line_series(xs: Any, ys: Any, keys: Sequence[str] | None = None, title: str = "", xname: str = "x",
                split_table: bool = False) -> Plot:
    """Several lines on one chart: ys[i] over xs (one x list for all, or xs[i] per line), named keys[i]
    (line_0, line_1... by default). As in wandb, each line is cut to the shorter of its x and y lists; the
    table's columns are step, lineKey, lineVal."""
    xs, ys = list(_seq(xs, "xs")), list(_seq(ys, "ys"))
    if not xs or isinstance(xs[0], (str, bytes)) or not isinstance(xs[0], Iterable):
        xs = [xs] * len(ys)
    if len(xs) != len(ys):
        raise ValueError(f"tracktui.plot.line_series: {len(xs)} x series for {len(ys)} y series")
    names = [f"line_{i}" for i in range(len(ys))] if keys is None else [str(k) for k in keys]
    if len(names) != len(ys):
        raise ValueError(f"tracktui.plot.line_series: {len(names)} keys for {len(ys)} y series")
    table = Table(columns=["step", "lineKey", "lineVal"])
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        for xv, yv in zip(_seq(x, f"xs[{i}]"), _seq(y, f"ys[{i}]"), strict=False):
            table.add_data(xv, names[i], yv)
    return Plot({"type": "line_series", "x": "step", "y": "lineVal", "series": "lineKey", "title": title,
                 "xname": xname, "keys": names}, table)


def confusion_matrix(probs: Any = None, y_true: Any = None, preds: Any = None,
                     class_names: Sequence[str] | None = None, title: str = "Confusion Matrix Curve",
                     split_table: bool = False) -> Plot:
    """Counts of (actual, predicted) pairs, from preds or the argmax of probs, as wandb counts them: with
    class_names, labels are indexes into it (or the names themselves); without, the distinct labels in sorted
    order are named Class_1, Class_2, ..."""
    if y_true is None:
        raise ValueError("tracktui.plot.confusion_matrix needs y_true")
    if probs is not None and preds is not None:
        raise ValueError("tracktui.plot.confusion_matrix takes probs or preds, not both")
    if probs is None and preds is None:
        raise ValueError("tracktui.plot.confusion_matrix needs preds or probs")
    truth = _labels(y_true)
    pred = to_numpy(probs).argmax(axis=1).tolist() if probs is not None else _labels(preds)
    if len(pred) != len(truth):
        raise ValueError(f"tracktui.plot.confusion_matrix: {len(truth)} labels for {len(pred)} predictions")
    if class_names is not None:
        names = [str(c) for c in class_names]
        n = len(names)
        for what, labels in (("predicted classes", pred), ("true labels", truth)):
            if len(set(labels)) > n:
                raise ValueError(f"tracktui.plot.confusion_matrix: more distinct {what} than the {n} class names")
        index: dict[Any, int] = {i: i for i in range(n)}
        index.update({name: i for i, name in enumerate(names) if name not in index})
        unknown = [v for v in truth + pred if v not in index]
        if unknown:
            raise ValueError(f"tracktui.plot.confusion_matrix: label {unknown[0]!r} is neither an index into the "
                             f"{n} class names nor one of them")
    else:
        try:
            distinct = sorted(set(pred) | set(truth))
        except TypeError as e:
            raise TypeError("tracktui.plot.confusion_matrix: labels must be all numbers or all strings") from e
        n = len(distinct)
        names = [f"Class_{i + 1}" for i in range(n)]
        index = {v: i for i, v in enumerate(distinct)}
    counts = [[0] * n for _ in range(n)]
    for t, p in zip(truth, pred, strict=True):
        counts[index[t]][index[p]] += 1
    table = Table(columns=["Actual", "Predicted", "nPredictions"],
                  data=[[names[i], names[j], counts[i][j]] for i in range(n) for j in range(n)])
    return Plot({"type": "confusion_matrix", "actual": "Actual", "predicted": "Predicted", "value": "nPredictions",
                 "class_names": names, "title": title}, table)


def _labels(x: Any) -> list[Any]:
    """Labels as plain Python values (numpy and torch scalars converted)."""
    if hasattr(x, "shape") or hasattr(x, "detach"):
        return to_numpy(x).ravel().tolist()
    return [v.item() if hasattr(v, "item") and getattr(v, "ndim", 0) == 0 else v for v in x]


# ---------------------------------------------------------------- curves (scikit-learn's, on numpy)


def binary_clf_curve(y_true: Any, y_score: Any, pos_label: Any) -> tuple[Any, Any, Any]:
    """False and true positive counts at each distinct score threshold (descending), as scikit-learn's
    _binary_clf_curve computes them."""
    import numpy as np

    pos = y_true == pos_label
    order = np.argsort(y_score, kind="mergesort")[::-1]
    score, pos = y_score[order], pos[order]
    cut = np.r_[np.where(np.diff(score))[0], pos.size - 1]
    tps = np.cumsum(pos, dtype=np.float64)[cut]
    fps = 1 + cut - tps
    return fps, tps, score[cut]


def roc_points(y_true: Any, y_score: Any, pos_label: Any) -> tuple[Any, Any]:
    """(fpr, tpr) as sklearn.metrics.roc_curve gives them (drop_intermediate=True)."""
    import numpy as np

    fps, tps, _ = binary_clf_curve(y_true, y_score, pos_label)
    if len(fps) > 2:
        keep = np.where(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])[0]
        fps, tps = fps[keep], tps[keep]
    fps, tps = np.r_[0, fps], np.r_[0, tps]
    fpr = fps / fps[-1] if fps[-1] > 0 else np.full(fps.shape, np.nan)
    tpr = tps / tps[-1] if tps[-1] > 0 else np.full(tps.shape, np.nan)
    return fpr, tpr


def pr_points(y_true: Any, y_score: Any, pos_label: Any) -> tuple[Any, Any]:
    """(precision, recall) as sklearn.metrics.precision_recall_curve gives them."""
    import numpy as np

    fps, tps, _ = binary_clf_curve(y_true, y_score, pos_label)
    ps = tps + fps
    precision = np.divide(tps, ps, out=np.zeros_like(tps), where=ps != 0)
    recall = np.ones_like(tps) if tps[-1] == 0 else tps / tps[-1]
    return np.r_[precision[::-1], 1], np.r_[recall[::-1], 0]


def _curve_inputs(kind: str, y_true: Any, y_probas: Any, labels: Sequence[Any] | None,
                  classes_to_plot: Sequence[Any] | None) -> list[tuple[Any, Any, Any, Any]]:
    """(class label, the true labels, the class's scores, the class) for every class to plot, as wandb picks
    them: the distinct labels of y_true in sorted order, named by labels[class] for integer classes; a class's
    scores are the y_probas column of its rank (of its value, for integer classes below the column count, so
    a class missing from y_true does not shift the others)."""
    import numpy as np

    if y_true is None or y_probas is None:
        raise ValueError(f"tracktui.plot.{kind} needs y_true and y_probas")
    t = np.asarray(_labels(y_true))
    p = to_numpy(y_probas).astype(np.float64)
    if p.ndim == 1:  # a binary classifier's probability of the positive class
        p = np.stack([1 - p, p], axis=1)
    if p.ndim != 2 or p.shape[0] != len(t):
        raise ValueError(f"tracktui.plot.{kind}: y_probas must be N×classes for {len(t)} labels, got shape {p.shape}")
    classes = np.unique(t)
    integer = t.dtype.kind in "iu"
    by_value = integer and all(0 <= c < p.shape[1] for c in classes.tolist())
    if len(classes) > p.shape[1] and not by_value:
        raise ValueError(f"tracktui.plot.{kind}: {len(classes)} classes in y_true but y_probas has {p.shape[1]} "
                         f"columns")
    names = [str(x) for x in labels] if labels is not None else None
    wanted = None if classes_to_plot is None else {str(c) for c in classes_to_plot}
    out = []
    for i, cls in enumerate(classes.tolist()):
        label = cls
        if names is not None and integer:
            if not 0 <= cls < len(names):
                raise ValueError(f"tracktui.plot.{kind}: class {cls} has no name among the {len(names)} labels")
            label = names[cls]
        if wanted is not None and str(cls) not in wanted and str(label) not in wanted:
            continue
        out.append((label, t, p[:, cls if by_value else i], cls))
    return out


def _round3(a: Any) -> list[float]:
    import numpy as np

    return np.round(np.asarray(a, dtype=np.float64), 3).tolist()


def _thin(per_class: list[tuple[Any, list[float], list[float]]]) -> list[tuple[Any, list[float], list[float]]]:
    """Curves of more than MAX_PLOT_ROWS rows in all, thinned evenly per class (ends kept)."""
    import numpy as np

    total = sum(len(x) for _, x, _ in per_class)
    if total <= MAX_PLOT_ROWS:
        return per_class
    out = []
    for label, a, b in per_class:
        share = max(2, len(a) * MAX_PLOT_ROWS // total)
        keep = np.unique(np.linspace(0, len(a) - 1, share).round().astype(int)).tolist()
        out.append((label, [a[k] for k in keep], [b[k] for k in keep]))
    return out


def pr_curve(y_true: Any = None, y_probas: Any = None, labels: Sequence[str] | None = None,
             classes_to_plot: Sequence[Any] | None = None, interp_size: int = 21,
             title: str = "Precision-Recall Curve", split_table: bool = False) -> Plot:
    """Precision against recall per class (one-vs-rest), as wandb computes it: precision made monotone, read
    at interp_size recall values from 1 down to 0, rounded to 3 decimals; columns class, precision, recall."""
    import numpy as np

    if isinstance(interp_size, bool) or not isinstance(interp_size, int) or interp_size < 2:
        raise ValueError(f"tracktui.plot.pr_curve: interp_size must be an integer >= 2, got {interp_size!r}")
    grid = np.linspace(0, 1, interp_size)[::-1]
    curves = []
    for label, t, score, cls in _curve_inputs("pr_curve", y_true, y_probas, labels, classes_to_plot):
        precision, recall = pr_points(t, score, cls)
        precision = np.maximum.accumulate(precision)[::-1]  # monotone, then recall ascending
        idx = np.searchsorted(recall[::-1], grid, side="left")
        curves.append((label, _round3(precision[idx]), _round3(grid)))
    table = Table(columns=["class", "precision", "recall"])
    for label, prec, rec in _thin(curves):
        for a, b in zip(prec, rec, strict=True):
            table.add_data(label, a, b)
    return Plot({"type": "pr_curve", "x": "recall", "y": "precision", "series": "class", "title": title,
                 "x-axis-title": "Recall", "y-axis-title": "Precision"}, table)


def roc_curve(y_true: Any = None, y_probas: Any = None, labels: Sequence[str] | None = None,
              classes_to_plot: Sequence[Any] | None = None, title: str = "ROC Curve",
              split_table: bool = False) -> Plot:
    """True-positive rate against false-positive rate per class (one-vs-rest), as wandb computes it
    (scikit-learn's roc_curve, rounded to 3 decimals); columns class, fpr, tpr."""
    curves = []
    for label, t, score, cls in _curve_inputs("roc_curve", y_true, y_probas, labels, classes_to_plot):
        fpr, tpr = roc_points(t, score, cls)
        curves.append((label, _round3(fpr), _round3(tpr)))
    table = Table(columns=["class", "fpr", "tpr"])
    for label, fpr, tpr in _thin(curves):
        for a, b in zip(fpr, tpr, strict=True):
            table.add_data(label, a, b)
    return Plot({"type": "roc_curve", "x": "fpr", "y": "tpr", "series": "class", "title": title,
                 "x-axis-title": "False positive rate", "y-axis-title": "True positive rate"}, table)


__all__ = ["Plot", "Spec", "line", "scatter", "bar", "histogram", "line_series", "confusion_matrix", "pr_curve",
           "roc_curve"]
