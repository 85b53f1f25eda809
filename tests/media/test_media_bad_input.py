"""Bad input: clear errors when a media object is built; inside log() a warning, and the other keys kept."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tracktui
from tracktui.media import image as image_module
from tracktui.store import media as store_media


@pytest.mark.parametrize(
    ("build", "error", "words"),
    [
        (lambda: tracktui.Image(np.zeros((6, 6, 5), dtype=np.uint8)), ValueError, "H×W"),
        (lambda: tracktui.Image(np.zeros((2, 3, 4, 5), dtype=np.uint8)), ValueError, "shape"),
        (lambda: tracktui.Image(np.zeros((4, 4), dtype=np.complex64)), TypeError, "dtype"),
        (lambda: tracktui.Image(object()), TypeError, "numpy array"),
        (lambda: tracktui.Image(b"not an image"), ValueError, "Pillow"),
        (lambda: tracktui.Image("/no/such/file.png"), ValueError, "not a file"),
        (lambda: tracktui.Table(columns=["a", "b"], data=[[1]]), ValueError, "2 columns"),
        (lambda: tracktui.Table(columns=["a"], data=[[object()]]), TypeError, "row 0, column 'a'"),
        (lambda: tracktui.Table(columns=["a", "a"]), ValueError, "unique"),
        (lambda: tracktui.Histogram([1, 2], num_bins=0), ValueError, "num_bins"),
        (lambda: tracktui.Histogram(np_histogram=([1, 2], [0, 1])), ValueError, "len(edges)"),
        (lambda: tracktui.Histogram(["a", "b"]), TypeError, "numbers"),
        (lambda: tracktui.Audio(np.zeros(10)), ValueError, "sample_rate"),
        (lambda: tracktui.Audio(np.zeros((10, 10, 2)), sample_rate=8000), ValueError, "shape"),
        (lambda: tracktui.Video(np.zeros((3, 8, 8), dtype=np.uint8)), ValueError, "T×C×H×W"),
        (lambda: tracktui.Video(np.zeros((3, 3, 8, 8), dtype=np.uint8), format="avi"), ValueError, "gif, mp4"),
        (lambda: tracktui.Object3D(np.zeros((5, 2))), ValueError, "N×3"),
        (lambda: tracktui.Object3D("model.xyz"), ValueError, "one of"),
        (lambda: tracktui.Html(42), TypeError, "HTML"),
        (lambda: tracktui.Text(b"x"), TypeError, "string"),
        (lambda: tracktui.plot.line(tracktui.Table(columns=["x"]), "x", "y"), ValueError, "no column 'y'"),
        (lambda: tracktui.plot.confusion_matrix(y_true=[0, 1], preds=[0]), ValueError, "predictions"),
    ],
)
def test_building_bad_objects_raises_clearly(build: Any, error: type[Exception], words: str) -> None:
    with pytest.raises(error) as info:
        build()
    assert words in str(info.value)


def test_size_cap_at_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image_module, "MAX_MEDIA_BYTES", 1000)
    with pytest.raises(ValueError, match="MiB"):
        tracktui.Image(b"\x89PNG" + b"\0" * 2000)


def test_log_skips_a_bad_value_and_keeps_the_other_keys(store: Path, run: Any, read: Any, caplog: Any) -> None:
    gallery = [tracktui.Image(np.zeros((2, 2), dtype=np.uint8)), tracktui.Text("mixed")]
    run.log({"mixed_gallery": gallery, "loss": 0.5, "img": tracktui.Image(np.ones((2, 2), dtype=np.uint8))})
    assert "'mixed_gallery' could not be stored" in caplog.text
    run.log({"loss": 0.25})
    api = read(run)
    rows = api.history()
    assert rows[0]["loss"] == 0.5 and "img" in rows[0] and "mixed_gallery" not in rows[0]
    assert "mixed_gallery" not in api.summary and api.summary["loss"] == 0.25
    assert [k["key"] for k in api.media_keys()] == ["img"]


def test_a_failure_on_the_writer_thread_skips_only_that_item(store: Path, run: Any, read: Any, caplog: Any) -> None:
    broken = tracktui.Image(np.zeros((2, 2), dtype=np.uint8))
    broken._raw = object()  # Pillow cannot encode this: the writer must skip it, not stall
    good = tracktui.Image(np.full((2, 2), 7, dtype=np.uint8))
    run.log({"broken": broken, "good": good, "loss": 1.0})
    run._writer.flush(10)
    run.log({"later": good, "loss": 2.0})
    api = read(run)
    assert any("'broken'" in r.getMessage() and "skipped" in r.getMessage() for r in caplog.records)
    assert int(api.image("good", format="numpy")[0, 0]) == 7
    assert api.media_steps("later") == [1]
    assert [r["loss"] for r in api.history()] == [1.0, 2.0]
    assert api.media("broken") == []


def test_writer_side_size_cap(store: Path, run: Any, read: Any, monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    monkeypatch.setattr(store_media, "MAX_MEDIA_BYTES", 50)
    noise = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    run.log({"big": tracktui.Image(noise), "small": tracktui.Text("ok"), "x": 1})
    api = read(run)
    assert any("'big'" in r.getMessage() and "MiB" in r.getMessage() for r in caplog.records)
    assert api.media("big") == [] and api.media("small")[0].text() == "ok"
    assert api.history()[0]["x"] == 1


@pytest.mark.parametrize("key", ["../../escape", "/etc/passwd", "a/../../../b", "..", "x\0y", "C:\\evil"])
def test_keys_never_become_paths(tmp_path: Path, key: str) -> None:
    store = tmp_path / "deep" / "store"
    work = tmp_path / "work"
    work.mkdir()
    (work / "data.txt").write_text("payload")
    cwd = os.getcwd()
    os.chdir(work)
    try:
        run = tracktui.init(project="p", dir=store)
        run.log(
            {
                key: tracktui.Image(np.zeros((2, 2), dtype=np.uint8)),
                key + "/t": tracktui.Table(columns=["a"], data=[[1]]),
                key + "/txt": tracktui.Text("t"),
            }
        )
        run.save(str(work / "data.txt"), base_path=str(store))  # outside base: the base name
        run.finish()
    finally:
        os.chdir(cwd)
    made = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert made == [
        "deep",
        "deep/store",
        "deep/store/tracktui.db",
        "deep/store/tracktui.db-shm",
        "deep/store/tracktui.db-wal",
        "work",
        "work/data.txt",
    ] or made == ["deep", "deep/store", "deep/store/tracktui.db", "work", "work/data.txt"]
    api = tracktui.Api(store).run(run.id)
    assert api.media(key)[0].type == "image"
    assert api.table(key + "/t") == [{"a": 1}]
    assert [f for f in api.files() if f not in ("requirements.txt", "diff.patch")] == ["data.txt"]
    assert not Path("/etc/passwd").read_text().startswith("\x89PNG")


def test_queued_pixels_are_bounded(store: Path, run: Any, read: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_media, "MAX_PENDING_BYTES", 64 * 64 * 3 * 4)  # four images may wait
    seen = []
    frames = [np.full((64, 64, 3), i, dtype=np.uint8) for i in range(40)]
    for i, a in enumerate(frames):
        run.log({"frame": tracktui.Image(a), "i": i})
        seen.append(store_media.pending_bytes())
    assert max(seen) <= 5 * 64 * 64 * 3  # log() waited for the encoder rather than queue them all
    api = read(run)
    assert store_media.pending_bytes() == 0
    assert api.media_steps("frame") == list(range(40))
    assert int(api.image("frame", step=39, format="numpy")[0, 0, 0]) == 39
