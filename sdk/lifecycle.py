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
from tracktui.store import shared as shared_mode
from tracktui.store.location import resolve_store
from tracktui.store.procinfo import hostname, process_start_time
from tracktui.store.reader import derive_state
from tracktui.store.writer import Writer

from . import hooks, names
from .errors import Error
from .run_config import Config, as_dict
from .run_summary import Summary
from .runs import FINISH_TIMEOUT_ON_SIGNAL, RESUME_MODES, Run, live_runs
from .term import termlog
from .warn import warn_once

current: Run | None = None
_hooks_installed = False
_exit_code: int | None = None
_prev_excepthook = sys.excepthook
_prev_signal_handlers: dict[int, Any] = {}

_KNOWN_IGNORED = {"anonymous", "allow_val_change", "sync_tensorboard", "monitor_gym", "magic", "force",
                  "fork_from", "resume_from", "config_exclude_keys", "config_include_keys"}
REINIT_MODES = ("return_previous", "finish_previous", "create_new", "default")
_active: list[Any] = []  # runs started by init() in this process and not finished, oldest first


def init(project: str | None = None, name: str | None = None, config: Any = None, group: str | None = None,
         job_type: str | None = None, tags: Sequence[str] | None = None, notes: str | None = None,
         dir: str | os.PathLike[str] | None = None, id: str | None = None, resume: bool | str | None = None,
         mode: str | None = None, durable: bool = False, reinit: bool | str | None = None, settings: Any = None,
         entity: str | None = None, save_code: bool | None = None, store: str | os.PathLike[str] | None = None,
         distributed: str | None = None, **kwargs: Any) -> Run:
    """Start recording a run into the local store and return it.

    Args:
        project: groups runs; defaults to TRACKTUI_PROJECT or "uncategorized".
        name: a display name; a readable one like "brisk-river-12" is made up by default.
        config: hyperparameters (a dict or an argparse Namespace).
        group, job_type, tags, notes: as in wandb.
        dir: the store root (default: TRACKTUI_STORE, TRACKTUI_DIR, $XDG_DATA_HOME/tracktui,
            ~/.local/share/tracktui).
        store: the store: a root directory or a PostgreSQL URL (postgresql://user@host/db); wins over dir.
        id: a run id to create or, with resume, to continue.
        resume: "allow" (or True) continues run `id` if it exists, "must" requires it, "never" refuses it.
        mode: "disabled" makes every call a cheap no-op (also TRACKTUI_MODE=disabled).
        durable: SQLite's synchronous=FULL: every batch survives a power loss, at some cost in speed.
        reinit: what a second init() does while a run of this process is active, as in wandb:
            "return_previous" (the default; False too) returns that run; "finish_previous" (True) finishes
            the active runs and starts a new one; "create_new" starts another run alongside, which does not
            become tracktui.run. "default": finish_previous in a notebook, return_previous elsewhere.
        settings: a tracktui.Settings or dict (wandb's names; see tracktui.settings and tracktui.capture).
        entity: kept as run.entity. save_code: store the script being run as the file code/<name>.
        store: the store: a root directory or a PostgreSQL URL (postgresql://user@host/db); wins over dir.
        distributed: in a SLURM job or a multi-process launch (torchrun, DeepSpeed, Accelerate, mpirun, srun):
            "job" (the default; TRACKTUI_DISTRIBUTED) makes one run per job, resumed when the job is requeued:
            global rank 0 records it, other ranks get a run whose log() and summary are no-ops, and the local
            rank 0 of every node records that node's system metrics into it. "all" gives every rank a run of
            its own, grouped by the job, with the rank in its name. See tracktui.distributed.

    Raises:
        tracktui.store.StoreError: the store cannot be written (the message names the path and why).
        ValueError: a bad argument (an unknown resume mode, a run that must or must not exist).
    """
    global current
    from . import settings as settings_mod

    unknown = set(kwargs) - _KNOWN_IGNORED
    if unknown:
        warn_once("init-kwargs", f"tracktui: init() ignores {', '.join(sorted(unknown))}")
    g = settings_mod.init_args(settings)  # an init() argument wins over the same setting
    project, name, group = _pick(project, g, "project"), _pick(name, g, "name"), _pick(group, g, "group")
    job_type, tags, notes = _pick(job_type, g, "job_type"), _pick(tags, g, "tags"), _pick(notes, g, "notes")
    id, resume, mode = _pick(id, g, "id"), _pick(resume, g, "resume"), _pick(mode, g, "mode")
    reinit, entity, save_code = _pick(reinit, g, "reinit"), _pick(entity, g, "entity"), _pick(save_code, g, "save_code")
    mode = mode or os.environ.get("TRACKTUI_MODE") or "online"
    if mode not in ("online", "offline", "disabled", "shared"):
        raise ValueError(f"mode must be 'online', 'offline' or 'disabled', got {mode!r}")
    reinit = _reinit_mode(reinit)
    active = active_runs()
    previous = active[-1] if active else None
    if previous is not None:
        if reinit == "finish_previous":
            for r in reversed(active):
                r.finish()
        elif reinit != "create_new":
            if resume == "must":
                raise Error(f"init(resume='must') while run {previous.name} is active: finish it first, or pass "
                            "reinit='create_new'")
            termlog(f"init() called while run {previous.name} is active; returning it "
                    "(reinit='finish_previous' finishes it and starts a new run)")
            return previous  # type: ignore[no-any-return]
        elif id is not None and any(r.id == str(id) for r in active):
            raise Error(f"run ID {id} is in use by an active run of this process")
    if mode == "disabled":
        run: Run = DisabledRun(project=project, name=name, config=config)  # type: ignore[assignment]
        _active.append(run)
        if reinit != "create_new":
            current = run
        return run
    if resume is True or resume == "auto":
        resume = "allow"
    if resume not in (None, False, *RESUME_MODES):
        raise ValueError(f"resume must be one of {RESUME_MODES} or True, got {resume!r}")
    root = resolve_store(store if store is not None else dir)
    project = str(project or os.environ.get("TRACKTUI_PROJECT") or "uncategorized")
    cfg = as_dict(config)
    if settings_mod.setting(settings, "shared") is not None and isinstance(root, Path):  # shared-filesystem mode
        shared_mode.force(root, bool(settings_mod.setting(settings, "shared")))
    # A process started by `tracktui run` joins the wrapper's run: the wrapper owns its state and capture.
    join = id is None and os.environ.get("TRACKTUI_JOIN") == "1" and bool(os.environ.get("TRACKTUI_RUN_ID"))
    job = None if join else _job_plan(distributed, project, id, name, group)
    if job is not None and not job.records:  # a rank that does not record the job's run (rank 0 does)
        return _rank_run(job, root, project, cfg, settings, reinit)
    writer = Writer.for_store(root, durable)
    run_id = str(id or os.environ.get("TRACKTUI_RUN_ID") or names.new_id())
    if job is not None:  # the job's run (its id, or the given one with the rank for distributed="all")
        run_id, name, group = str(job.run_id), job.name, job.group
    run = _create_or_resume(
        writer, root, run_id, explicit_id=id is not None, resume=resume or None, project=project, name=name,
        config=cfg, group=group, job_type=job_type, tags=list(tags or ()), notes=notes, durable=durable,
        join=join, takeover=job is not None and job.takeover)
    if job is not None and run.resumed and job.job.restart_count:
        termlog(f"run {run.name} ({run_id}) resumed at step {run.step} (SLURM job {job.job.id}, restart "
                f"{job.job.restart_count})")
    run._init_settings = {**settings_mod.as_dict(settings), "mode": mode}
    run._entity = None if entity is None else str(entity)
    _active.append(run)
    if reinit != "create_new":
        current = run
    _install_hooks()
    from . import capture

    hooks.on_finish(capture.stop)
    capture.start(run, settings)
    if save_code:
        _save_program(run)
    if kwargs.get("sync_tensorboard"):  # record what TensorBoard writers write (tracktui.integrations.tensorboard)
        from .integrations import tensorboard

        tensorboard.patch(run)
    return run


