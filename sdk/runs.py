"""The Run: what init() returns and training scripts call. log() is the hot path: it validates, assigns a
step, stamps the time and queues; the store's writer thread does the rest."""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tracktui.store import codec
from tracktui.store.codec import FINITE, MEDIA
from tracktui.store.records import History, Record, RunFields
from tracktui.store.writer import Writer

from . import values
from .hooks import run_finish_hooks
from .run_compat import RunCompat
from .run_config import Config
from .run_summary import Summary
from .warn import lost, warn_once

RESUME_MODES = ("allow", "must", "never")
FINISH_TIMEOUT_ON_SIGNAL = 2.0

_live_runs: weakref.WeakSet[Run] = weakref.WeakSet()
_EXACT = 1 << 53  # ints beyond this lose digits as floats: the general path keeps them honest
MAX_STEP = values.MAX_STEP
MAX_KEY = values.MAX_KEY


def _summary_value(v: Any, enc: values.Encoded) -> Any:
    """What the summary keeps for a logged value: the value itself when it is stored as it is (ints stay
    ints), else what history holds (rounded big ints, escaped text...); media refs are filled in at commit."""
    t = type(v)
    if t is float or t is bool or (t is str and enc[2] is v) or (t is int and enc[1] == FINITE and enc[0] == v):
        return v
    if enc[1] == FINITE and getattr(getattr(v, "dtype", None), "kind", None) in ("i", "u") and int(v) == enc[0]:
        return int(v)  # a numpy integer stays an integer, as a Python int does
    return None if enc[1] == MEDIA else codec.decode(*enc)


def _aggregated_value(v: Any, enc: values.Encoded) -> Any:
    """What define_metric's aggregates fold: numbers as floats (as history holds them), other values as kept."""
    if enc[1] in codec.NUMERIC_KINDS:
        return codec.decode(*enc)
    return _summary_value(v, enc)


