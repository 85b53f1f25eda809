"""run.watch(): histograms of gradients and parameters from PyTorch hooks on a small CPU model."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")


def _train(run: Any, model: Any, steps: int) -> None:
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    torch.manual_seed(0)
    for _ in range(steps):
        x = torch.randn(16, 4)
        loss = model(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        run.log({"loss": loss.item()})


def test_watch_all_every_other_step(run: Any, read: Any) -> None:
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    run.watch(model, log="all", log_freq=2)
    _train(run, model, 5)
    run.unwatch(model)
    _train(run, model, 2)
    api = read(run)
    keys = {k["key"] for k in api.media_keys()}
    names = ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert keys == {f"{kind}/{n}" for kind in ("gradients", "parameters") for n in names}
    # as wandb: the first histograms at the log_freq-th batch (the 2nd, step 1), then every log_freq-th
    assert api.media_steps("gradients/0.weight") == [1, 3]
    assert api.media_steps("parameters/2.bias") == [1, 3]
    counts, edges = api.histogram("parameters/0.weight", step=1)
    assert sum(counts) == 32 and len(edges) == 65
    counts, _ = api.histogram("gradients/2.weight", step=3)
    assert sum(counts) == 8
    rows = api.history()
    assert len(rows) == 7 and all("loss" in r for r in rows)
    assert "gradients/0.bias" in rows[3] and "gradients/0.bias" not in rows[4]
    assert "gradients/0.bias" not in rows[0]


def test_watch_gradients_only_and_bad_arguments(run: Any, read: Any) -> None:
    model = torch.nn.Linear(3, 2)
    with pytest.raises(ValueError, match="log must be"):
        run.watch(model, log="weights")
    with pytest.raises(TypeError, match="nn.Module"):
        run.watch(object())
    run.watch(model, log_freq=3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(4):
        loss = model(torch.randn(5, 3)).sum()
        opt.zero_grad()
        loss.backward()
        run.log({"loss": loss.item()})
    api = read(run)
    assert {k["key"] for k in api.media_keys()} == {"gradients/weight", "gradients/bias"}
    assert api.media_steps("gradients/weight") == [2]  # the 3rd batch of 4
    assert sum(api.histogram("gradients/bias", step=2)[0]) == 2
