"""The members of Run that wandb scripts use and that need no store of their own: run.dir, settings,
offline, entity, get_url(), mark_preempting(), alert(), log_code(). Run inherits them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tracktui.store.paths import run_files_dir

from .warn import warn_once


class RunCompat:
    """Mixed into Run (which sets _root, _files_dir, _init_settings, _entity, _lock and the run's names)."""

    id: str
    name: str
    project: str
    _root: Path
    _files_dir: Path | None
    _init_settings: dict[str, Any]
    _entity: str | None
    _lock: Any

    @property
    def dir(self) -> str:
        """This run's own files directory, <store root>/files/<run id>/ (made on first use, mode 0700).

        What a script leaves there is stored with the run when it finishes, as wandb uploads its run
        directory (files over run.save's size cap are left out with a warning)."""
        with self._lock:
            if self._files_dir is None:
                path = run_files_dir(self._root, self.id)
                try:
                    path.parent.mkdir(mode=0o700, exist_ok=True)
                    path.mkdir(mode=0o700, exist_ok=True)
                except OSError as e:
                    warn_once(f"run-dir:{self.id}", f"tracktui: could not make the run directory {path} ({e})")
                    return str(path)
                self._files_dir = path
                from . import files

                files.save(self, os.path.join(path, "**"), base_path=path, policy="end")
            return str(self._files_dir)

    @property
    def settings(self) -> Any:
        """A tracktui.Settings: what init() was given, plus this run's facts under wandb's names."""
        from .settings import Settings

        facts = {"project": self.project, "run_id": self.id, "run_name": self.name, "entity": self.entity,
                 "run_group": getattr(self, "group", None), "run_job_type": getattr(self, "job_type", None),
                 "run_tags": tuple(getattr(self, "tags", ())), "run_notes": getattr(self, "notes", None),
                 "root_dir": str(self._root), "files_dir": self.dir, "resumed": getattr(self, "resumed", False)}
        return Settings(**{"mode": "online", **self._init_settings, **facts})

    @property
    def offline(self) -> bool:
        """True: a run is recorded on this machine and sent nowhere."""
        return True

    @property
    def entity(self) -> str:
        """The entity given to init() (wandb's user or team), else ""."""
        return self._entity or ""

    @property
    def sweep_id(self) -> None:
        """No sweeps here: None."""
        return None

    def get_url(self) -> None:
        """Runs have no web page: None (as wandb returns offline)."""
        return None

    def get_project_url(self) -> None:
        """None, as get_url()."""
        return None

    def get_sweep_url(self) -> None:
        """None, as get_url()."""
        return None

    def mark_preempting(self) -> None:
        """Note that the run is about to be preempted (e.g. a SLURM job that will be requeued): recorded as an
        event of the run, shown with its alerts; resume the run with init(id=..., resume="allow")."""
        from . import alerts

        alerts.event(self, "INFO", "preempting", "the run was marked as preempting")

    def alert(self, title: str, text: str, level: Any = None, wait_duration: Any = None) -> None:
        """Record an alert (level INFO, WARN or ERROR; an AlertLevel or its name), print it to stderr, and
        show it in the app's Overview. An alert of the same title within wait_duration seconds (a number or a
        timedelta; default 60) is dropped, as wandb throttles its notifications."""
        from . import alerts

        alerts.alert(self, title, text, level=level, wait_duration=wait_duration)

    def log_code(self, root: str | os.PathLike[str] | None = None, name: str | None = None,
                 include_fn: Any = None, exclude_fn: Any = None) -> list[str] | None:
        """Store source files as the run's files "code/<path>": by default the *.py, Dockerfile* and
        requirements.txt files under the script's directory. include_fn / exclude_fn take (path) or
        (path, root). Returns the stored names (None when nothing matched); name is accepted for wandb's
        signature (there are no artifacts to name)."""
        from . import code

        return code.log_code(self, root, include_fn or code.default_include, exclude_fn or code.default_exclude)
