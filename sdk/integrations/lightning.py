"""Lightning (`lightning.pytorch`): a Logger that records a Trainer's run.

    from tracktui.integrations.lightning import TrackTuiLogger
    trainer = lightning.pytorch.Trainer(logger=TrackTuiLogger(project="mnist"), max_epochs=3)

Metrics go in under the names `self.log()` gives them, with the Trainer's global step as `trainer/global_step`
on each row (every metric's default x-axis, as WandbLogger does); hyperparameters become config; log_image,
log_table and log_text store media; checkpoints are attached with run.save() when log_model asks for it; only
global rank zero records. TrackTuiLogger(version=RUN_ID) resumes that run. For the `pytorch_lightning` package
use tracktui.integrations.pytorch_lightning; where only that package is installed, this module serves it too.
"""

from __future__ import annotations

try:
    from lightning.pytorch.loggers.logger import Logger, rank_zero_experiment

    _FRAMEWORK = "lightning.pytorch"
except ModuleNotFoundError as e:  # only the standalone pytorch_lightning package is installed
    if e.name not in ("lightning", "lightning.pytorch"):
        raise
    from pytorch_lightning.loggers.logger import Logger, rank_zero_experiment

    _FRAMEWORK = "pytorch_lightning"

from ._lightning_logger import TrackTuiLoggerBase


class TrackTuiLogger(TrackTuiLoggerBase, Logger):
    __doc__ = TrackTuiLoggerBase.__doc__
    _framework = _FRAMEWORK

    @property
    @rank_zero_experiment
    def experiment(self):  # type: ignore[no-untyped-def]
        """The tracktui Run on global rank zero (a no-op stand-in on the other ranks)."""
        return self._experiment()


__all__ = ["TrackTuiLogger"]
