"""What goes in comes out: every media type logged, stored, and read back through tracktui.Api."""

from __future__ import annotations

import io
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tracktui
from PIL import Image as PILImage
from tracktui.store import Reader


def test_image_arrays_pil_files_and_bytes(read: Any, run: Any, tmp_path: Path) -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (12, 17, 3), dtype=np.uint8)
    gray = np.random.default_rng(1).integers(0, 256, (9, 5), dtype=np.uint8)
    rgba = np.random.default_rng(2).integers(0, 256, (4, 6, 4), dtype=np.uint8)
    floats = np.linspace(0, 1, 30, dtype=np.float32).reshape(5, 6)
    pil = PILImage.fromarray(rgb)
    png_path = tmp_path / "in.png"
    pil.save(png_path)
    jpeg = io.BytesIO()
    pil.save(jpeg, format="JPEG")
    run.log(
        {
            "rgb": tracktui.Image(rgb, caption="noise"),
            "gray": tracktui.Image(gray),
            "rgba": tracktui.Image(rgba),
            "floats": tracktui.Image(floats),
            "pil": tracktui.Image(pil),
            "path": tracktui.Image(str(png_path)),
            "jpeg": tracktui.Image(jpeg.getvalue()),
            "chw": tracktui.Image(rgb.transpose(2, 0, 1).copy()),
        }
    )
    api = read(run)
    assert np.array_equal(api.image("rgb", format="numpy"), rgb)
    assert api.media("rgb")[0].caption == "noise"
    assert np.array_equal(api.image("gray", format="numpy"), gray)
    assert np.array_equal(api.image("rgba", format="numpy"), rgba)
    assert np.array_equal(api.image("floats", format="numpy"), (floats * 255).astype(np.uint8))  # wandb truncates
    assert np.array_equal(api.image("pil", format="numpy"), rgb)
    assert np.array_equal(api.image("path", format="numpy"), rgb)
    assert np.array_equal(api.image("chw", format="numpy"), rgb)
    assert api.image("jpeg", format="bytes") == jpeg.getvalue()  # encoded files are kept as given
    assert api.image("jpeg").format == "JPEG"
    assert api.image("rgb", format="bytes")[:8] == b"\x89PNG\r\n\x1a\n"
    item = api.media("rgb")[0]
    assert (item.meta["width"], item.meta["height"], item.type) == (17, 12, "image")
    assert api.summary["rgb"]["_type"] == "image"


def test_gallery_and_dedup(read: Any, run: Any, store: Path) -> None:
    imgs = [tracktui.Image(np.full((3, 3), i * 40, dtype=np.uint8), caption=f"c{i}") for i in range(3)]
    for _step in range(4):
        run.log({"gallery": imgs, "same": imgs[0]})
    api = read(run)
    items = api.media("gallery", step=2)
    assert [i.index for i in items] == [0, 1, 2]
    assert [i.caption for i in items] == ["c0", "c1", "c2"]
    assert [int(i.numpy()[0, 0]) for i in items] == [0, 40, 80]
    assert api.media_steps("gallery") == [0, 1, 2, 3]
    assert api.history()[0]["gallery"]["count"] == 3
    with Reader(store) as r:  # 3 distinct images, stored once each however often they were logged
        assert r._all("SELECT count(*) FROM blobs WHERE sha256 NOT IN (SELECT sha256 FROM files)")[0][0] == 3


def test_table_with_image_cells_and_queries(read: Any, run: Any) -> None:
    img = tracktui.Image(np.eye(4, dtype=np.uint8) * 255)
    t = tracktui.Table(columns=["id", "label", "score", "ok", "img"])
    for i in range(50):
        t.add_data(i, f"l{i % 3}", i / 10, i % 2 == 0, img if i < 2 else None)
    t.add_column("nan", [float("nan")] * 50)
    run.log({"preds": t, "loss": 0.5})
    api = read(run)
    rows = api.table("preds")
    assert len(rows) == 50
    assert rows[3]["label"] == "l0" and rows[3]["score"] == 0.3 and rows[3]["ok"] is False
    assert np.isnan(rows[0]["nan"])
    cell = rows[1]["img"]
    assert cell.type == "image" and np.array_equal(cell.numpy(), np.eye(4, dtype=np.uint8) * 255)
    assert rows[2]["img"] is None
    item = api.media("preds")[0]
    assert item.columns == ["id", "label", "score", "ok", "img", "nan"]
    assert len(item) == 50
    assert [r[0] for r in item.rows(where={"label": "l1"}, limit=3)] == [1, 4, 7]
    assert [r[0] for r in item.rows(order_by="score", descending=True, limit=2)] == [49, 48]
    assert [r[0] for r in item.rows(where={"ok": True}, offset=1, limit=2)] == [2, 4]
    with pytest.raises(KeyError):
        item.rows(where={"nope": 1})


