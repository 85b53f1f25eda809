"""Automatic capture for every run: system/GPU metrics, console output, git, requirements, metadata.

`start(run, settings)` is called by init(); it returns at once, the slow parts (psutil, GitPython,
importlib.metadata, NVML) run on background threads. `stop(run)` runs in Run.finish() (an on_finish hook)
and puts everything in the store before the final state is written. Nothing here raises into training code.

Switches (an init setting wins over the environment variable):

    settings key          environment variable              default
    capture               TRACKTUI_CAPTURE                  on   (off: none of the below)
    system                TRACKTUI_CAPTURE_SYSTEM           on
    system_interval       TRACKTUI_SYSTEM_INTERVAL          2.0 seconds
    gpu                   TRACKTUI_CAPTURE_GPU              on
    console               TRACKTUI_CONSOLE                  "python" ("fd", "off")
    console_max_bytes     TRACKTUI_CONSOLE_MAX_BYTES        32 MiB per run (first and last half kept)
    git                   TRACKTUI_CAPTURE_GIT              on
    requirements          TRACKTUI_CAPTURE_REQUIREMENTS     on
    metadata              TRACKTUI_CAPTURE_METADATA         on
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from typing import Any

from tracktui.store import codec
from tracktui.store.records import FileRecord, RunFields

from ..settings import setting as _get
from ..warn import warn_once
from . import console as _console
from .metadata import basic

BACKGROUND_TIMEOUT = 15.0  # seconds finish() waits for git and requirements at most

_FALSE = {"0", "false", "no", "off", "disabled", ""}
# wandb setting names, for scripts that pass them
_ALIASES = {"disable_git": ("git", True), "x_disable_stats": ("system", True),
            "_disable_stats": ("system", True), "x_disable_meta": ("metadata", True),
            "_disable_meta": ("metadata", True),
            "x_stats_sampling_interval": ("system_interval", False)}
_CONSOLE_MODES = {"python": "python", "wrap": "python", "wrap_raw": "python", "wrap_emu": "python",
                  "auto": "python", "on": "python", "true": "python", "fd": "fd", "redirect": "fd", "off": "off",
                  "false": "off", "0": "off", "none": "off"}


class Settings:
    """The resolved capture switches of one run."""

    def __init__(self, settings: Any = None):
        given: dict[str, Any] = {}
        for key in ("capture", "system", "system_interval", "gpu", "console", "console_max_bytes",
                    "console_max_line", "git", "requirements", "metadata", "disk_paths"):
            v = _get(settings, key)
            if v is not None:
                given[key] = v
        for alias, (key, negate) in _ALIASES.items():
            v = _get(settings, alias)
            if v is not None and key not in given:
                given[key] = (not v) if negate else v
        env = os.environ

        def flag(key: str, var: str) -> bool:
            if key in given:
                return bool(given[key]) and str(given[key]).lower() not in _FALSE
            raw = env.get(var)
            return True if raw is None else raw.strip().lower() not in _FALSE

        def number(key: str, var: str, default: float) -> float:
            raw = given.get(key, env.get(var))
            try:
                return float(raw) if raw is not None else default
            except (TypeError, ValueError):
                warn_once(f"setting:{key}", f"tracktui: {key}={raw!r} is not a number; using {default}")
                return default

        on = flag("capture", "TRACKTUI_CAPTURE")
        self.system = on and flag("system", "TRACKTUI_CAPTURE_SYSTEM")
        self.gpu = self.system and flag("gpu", "TRACKTUI_CAPTURE_GPU")
        self.system_interval = number("system_interval", "TRACKTUI_SYSTEM_INTERVAL", 2.0)
        self.git = on and flag("git", "TRACKTUI_CAPTURE_GIT")
        self.requirements = on and flag("requirements", "TRACKTUI_CAPTURE_REQUIREMENTS")
        self.metadata = on and flag("metadata", "TRACKTUI_CAPTURE_METADATA")
        raw_console = given.get("console", env.get("TRACKTUI_CONSOLE", "python"))
        if raw_console is True:
            raw_console = "python"
        mode = _CONSOLE_MODES.get(str(raw_console).strip().lower())
        if mode is None:
            warn_once("setting:console", f"tracktui: console={raw_console!r} is not one of python, fd, off; "
                                         "using python")
            mode = "python"
        self.console = mode if on else "off"
        self.console_max_bytes = int(number("console_max_bytes", "TRACKTUI_CONSOLE_MAX_BYTES",
                                            _console.DEFAULT_MAX_BYTES))
        self.console_max_line = int(number("console_max_line", "TRACKTUI_CONSOLE_MAX_LINE",
                                           _console.DEFAULT_MAX_LINE))
        paths = given.get("disk_paths")
        self.disk_paths: list[str] = [paths] if isinstance(paths, str) else list(paths or ["/"])


class Session:
    """The capture threads of one run."""

    def __init__(self, run: Any, settings: Settings, pid: int | None = None,
                 command: Sequence[str] | None = None, nvml: Any = None):
        self.run = run
        self.settings = settings
        self.pid = pid
        self.command = list(command) if command is not None else None
        self.nvml = nvml
        self.cwd = os.getcwd()
        self.console: _console.ConsoleCapture | None = None
        self._tee: Any = None
        self.sampler: Any = None
        self._background: threading.Thread | None = None
        self._md_lock = threading.Lock()
        self.metadata: dict[str, Any] = {}
        self._argv = list(sys.argv)

    def start(self) -> None:
        """Start every capture that is switched on (returns at once)."""
        s = self.settings
        run = self.run
        if s.console != "off":  # for `tracktui run`: store the command's output (read from its pipes)
            self.console = _console.ConsoleCapture(run.id, run._put, s.console_max_bytes, s.console_max_line)
            self.console.start()
            if s.console == "python" and self.command is None:
                self._tee = _console.PythonTee(self.console)
            elif s.console == "fd" and self.command is None:
                self._tee = _console.FdTee(self.console)
            if self._tee is not None:
                self._tee.start()
        if s.system:
            from .system import Sampler

            self.sampler = Sampler(run.id, run._put, s.system_interval, pid=self.pid, gpu=s.gpu,
                                   nvml=self.nvml, disk_paths=s.disk_paths, on_gpu_facts=self._gpu_facts)
            self.sampler.start()
        if s.metadata or s.git or s.requirements:
            self._background = threading.Thread(target=self._collect, name="tracktui-capture", daemon=True)
            self._background.start()

    def _gpu_facts(self, gpus: list[dict[str, Any]]) -> None:
        if not self.settings.metadata:
            return
        if gpus:
            self.update_metadata({"gpu": gpus[0].get("name"), "gpu_count": len(gpus), "gpus": gpus})
        elif self.sampler is not None and self.sampler.gpu_reason:
            self.update_metadata({"gpu_count": 0, "gpu_note": self.sampler.gpu_reason})

    def update_metadata(self, part: dict[str, Any]) -> None:
        """Merge part into the run's metadata and queue the whole of it."""
        with self._md_lock:
            self.metadata.update(part)
            self.run._put(RunFields(self.run.id, {"metadata": codec.dumps(self.metadata)}))

    def _collect(self) -> None:
        """On a background thread: metadata, git, requirements."""
        s = self.settings
        run = self.run
        if s.metadata:
            try:
                import platform

                from .metadata import memory_total

                md = basic(self.pid, self.command)
                md["cwd"] = self.cwd
                md["started_at"] = getattr(run, "start_time", md["started_at"])
                md["os"] = platform.platform()
                md["memory_total"] = memory_total()
                if self.command is not None:
                    md["wrapped"] = True
                self.update_metadata(md)
            except Exception as e:  # noqa: BLE001
                warn_once("capture-metadata", f"tracktui: metadata not recorded ({type(e).__name__}: {e})")
        if s.git:
            try:
                from .gitinfo import git_info

                found = git_info(self.cwd)
                if found is not None:
                    info, diff = found
                    if diff:
                        run._put(FileRecord(run.id, "diff.patch", diff))
                    if s.metadata:
                        self.update_metadata({"git": info})
            except Exception as e:  # noqa: BLE001
                warn_once("capture-git", f"tracktui: git state not recorded ({type(e).__name__}: {e})")
        if s.requirements:
            try:
                from .requirements import python_of, requirements, requirements_of

                data = requirements() if self.command is None else requirements_of(python_of(self.command))
                run._put(FileRecord(run.id, "requirements.txt", data))
            except Exception as e:  # noqa: BLE001
                warn_once("capture-requirements",
                          f"tracktui: requirements not recorded ({type(e).__name__}: {e})")

    def stop(self) -> None:
        """Stop every thread and queue what is left (called before the run's final state is written)."""
        if self._tee is not None:
            try:
                self._tee.stop()
            except Exception:  # noqa: BLE001
                pass
        if self.sampler is not None:
            self.sampler.stop()
        if self._background is not None and self._background is not threading.current_thread():
            limit = getattr(self.run, "finish_timeout", None)
            self._background.join(BACKGROUND_TIMEOUT if limit is None else min(BACKGROUND_TIMEOUT, limit / 2))
            if self._background.is_alive():
                warn_once("capture-slow", "tracktui: git/requirements capture took over "
                                          f"{BACKGROUND_TIMEOUT:.0f} s; the run finished without it")
        if self.console is not None:
            self.console.stop()


_sessions: dict[str, Session] = {}
_lock = threading.Lock()


def start(run: Any, settings: Any = None, *, pid: int | None = None, command: Sequence[str] | None = None,
          nvml: Any = None) -> Session | None:
    """Start capturing for run (never raises; a joined run captures nothing: its wrapper does)."""
    try:
        if getattr(run, "_joined", False):
            return None
        resolved = settings if isinstance(settings, Settings) else Settings(settings)
        session = Session(run, resolved, pid=pid, command=command, nvml=nvml)
        with _lock:
            old = _sessions.pop(run.id, None)
            _sessions[run.id] = session
        if old is not None:
            old.stop()
        session.start()
        return session
    except Exception as e:  # noqa: BLE001
        warn_once("capture-start",
                  f"tracktui: automatic capture is off for this run ({type(e).__name__}: {e})")
        return None


def session(run: Any) -> Session | None:
    """The capture session of a run, if any."""
    return _sessions.get(run.id)


def stop(run: Any) -> None:
    """Stop capturing for run (the finish hook init() registers)."""
    with _lock:
        s = _sessions.pop(run.id, None)
    if s is not None:
        s.stop()

