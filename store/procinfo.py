"""Is the process that wrote a run still alive? pid plus start time, so a reused pid does not fool us."""

from __future__ import annotations

import os

_btime: float | None = None
_HOST = os.uname().nodename if hasattr(os, "uname") else os.environ.get("COMPUTERNAME", "")


ENV_HOST = "TRACKTUI_HOST"


def hostname() -> str:
    """This machine's host name, as runs record it: TRACKTUI_HOST where set (nodes whose host names are not
    unique, tests), else the system's. It must name one machine: a run's pid is checked on the host of that
    name."""
    return os.environ.get(ENV_HOST, "").strip() or _HOST


def _boot_time() -> float | None:
    global _btime
    if _btime is None:
        try:
            with open("/proc/stat", encoding="ascii") as f:
                for line in f:
                    if line.startswith("btime "):
                        _btime = float(line.split()[1])
                        break
        except OSError:
            return None
    return _btime


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/pid/stat after the command name (state first), or None where there is none."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    return stat[stat.rfind(")") + 2:].split()


def process_start_time(pid: int) -> float | None:
    """When pid started (seconds since the epoch, to the clock tick), or None where unknown.

    A zombie (exited, not yet reaped by its parent) or a dead process has none: it is gone.
    """
    fields = _stat_fields(pid)
    boot = _boot_time()
    if fields is None or boot is None or not fields or fields[0] in ("Z", "X", "x"):
        return None
    try:
        return round(boot + int(fields[19]) / os.sysconf("SC_CLK_TCK"), 2)
    except (IndexError, ValueError, OSError):
        return None


def process_alive(pid: int, started_at: float | None) -> bool | None:
    """True/False when this host can tell whether the process is the run's, None where it cannot."""
    if pid <= 0:
        return None
    if started_at is not None and os.path.isdir("/proc"):
        now = process_start_time(pid)
        if now is None:
            return False
        return abs(now - started_at) < 1.0
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return None
    return True
