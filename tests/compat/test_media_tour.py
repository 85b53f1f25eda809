"""A notebook-style "log almost anything" tour written for wandb, run unchanged but for its import line
(`import tracktui as wandb`) in a fresh interpreter, then read back through tracktui.Api."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest
import tracktui
from PIL import Image as PILImage

from tests.conftest import run_script

TOUR = r'''
import io, json, math, os, sys
import numpy as np
import pytest
import tracktui as wandb

workdir = sys.argv[1]
run = wandb.init(project="media-tour", config={"lr": 0.01})
rng = np.random.default_rng(0)

# images and a gallery
pixels = rng.integers(0, 256, size=(8, 16, 16, 3), dtype=np.uint8)
run.log({"examples": [wandb.Image(p, caption=f"digit {i}") for i, p in enumerate(pixels)]})

# audio from an array, and a WAV file written by another tool (32-bit float)
tone = (np.sin(2 * math.pi * 440 * np.arange(8000) / 8000) * 0.3).astype(np.float32)
run.log({"tone": wandb.Audio(tone, sample_rate=8000, caption="A4")})

# videos: frames in wandb's layout (int64, time x channels x height x width), and a batch of two
frames = rng.integers(0, 256, size=(6, 3, 12, 12))
run.log({"video": wandb.Video(frames, fps=4, format="gif"),
         "batch": wandb.Video(rng.random((2, 6, 3, 12, 12)), fps=4, format="gif")})

# a table of predictions with media in its cells, built from a pandas DataFrame when pandas is there
columns = ["id", "image", "guess", "truth", "score"]
table = wandb.Table(columns=columns)
for i in range(4):
    table.add_data(i, wandb.Image(pixels[i]), int(i % 3), int(i % 2), float(i) / 4)
table.add_computed_columns(lambda ndx, row: {"correct": row["guess"] == row["truth"]})
run.log({"predictions": table})
try:
    import pandas as pd
    run.log({"frame": wandb.Table(dataframe=pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}))})
except ImportError:
    run.log({"frame": wandb.Table(columns=["a", "b"], data=[[1, "x"], [2, "y"]])})

# histograms, explicit and from a plain array
weights = rng.normal(size=1000)
run.log({"weights": wandb.Histogram(weights), "grads": weights * 0.1})

# 3D: a point cloud, and a lidar scene with a box and a vector
cloud = rng.normal(size=(100, 3))
box = wandb.box3d(center=(0, 0, 0), size=(1, 1, 1), orientation=(1, 0, 0, 0), color=(255, 0, 0), label="car")
run.log({"cloud": wandb.Object3D(cloud),
         "scene": wandb.Object3D({"type": "lidar/beta", "points": cloud, "boxes": np.array([box]),
                                  "vectors": np.array([{"start": [0, 0, 0], "end": [1, 1, 1]}])})})

# molecules and HTML
pdb = "ATOM      1  N   ALA A   1      11.104   6.134  -6.504  1.00  0.00           N\nEND\n"
with open(os.path.join(workdir, "m.pdb"), "w") as f:
    f.write(pdb)
run.log({"molecule": wandb.Molecule(os.path.join(workdir, "m.pdb")),
         "html": wandb.Html("<h1>Results</h1><p>all good</p>")})

# charts from wandb.plot
y_true = rng.integers(0, 3, 60)
probas = rng.dirichlet(np.ones(3), 60)
table = wandb.Table(data=[[x, x * x] for x in range(10)], columns=["x", "y"])
run.log({"line": wandb.plot.line(table, "x", "y", title="squares"),
         "series": wandb.plot.line_series(xs=range(5), ys=[[1, 2, 3, 4, 5], [5, 4, 3]], keys=["up", "down"]),
         "cm": wandb.plot.confusion_matrix(y_true=y_true, probs=probas, class_names=["a", "b", "c"]),
         "pr": wandb.plot.pr_curve(y_true, probas, labels=["a", "b", "c"]),
         "roc": wandb.plot.roc_curve(y_true, probas, labels=["a", "b", "c"])})

# a plotly figure passed straight to log(), when plotly is there
try:
    import plotly.express as px
    run.log({"plotly": px.scatter(x=[1, 2, 3], y=[4, 1, 2], title="scatter")})
except ImportError:
    pass

run.log({"loss": 0.5})
print(run.id)
run.finish()
'''


def test_media_tour(tmp_path: Path) -> None:
    store = tmp_path / "store"
    proc = run_script(TOUR, store, str(tmp_path), timeout=120)
    assert "Warning" not in proc.stderr, proc.stderr
    api = tracktui.Api(store).run(proc.stdout.split()[-1])

    gallery = api.media("examples")
    assert len(gallery) == 8 and gallery[3].caption == "digit 3" and gallery[3].numpy().shape == (16, 16, 3)
    tone = api.media("tone")[0]
    assert tone.caption == "A4" and tone.meta["duration"] == 1.0 and tone.numpy().shape == (8000,)

    video = api.media("video")[0]
    assert video.meta["frames"] == 6 and PILImage.open(io.BytesIO(video.bytes())).n_frames == 6
    assert api.media("batch")[0].meta["width"] == 24  # two videos side by side, as wandb tiles them

    rows = api.table("predictions")
    assert [r["id"] for r in rows] == [0, 1, 2, 3] and rows[1]["image"].numpy().shape == (16, 16, 3)
    assert [r["correct"] for r in rows] == [True, True, False, False]
    assert api.table("frame") == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]

    counts, edges = api.histogram("weights")
    assert sum(counts) == 1000 and len(edges) == 65 and sum(api.histogram("grads")[0]) == 1000

    assert api.media("cloud")[0].numpy().shape == (100, 3)
    scene = api.media("scene")[0].scene()
    assert scene["boxes"][0]["label"] == "car" and len(scene["boxes"][0]["corners"]) == 8
    assert scene["vectors"] == [{"start": [0, 0, 0], "end": [1, 1, 1]}]
    assert api.media("molecule")[0].meta == {"format": "pdb", "atoms": 1}
    assert api.media("html")[0].text() == "<h1>Results</h1><p>all good</p>"

    assert [r["y"] for r in api.plot("line")["data"]] == [x * x for x in range(10)]
    series = api.plot("series")["data"]
    assert len(series) == 8 and series[-1] == {"step": 2, "lineKey": "down", "lineVal": 3}
    cm = api.plot("cm")["data"]
    assert len(cm) == 9 and sum(r["nPredictions"] for r in cm) == 60
    assert {r["class"] for r in api.plot("pr")["data"]} == {"a", "b", "c"}
    roc = api.plot("roc")
    assert roc["spec"]["type"] == "roc_curve" and {r["class"] for r in roc["data"]} == {"a", "b", "c"}

    if importlib.util.find_spec("plotly") is not None:
        figure = api.media("plotly")[0]
        assert figure.type == "plotly" and figure.meta["title"] == "scatter"
        assert figure.json()["data"][0]["y"] == [4, 1, 2]
    assert api.history()[-1]["loss"] == 0.5
    assert np.isclose(api.summary["loss"], 0.5)


def test_a_figure_logged_first_is_media(tmp_path: Path) -> None:
    pytest.importorskip("plotly", reason="plotly figures need the optional plotly")
    code = """
import plotly.graph_objects as go, tracktui as wandb
run = wandb.init(project="fig")
run.log({"fig": go.Figure(go.Bar(y=[3, 1, 2]))})  # nothing loaded tracktui's media module before this
print(run.id)
run.finish()
"""
    proc = run_script(code, tmp_path / "store")
    api = tracktui.Api(tmp_path / "store").run(proc.stdout.split()[-1])
    assert api.media("fig")[0].type == "plotly" and api.media("fig")[0].json()["data"][0]["y"] == [3, 1, 2]
