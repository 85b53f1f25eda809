"""Facts about the process and the machine for the run's metadata (secrets redacted, no other env vars)."""

from __future__ import annotations

import getpass
import os
import platform
import sys
import time
from collections.abc import Sequence
from typing import Any

from tracktui.store.procinfo import hostname, process_start_time

from .redact import redact_args, redact_text


def _user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001
        return None


def _program() -> str:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path:
        return os.path.abspath(path)
    return sys.argv[0] if sys.argv and sys.argv[0] else "<interactive>"


def basic(pid: int | None = None, command: Sequence[str] | None = None) -> dict[str, Any]:
    """What is cheap to know right away (no psutil, no subprocess)."""
    pid = pid or os.getpid()
    if command is not None:
        program, args = str(command[0]) if command else "", list(command[1:])
    else:
        program, args = _program(), list(sys.argv[1:])
    started = process_start_time(pid)
    md: dict[str, Any] = {
        "host": hostname(),
        "user": _user(),
        "pid": pid,
        "process_started_at": started,
        "started_at": time.time(),
        "program": redact_text(program),
        "args": redact_args(args),
        "cwd": os.getcwd(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "executable": sys.executable,
        "os": platform.platform(),
        "cpu_count": os.cpu_count(),
    }
    slurm = {k: redact_text(v) for k, v in os.environ.items() if k.startswith("SLURM_")}
    if slurm:
        md["slurm"] = slurm
    try:
        from ..distributed import metadata as cluster_facts

        md.update(cluster_facts())  # "job" (SLURM id, array task, nodes, partition, restarts), "ranks"
    except Exception:  # noqa: BLE001 - odd launcher variables never stop the metadata
        pass
    return md


def memory_total() -> int | None:
    """Total memory of the machine in bytes (psutil; call off the caller's thread)."""
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except Exception:  # noqa: BLE001
        return None
