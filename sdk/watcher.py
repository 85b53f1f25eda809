"""run.watch() and run.unwatch(): PyTorch hooks that log histograms of gradients and/or parameters.

This module is tracktui.watcher because the name tracktui.watch belongs to the module-level function.

Every log_freq-th forward pass of the model (the first is the log_freq-th, as wandb counts) arms the
hooks: parameters are logged then, gradients when the backward pass computes them, as keys
"parameters/<name>" and "gradients/<name>", joining the step the training loop logs next
(log(..., commit=False)). torch is only imported when watch() is called; hooks never raise into training
(a failure warns once).
"""

from __future__ import annotations

import functools
import weakref
from typing import Any

from .warn import warn_once

LOG_KINDS = ("gradients", "parameters", "all", None)
NUM_BINS = 64


def tensor_histogram(t: Any, num_bins: int = NUM_BINS) -> Any:
    """A tracktui.Histogram of a tensor's finite values, binned on its own device (only counts travel)."""
    import torch

    from .media import Histogram

    flat = t.detach().reshape(-1)
    if not flat.is_floating_point():
        flat = flat.float()
    elif flat.dtype in (torch.float16, torch.bfloat16):
        flat = flat.float()
    finite = torch.isfinite(flat)
    if not bool(finite.all()):
        flat = flat[finite]
    if flat.numel() == 0:
        lo, hi = 0.0, 1.0
    else:
        lo, hi = float(flat.min()), float(flat.max())
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    counts = torch.histc(flat, bins=num_bins, min=lo, max=hi).cpu()
    edges = torch.linspace(lo, hi, num_bins + 1, dtype=torch.float64)
    return Histogram(np_histogram=(counts.numpy(), edges.numpy()))


class _Watch:
    """The hooks on one model."""

    def __init__(self, run: Any, model: Any, log: str | None, log_freq: int, prefix: str):
        self.run = weakref.ref(run)
        self.model = weakref.ref(model)
        self.log = log
        self.log_freq = max(1, int(log_freq))
        self.prefix = prefix
        self.calls = 0
        self.armed = False
        self.logged: set[str] = set()
        self.handles: list[Any] = []
        self.params = [(name, p) for name, p in model.named_parameters()]
        self.handles.append(model.register_forward_pre_hook(self._pre_forward))
        if log in ("gradients", "all"):
            for name, p in self.params:
                if p.requires_grad:
                    self.handles.append(p.register_hook(functools.partial(self._on_grad, name)))

    def _log(self, data: dict[str, Any]) -> None:
        run = self.run()
        if run is not None and not run._finished:
            run.log(data, commit=False)

    def _pre_forward(self, module: Any, inputs: Any) -> None:
        try:
            self.calls += 1
            self.armed = self.calls % self.log_freq == 0
            self.logged.clear()
            if self.armed and self.log in ("parameters", "all"):
                self._log({f"{self.prefix}parameters/{name}": tensor_histogram(p) for name, p in self.params})
        except Exception as e:  # noqa: BLE001 - never into training
            warn_once(f"watch-params:{type(e).__name__}", f"tracktui: watch() could not log parameters ({e})")

    def _on_grad(self, name: str, grad: Any) -> None:
        try:
            if self.armed and name not in self.logged and grad is not None:
                self.logged.add(name)
                self._log({f"{self.prefix}gradients/{name}": tensor_histogram(grad)})
        except Exception as e:  # noqa: BLE001
            warn_once(f"watch-grads:{type(e).__name__}", f"tracktui: watch() could not log gradients ({e})")
        return None

    def remove(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles = []


_watches: weakref.WeakKeyDictionary[Any, list[_Watch]] = weakref.WeakKeyDictionary()


def watch(run: Any, models: Any, log: str | None = "gradients", log_freq: int = 1000) -> None:
    """Hook model (or a list/tuple of models): histograms of gradients, parameters or both every log_freq
    forward passes."""
    if log not in LOG_KINDS:
        raise ValueError(f"watch: log must be 'gradients', 'parameters', 'all' or None, got {log!r}")
    try:
        import torch
    except ImportError as e:
        raise ImportError("run.watch() needs PyTorch (pip install torch)") from e
    model_list = list(models) if isinstance(models, (list, tuple)) else [models]
    for m in model_list:
        if not isinstance(m, torch.nn.Module):
            raise TypeError(f"watch: expected a torch.nn.Module, got {type(m).__name__}")
    if log is None:
        return
    existing = _watches.setdefault(run, [])
    for i, m in enumerate(model_list):
        if any(w.model() is m for w in existing):
            continue
        prefix = f"model_{i}/" if len(model_list) > 1 else ""
        existing.append(_Watch(run, m, log, log_freq, prefix))


def unwatch(run: Any, models: Any = None) -> None:
    """Remove the hooks on models (all watched models of the run by default)."""
    existing = _watches.get(run, [])
    targets = None if models is None else (list(models) if isinstance(models, (list, tuple)) else [models])
    keep = []
    for w in existing:
        if targets is None or any(w.model() is m for m in targets):
            w.remove()
        else:
            keep.append(w)
    if run in _watches:
        _watches[run] = keep


def _at_finish(run: Any) -> None:
    unwatch(run)


def _register() -> None:
    from .hooks import on_finish

    on_finish(_at_finish)


_register()
