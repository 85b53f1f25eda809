"""The body of TrackTuiLogger, shared by tracktui.integrations.lightning (`lightning.pytorch`) and
tracktui.integrations.pytorch_lightning (`pytorch_lightning`): the two packages have separate Logger base
classes, so each module puts this mixin in front of its own. Nothing here imports either framework."""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import Any

from lightning_utilities.core.rank_zero import rank_zero_only  # one rank for both packages

from ._run import current_or_init, never_raises

STEP_KEY = "trainer/global_step"


class TrackTuiLoggerBase:
    """Log a Lightning Trainer's hyperparameters, metrics, media and checkpoints into a tracktui run.

    Args:
        project: the project (default TRACKTUI_PROJECT, then "lightning_logs"); also Lightning's `name`.
        name: the run's display name.
        version: a run id: a run with that id is resumed (its steps, config and summary continue), else
            created with it. `id` is a synonym, as in WandbLogger.
        save_dir: where Lightning writes checkpoints (`save_dir/project/version/checkpoints`); default the
            Trainer's default_root_dir.
        dir: the tracktui store root (as tracktui.init(dir=)).
        config: hyperparameters to record at once (log_hyperparams adds the LightningModule's).
        log_model: False (default) stores no checkpoint; True stores the best and last ones when training
            ends; "all" stores each one as it is written. Checkpoints are attached with run.save().
        prefix: put before every metric name ("prefix-name").
        **init_kwargs: more tracktui.init() arguments (tags, group, notes, job_type, ...).

    Only global rank zero records anything. A run the script started with tracktui.init() is used as it is.
    """

    LOGGER_JOIN_CHAR = "-"
    _framework = "lightning.pytorch"  # the package whose Trainer this class serves (set by each module)

    def __init__(self, project: str | None = None, name: str | None = None, version: str | None = None,
                 save_dir: str | os.PathLike[str] | None = None, dir: str | os.PathLike[str] | None = None,
                 id: str | None = None, config: Mapping[str, Any] | None = None, log_model: bool | str = False,
                 prefix: str = "", **init_kwargs: Any):
        super().__init__()
        if log_model not in (True, False, "all"):
            raise ValueError(f"log_model must be True, False or 'all', got {log_model!r}")
        self._project = project or os.environ.get("TRACKTUI_PROJECT") or "lightning_logs"
        self._run_name = name
        self._id = version or id
        self._save_dir = None if save_dir is None else os.fspath(save_dir)
        self._store_dir = dir
        self._config = dict(config) if config else None
        self._log_model = log_model
        self._prefix = prefix
        self._init_kwargs = init_kwargs
        self._run: Any = None
        self._logged_model_time: dict[str, float] = {}
        self._checkpoint_callbacks: dict[int, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        """Pickled for spawned DDP workers: they resume the same run by id instead of starting another."""
        state = self.__dict__.copy()
        if self._run is not None:
            state["_id"] = self._run.id
        state["_run"] = None
        return state

    # ------------------------------------------------------------ the run

    def _experiment(self) -> Any:
        """The tracktui run (started on first use); each module wraps this as `experiment` for rank zero."""
        if self._run is None or getattr(self._run, "_finished", False):
            self._run, created = current_or_init(
                self._project, "lightning_logs", name=self._run_name, id=self._id,
                resume="allow" if self._id else None, dir=self._store_dir, config=self._config,
                **self._init_kwargs)
            if created:
                self._run.define_metric(STEP_KEY)
                self._run.define_metric("*", step_metric=STEP_KEY)
        return self._run

    @property
    def name(self) -> str:
        """The project (Lightning puts checkpoints under save_dir/name/version)."""
        return self._project

    @property
    def version(self) -> str | None:
        """The run id (the run starts here on rank zero, so that checkpoint folders are named after it)."""
        if self._run is not None:
            return self._run.id
        if rank_zero_only.rank > 0:
            return self._id
        return self.experiment.id  # type: ignore[attr-defined]

    @property
    def save_dir(self) -> str | None:
        """Where checkpoints go (None: the Trainer's default_root_dir)."""
        return self._save_dir

    # ------------------------------------------------------------ what the Trainer calls

    @rank_zero_only
    @never_raises("lightning")
    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        """Record hyperparameters (a dict, an argparse Namespace or Lightning's AttributeDict) as config."""
        if params is None:
            return
        if not isinstance(params, Mapping):
            params = vars(params)
        self.experiment.config.update({str(k): v for k, v in params.items()})  # type: ignore[attr-defined]

    @rank_zero_only
    @never_raises("lightning")
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Log metrics, with the Trainer's global step as `trainer/global_step` on the same row."""
        if self._prefix:
            metrics = {f"{self._prefix}{self.LOGGER_JOIN_CHAR}{k}": v for k, v in metrics.items()}
        data = dict(metrics)
        if step is not None:
            data[STEP_KEY] = step
        self.experiment.log(data)  # type: ignore[attr-defined]

    @rank_zero_only
    def log_image(self, key: str, images: list[Any], step: int | None = None, **kwargs: Any) -> None:
        """Log a gallery of images (arrays, tensors, PIL images or paths); kwargs hold per-image lists, e.g.
        caption=["a", "b"]. Raises TypeError/ValueError for bad arguments, as tracktui.Image does."""
        from .. import media

        if not isinstance(images, list):
            raise TypeError(f"log_image: images must be a list, not {type(images).__name__}")
        for k, v in kwargs.items():
            if len(v) != len(images):
                raise ValueError(f"log_image: {k} has {len(v)} items for {len(images)} images")
        gallery = [media.Image(img, **{k: v[i] for k, v in kwargs.items()}) for i, img in enumerate(images)]
        self.log_metrics({key: gallery}, step)

    @rank_zero_only
    def log_table(self, key: str, columns: list[str] | None = None, data: list[list[Any]] | None = None,
                  dataframe: Any = None, step: int | None = None) -> None:
        """Log a tracktui.Table from columns and rows, or from a pandas DataFrame."""
        from .. import media

        self.log_metrics({key: media.Table(columns=columns, data=data, dataframe=dataframe)}, step)

    def log_text(self, key: str, columns: list[str] | None = None, data: list[list[str]] | None = None,
                 dataframe: Any = None, step: int | None = None) -> None:
        """Log text as a table (as WandbLogger does)."""
        self.log_table(key, columns, data, dataframe, step)

    def watch(self, model: Any, log: str = "gradients", log_freq: int = 100) -> None:
        """Histograms of the model's gradients and/or parameters (run.watch)."""
        if rank_zero_only.rank == 0:
            self.experiment.watch(model, log=log, log_freq=log_freq)  # type: ignore[attr-defined]

    @rank_zero_only
    @never_raises("lightning")
    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        """log_model="all" (or True with save_top_k=-1) stores each checkpoint now; True at the end."""
        if self._log_model == "all" or (self._log_model is True and checkpoint_callback.save_top_k == -1):
            self._save_checkpoints(checkpoint_callback)
        elif self._log_model is True:
            self._checkpoint_callbacks[id(checkpoint_callback)] = checkpoint_callback

    @rank_zero_only
    @never_raises("lightning")
    def finalize(self, status: str) -> None:
        """Store the remembered checkpoints after a successful fit; the run itself stays open (a test() may
        follow) and ends with the process or tracktui.finish()."""
        if status == "success" and self._run is not None:
            for callback in self._checkpoint_callbacks.values():
                self._save_checkpoints(callback)

    def _save_checkpoints(self, callback: Any) -> None:
        scan = importlib.import_module(f"{self._framework}.loggers.utilities")._scan_checkpoints
        run = self.experiment  # type: ignore[attr-defined]
        for mtime, path, score, _tag in scan(callback, self._logged_model_time):
            base = os.path.dirname(os.path.dirname(os.path.abspath(path)))
            names = run.save(path, base_path=base)
            stored = names[0] if names else None
            self._logged_model_time[path] = mtime
            if stored and path == callback.best_model_path:
                run.summary["checkpoint/best"] = stored
                if score is not None:
                    run.summary["checkpoint/best_score"] = float(score)