def test_table_dataframe_round_trip(read: Any, run: Any) -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None]})
    run.log({"df": tracktui.Table(dataframe=df)})
    out = read(run).table("df", pandas=True)
    assert list(out.columns) == ["a", "b"] and out["a"].tolist() == [1, 2, 3]
    assert out["b"].tolist()[:2] == ["x", "y"]


def test_histograms_explicit_and_automatic(read: Any, run: Any) -> None:
    data = np.random.default_rng(3).normal(size=1000)
    run.log(
        {
            "h": tracktui.Histogram(data, num_bins=20),
            "np": tracktui.Histogram(np_histogram=np.histogram(data)),
            "list": [1, 2, 2, 3, 3, 3],
            "arr": data,
            "withnan": [1.0, float("nan"), 2.0],
            "acc": 0.9,
        }
    )
    api = read(run)
    counts, edges = api.histogram("h")
    ref_counts, ref_edges = np.histogram(data, bins=20)
    assert counts == ref_counts.tolist() and edges == ref_edges.tolist()  # bit for bit
    counts, edges = api.histogram("np")
    assert counts == np.histogram(data)[0].tolist() and len(edges) == 11
    counts, edges = api.histogram("list")
    assert sum(counts) == 6 and len(counts) == 64 and edges[0] == 1 and edges[-1] == 3
    assert sum(api.histogram("arr")[0]) == 1000
    assert sum(api.histogram("withnan")[0]) == 2
    assert api.media("withnan")[0].meta["nonfinite"] == 1
    row = api.history()[0]
    assert row["acc"] == 0.9 and row["list"]["_type"] == "histogram"
    assert {k["key"] for k in api.media_keys()} == {"h", "np", "list", "arr", "withnan"}


def test_plots(read: Any, run: Any) -> None:
    t = tracktui.Table(columns=["x", "y", "name"], data=[[i, i * i, f"n{i}"] for i in range(5)])
    y_true = np.array([0, 1, 2, 1, 0, 2, 1])
    probs = np.eye(3)[[0, 1, 1, 1, 0, 2, 2]] * 0.8 + 0.2 / 3
    run.log(
        {
            "line": tracktui.plot.line(t, "x", "y", title="sq"),
            "scatter": tracktui.plot.scatter(t, "x", "y"),
            "bar": tracktui.plot.bar(t, "name", "y"),
            "hist": tracktui.plot.histogram(t, "y"),
            "series": tracktui.plot.line_series(
                [0, 1, 2], [[1, 2, 3], [3, 2, 1]], keys=["up", "down"], xname="t"
            ),
            "cm": tracktui.plot.confusion_matrix(
                y_true=y_true, preds=probs.argmax(1), class_names=["a", "b", "c"]
            ),
            "pr": tracktui.plot.pr_curve(y_true, probs, labels=["a", "b", "c"]),
            "roc": tracktui.plot.roc_curve(y_true, probs),
        }
    )
    api = read(run)
    line = api.plot("line")
    assert line["spec"] == {"type": "line", "x": "x", "y": "y", "stroke": None, "title": "sq"}
    assert line["data"] == [{"x": i, "y": i * i} for i in range(5)]
    assert api.plot("bar")["data"][2] == {"name": "n2", "y": 4}
    assert api.plot("hist")["spec"]["value"] == "y"
    series = api.plot("series")
    assert series["spec"]["keys"] == ["up", "down"] and len(series["data"]) == 6
    assert series["data"][3] == {"step": 0, "lineKey": "down", "lineVal": 3}  # wandb's columns
    assert series["spec"]["xname"] == "t"
    cm = api.plot("cm")
    cells = {(r["Actual"], r["Predicted"]): r["nPredictions"] for r in cm["data"]}
    assert len(cells) == 9 and cells[("b", "b")] == 2 and cells[("c", "b")] == 1 and cells[("a", "a")] == 2
    pr = api.plot("pr")
    assert pr["spec"]["type"] == "pr_curve" and {r["class"] for r in pr["data"]} == {"a", "b", "c"}
    roc = [r for r in api.plot("roc")["data"] if r["class"] == 0]
    assert roc[0] == {"class": 0, "fpr": 0.0, "tpr": 0.0} and roc[-1]["fpr"] == 1.0 and roc[-1]["tpr"] == 1.0
    assert api.media("roc")[0].type == "plot"


