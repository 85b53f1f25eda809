"""Image input as wandb.Image takes it: its rescaling of floats and ints (truncated, clipped), torch tensors as
C×H×W, matplotlib figures (also straight into log()), equality, and Classes stored as its data."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tracktui
import tracktui.warn
from tracktui.media.image import to_uint8


def _pixels(img: Any) -> list[int]:
    return np.asarray(img.to_pil()).ravel().tolist()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0.0, 0.5, 0.999, 1.0], [0, 127, 254, 255]),  # 0..1: times 255, truncated (not rounded)
        ([-1.0, 0.0, 0.5, 1.0], [0, 127, 191, 255]),  # -1..1: onto 0..255
        ([-5.0, 3.7, 300.0, 128.9], [0, 3, 255, 128]),  # anything else: clipped, truncated
        ([float("nan"), 0.5, 0.25, 0.75], [0, 0, 0, 0]),  # NaN: wandb's min/max are NaN, so it clips
        ([float("-inf"), float("inf"), 7.0, 8.0], [0, 255, 7, 8]),
    ],
)
def test_float_pixels_as_wandb_rescales_them(values: list[float], expected: list[int]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        img = tracktui.Image(np.array(values, dtype=np.float64).reshape(2, 2))
    assert _pixels(img) == expected
    assert img.mode == "L"


def test_int_pixels_as_wandb_rescales_them(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _pixels(tracktui.Image(np.array([[0, 1], [1, 0]], dtype=np.uint8))) == [0, 255, 255, 0]  # 0/1: ×255
    assert _pixels(tracktui.Image(np.array([[0, 1], [1, 0]], dtype=np.int8))) == [0, 255, 255, 0]
    monkeypatch.setattr(tracktui.warn, "_seen", set())  # the range warning comes once per process
    with pytest.warns(tracktui.TrackTuiWarning, match="outside 0..255"):  # below 0: wandb warns too
        assert _pixels(tracktui.Image(np.array([[-1, 0], [1, 0]], dtype=np.int64))) == [0, 127, 255, 127]
    assert _pixels(tracktui.Image(np.array([[0, 7], [200, 255]], dtype=np.uint8))) == [0, 7, 200, 255]
    monkeypatch.setattr(tracktui.warn, "_seen", set())  # the range warning comes once per process
    with pytest.warns(tracktui.TrackTuiWarning, match="outside 0..255"):
        out = to_uint8(np.array([[-3, 300], [40, 1000]]))
    assert out.ravel().tolist() == [0, 255, 40, 255]
    assert to_uint8(np.array([True, False])).tolist() == [255, 0]


def test_normalize_false_casts_as_numpy_does() -> None:
    img = tracktui.Image(np.array([[0, 1], [256, 300]], dtype=np.int64), normalize=False)
    assert _pixels(img) == [0, 1, 0, 44]  # no ×255 for 0/1, wrap-around above 255
    assert _pixels(tracktui.Image(np.array([[0.9, 1.0], [2.5, np.nan]]), normalize=False)) == [0, 1, 2, 0]


def test_trivial_dimensions_are_squeezed() -> None:
    rgb = np.random.default_rng(0).integers(2, 256, (1, 5, 6, 3), dtype=np.uint8)
    img = tracktui.Image(rgb)
    assert (img.width, img.height, img.mode) == (6, 5, "RGB") and _pixels(img) == rgb.ravel().tolist()
    assert tracktui.Image(np.full((1, 4, 3), 9, dtype=np.uint8)).mode == "L"  # 1×4×3 squeezes to 4×3 gray


def test_torch_tensors_are_always_chw() -> None:
    torch = pytest.importorskip("torch")
    chw = torch.linspace(0, 1, 3 * 4 * 5).reshape(3, 4, 5)
    img = tracktui.Image(chw)
    assert (img.width, img.height, img.mode) == (5, 4, "RGB")
    expected = (chw.permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    assert np.array_equal(np.asarray(img.to_pil()), expected)
    # a uint8 tensor is rescaled like a float one (wandb converts it to float first): 0/1 becomes 0/255
    assert _pixels(tracktui.Image(torch.tensor([[[0, 1], [1, 0]]], dtype=torch.uint8))) == [0, 255, 255, 0]
    assert _pixels(tracktui.Image(torch.tensor([[[0, 9], [200, 3]]], dtype=torch.uint8))) == [0, 9, 200, 3]
    # an H×W×C tensor is read as C×H×W too, as wandb reads it: 4×5×3 is 4 channels of 5×3
    odd = tracktui.Image(torch.zeros(4, 5, 3))
    assert (odd.mode, odd.width, odd.height) == ("RGBA", 3, 5)
    with pytest.raises(ValueError, match="C×H×W"):
        tracktui.Image(torch.zeros(6, 5, 4))  # 6 channels
    assert (tracktui.Image(torch.zeros(2, 3)).width, tracktui.Image(torch.zeros(1, 3, 2, 2)).mode) == (3, "RGB")
    grad = torch.ones(1, 2, 2, requires_grad=True) * 0.5
    assert _pixels(tracktui.Image(grad)) == [127] * 4


def test_matplotlib_figure_axes_and_pyplot() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1), dpi=40)
    ax.plot([0, 1], [1, 0])
    for source in (fig, ax, plt):
        img = tracktui.Image(source)
        assert (img.width, img.height) == (80, 40) and img._format == "png"
    plt.close(fig)


def test_figure_logged_directly_is_stored_as_an_image(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    code = (
        "import sys, warnings, matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt, tracktui\n"
        "warnings.simplefilter('error')\n"
        "assert 'tracktui.media' not in sys.modules\n"
        f"run = tracktui.init(dir={str(tmp_path)!r}, project='fig', id='f1', settings={{'capture': False}})\n"
        "fig = plt.figure(figsize=(2, 1), dpi=50); plt.plot([0, 1], [1, 0])\n"
        "run.log({'fig': fig, 'plt': plt, 'loss': 1.0})\n"
        "run.finish()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    api = tracktui.Api(tmp_path).run("f1")
    assert api.image("fig").size == (100, 50) and api.image("plt").size == (100, 50)
    row = api.history()[0]
    assert row["fig"]["_type"] == "image" and row["loss"] == 1.0


def test_equality_as_wandb_defines_it(tmp_path: Path) -> None:
    a = np.random.default_rng(3).integers(2, 256, (6, 7, 3), dtype=np.uint8)
    assert tracktui.Image(a) == tracktui.Image(a.copy())
    path = tmp_path / "a.png"
    tracktui.Image(a).to_pil().save(path)
    assert tracktui.Image(a) == tracktui.Image(str(path))  # same pixels, another source
    assert tracktui.Image(a, caption="x") != tracktui.Image(a)
    assert tracktui.Image(a, grouping=2) != tracktui.Image(a)
    b = a.copy()
    b[0, 0, 0] ^= 1
    assert tracktui.Image(a) != tracktui.Image(b)
    assert tracktui.Image(a) != tracktui.Image(a[:, :6])
    cls = [{"id": 1, "name": "cat"}]
    assert tracktui.Image(a, classes=cls) == tracktui.Image(a, classes=tracktui.Classes(cls))
    assert tracktui.Image(a, classes=cls) != tracktui.Image(a)
    assert tracktui.Image(a) != a
    copy = tracktui.Image(tracktui.Image(a, caption="c"))
    assert copy == tracktui.Image(a, caption="c")
    with pytest.raises(TypeError):
        hash(tracktui.Image(a))  # equal by value, so unhashable (as in wandb)


def test_classes_logged_alone_are_stored_as_their_list(read: Any, run: Any) -> None:
    classes = tracktui.Classes([{"id": 0, "name": "cat"}, {"id": np.int64(1), "name": "dog"}])
    assert classes == tracktui.Classes([{"id": 0, "name": "cat"}, {"id": 1, "name": "dog"}])
    run.log({"classes": classes})
    api = read(run)
    assert api.media("classes")[0].classes == [{"id": 0, "name": "cat"}, {"id": 1, "name": "dog"}]
    assert api.history()[0]["classes"] == {"_type": "classes", "class_set": classes.class_set}
    with pytest.raises(TypeError, match="'id' and 'name'"):
        tracktui.Classes([{"id": 0}])
    with pytest.raises(TypeError, match="name must be a string"):
        tracktui.Classes([{"id": 0, "name": 5}])
