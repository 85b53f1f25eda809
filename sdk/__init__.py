"""tracktui: a local-first experiment tracker with wandb's names.

    import tracktui
    run = tracktui.init(project="mnist", config={"lr": 1e-3})
    run.log({"train/loss": 0.3})
    run.finish()

Importing this package stays cheap: the store, media and capture modules load when first used.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

# name -> (module, attribute), imported on first use so that `import tracktui` stays fast.
_LAZY = {
    "init": ("lifecycle", "init"),
    "Error": ("errors", "Error"),
    "Settings": ("settings", "Settings"),
    "AlertLevel": ("alerts", "AlertLevel"),
    "login": ("offline", "login"),
    "require": ("offline", "require"),
    "setup": ("offline", "setup"),
    "termlog": ("term", "termlog"),
    "termwarn": ("term", "termwarn"),
    "termerror": ("term", "termerror"),
    "Run": ("runs", "Run"),
    "Api": ("api", "Api"),
    "TrackTuiWarning": ("warn", "TrackTuiWarning"),
    "Image": ("media", "Image"),
    "Table": ("media", "Table"),
    "Histogram": ("media", "Histogram"),
    "Audio": ("media", "Audio"),
    "Video": ("media", "Video"),
    "Html": ("media", "Html"),
    "Object3D": ("media", "Object3D"),
    "Text": ("media", "Text"),
    "Molecule": ("media", "Molecule"),
    "Plotly": ("media", "Plotly"),
    "box3d": ("media", "box3d"),
    "Classes": ("media", "Classes"),
    "plot": ("plot", None),
    "util": ("util", None),
    "Artifact": ("artifacts", "Artifact"),
}


def __getattr__(name: str) -> Any:
    if name in ("run", "config", "summary"):
        from . import lifecycle

        run = lifecycle.current
        if name == "run":
            return run
        if run is None:  # wandb's placeholders: a clear error at use, not 'NoneType' has no attribute
            from .errors import PreInit

            return PreInit(name)
        return getattr(run, name)
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'tracktui' has no attribute {name!r}")
    import importlib

    module = importlib.import_module(f".{target[0]}", __name__)
    value = module if target[1] is None else getattr(module, target[1])
    globals()[name] = value
    return value


def log(data: dict[str, Any], step: int | None = None, commit: bool | None = None) -> None:
    """run.log() of the current run (see Run.log)."""
    from . import lifecycle

    lifecycle.require_run("log").log(data, step=step, commit=commit)


def define_metric(name: str, **kwargs: Any) -> Any:
    """run.define_metric() of the current run."""
    from . import lifecycle

    return lifecycle.require_run("define_metric").define_metric(name, **kwargs)


def save(path: str, **kwargs: Any) -> Any:
    """run.save() of the current run."""
    from . import lifecycle

    return lifecycle.require_run("save").save(path, **kwargs)


def watch(models: Any, criterion: Any = None, log: str | None = "gradients", log_freq: int = 1000,
          idx: int | None = None, log_graph: bool = False) -> Any:
    """run.watch() of the current run."""
    from . import lifecycle

    return lifecycle.require_run("watch").watch(models, criterion, log=log, log_freq=log_freq, idx=idx,
                                                log_graph=log_graph)


def alert(title: str, text: str, level: Any = None, wait_duration: Any = None) -> None:
    """run.alert() of the current run."""
    from . import lifecycle

    lifecycle.require_run("alert").alert(title, text, level=level, wait_duration=wait_duration)


def mark_preempting() -> None:
    """run.mark_preempting() of the current run."""
    from . import lifecycle

    lifecycle.require_run("mark_preempting").mark_preempting()


def unwatch(model: Any = None) -> None:
    """run.unwatch() of the current run."""
    from . import lifecycle

    lifecycle.require_run("unwatch").unwatch(model)


def log_artifact(artifact_or_path: Any, **kwargs: Any) -> Any:
    """run.log_artifact() of the current run."""
    from . import lifecycle

    return lifecycle.require_run("log_artifact").log_artifact(artifact_or_path, **kwargs)


def use_artifact(artifact_or_name: Any, **kwargs: Any) -> Any:
    """run.use_artifact() of the current run."""
    from . import lifecycle

    return lifecycle.require_run("use_artifact").use_artifact(artifact_or_name, **kwargs)


def log_model(path: Any, name: str | None = None, aliases: Any = None) -> None:
    """run.log_model() of the current run."""
    from . import lifecycle

    lifecycle.require_run("log_model").log_model(path, name=name, aliases=aliases)


def use_model(name: str) -> str:
    """run.use_model() of the current run."""
    from . import lifecycle

    return lifecycle.require_run("use_model").use_model(name)


def finish(exit_code: int | None = None, quiet: bool | None = None) -> None:
    """Finish the current run, if there is one."""
    from . import lifecycle

    if lifecycle.current is not None:
        lifecycle.current.finish(exit_code=exit_code)


def teardown(exit_code: int | None = None) -> None:
    """wandb.teardown(), the pair of setup(): finish every run of this process not finished yet, newest first."""
    from . import lifecycle

    for run in reversed(lifecycle.active_runs()):
        run.finish(exit_code=exit_code)


__all__ = ["init", "log", "define_metric", "save", "watch", "unwatch", "finish", "alert", "mark_preempting",
           "Run", "Api", "Error", "TrackTuiWarning", "run", "config", "summary", "Settings", "AlertLevel", "login",
           "require", "setup", "teardown", "termlog", "termwarn", "termerror", "Image", "Table", "Histogram", "Audio",
           "Video", "Html", "Object3D", "Text", "Molecule", "Plotly", "box3d", "Classes", "plot", "util", "Artifact",
           "log_artifact", "use_artifact", "log_model", "use_model"]
