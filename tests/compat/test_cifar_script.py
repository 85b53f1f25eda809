"""A PyTorch CIFAR-10-style training script written for wandb, run with only its import changed.

Synthetic data (no download): 3x32x32 images of 10 classes whose mean colour encodes the class, so the
small CNN learns something and the logged accuracy rises.
"""

from __future__ import annotations

import pytest
import tracktui

from tests.conftest import run_script

torch = pytest.importorskip("torch", reason="the CIFAR-style script trains a PyTorch model")

SCRIPT = '''
import torch, torch.nn as nn, torch.nn.functional as F
import tracktui as wandb

wandb.login()

config = dict(epochs=3, classes=10, kernels=[8, 16], batch_size=32, learning_rate=0.01, dataset="CIFAR-10-synthetic",
              architecture="CNN")

def make_loader(n, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 10, (n,), generator=g)
    x = torch.rand(n, 3, 32, 32, generator=g) * 0.5 + (y.float() / 10).view(-1, 1, 1, 1)
    ds = torch.utils.data.TensorDataset(x, y)
    return torch.utils.data.DataLoader(ds, batch_size=config["batch_size"], shuffle=True, generator=g)

class ConvNet(nn.Module):
    def __init__(self, kernels, classes=10):
        super().__init__()
        self.layer1 = nn.Sequential(nn.Conv2d(3, kernels[0], 5, padding=2), nn.ReLU(), nn.MaxPool2d(2))
        self.layer2 = nn.Sequential(nn.Conv2d(kernels[0], kernels[1], 5, padding=2), nn.ReLU(), nn.MaxPool2d(2))
        self.fc = nn.Linear(8 * 8 * kernels[-1], classes)
    def forward(self, x):
        return self.fc(self.layer2(self.layer1(x)).reshape(x.size(0), -1))

def train_log(loss, example_ct, epoch):
    wandb.log({"epoch": epoch, "loss": loss}, step=example_ct)
    print(f"Loss after {str(example_ct).zfill(5)} examples: {loss:.3f}")

def test(model, loader):
    model.eval()
    with torch.no_grad():
        correct = total = 0
        for images, labels in loader:
            predicted = model(images).argmax(1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
        wandb.log({"test_accuracy": correct / total})
        wandb.log({"examples": [wandb.Image(im, caption=f"Pred: {p}, Label: {l}")
                                for im, p, l in zip(images[:4], predicted[:4], labels[:4])]})
    return correct / total

def model_pipeline(hyperparameters):
    with wandb.init(project="pytorch-demo", config=hyperparameters):
        config = wandb.config
        torch.manual_seed(0)
        model = ConvNet(config.kernels, config.classes)
        train_loader, test_loader = make_loader(512, 1), make_loader(128, 2)
        criterion = nn.CrossEntropyLoss()
        optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
        wandb.watch(model, criterion, log="all", log_freq=10)
        example_ct = batch_ct = 0
        for epoch in range(config.epochs):
            model.train()
            for images, labels in train_loader:
                loss = criterion(model(images), labels)
                optimizer.zero_grad(); loss.backward(); optimizer.step()
                example_ct += len(images); batch_ct += 1
                if (batch_ct + 1) % 5 == 0:
                    train_log(loss, example_ct, epoch)
        acc = test(model, test_loader)
        wandb.summary["test_accuracy"] = acc
        torch.save(model.state_dict(), "model.pt")
        wandb.save("model.pt")
    return model

model_pipeline(config)
'''


def test_cifar_style_script_runs_unchanged_but_for_its_import(store_dir, tmp_path):
    proc = run_script(f"import os; os.chdir({str(tmp_path)!r})\n" + SCRIPT, store_dir, timeout=300)
    assert "Loss after" in proc.stdout
    (run,) = tracktui.Api(store_dir).runs(project="pytorch-demo")
    assert run.state == "finished"
    assert run.config["kernels"] == [8, 16] and run.config["learning_rate"] == 0.01
    rows = run.history()
    losses = [r for r in rows if "loss" in r]
    assert len(losses) == 9  # batches 4, 9, ..., 44 of 3 x 16: every 5th, counted from 1
    assert all(r["_step"] % 32 == 0 for r in losses)  # step=example_ct
    assert 0.0 <= run.summary["test_accuracy"] <= 1.0
    assert run.summary["test_accuracy"] == [r for r in rows if "test_accuracy" in r][-1]["test_accuracy"]
    assert len(run.media("examples")) == 4
    assert any(k["key"].startswith("gradients/") for k in run.media_keys())
    assert any(k["key"].startswith("parameters/") for k in run.media_keys())
    assert any(name.endswith("model.pt") for name in run.files())
    assert any("Loss after" in line for _, _, _, line in run.logs())