class Run(RunCompat):
    """A run being recorded. Create it with tracktui.init()."""

    def __init__(self, *, root: Path | Any, id: str, name: str, project: str, group: str | None,
                 job_type: str | None, tags: list[str], notes: str | None, config: dict[str, Any],
                 summary: dict[str, Any] | None = None, start_step: int = 0,
                 metric_defs: list[dict[str, Any]] | None = None, durable: bool = False,
                 created_at: float | None = None):
        self.id = id
        self.name = name
        self.project = project
        self.group = group
        self.job_type = job_type
        self.tags = tuple(tags)
        self.notes = notes
        self._root = root  # the store root; run.dir is this run's own files directory under it
        self._files_dir: Path | None = None
        self._init_settings: dict[str, Any] = {}
        self._entity: str | None = None
        self._alert_times: dict[str, float] = {}
        self.resumed = False
        self.start_time = created_at or time.time()
        self._durable = durable
        self._lock = threading.RLock()
        self._pid = os.getpid()  # the process that owns the run: only it writes the run's state and end
        self._next = start_step  # the next automatic step
        self._pending: dict[str, values.Encoded] = {}
        self._pending_step: int | None = None
        self._max_step = start_step - 1
        self._finished = False
        self.finish_timeout: float | None = None
        self._joined = False  # joined a `tracktui run` wrapper's run: the wrapper writes the end state
        self._exit_code: int | None = None
        self._defs: list[dict[str, Any]] = list(metric_defs or [])
        self.summary = Summary()
        if summary:
            self.summary._data.update(summary)
        self.summary.set_defs(self._defs)
        self.summary.dirty = False
        self.config = Config(config, on_change=self._config_changed)
        self._writer: Writer | None = None
        self._writer_for_this_process()
        _live_runs.add(self)

    # ------------------------------------------------------------ plumbing

    def _writer_for_this_process(self) -> Writer:
        w = self._writer
        if w is None or w.closed:
            w = self._writer = Writer.for_store(self._root, self._durable)
            w.attach(self.id, self._state_update)
        return w

    def _put(self, record: Record) -> None:
        w = self._writer
        if w is None or w.closed:
            w = self._writer_for_this_process()
        w.put(record)

    def _state_update(self, heartbeat: bool) -> dict[str, Any] | None:
        """Run columns for the writer's next batch (called on the writer thread).

        A forked child writes none: the heartbeat and the summary are the owner's."""
        if os.getpid() != self._pid:
            return None
        fields: dict[str, Any] = {}
        if heartbeat:
            fields["heartbeat_at"] = time.time()
        if self.summary.dirty:
            self.summary.dirty = False
            fields["summary"] = codec.dumps(dict(self.summary._data))
        return fields or None

    def _config_changed(self, data: dict[str, Any]) -> None:
        if not self._finished:
            self._put(RunFields(self.id, {"config": codec.dumps(data)}))

    # ------------------------------------------------------------ logging

    @property
    def step(self) -> int:
        """The step the next log() without step= writes to."""
        return self._next

    def log(self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None) -> None:
        """Record metrics (and media) for a step. Never raises: bad input is reported with one warning per
        cause and the rest is kept.

        Args:
            data: keys to values; nested dicts flatten with '.', '/' in keys is kept. Keys are text (other
                keys through str()); lone surrogates in keys and strings are stored escaped ('\\udcff').
                A mapping that raises while it is read records nothing of this call.
            step: the step to record at (0 <= step < 2**63-1): an int, a numpy or torch integer scalar, or a
                float with a whole value such as 3.0. Anything else (None aside: the next step) is refused
                with one warning and the automatic step is used: bools, strings, NaN, +/-Inf, 3.5, negative
                or larger steps. A step lower than the current one is stored, with one warning.
            commit: False keeps the values pending so the next call joins the same step.
        """
        if self._finished:
            lost(f"log-after-finish:{self.id}", f"tracktui: log() after run {self.name} finished; "
                                                 "the values were not recorded")
            return
        try:
            with self._lock:
                if (commit is not False and not self._pending and self._pending_step is None and type(data) is dict
                        and (step is None or (type(step) is int and step >= self._next and step > self._max_step))):
                    if self._log_fast(data, step):
                        return
                self._log(data, step, commit is not False)
        except Exception as e:  # noqa: BLE001 - tracking never raises into training code
            lost(f"log:{type(e).__name__}", f"tracktui: log() failed ({type(e).__name__}: {e}); the values "
                                            "of that call were not recorded; training goes on")

    def _log_own_steps(self, data: Mapping[str, Any], step: int, commit: bool) -> None:
        """log() for values that keep their own steps per key (sync_tensorboard: each TensorBoard tag, and
        each writer, counts its own steps): a step lower than the current one is expected there, so it is
        stored at that step without the step-back warning. Never raises."""
        if self._finished:
            self.log(data, step, commit)  # the log-after-finish message
            return
        try:
            with self._lock:
                self._log(data, step, commit, own_steps=True)
        except Exception as e:  # noqa: BLE001 - tracking never raises into training code
            lost(f"log:{type(e).__name__}", f"tracktui: log() failed ({type(e).__name__}: {e}); the values "
                                            "of that call were not recorded; training goes on")

    def _log_fast(self, data: dict[str, Any], step: int | None = None) -> bool:
        """The common case, a flat dict of ASCII keys to finite non-zero floats and ints at the next step or a
        later one (step=, an int past every step so far): straight to the queue.

        Returns False, having changed nothing, when a key, value or step needs the general path."""
        if step is None:
            step = self._next
        if step >= MAX_STEP:
            return False
        items = []
        append = items.append
        logged = []  # (key, value as logged): the summary keeps ints as ints
        for k, v in data.items():
            if type(k) is not str or not k.isascii() or len(k) > MAX_KEY:
                return False
            t = type(v)
            if t is float and v - v == 0.0 and v != 0.0:
                append((k, v, FINITE, None))
            elif t is int and -_EXACT < v < _EXACT:
                append((k, float(v), FINITE, None))
            else:
                return False
            logged.append((k, v))
        if not items:
            return False
        summary = self.summary
        if summary._defs:
            key_aggs = summary._key_aggs
            for k, v in logged:
                aggs = key_aggs[k] if k in key_aggs else summary.aggregates(k)
                if aggs is None:
                    summary._data[k] = v
                else:
                    summary.observe(k, float(v), aggs)
        else:
            summary._data.update(logged)
        summary.dirty = True
        self._put(History(self.id, step, time.time(), items, False))
        self._next = step + 1
        if step > self._max_step:
            self._max_step = step
        return True

    def _log(self, data: Mapping[str, Any], step: Any, commit: bool, own_steps: bool = False) -> None:
        if not isinstance(data, Mapping):
            warn_once("log-not-dict", f"tracktui: log() takes a dict, not {type(data).__name__}; ignored")
            return
        staged = values.stage(data)  # read in full first: a mapping that raises halfway changes nothing
        if step is not None:
            step = self._check_step(step, own_steps)
            pending_at = self._next if self._pending_step is None else self._pending_step
            if self._pending and pending_at != step:
                self._commit()
            self._pending_step = step
        pending = self._pending
        summary = self.summary
        sdata = summary._data
        key_aggs = summary._key_aggs
        for k, (v, enc) in staged.items():
            pending[k] = enc
            aggs = key_aggs[k] if k in key_aggs else summary.aggregates(k)
            if aggs is None:
                sdata[k] = _summary_value(v, enc)
            else:
                summary.observe(k, _aggregated_value(v, enc), aggs)
        summary.dirty = True
        if commit:
            self._commit()

    def _check_step(self, step: Any, own_steps: bool = False) -> int:
        s, why = values.as_step(step)
        if why:
            try:
                shown = repr(step)[:100]
            except Exception:  # noqa: BLE001
                shown = f"a {type(step).__name__}"
            warn_once(f"bad-step:{why}", f"tracktui: step={shown} is refused ({why}); the automatic step is used")
            return self._next if self._pending_step is None else self._pending_step
        if s < self._max_step and s != self._pending_step and not own_steps:  # the current step joins it (wandb)
            warn_once(f"step-back:{self.id}", f"tracktui: step {s} is lower than the current step "
                                              f"{self._max_step} of run {self.name}; stored anyway "
                                              "(values at a step already written are replaced)")
        return s

    def _commit(self) -> None:
        pending = self._pending
        if not pending:
            self._pending_step = None
            return
        step = self._next if self._pending_step is None else self._pending_step
        if step > MAX_STEP:  # only automatic steps get here: the counter has reached SQLite's largest integer
            warn_once(f"last-step:{self.id}", f"tracktui: run {self.name} reached the largest step {MAX_STEP}; "
                                              "later values replace the ones at that step")
            step = MAX_STEP
        items = [(k, e[0], e[1], e[2]) for k, e in pending.items()]
        if any(e[1] == MEDIA for e in pending.values()):
            items = self._store_media(items, step)
        self._put(History(self.id, step, time.time(), items, step <= self._max_step))
        self._pending = {}
        self._pending_step = None
        if step >= self._next:
            self._next = step + 1
        if step > self._max_step:
            self._max_step = step

    def _store_media(self, items: list[tuple[Any, ...]], step: int) -> list[tuple[Any, ...]]:
        """Hand media objects to tracktui.media, which queues their bytes and returns a reference."""
        from . import media

        out = []
        for key, value, kind, obj in items:
            if kind == MEDIA:
                ref = media.store(self, key, step, obj)
                if ref is None:
                    continue
                self.summary._data[key] = ref
                out.append((key, None, MEDIA, codec.dumps(ref)))
            else:
                out.append((key, value, kind, obj))
        return out

    def define_metric(self, name: str, step_metric: Any = None, step_sync: bool | None = None,
                      hidden: bool | None = None, summary: str | None = None, goal: str | None = None,
                      overwrite: bool | None = None) -> Any:
        """Say how a metric (or a glob like 'val/*') is summarised and which metric is its x-axis.

        Args:
            name: a metric key or a glob pattern; "a\\.b" names the key "a.b" (an escaped dot).
            step_metric: the key (or Metric) to plot this metric against by default (e.g. 'epoch').
            step_sync: recorded with the definition (True by default when step_metric is set).
            hidden: hide the metric's chart in the TUI.
            summary: 'min', 'max', 'mean', 'first', 'last' (kept as {"last": v}), 'best' (by goal),
                'copy' or '' (the plain last value, the default), 'none', or a comma-separated combination.
            goal: 'minimize' or 'maximize': what 'best' means (minimize by default).
            overwrite: True replaces the earlier definition of the name; otherwise they merge, as in wandb.

        Returns:
            a tracktui.metric.Metric with this call's name, step_metric, step_sync, hidden, summary, goal.

        Raises:
            tracktui.Error (also a ValueError): a wrong argument, as wandb raises wandb.Error.
        """
        from . import metric

        if isinstance(name, str):
            name = codec.escape_surrogates(name)  # as logged keys are: the definition names the same key
        m = metric.parse(name, step_metric, step_sync, hidden, summary, goal, overwrite)
        with self._lock:
            self._defs = metric.merge(self._defs, m)
            self.summary.set_defs(self._defs)
            defs = codec.dumps(self._defs)
        if not self._finished:
            self._put(RunFields(self.id, {"metric_defs": defs}))
        return m

    # ------------------------------------------------------------ files and lifecycle

    def save(self, path: str | os.PathLike[str], base_path: str | None = None, policy: str = "now") -> list[str]:
        """Attach files (a path or a glob) to the run; see tracktui.files."""
        from . import files

        return files.save(self, path, base_path=base_path, policy=policy)

    def finish(self, exit_code: int | None = None, quiet: bool | None = None,
               _state: str | None = None, _timeout: float | None = None, _error: str | None = None) -> None:
        """Flush everything and mark the run finished (or failed for a non-zero exit code). Idempotent.

        In a process forked from the one that started the run, finish() (and that process's exit) only
        flushes what this process logged: the run's state belongs to its owner. With _timeout (SIGTERM, an
        uncaught exception), nothing here waits longer than that in all: what is not written by then stays
        unwritten, and the run reads as crashed.
        """
        deadline = None if _timeout is None else time.monotonic() + _timeout
        w = self._writer
        if w is not None:
            w.wait_deadline = deadline  # before anything is queued: back-pressure must not outlast it
        locked = self._lock.acquire(timeout=-1 if _timeout is None else _timeout)
        try:  # without the lock (another thread is stuck inside log()), the pending step is left as it is
            if self._finished:
                return
            if locked:
                try:
                    self._commit()
                except Exception as e:  # noqa: BLE001
                    lost("finish-commit", f"tracktui: the last step of run {self.name} could not be queued ({e})")
            self._finished = True
        finally:
            if locked:
                self._lock.release()
        owner = os.getpid() == self._pid
        try:
            w = self._writer_for_this_process()
            w.wait_deadline = deadline
            if owner:
                self.finish_timeout = _timeout  # hooks (capture threads) keep within it
                run_finish_hooks(self)
                w.put(RunFields(self.id, self._end_fields(exit_code, _state, _error)))
            w.detach(self.id)
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not w.flush(left):
                lost(f"finish-timeout:{self.id}", f"tracktui: run {self.name} was not fully written "
                     + ("before the store stopped answering" if left is None else f"within {_timeout:.1f} s")
                     + "; what is missing was not stored")
        except Exception as e:  # noqa: BLE001
            lost(f"finish:{self.id}", f"tracktui: finishing run {self.name} failed ({type(e).__name__}: {e})")
        finally:
            if w is not None:
                w.wait_deadline = None
        from . import lifecycle

        lifecycle.forget(self)

    def _end_fields(self, exit_code: int | None, state: str | None, error: str | None) -> dict[str, Any]:
        """The run columns finish() writes: state, exit code, the final summary."""
        state = state or ("finished" if not exit_code else "failed")
        now = time.time()
        fields: dict[str, Any] = {"state": state, "finished_at": now, "heartbeat_at": now,
                                  "summary": codec.dumps(dict(self.summary._data))}
        if exit_code is not None:
            fields["exit_code"] = int(exit_code)
        if error is not None:
            fields["error"] = error[-20_000:]  # the end of a traceback says what went wrong
        if self._joined:  # the process that owns the run (a `tracktui run` wrapper) writes its end
            fields = {k: v for k, v in fields.items() if k in ("summary", "error", "heartbeat_at")}
        return fields

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.finish()
        elif issubclass(exc_type, KeyboardInterrupt):
            self.finish(exit_code=130, _state="killed")
        else:
            import traceback

            self.finish(exit_code=1, _state="failed",
                        _error="".join(traceback.format_exception(exc_type, exc, tb)))

    def __repr__(self) -> str:
        return f"<tracktui.Run {self.name} ({self.id}) project={self.project!r}>"

    # wandb compatibility
    @property
    def path(self) -> str:
        """project/id, as wandb spells a run's path."""
        return f"{self.project}/{self.id}"

    @property
    def url(self) -> str | None:
        """Runs have no web address; None, for scripts that print wandb's."""
        return None

    def watch(self, models: Any, criterion: Any = None, log: str | None = "gradients", log_freq: int = 1000,
              idx: int | None = None, log_graph: bool = False) -> None:
        """Log histograms of PyTorch model(s)' gradients and/or parameters every log_freq-th batch (the first
        at the log_freq-th, as wandb). criterion, idx and log_graph are accepted and not used."""
        from . import watcher  # not "watch": tracktui.watch is the module-level function

        watcher.watch(self, models, log=log, log_freq=log_freq)

    def unwatch(self, model: Any = None) -> None:
        """Remove the hooks that watch() installed."""
        from . import watcher

        watcher.unwatch(self, model)

    # artifacts (see tracktui.artifacts)
    def log_artifact(self, artifact_or_path: Any, name: str | None = None, type: str | None = None,
                     aliases: list[str] | None = None, tags: list[str] | None = None) -> Any:
        """Store an Artifact (or a file, directory or URI) as a new version made by this run."""
        from . import artifacts

        return artifacts.log_artifact(self, artifact_or_path, name=name, type=type, aliases=aliases, tags=tags)

    def use_artifact(self, artifact_or_name: Any, type: str | None = None, aliases: list[str] | None = None,
                     use_as: str | None = None) -> Any:
        """A stored artifact version ("name:v3", "name:alias", "name:latest"), recorded as used by this run."""
        from . import artifacts

        return artifacts.use_artifact(self, artifact_or_name, type=type, aliases=aliases)

    def log_model(self, path: str | os.PathLike[str], name: str | None = None,
                  aliases: list[str] | None = None) -> None:
        """Store a model file or directory as an artifact of type "model"."""
        from . import artifacts

        artifacts.log_model(self, path, name=name, aliases=aliases)

    def use_model(self, name: str) -> str:
        """Use a model artifact; return the directory it was downloaded to."""
        from . import artifacts

        return artifacts.use_model(self, name)


def live_runs() -> list[Run]:
    """Runs of this process that have not finished."""
    return [r for r in list(_live_runs) if not r._finished]


def _after_fork_in_child() -> None:
    for r in list(_live_runs):
        r._writer = None
        r._lock = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
