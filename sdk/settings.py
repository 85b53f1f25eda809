"""tracktui.Settings: wandb.Settings for scripts that build one, and what init() reads from it.

Any keyword is accepted and kept as an attribute, so a script written for wandb runs unchanged. These mean
something here (the rest are kept, readable, and ignored):

    mode, reinit, resume, project, entity, save_code       as the init() arguments of the same names
    run_name, run_id, run_group, run_job_type, run_notes,   init()'s name, id, group, job_type, notes, tags
    run_tags
    console ("off", "wrap", "redirect", ...), disable_git,  the automatic capture (see tracktui.capture, which
    x_disable_stats, x_disable_meta,                        also reads tracktui's own names: system, gpu,
    x_stats_sampling_interval                               git, requirements, metadata, system_interval ...)

An init() argument wins over the same setting.
"""

from __future__ import annotations

import sys
from typing import Any

# Settings name -> init() argument name
INIT_ARGS = {"mode": "mode", "reinit": "reinit", "resume": "resume", "project": "project", "entity": "entity",
             "save_code": "save_code", "run_name": "name", "run_id": "id", "run_group": "group",
             "run_job_type": "job_type", "run_notes": "notes", "run_tags": "tags"}


class Settings:
    """Keyword arguments kept as attributes (wandb's names; see the module docstring for those read)."""

    def __init__(self, **kwargs: Any):
        self.__dict__.update(kwargs)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"tracktui.Settings has no setting {name!r}")

    def update(self, settings: Any = None, **kwargs: Any) -> None:
        """Set several settings at once (from a dict, another Settings, or keywords)."""
        self.__dict__.update(as_dict(settings))
        self.__dict__.update(kwargs)

    def to_dict(self) -> dict[str, Any]:
        """The settings given, as a plain dict."""
        return dict(self.__dict__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Settings) and other.__dict__ == self.__dict__

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"Settings({inner})"


def as_dict(settings: Any) -> dict[str, Any]:
    """The settings given to init() (None, a dict or a Settings-like object) as a dict."""
    if settings is None:
        return {}
    if isinstance(settings, dict):
        return dict(settings)
    if isinstance(settings, Settings):
        return settings.to_dict()
    to_dict = getattr(settings, "to_dict", None) or getattr(settings, "model_dump", None)
    if callable(to_dict):
        try:
            return dict(to_dict())
        except Exception:  # noqa: BLE001 - read what we can below
            pass
    return {k: v for k, v in vars(settings).items() if not k.startswith("_")} if hasattr(settings, "__dict__") else {}


def setting(settings: Any, key: str) -> Any:
    """One setting from a dict or an object (None when it is not there)."""
    if settings is None:
        return None
    if isinstance(settings, dict):
        return settings.get(key)
    return getattr(settings, key, None)


def init_args(settings: Any) -> dict[str, Any]:
    """The init() arguments that settings set (by init()'s names)."""
    out = {}
    for name, arg in INIT_ARGS.items():
        value = setting(settings, name)
        if value is not None:
            out[arg] = value
    return out


def in_notebook() -> bool:
    """True inside a Jupyter (or Colab) kernel, where wandb finishes a previous run on init() by default and
    lets config values change."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # noqa: BLE001
        return False
    return shell is not None and hasattr(shell, "kernel")
