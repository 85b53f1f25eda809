"""init(sync_tensorboard=True): an unchanged SummaryWriter script (torch.utils.tensorboard, and tensorboardX where
installed) is recorded: scalars, images, histograms, text and hparams at the writers' own steps, while the event
files still hold everything, as TensorBoard's own reader shows."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import tracktui

from tests.conftest import run_script
from tests.integrations.frameworks import INSTALL, require

require("torch", "tensorboard")

SCRIPT = r'''
import json, os, sys, numpy as np, tracktui
out, writers = sys.argv[1], sys.argv[2].split(",")

def events(logdir):
    """What TensorBoard itself reads back from the event files: {run/tag: [[step, value], ...]}."""
    from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer
    keep_all = {"scalars": 0, "images": 0, "histograms": 0, "tensors": 0}
    m = EventMultiplexer(size_guidance=keep_all).AddRunsFromDirectory(logdir)
    m.Reload()
    found = {}
    for run, tags in m.Runs().items():
        for tag in tags["scalars"]:
            found[f"{run}/{tag}"] = [[e.step, e.value] for e in m.Scalars(run, tag)]
        for tag in tags["images"]:
            found[f"{run}/{tag}"] = [[e.step, e.width] for e in m.Images(run, tag)]
        for tag in tags["histograms"]:
            found[f"{run}/{tag}"] = [[e.step, e.histogram_value.num] for e in m.Histograms(run, tag)]
        for tag in tags["tensors"]:
            found[f"{run}/{tag}"] = [[e.step, 0] for e in m.Tensors(run, tag)]
    return found

if "torch" in writers:
    # An unchanged SummaryWriter script; only the init line is new. The writer module is imported first.
    import torch
    from torch.utils.tensorboard import SummaryWriter
    tracktui.init(project="legacy", name="torch-writer", sync_tensorboard=True)
    logdir = os.path.join(out, "torch", "exp1")
    w = SummaryWriter(logdir)
    for step in range(5):
        w.add_scalar("train/loss", 1.0 / (step + 1), step)
        w.add_scalar("train/acc", step / 10, step)
        if step % 2 == 0:
            w.add_histogram("weights", torch.arange(100.0) + step, step)
            w.add_image("sample", np.full((3, 4, 6), 50 * step, dtype=np.uint8), step)
    w.add_scalars("loss", {"train": 0.5, "val": 0.7}, 4)  # two new writers, which flush as they start
    print("next step before flush:", tracktui.run.step)  # step 4 is still being filled
    w.flush()
    print("next step after flush:", tracktui.run.step)  # the writer's flush committed it
    for step in (0, 2, 4):  # a tag written after the loop: its steps go back to 0, as TensorBoard allows
        w.add_scalar("eval/acc", 0.5 + step / 10, step)
    w.add_text("notes", "**hello** world", 2)  # an earlier step: stored there
    w.add_hparams({"lr": 0.1, "optimizer": "sgd", "layers": 3}, {"hparam/acc": 0.9})  # run_name: the time
    w.flush()
    tracktui.finish()
    w.add_scalar("train/loss", 9.0, 5)  # after the run ended: only the event file has it
    w.close()
    print("EVENTS torch", json.dumps(events(os.path.join(out, "torch"))))

if "tensorboardX" in writers:
    tracktui.init(project="legacy", name="tbx-writer", sync_tensorboard=True)
    print("tensorboardX imported by init:", "tensorboardX" in sys.modules)
    from tensorboardX import SummaryWriter  # imported after init: patched as it is imported
    logdir = os.path.join(out, "tbx", "exp2")
    with SummaryWriter(logdir) as w:
        for step in range(0, 30, 10):
            w.add_scalar("loss", 2.0 - step / 10, step)
            w.add_histogram("w", np.arange(50, dtype=np.float64), step)
        w.add_image("img", np.full((8, 8, 3), 0.5), 20, dataformats="HWC")
        w.add_text("notes", "tbx text", 20)
        w.add_hparams({"lr": 0.01}, {"hparam/loss": 0.25})  # its folder is named by the time
    with SummaryWriter(os.path.join(logdir, "val")) as v:  # another writer, from step 0 again
        for step in range(0, 30, 10):
            v.add_scalar("loss", 1.5 - step / 10, step)
    tracktui.finish()
    print("EVENTS tbx", json.dumps(events(os.path.join(out, "tbx"))))
'''

HAVE_TBX = importlib.util.find_spec("tensorboardX") is not None


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict], str]:
    """Run the writer script once with the writers that are installed."""
    root = tmp_path_factory.mktemp("tb")
    writers = "torch,tensorboardX" if HAVE_TBX else "torch"
    proc = run_script(SCRIPT, root / "store", str(root / "out"), writers, timeout=240)
    files = {line.split()[1]: json.loads(line.split(" ", 2)[2])
             for line in proc.stdout.splitlines() if line.startswith("EVENTS ")}
    assert "tensorboardX imported by init: False" in proc.stdout or not HAVE_TBX, proc.stdout
    assert "next step before flush: 4" in proc.stdout and "next step after flush: 5" in proc.stdout, proc.stdout
    return root / "store", files, proc.stderr


def _series(run: tracktui.api.ApiRun, key: str) -> list[list[float]]:
    return [[r["_step"], r[key]] for r in run.history() if key in r]


def test_torch_summary_writer_is_recorded_at_its_steps(synced: tuple[Path, dict[str, dict], str]) -> None:
    store, files, _ = synced
    run = tracktui.Api(store).run("torch-writer")
    events = files["torch"]
    # scalars: the same (step, value) pairs TensorBoard reads from the files (float32 there and here)
    assert _series(run, "train/loss") == events["exp1/train/loss"][:5]
    assert [v for _, v in _series(run, "train/loss")] == pytest.approx([1 / (s + 1) for s in range(5)])
    assert _series(run, "train/acc") == events["exp1/train/acc"]
    # a tag whose steps start again after the others': stored at its own steps, in the rows of those steps
    assert _series(run, "eval/acc") == events["exp1/eval/acc"] == [[0, 0.5], [2, pytest.approx(0.7)],
                                                                   [4, pytest.approx(0.9)]]
    assert {r["_step"]: "train/loss" in r for r in run.history() if "eval/acc" in r} == {0: True, 2: True, 4: True}
    # the write after finish() is in the file only
    assert events["exp1/train/loss"][5] == [5, 9.0] and len(_series(run, "train/loss")) == 5
    # add_scalars writes one folder per series; the keys carry that folder
    assert _series(run, "loss_train/loss") == events["exp1/loss_train/loss"] == [[4, 0.5]]
    assert _series(run, "loss_val/loss") == [[4, pytest.approx(0.7)]]
    # histograms, images and text, at their own steps
    assert run.media_steps("weights") == [s for s, _ in events["exp1/weights"]] == [0, 2, 4]
    counts, edges = run.histogram("weights", step=2)
    assert sum(counts) == 100 and edges[0] <= 2 and edges[-1] >= 101
    assert run.media_steps("sample") == [0, 2, 4]
    image = run.image("sample", step=4, format="numpy")
    assert image.shape == (4, 6, 3) and int(image.max()) == 200
    (notes,) = run.media("notes")
    assert notes.text() == "**hello** world" and run.media_steps("notes") == [2]
    # add_hparams: the hyperparameters become config, its metric keeps its tag (not under the session's folder,
    # which torch names by the time: a new key every run)
    assert run.config == {"lr": 0.1, "optimizer": "sgd", "layers": 3}
    assert _series(run, "hparam/acc") == [[0, pytest.approx(0.9)]] and run.summary["hparam/acc"] == pytest.approx(0.9)
    (session,) = [k.split("/")[1] for k in events if k.endswith("/hparam/acc")]  # exp1/<the time>/hparam/acc
    assert float(session) > 0 and not [k for k in run.keys() if session in k]
    assert run.summary["train/loss"] == pytest.approx(0.2) and run.state == "finished"


@pytest.mark.skipif(not HAVE_TBX, reason=f"tensorboardX not installed ({INSTALL})")
def test_tensorboardx_writer_imported_after_init_is_recorded(synced: tuple[Path, dict[str, dict], str]) -> None:
    store, files, _ = synced
    run = tracktui.Api(store).run("tbx-writer")
    events = files["tbx"]
    assert _series(run, "loss") == events["exp2/loss"] == [[0, 2.0], [10, 1.0], [20, 0.0]]
    assert run.media_steps("w") == [0, 10, 20] and sum(run.histogram("w", step=10)[0]) == 50
    assert run.image("img", step=20, format="numpy").shape == (8, 8, 3)
    assert run.media("notes", step=20)[0].text() == "tbx text"
    assert run.config == {"lr": 0.01} and _series(run, "hparam/loss") == [[0, 0.25]]
    assert _series(run, "val/loss") == events["exp2/val/loss"] == [[0, 1.5], [10, 0.5], [20, -0.5]]
    assert set(run.keys()) == {"loss", "w", "img", "notes", "hparam/loss", "val/loss"}


def test_steps_going_back_are_stored_without_the_step_back_message(synced: tuple[Path, dict[str, dict], str]) -> None:
    """TensorBoard keeps steps per tag and per writer: a tag, a writer or add_hparams starting again from step 0
    is normal there, so the synced runs (whose scripts never call log()) say nothing about it."""
    _, _, stderr = synced
    assert "lower than the current step" not in stderr, stderr