def test_audio_video_html_object3d_text(read: Any, run: Any, tmp_path: Path) -> None:
    samples = np.sin(np.linspace(0, 20, 4000)).astype(np.float32) * 0.5
    wav_path = tmp_path / "tone.wav"
    with wave.open(str(wav_path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.zeros((1600, 2), dtype="<i2").tobytes())
    frames = np.random.default_rng(4).integers(0, 256, (6, 3, 10, 12), dtype=np.uint8)
    points = np.random.default_rng(5).normal(size=(100, 6)).astype(np.float32)
    obj = tmp_path / "tri.obj"
    obj.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    html_path = tmp_path / "page.html"
    html_path.write_text("<html><title>Report</title><body>hi</body></html>")
    run.log(
        {
            "audio": tracktui.Audio(samples, sample_rate=16000, caption="tone"),
            "wav": tracktui.Audio(str(wav_path)),
            "video": tracktui.Video(frames, fps=3),
            "html": tracktui.Html("<p>hello</p>"),
            "page": tracktui.Html(html_path),
            "cloud": tracktui.Object3D(points),
            "mesh": tracktui.Object3D(str(obj)),
            "notes": tracktui.Text("# Title\n\nsome *markdown*"),
        }
    )
    api = read(run)
    audio = api.media("audio")[0]
    assert audio.meta == {
        "format": "wav",
        "sample_rate": 16000,
        "channels": 1,
        "samples": 4000,
        "duration": 0.25,
        "caption": "tone",
    }
    assert np.array_equal(audio.numpy(), (samples * 32767).round().astype("<i2"))
    wav = api.media("wav")[0]
    assert wav.meta["duration"] == 0.2 and wav.meta["channels"] == 2 and wav.bytes() == wav_path.read_bytes()
    video = api.media("video")[0]
    assert video.meta["frames"] == 6 and video.meta["width"] == 12 and video.meta["duration"] == 2.0
    gif = PILImage.open(io.BytesIO(video.bytes()))
    assert gif.n_frames == 6 and gif.size == (12, 10)
    assert api.media("html")[0].text() == "<p>hello</p>"
    assert api.media("page")[0].meta["title"] == "Report"
    cloud = api.media("cloud")[0]
    assert cloud.meta["point_count"] == 100 and np.array_equal(cloud.numpy(), points)
    mesh = api.media("mesh")[0]
    assert mesh.meta == {"format": "obj", "point_count": 3} and mesh.bytes() == obj.read_bytes()
    notes = api.media("notes")[0]
    assert notes.text() == "# Title\n\nsome *markdown*" and notes.meta["lines"] == 3


def test_media_and_scalars_at_the_same_step(read: Any, run: Any) -> None:
    img = tracktui.Image(np.zeros((2, 2), dtype=np.uint8))
    run.log({"loss": 1.0})
    run.log({"img": img}, commit=False)
    run.log({"loss": 0.5, "acc": 0.1})
    run.log({"img": img, "loss": 0.25}, step=5)
    api = read(run)
    rows = api.history()
    assert [r["_step"] for r in rows] == [0, 1, 5]
    assert rows[1]["loss"] == 0.5 and rows[1]["img"]["_type"] == "image" and rows[1]["acc"] == 0.1
    assert rows[2]["loss"] == 0.25 and "img" in rows[2]
    assert api.media_steps("img") == [1, 5]
    assert api.summary["loss"] == 0.25


@pytest.mark.filterwarnings("ignore:.*lower than the current step")
def test_relogging_a_step_replaces_it(read: Any, run: Any) -> None:
    run.log({"g": [tracktui.Image(np.zeros((2, 2), dtype=np.uint8))] * 3}, step=0)
    run.log({"g": [tracktui.Image(np.full((2, 2), 7, dtype=np.uint8))]}, step=0)
    api = read(run)
    items = api.media("g", step=0)
    assert len(items) == 1 and int(items[0].numpy()[0, 0]) == 7
    with pytest.raises(LookupError):
        api.image("g", step=7)


def test_describe_for_the_tui(read: Any, run: Any) -> None:
    from tracktui.store.media import describe

    run.log({"g": [tracktui.Image(np.zeros((4, 6, 3), dtype=np.uint8))] * 2,
             "t": tracktui.Table(columns=["a", "b"], data=[[1, 2]]), "h": [1.0, 2.0],
             "a": tracktui.Audio(np.zeros(8000), sample_rate=16000)})
    api = read(run)
    summary = api.summary
    assert describe(summary["g"]) == "2 × image 6×4 RGB"
    assert describe(summary["t"]) == "table 1 rows × 2 columns"
    assert describe(summary["h"]) == "histogram 64 bins [1, 2]"
    assert describe(summary["a"]) == "audio 0.5 s 16000 Hz"
    assert describe(api.media("h")[0].meta | {"type": "histogram"}) == "histogram 64 bins [1, 2]"


def test_matplotlib_figure_as_image(read: Any, run: Any) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1), dpi=50)
    fig.add_subplot().plot([0, 1], [1, 0])
    run.log({"fig": tracktui.Image(fig)})
    assert read(run).image("fig").size == (100, 50)


def test_documents_with_lone_surrogates_are_kept_escaped(read: Any, run: Any) -> None:
    # Text read with errors="surrogateescape" (a log file in a legacy encoding) reaches Html and Text; one
    # batch mixes them with ordinary values, and nothing of it is lost.
    run.log({"page": tracktui.Html("<b>caf\udce9</b>"), "notes": tracktui.Text("bad byte: \udcff"),
             "loss": 0.5, "msg": "ok"})
    api = read(run)
    assert api.media("page")[0].bytes() == b"<b>caf\\udce9</b>"
    assert api.media("notes")[0].bytes() == b"bad byte: \\udcff"
    assert api.history(keys=["loss"])[0]["loss"] == 0.5