def _job_plan(mode: str | None, project: str, id: str | None, name: str | None, group: str | None) -> Any:
    """The cluster job's plan for this init() (tracktui.distributed.plan), None outside a job."""
    from . import distributed

    return distributed.plan(mode, project, None if id is None and not os.environ.get("TRACKTUI_RUN_ID")
                            else str(id or os.environ["TRACKTUI_RUN_ID"]), name, group)


def _rank_run(job: Any, root: Any, project: str, config: dict[str, Any], settings: Any, reinit: str) -> Any:
    """A rank other than 0 in a one-run-per-job launch: no run of its own (see distributed.RankRun)."""
    global current
    from .distributed import RankRun

    run = RankRun(root, job, project, config, settings)
    termlog(f"rank {job.ranks.rank} of {job.ranks.world_size}: log() and summary are not recorded here; rank 0 "
            f"records run {job.run_id}" + (" (this rank records this node's system metrics)"
                                           if run._sampler is not None else "")
            + "; init(distributed='all') gives every rank its own run", repeat=False)
    _active.append(run)
    if reinit != "create_new":
        current = run  # type: ignore[assignment]
    return run


def active_runs() -> list[Any]:
    """Runs that init() started in this process and that are not finished, oldest first (a forked child
    starts afresh, as wandb's does)."""
    pid = os.getpid()
    return [r for r in _active if getattr(r, "_pid", pid) == pid and not getattr(r, "_finished", False)]


def _pick(value: Any, given: dict[str, Any], key: str) -> Any:
    return given.get(key) if value is None else value


