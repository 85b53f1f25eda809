"""init(), the current run, and the hooks that give every run an honest end state.

- an uncaught exception marks the run failed (with its traceback), Ctrl-C marks it killed;
- SIGTERM marks it killed after flushing for at most 2 s, then the previous handler runs;
- sys.exit(code) and interpreter exit finish it (failed for a non-zero code);
- a vanished process (SIGKILL, OOM) is read as crashed by the reader: nothing has to survive to write it.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tracktui.store import codec
from tracktui.store.paths import resolve_root
from tracktui.store.procinfo import hostname, process_start_time
from tracktui.store.reader import derive_state
from tracktui.store.writer import Writer, apply_run_updates, insert_run

from . import names
from .run_config import Config, as_dict
from .run_summary import Summary
from .runs import FINISH_TIMEOUT_ON_SIGNAL, RESUME_MODES, Run, live_runs
from .warn import warn_once

current: Run | None = None
_hooks_installed = False
_exit_code: int | None = None
_prev_excepthook = sys.excepthook
_prev_signal_handlers: dict[int, Any] = {}

_KNOWN_IGNORED = {"entity", "save_code", "anonymous", "allow_val_change", "sync_tensorboard", "monitor_gym",
                  "magic", "settings", "reinit", "force", "fork_from", "resume_from", "config_exclude_keys",
                  "config_include_keys"}


class Error(Exception):
    """A usage error of the SDK (e.g. log() before init())."""


def init(project: str | None = None, name: str | None = None, config: Any = None, group: str | None = None,
         job_type: str | None = None, tags: Sequence[str] | None = None, notes: str | None = None,
         dir: str | os.PathLike[str] | None = None, id: str | None = None, resume: bool | str | None = None,
         mode: str | None = None, durable: bool = False, **kwargs: Any) -> Run:
    """Start recording a run into the local store and return it.

    Args:
        project: groups runs; defaults to TRACKTUI_PROJECT or "uncategorized".
        name: a display name; a readable one like "brisk-river-12" is made up by default.
        config: hyperparameters (a dict or an argparse Namespace).
        group, job_type, tags, notes: as in wandb.
        dir: the store root (default: TRACKTUI_DIR, then $XDG_DATA_HOME/tracktui, ~/.local/share/tracktui).
        id: a run id to create or, with resume, to continue.
        resume: "allow" (or True) continues run `id` if it exists, "must" requires it, "never" refuses it.
        mode: "disabled" makes every call a cheap no-op (also TRACKTUI_MODE=disabled).
        durable: synchronous=FULL: every batch survives a power loss, at some cost in speed.

    Raises:
        tracktui.store.StoreError: the store cannot be written (the message names the path and why).
        ValueError: a bad argument (an unknown resume mode, a run that must or must not exist).
    """
    global current
    unknown = set(kwargs) - _KNOWN_IGNORED
    if unknown:
        warn_once("init-kwargs", f"tracktui: init() ignores {', '.join(sorted(unknown))}")
    mode = mode or os.environ.get("TRACKTUI_MODE") or "online"
    if mode not in ("online", "offline", "disabled", "shared"):
        raise ValueError(f"mode must be 'online', 'offline' or 'disabled', got {mode!r}")
    if current is not None:
        current.finish()
    if mode == "disabled":
        run: Run = DisabledRun(project=project, name=name, config=config)  # type: ignore[assignment]
        current = run
        return run
    if resume is True or resume == "auto":
        resume = "allow"
    if resume not in (None, False, *RESUME_MODES):
        raise ValueError(f"resume must be one of {RESUME_MODES} or True, got {resume!r}")
    root = resolve_root(dir)
    project = str(project or os.environ.get("TRACKTUI_PROJECT") or "uncategorized")
    cfg = as_dict(config)
    writer = Writer.for_root(root, durable)
    run_id = str(id or os.environ.get("TRACKTUI_RUN_ID") or names.new_id())
    # A process started by `tracktui run` joins the wrapper's run: the wrapper owns its state and capture.
    join = id is None and os.environ.get("TRACKTUI_JOIN") == "1" and bool(os.environ.get("TRACKTUI_RUN_ID"))
    run = writer.execute_now(lambda conn: _create_or_resume(
        conn, root, run_id, explicit_id=id is not None, resume=resume or None, project=project, name=name,
        config=cfg, group=group, job_type=job_type, tags=list(tags or ()), notes=notes, durable=durable,
        join=join))
    current = run
    _install_hooks()
    from . import capture

    capture.start(run, kwargs.get("settings"))
    if kwargs.get("sync_tensorboard"):  # record what TensorBoard writers write (tracktui.integrations.tensorboard)
        from .integrations import tensorboard

        tensorboard.patch(run)
    return run


def _create_or_resume(conn: Any, root: Path, run_id: str, *, explicit_id: bool, resume: str | None,
                      project: str, name: str | None, config: dict[str, Any], group: str | None,
                      job_type: str | None, tags: list[str], notes: str | None, durable: bool,
                      join: bool = False) -> Run:
    row = conn.execute("SELECT name, project, config, summary, metric_defs, last_step, created_at, tags, "
                       "run_group, job_type, notes, state, host, pid, pid_started_at, heartbeat_at "
                       "FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None and resume == "must":
        raise ValueError(f"resume='must' but there is no run {run_id!r} in {root}")
    if row is not None and (resume == "never" or (resume is None and explicit_id)):
        raise ValueError(f"run {run_id!r} already exists in {root}; pass resume='allow' to continue it")
    now = time.time()
    pid = os.getpid()
    fields: dict[str, Any] = {
        "id": run_id, "state": "running", "exit_code": None, "error": None, "finished_at": None,
        "heartbeat_at": now, "host": hostname(), "pid": pid, "pid_started_at": process_start_time(pid),
    }
    summary: dict[str, Any] = {}
    defs: list[dict[str, Any]] = []
    start_step = 0
    created_at = now
    if row is not None:  # resume: continue after the last step, keep what was there
        old_name, project, old_cfg, old_summary, old_defs, last_step, created_at, old_tags, g, jt, nt = row[:11]
        # Another live process owns it (a spawn child resuming its parent's run): join, do not take over.
        join = join or _owned_elsewhere(*row[11:])
        merged = codec.loads(old_cfg)
        merged.update(config)
        config = merged
        summary = codec.loads(old_summary)
        defs = codec.loads(old_defs) or []
        start_step = (last_step + 1) if last_step is not None else 0
        name = name or old_name
        tags = tags or codec.loads(old_tags) or []
        group, job_type, notes = group or g, job_type or jt, notes or nt
    else:
        if not name:
            (count,) = conn.execute("SELECT count(*) FROM runs WHERE project = ?", (project,)).fetchone()
            name = names.new_name(count + 1)
    fields["created_at"] = created_at
    fields.update(project=project, name=str(name), run_group=group, job_type=job_type,
                  tags=codec.dumps([str(t) for t in tags]), notes=notes, config=codec.dumps(config))
    joined = join and row is not None
    if joined:  # keep the wrapper's state, pid and start: they describe the wrapped command
        for k in ("id", "state", "exit_code", "error", "finished_at", "host", "pid", "pid_started_at"):
            fields.pop(k, None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            apply_run_updates(conn, {run_id: fields})
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    else:
        insert_run(conn, fields)
    run = Run(root=root, id=run_id, name=str(name), project=project, group=group, job_type=job_type,
              tags=[str(t) for t in tags], notes=notes, config=config, summary=summary,
              start_step=start_step, metric_defs=defs, durable=durable, created_at=created_at)
    run._joined = joined
    return run


def _owned_elsewhere(state: str, host: str | None, pid: int | None, pid_started_at: float | None,
                     heartbeat_at: float | None) -> bool:
    """Is the run still running in another process (alive on this host, or a fresh heartbeat elsewhere)?"""
    if host == hostname() and pid == os.getpid():
        return False
    return derive_state(state, host, pid, pid_started_at, heartbeat_at) == "running"


def forget(run: Run) -> None:
    """The run finished: it is no longer the current run."""
    global current
    if current is run:
        current = None


def require_run(what: str) -> Run:
    """The current run, or a clear error naming the call that needs one."""
    if current is None:
        raise Error(f"call tracktui.init() before tracktui.{what}()")
    return current


# ---------------------------------------------------------------- process hooks


def _install_hooks() -> None:
    global _hooks_installed, _prev_excepthook
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_at_exit)
    _prev_excepthook = sys.excepthook
    sys.excepthook = _excepthook
    _wrap_sys_exit()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM,):
            try:
                prev = signal.getsignal(sig)
                if prev is signal.SIG_IGN:
                    continue
                _prev_signal_handlers[sig] = prev
                signal.signal(sig, _on_signal)
            except (ValueError, OSError):
                pass


def _wrap_sys_exit() -> None:
    original = sys.exit

    def exit(code: Any = None) -> Any:
        global _exit_code
        _exit_code = code if isinstance(code, int) else (0 if code is None else 1)
        return original(code)

    exit.__doc__ = original.__doc__
    sys.exit = exit


def _excepthook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
    try:
        _prev_excepthook(exc_type, exc, tb)
    finally:
        import traceback

        killed = issubclass(exc_type, KeyboardInterrupt)
        text = None if killed else "".join(traceback.format_exception(exc_type, exc, tb))
        deadline = time.monotonic() + FINISH_TIMEOUT_ON_SIGNAL
        for run in live_runs():
            run.finish(exit_code=130 if killed else 1, _state="killed" if killed else "failed",
                       _timeout=max(0.0, deadline - time.monotonic()), _error=text)


def _on_signal(signum: int, frame: Any) -> None:
    deadline = time.monotonic() + FINISH_TIMEOUT_ON_SIGNAL  # for all runs together, then the signal goes on
    for run in live_runs():
        run.finish(exit_code=128 + signum, _state="killed", _timeout=max(0.0, deadline - time.monotonic()))
    prev = _prev_signal_handlers.get(signum, signal.SIG_DFL)
    if callable(prev):
        prev(signum, frame)
    else:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def _at_exit() -> None:
    for run in live_runs():
        run.finish(exit_code=_exit_code)


class DisabledRun:
    """mode="disabled": the Run interface, every call a cheap no-op."""

    def __init__(self, project: str | None = None, name: str | None = None, config: Any = None):
        self.id = "disabled"
        self.name = name or "disabled"
        self.project = project or "uncategorized"
        self.config = Config(as_dict(config))
        self.summary = Summary()
        self.step = 0
        self.dir = None
        self.tags: tuple[str, ...] = ()
        self.path = f"{self.project}/{self.id}"
        self.url = None

    def log(self, data: Any, step: int | None = None, commit: bool | None = None) -> None:
        """No-op."""

    def define_metric(self, *args: Any, **kwargs: Any) -> None:
        """No-op."""

    def save(self, *args: Any, **kwargs: Any) -> list[str]:
        """No-op."""
        return []

    def watch(self, *args: Any, **kwargs: Any) -> None:
        """No-op."""

    def unwatch(self, *args: Any, **kwargs: Any) -> None:
        """No-op."""

    def log_artifact(self, artifact_or_path: Any, *args: Any, **kwargs: Any) -> Any:
        """No-op: returns the artifact (or None for a path)."""
        return artifact_or_path if not isinstance(artifact_or_path, (str, os.PathLike)) else None

    def log_model(self, *args: Any, **kwargs: Any) -> None:
        """No-op."""

    def use_artifact(self, artifact_or_name: Any, type: str | None = None, **kwargs: Any) -> Any:
        """Read the artifact from the default store without recording its use."""
        from .artifacts import read_artifact

        return artifact_or_name if not isinstance(artifact_or_name, str) else read_artifact(None, artifact_or_name,
                                                                                              type)

    def finish(self, *args: Any, **kwargs: Any) -> None:
        """No-op."""
        forget(self)  # type: ignore[arg-type]

    def __enter__(self) -> DisabledRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()
