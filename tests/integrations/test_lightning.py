"""Lightning with TrackTuiLogger, for `lightning.pytorch` and for `pytorch_lightning` (each where installed):
a tiny regression model trains two epochs, the run is resumed by version for a third, and everything is read
back through Api: hyperparameters, metrics against trainer/global_step, images, tables, checkpoints. With
pytorch_lightning, the resumed job uses tracktui.integrations.lightning as where only that package is installed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import tracktui

from tests.conftest import run_script
from tests.integrations.frameworks import INSTALL, require

require("torch")

SCRIPT = r'''
import sys, numpy as np, torch, tracktui
out, pkg = sys.argv[1], sys.argv[2]
if pkg == "lightning":
    import lightning.pytorch as pl
    from tracktui.integrations.lightning import TrackTuiLogger
    ResumeLogger = TrackTuiLogger
else:
    sys.modules["lightning"] = None  # as where only pytorch_lightning is installed
    import pytorch_lightning as pl
    from tracktui.integrations.pytorch_lightning import TrackTuiLogger
    from tracktui.integrations import lightning as fallback  # serves pytorch_lightning then
    print("fallback:", fallback._FRAMEWORK)
    ResumeLogger = fallback.TrackTuiLogger
from torch.utils.data import DataLoader, TensorDataset

class Tiny(pl.LightningModule):
    def __init__(self, lr=0.05, hidden=8):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(torch.nn.Linear(4, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))

    def training_step(self, batch, i):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, i):
        x, y = batch
        self.log("val/loss", torch.nn.functional.mse_loss(self.net(x), y))

    def on_validation_epoch_end(self):
        e = self.current_epoch
        self.logger.log_image("samples", [np.full((8, 8), 100 * e, dtype=np.uint8)], caption=[f"epoch {e}"])
        self.logger.log_table("preds", columns=["epoch", "guess"], data=[[e, "cat"], [e, "dog"]])

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

torch.manual_seed(0)
x = torch.randn(64, 4, generator=torch.Generator().manual_seed(0))
train = DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=8)
val = DataLoader(TensorDataset(x[:16], x[:16].sum(1, keepdim=True)), batch_size=8)

def trainer(logger, epochs):
    ckpt = pl.callbacks.ModelCheckpoint(monitor="val/loss", save_top_k=1, save_last=True)
    return pl.Trainer(logger=logger, max_epochs=epochs, limit_train_batches=4, limit_val_batches=2,
                      log_every_n_steps=1, accelerator="cpu", devices=1, enable_progress_bar=False,
                      enable_model_summary=False, num_sanity_val_steps=0, default_root_dir=out, callbacks=[ckpt])

t = trainer(TrackTuiLogger(project="lit", name="tiny", version="lit-run", log_model="all", tags=[pkg]), 2)
t.fit(Tiny(), train, val)
print("checkpoint dir:", t.checkpoint_callback.dirpath)
last = t.checkpoint_callback.last_model_path
tracktui.finish()  # the first job ends

# A second job resumes the run by version, from the last checkpoint.
t = trainer(ResumeLogger(project="lit", version="lit-run", log_model=True), 3)
t.fit(Tiny(), train, val, ckpt_path=last)
'''


def _have(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def _package(name: str) -> object:
    return pytest.param(name, marks=pytest.mark.skipif(not _have(name), reason=f"{name} not installed ({INSTALL})"))


@pytest.fixture(scope="module", params=[_package("lightning"), _package("pytorch_lightning")])
def trained(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, str]:
    """Train (and resume) once per package; the tests read the store."""
    root = tmp_path_factory.mktemp(request.param)
    out = root / "out"
    proc = run_script(SCRIPT, root / "store", str(out), request.param, timeout=240)
    return request.param, root, proc.stdout


def test_metrics_config_and_resume_by_version(trained: tuple[str, Path, str]) -> None:
    package, root, stdout = trained
    store = root / "store"
    assert "checkpoint dir:" in stdout and str(Path("lit") / "lit-run" / "checkpoints") in stdout
    if package == "pytorch_lightning":  # the resumed job used tracktui.integrations.lightning's fallback
        assert "fallback: pytorch_lightning" in stdout
    (run,) = tracktui.Api(store).runs()
    assert (run.id, run.project, run.name, run.tags) == ("lit-run", "lit", "tiny", [package])
    assert run.state == "finished"
    assert run.config["lr"] == 0.05 and run.config["hidden"] == 8  # save_hyperparameters()
    rows = run.history()
    train_steps = [r["trainer/global_step"] for r in rows if "train/loss" in r]
    assert train_steps == list(range(12))  # 4 batches x 3 epochs, the third after the resume
    val = [r for r in rows if "val/loss" in r]
    assert [r["epoch"] for r in val] == [0, 1, 2] and [r["trainer/global_step"] for r in val] == [3, 7, 11]
    assert [r["_step"] for r in rows] == list(range(len(rows)))
    assert run.summary["val/loss"] == val[-1]["val/loss"]
    assert {d["name"]: d["step_metric"] for d in run.metric_defs}["*"] == "trainer/global_step"


def test_images_tables_and_checkpoints(trained: tuple[str, Path, str]) -> None:
    _, root, _ = trained
    run = tracktui.Api(root / "store").run("lit-run")
    steps = run.media_steps("samples")
    assert len(steps) == 3
    assert [int(run.image("samples", step=s, format="numpy").max()) for s in steps] == [0, 100, 200]
    assert [item.meta.get("caption") for s in steps for item in run.media("samples", s)] == [
        "epoch 0", "epoch 1", "epoch 2"]
    assert run.table("preds") == [{"epoch": 2, "guess": "cat"}, {"epoch": 2, "guess": "dog"}]
    files = run.files()
    assert "checkpoints/last.ckpt" in files and any(f.startswith("checkpoints/epoch=") for f in files)
    assert run.summary["checkpoint/best"] in files
    # the stored last.ckpt is the one written at the end of the resumed job, byte for byte
    on_disk = root / "out" / "lit" / "lit-run" / "checkpoints" / "last.ckpt"
    assert run.file("checkpoints/last.ckpt") == on_disk.read_bytes()


DDP_SCRIPT = r'''
import sys, torch, tracktui
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset
from tracktui.integrations.lightning import TrackTuiLogger

class Tiny(pl.LightningModule):
    def __init__(self, lr=0.05):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Linear(4, 1)

    def training_step(self, batch, i):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train/loss", loss)
        self.log(f"rank{self.global_rank}/seen", 1.0)  # each rank's own value, not synced
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

if __name__ == "__main__":
    x = torch.randn(64, 4, generator=torch.Generator().manual_seed(0))
    logger = TrackTuiLogger(project="ddp")
    t = pl.Trainer(logger=logger, strategy="ddp", accelerator="cpu", devices=2, max_epochs=1,
                   limit_train_batches=3, log_every_n_steps=1, enable_progress_bar=False,
                   enable_model_summary=False, enable_checkpointing=False, default_root_dir=sys.argv[1])
    t.fit(Tiny(), DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=8))
    print(f"rank {t.global_rank}: run {tracktui.run and tracktui.run.id}", flush=True)
'''


@pytest.mark.skipif(not _have("lightning"), reason=f"lightning not installed ({INSTALL})")
def test_only_global_rank_zero_records_under_ddp(tmp_path: Path) -> None:
    """Real DDP on the CPU (gloo, two processes): one run, rank zero's metrics only, and rank one never
    starts a run."""
    script = tmp_path / "ddp_train.py"  # Lightning's DDP launcher runs the script file again for rank 1
    script.write_text(DDP_SCRIPT)
    proc = run_script(f"import runpy, sys; sys.argv = [{str(script)!r}, *sys.argv[1:]]; "
                      f"runpy.run_path({str(script)!r}, run_name='__main__')",
                      tmp_path / "store", str(tmp_path / "out"), timeout=240)
    (run,) = tracktui.Api(tmp_path / "store").runs()
    assert f"rank 0: run {run.id}" in proc.stdout and "rank 1: run None" in proc.stdout, proc.stdout
    assert set(run.keys()) == {"train/loss", "rank0/seen", "epoch", "trainer/global_step"}
    assert [r["trainer/global_step"] for r in run.history()] == [0, 1, 2]
    assert run.config["lr"] == 0.05 and run.state == "finished"
