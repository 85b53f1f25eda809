"""wandb.plot's charts, ported: the tables (columns and values) wandb's unit tests expect from line_series,
pr_curve, roc_curve and confusion_matrix, the same numbers as scikit-learn where it is installed, and the
round trip through the store."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from tracktui.plot import confusion_matrix, line_series, pr_curve, roc_curve

# ---------------------------------------------------------------- ROC and PR (wandb's expected tables)


@pytest.mark.parametrize("probas,title,expected", [
    ([(0.4, 0.6), (0.8, 0.2)], None,
     [[0, 0.0, 0.0], [0, 1.0, 0.0], [0, 1.0, 1.0], [1, 0.0, 0.0], [1, 1.0, 0.0], [1, 1.0, 1.0]]),
    ([(0.4, 0.6), (0.3, 0.7)], "New title",
     [[0, 0.0, 0.0], [0, 0.0, 1.0], [0, 1.0, 1.0], [1, 0.0, 0.0], [1, 0.0, 1.0], [1, 1.0, 1.0]]),
])
def test_roc_curve(probas: list[Any], title: str | None, expected: list[list[Any]]) -> None:
    chart = roc_curve(y_true=[0, 1], y_probas=probas, **({"title": title} if title else {}))
    assert chart.spec.string_fields["title"] == (title or "ROC Curve")
    assert chart.table.columns == ["class", "fpr", "tpr"] and chart.table.data == expected


@pytest.mark.parametrize("title", [None, "New title"])
def test_pr_curve(title: str | None) -> None:
    chart = pr_curve(y_true=[0, 1], y_probas=[(0.4, 0.6), (0.8, 0.2)], interp_size=4,
                     **({"title": title} if title else {}))
    assert chart.spec.string_fields["title"] == (title or "Precision-Recall Curve")
    assert chart.table.columns == ["class", "precision", "recall"]
    assert chart.table.data == [[0, 0.5, 1.0], [0, 0.5, 0.667], [0, 0.5, 0.333], [0, 1.0, 0.0],
                                [1, 0.5, 1.0], [1, 0.5, 0.667], [1, 0.5, 0.333], [1, 1.0, 0.0]]


def test_curves_name_classes_and_pick_them() -> None:
    y = [0, 2, 1, 2, 0, 1]
    p = np.eye(3)[[0, 2, 2, 2, 1, 1]] * 0.7 + 0.1
    roc = roc_curve(y, p, labels=["cat", "dog", "bird"], classes_to_plot=[0, "bird"])
    assert sorted({r[0] for r in roc.table.data}) == ["bird", "cat"]
    pr = pr_curve(y, p, labels=["cat", "dog", "bird"])
    assert [r[0] for r in pr.table.data[::21]] == ["cat", "dog", "bird"] and len(pr.table.data) == 63
    words = pr_curve(["b", "a", "a", "b"], [(0.2, 0.8), (0.9, 0.1), (0.6, 0.4), (0.3, 0.7)], interp_size=3)
    assert [r[0] for r in words.table.data] == ["a"] * 3 + ["b"] * 3  # string classes in sorted order
    assert words.table.data[:3] == [["a", 1.0, 1.0], ["a", 1.0, 0.5], ["a", 1.0, 0.0]]
    binary = roc_curve([0, 1, 1], [0.2, 0.9, 0.6])  # a 1-d probability of the positive class
    assert {r[0] for r in binary.table.data} == {0, 1}
    with pytest.raises(ValueError):
        roc_curve([0, 5], [(0.5, 0.5), (0.5, 0.5)], labels=["a", "b"])  # no name for class 5


def test_a_class_missing_from_y_true_does_not_shift_the_columns() -> None:
    y = [0, 2, 2, 0]
    p = np.array([[0.9, 0.05, 0.05], [0.1, 0.1, 0.8], [0.2, 0.1, 0.7], [0.6, 0.3, 0.1]])
    roc = roc_curve(y, p)
    # class 2 read from column 2 (wandb would read column 1, the second class present)
    assert [r for r in roc.table.data if r[0] == 2] == [[2, 0.0, 0.0], [2, 0.0, 0.5], [2, 0.0, 1.0], [2, 1.0, 1.0]]


@pytest.mark.parametrize("seed", range(4))
def test_curves_match_scikit_learn(seed: int) -> None:
    metrics = pytest.importorskip("sklearn.metrics", reason="comparing with scikit-learn needs the optional "
                                                            "scikit-learn")
    rng = np.random.default_rng(seed)
    n, k = 300, 4
    y = rng.integers(0, k, n)
    p = rng.dirichlet(np.ones(k), n)
    p[np.arange(n), y] += rng.random(n)  # informative but imperfect
    p = np.round(p / p.sum(1, keepdims=True), 2)  # ties, as real probabilities have
    roc = roc_curve(y, p).table.data
    pr = pr_curve(y, p, interp_size=11).table.data
    grid = np.linspace(0, 1, 11)[::-1]
    for c in range(k):
        fpr, tpr, _ = metrics.roc_curve(y, p[:, c], pos_label=c)
        assert [r[1:] for r in roc if r[0] == c] == np.round(np.c_[fpr, tpr], 3).tolist()
        precision, recall, _ = metrics.precision_recall_curve(y, p[:, c], pos_label=c)
        precision = np.maximum.accumulate(precision)[::-1]  # wandb's smoothing, then recall ascending
        expected = np.round(precision[np.searchsorted(recall[::-1], grid, side="left")], 3)
        assert [r[1] for r in pr if r[0] == c] == expected.tolist()


def test_long_curves_are_thinned_to_wandb_row_limit() -> None:
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 12_000)
    roc = roc_curve(y, rng.random((12_000, 3)))
    rows = roc.table.data
    assert len(rows) <= 10_000 and {r[0] for r in rows} == {0, 1, 2}
    for c in range(3):
        mine = [r for r in rows if r[0] == c]
        assert mine[0][1:] == [0.0, 0.0] and mine[-1][1:] == [1.0, 1.0]  # the ends are kept


# ---------------------------------------------------------------- confusion matrix


def test_confusion_matrix_probs_and_preds_agree() -> None:
    with_probs = confusion_matrix(y_true=[0, 1], probs=[(0.4, 0.6), (0.2, 0.8)])
    with_preds = confusion_matrix(y_true=[0, 1], preds=[1, 1])
    assert with_probs.table.data == with_preds.table.data == [
        ["Class_1", "Class_1", 0], ["Class_1", "Class_2", 1], ["Class_2", "Class_1", 0], ["Class_2", "Class_2", 1]]
    assert with_probs.spec == with_preds.spec and with_probs.spec.string_fields["title"] == "Confusion Matrix Curve"
    assert with_probs.table.columns == ["Actual", "Predicted", "nPredictions"]


def test_confusion_matrix_class_names_index_the_labels() -> None:
    chart = confusion_matrix(y_true=[0, 2, 1, 2], preds=[2, 1, 1, 2], class_names=["Cat", "Dog", "Bird"],
                             title="New title")
    assert chart.spec.string_fields["title"] == "New title"
    assert chart.table.data == [["Cat", "Cat", 0], ["Cat", "Dog", 0], ["Cat", "Bird", 1], ["Dog", "Cat", 0],
                                ["Dog", "Dog", 1], ["Dog", "Bird", 0], ["Bird", "Cat", 0], ["Bird", "Dog", 1],
                                ["Bird", "Bird", 1]]
    named = confusion_matrix(y_true=["Cat", "Bird", "Dog", "Bird"], preds=np.array(["Bird", "Dog", "Dog", "Bird"]),
                             class_names=["Cat", "Dog", "Bird"])
    assert named.table.data == chart.table.data  # the names themselves may be the labels


def test_confusion_matrix_default_names_cover_the_labels_seen() -> None:
    chart = confusion_matrix(y_true=[2, 4, 2, 4, 4], preds=[4, 2, 2, 4, 6])
    assert chart.table.data == [
        ["Class_1", "Class_1", 1], ["Class_1", "Class_2", 1], ["Class_1", "Class_3", 0],
        ["Class_2", "Class_1", 1], ["Class_2", "Class_2", 1], ["Class_2", "Class_3", 1],
        ["Class_3", "Class_1", 0], ["Class_3", "Class_2", 0], ["Class_3", "Class_3", 0]]
    words = confusion_matrix(y_true=["dog", "cat", "cat"], preds=["cat", "cat", "dog"])
    assert words.table.data == [["Class_1", "Class_1", 1], ["Class_1", "Class_2", 1], ["Class_2", "Class_1", 1],
                                ["Class_2", "Class_2", 0]]  # cat < dog


@pytest.mark.parametrize("kwargs", [
    {"y_true": [0, 1], "preds": [0]},
    {"y_true": [0, 1], "preds": [0, 1], "probs": [(1, 0), (0, 1)]},
    {"y_true": [0, 1, 2], "preds": [0, 1, 2], "class_names": ["a", "b"]},
    {"y_true": [0, 7], "preds": [0, 1], "class_names": ["a", "b"]},
])
def test_confusion_matrix_bad_input(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        confusion_matrix(**kwargs)


# ---------------------------------------------------------------- line series


@pytest.mark.parametrize("x_values", [["600417", "600421"], [613, 215]])
@pytest.mark.parametrize("y_values", [[[3, 4]], [["3", "4"]], [[1, 2], [7.1, 8.3]]])
def test_line_series(x_values: list[Any], y_values: list[list[Any]]) -> None:
    chart = line_series(xs=x_values, ys=y_values)
    expected = [[x, f"line_{i}", y] for i, ys in enumerate(y_values) for x, y in zip(x_values, ys, strict=False)]
    assert chart.table.columns == ["step", "lineKey", "lineVal"] and chart.table.data == expected


def test_line_series_cuts_each_line_to_its_shorter_list() -> None:
    chart = line_series(xs=[[0, 1, 2, 3], [0, 1]], ys=np.array([[5, 6, 7], [8, 9, 10]]), keys=["a", "b"],
                        xname="epoch", title="t")
    assert chart.table.data == [[0, "a", 5], [1, "a", 6], [2, "a", 7], [0, "b", 8], [1, "b", 9]]
    assert chart.spec.string_fields == {"title": "t", "xname": "epoch"}
    assert line_series(np.arange(3), [np.arange(5)]).table.data == [[0, "line_0", 0], [1, "line_0", 1],
                                                                      [2, "line_0", 2]]


@pytest.mark.parametrize("arguments,exception", [
    ({"xs": 1, "ys": [[3, 4]]}, TypeError),
    ({"xs": [1], "ys": [3]}, TypeError),
    ({"xs": [1], "ys": 3}, TypeError),
    ({"xs": [[1], [2]], "ys": [3]}, ValueError),
    ({"xs": [1, 2], "ys": [[3, 4]], "keys": ["a", "b"]}, ValueError),
])
def test_line_series_invalid_inputs(arguments: dict[str, Any], exception: type[Exception]) -> None:
    with pytest.raises(exception):
        line_series(**arguments)


# ---------------------------------------------------------------- the store keeps wandb's tables


def test_charts_read_back_as_built(run: Any, read: Any) -> None:
    y = np.array([0, 1, 2, 1, 0, 2, 1])
    p = np.eye(3)[[0, 1, 1, 1, 0, 2, 2]] * 0.8 + 0.2 / 3
    charts = {"pr": pr_curve(y, p, labels=["a", "b", "c"]), "roc": roc_curve(y, p),
              "cm": confusion_matrix(y_true=y, preds=p.argmax(1), class_names=["a", "b", "c"]),
              "series": line_series([1, 2, 3], [[1, 4, 9], [1, 8]], keys=["sq", "cube"], xname="n")}
    run.log(charts)
    api = read(run)
    for key, chart in charts.items():
        back = api.plot(key)
        assert [list(r.values()) for r in back["data"]] == chart.table.data, key
        assert list(back["data"][0]) == chart.table.columns and back["spec"] == dict(chart.spec)
    assert api.plot("series")["spec"]["xname"] == "n"
