"""The `pytorch_lightning` package (Lightning's older name, still published): the same TrackTuiLogger as
tracktui.integrations.lightning, built on this package's own Logger base class.

    from tracktui.integrations.pytorch_lightning import TrackTuiLogger
    trainer = pytorch_lightning.Trainer(logger=TrackTuiLogger(project="mnist"))
"""

from __future__ import annotations

from pytorch_lightning.loggers.logger import Logger, rank_zero_experiment

from ._lightning_logger import TrackTuiLoggerBase


class TrackTuiLogger(TrackTuiLoggerBase, Logger):
    __doc__ = TrackTuiLoggerBase.__doc__
    _framework = "pytorch_lightning"

    @property
    @rank_zero_experiment
    def experiment(self):  # type: ignore[no-untyped-def]
        """The tracktui Run on global rank zero (a no-op stand-in on the other ranks)."""
        return self._experiment()


__all__ = ["TrackTuiLogger"]