def _reinit_mode(reinit: Any) -> str:
    """reinit as one of finish_previous, create_new, return_previous."""
    if reinit is True:
        return "finish_previous"
    if reinit is None or reinit is False:
        reinit = "default"
    if reinit not in REINIT_MODES:
        raise ValueError(f"reinit must be one of {', '.join(REINIT_MODES)} (or True/False), got {reinit!r}")
    if reinit == "default":
        from .settings import in_notebook

        return "finish_previous" if in_notebook() else "return_previous"
    return str(reinit)


def _save_program(run: Run) -> None:
    try:
        from . import code

        code.save_program(run)
    except Exception as e:  # noqa: BLE001 - saving code never stops the run
        warn_once("save-code", f"tracktui: save_code: the script was not stored ({type(e).__name__}: {e})")


def _create_or_resume(writer: Writer, root: Any, run_id: str, *, explicit_id: bool, resume: str | None,
                      project: str, name: str | None, config: dict[str, Any], group: str | None,
                      job_type: str | None, tags: list[str], notes: str | None, durable: bool,
                      join: bool = False, takeover: bool = False) -> Run:
    row = writer.run_row(run_id)
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
        project, last_step, created_at = row["project"], row["last_step"], row["created_at"]
        # Another live process owns it (a spawn child resuming its parent's run): join, do not take over.
        # takeover: a requeued job's run; an owner on another host is the earlier attempt (its heartbeat may
        # not be stale yet), so this process takes the run over. A live owner on this host is joined as ever.
        join = join or ((not takeover or row["host"] == hostname())
                        and _owned_elsewhere(row["state"], row["host"], row["pid"], row["pid_started_at"],
                                             row["heartbeat_at"]))
        merged = codec.loads(row["config"])
        merged.update(config)
        config = merged
        summary = codec.loads(row["summary"])
        defs = codec.loads(row["metric_defs"]) or []
        start_step = (last_step + 1) if last_step is not None else 0
        name = name or row["name"]
        tags = tags or codec.loads(row["tags"]) or []
        group, job_type, notes = group or row["run_group"], job_type or row["job_type"], notes or row["notes"]
    else:
        if not name:
            name = names.new_name(writer.count_runs(project) + 1)
    fields["created_at"] = created_at
    fields.update(project=project, name=str(name), run_group=group, job_type=job_type,
                  tags=codec.dumps([str(t) for t in tags]), notes=notes, config=codec.dumps(config))
    joined = join and row is not None
    if joined:  # keep the wrapper's state, pid and start: they describe the wrapped command
        for k in ("id", "state", "exit_code", "error", "finished_at", "host", "pid", "pid_started_at"):
            fields.pop(k, None)
        writer.update_run_now(run_id, fields)
    else:
        writer.save_run(fields)
    run = Run(root=root, id=run_id, name=str(name), project=project, group=group, job_type=job_type,
              tags=[str(t) for t in tags], notes=notes, config=config, summary=summary,
              start_step=start_step, metric_defs=defs, durable=durable, created_at=created_at)
    run._joined = joined
    run.resumed = row is not None and not joined
    return run


def _owned_elsewhere(state: str, host: str | None, pid: int | None, pid_started_at: float | None,
                     heartbeat_at: float | None) -> bool:
    """Is the run still running in another process (alive on this host, or a fresh heartbeat elsewhere)?"""
    if host == hostname() and pid == os.getpid():
        return False
    return derive_state(state, host, pid, pid_started_at, heartbeat_at) == "running"


def forget(run: Run) -> None:
    """The run finished: it is no longer the current run, nor active."""
    global current
    if current is run:
        current = None
    if run in _active:
        _active.remove(run)


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
        self.tags: tuple[str, ...] = ()
        self.path = f"{self.project}/{self.id}"
        self.url = None
        self.entity = ""
        self.offline = True
        self.resumed = False
        self.sweep_id = None
        self._dir: str | None = None

    @property
    def dir(self) -> str:
        """A temporary directory (made on first use), so that scripts writing into run.dir still work."""
        if self._dir is None:
            import tempfile

            self._dir = tempfile.mkdtemp(prefix="tracktui-disabled-")
        return self._dir

    @property
    def settings(self) -> Any:
        """Settings(mode="disabled", ...)."""
        from .settings import Settings

        return Settings(mode="disabled", project=self.project, run_id=self.id, run_name=self.name)

    def log(self, data: Any, step: int | None = None, commit: bool | None = None) -> None:
        """No-op."""

    def define_metric(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """No-op; returns a Metric as Run.define_metric does."""
        from .metric import Metric

        return Metric(str(name))

    def get_url(self) -> None:
        """None."""

    def get_project_url(self) -> None:
        """None."""

    def get_sweep_url(self) -> None:
        """None."""

    def alert(self, *args: Any, **kwargs: Any) -> None:
        """No-op."""

    def mark_preempting(self) -> None:
        """No-op."""

    def log_code(self, *args: Any, **kwargs: Any) -> None:
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
