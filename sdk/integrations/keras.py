"""Keras 3 (any backend): a Callback that records model.fit().

    from tracktui.integrations.keras import TrackTuiCallback
    model.fit(x, y, epochs=10, validation_split=0.1, callbacks=[TrackTuiCallback(project="mnist")])

What it records, under the names wandb's WandbMetricsLogger uses:
- every `log_freq` batches: `batch/<metric>` (Keras's running mean over the epoch so far), `batch/learning_rate`
  and `batch/batch_step` (the batch's index counted over all epochs and fit() calls, from 0), the x-axis of
  `batch/*`;
- every epoch: `epoch/<metric>` (validation ones as `epoch/val_<metric>`), `epoch/learning_rate` and
  `epoch/epoch` (from 0), the x-axis of `epoch/*`;
- the model summary as text (`model/summary`, a tracktui.Text), `model/num_parameters`, the optimizer's
  config and fit's epochs and steps as config.

It uses the run the script started with tracktui.init() when there is one, otherwise starts one (project:
the `project` argument, TRACKTUI_PROJECT, or "keras"), which stays open after fit() and ends with the process
or tracktui.finish(). Keras picks its backend from KERAS_BACKEND before it is first imported.
"""

from __future__ import annotations

from typing import Any

import keras

from ._run import current_or_init, never_raises


class TrackTuiCallback(keras.callbacks.Callback):
    """Record model.fit()'s metrics, learning rate and model summary into a tracktui run.

    Args:
        project: the project of a run this callback starts (default TRACKTUI_PROJECT, then "keras").
        name: its name.
        log_freq: log batch metrics every that many batches (1: every batch); "epoch" logs epochs only.
        log_model_summary: store the model summary text once, when the first batch has built the model.
        **init_kwargs: more tracktui.init() arguments for that run (tags, group, config, dir, ...).
    """

    def __init__(self, project: str | None = None, name: str | None = None, log_freq: int | str = 1,
                 log_model_summary: bool = True, **init_kwargs: Any):
        super().__init__()
        if log_freq != "epoch" and (isinstance(log_freq, bool) or not isinstance(log_freq, int) or log_freq < 1):
            raise ValueError(f"log_freq must be a positive integer or 'epoch', got {log_freq!r}")
        self.log_freq = None if log_freq == "epoch" else log_freq
        self._project = project
        self._name = name
        self._init_kwargs = init_kwargs
        self._log_model_summary = log_model_summary
        self._summary_pending = False
        self.run: Any = None
        self.batch_step = 0  # batches trained with this callback, over all epochs and fit() calls

    @never_raises("keras")
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if self.run is None or getattr(self.run, "_finished", False):
            self.run, _ = current_or_init(self._project, "keras", name=self._name, **self._init_kwargs)
        self._summary_pending = self._log_model_summary
        run = self.run
        run.define_metric("batch/batch_step")
        run.define_metric("batch/*", step_metric="batch/batch_step")
        run.define_metric("epoch/epoch")
        run.define_metric("epoch/*", step_metric="epoch/epoch")
        config: dict[str, Any] = {k: v for k, v in (self.params or {}).items() if k in ("epochs", "steps")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None:
            config["optimizer"] = {k: _plain(v) for k, v in optimizer.get_config().items()}
        run.config.update(config)

    @never_raises("keras")
    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        step = self.batch_step
        self.batch_step += 1
        if self.log_freq is None or step % self.log_freq:
            return
        data = {f"batch/{k}": v for k, v in (logs or {}).items()}
        data["batch/batch_step"] = step
        lr = self._learning_rate()
        if lr is not None:
            data["batch/learning_rate"] = lr
        self._log(data)

    @never_raises("keras")
    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        data = {f"epoch/{k}": v for k, v in (logs or {}).items()}
        data["epoch/epoch"] = epoch
        lr = self._learning_rate()
        if lr is not None:
            data["epoch/learning_rate"] = lr
        self._log(data)

    def _log(self, data: dict[str, Any]) -> None:
        if self._summary_pending:  # the first batch has built the model: its summary is complete now
            self._summary_pending = False
            self._record_model()
        self.run.log(data)

    def _record_model(self) -> None:
        from .. import media

        lines: list[str] = []
        self.model.summary(print_fn=lambda text, *args, **kwargs: lines.append(text))
        self.run.config["model/num_parameters"] = int(self.model.count_params())
        self.run.log({"model/summary": media.Text("\n".join(lines).rstrip("\n"), format="plain")}, commit=False)

    def _learning_rate(self) -> float | None:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None:
            return None
        try:
            return float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        except Exception:  # noqa: BLE001 - a custom optimizer without a readable rate
            return None


def _plain(value: Any) -> Any:
    """A config value as JSON would keep it: a schedule or other object becomes its Keras config."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    get_config = getattr(value, "get_config", None)
    if callable(get_config):
        return {"class_name": type(value).__name__, **get_config()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return repr(value)
