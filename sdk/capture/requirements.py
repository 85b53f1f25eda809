"""The installed distributions, as `name==version` lines (requirements.txt)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence

_SCRIPT = ("import sys; sys.path[:] = [p for p in sys.path if p]; "
           "from importlib import metadata; "
           "print('\\n'.join(sorted({(d.metadata['Name'] or '').lower(): "
           "f\"{d.metadata['Name']}=={d.version}\" "
           "for d in metadata.distributions() if d.metadata['Name']}.values(), key=str.lower)))")


_cache: tuple[tuple[tuple[str, int], ...], bytes] | None = None


def _path_state() -> tuple[tuple[str, int], ...]:
    """sys.path entries and their modification times: an install or uninstall changes one of them."""
    out = []
    for p in sys.path:
        try:
            out.append((p, os.stat(p or ".").st_mtime_ns))
        except OSError:
            continue
    return tuple(out)


def requirements() -> bytes:
    """requirements.txt content for the running interpreter's environment (sorted, one per distribution).

    Kept per process until a sys.path directory changes, so a second run in one process costs a few stats.
    """
    global _cache
    state = _path_state()
    if _cache is not None and _cache[0] == state:
        return _cache[1]
    data = _scan()
    _cache = (state, data)
    return data


def _scan() -> bytes:
    from importlib import metadata

    seen: dict[str, str] = {}
    for dist in metadata.distributions():
        try:
            name = dist.metadata["Name"]
            version = dist.version
        except Exception:  # noqa: BLE001 - a broken dist-info must not stop the rest
            continue
        if name and name.lower() not in seen:
            seen[name.lower()] = f"{name}=={version}"
    return ("\n".join(seen[k] for k in sorted(seen)) + "\n").encode()


def python_of(command: Sequence[str]) -> str | None:
    """The Python interpreter a wrapped command runs with: its own (python ...), else `python3` on PATH."""
    if command:
        exe = os.path.basename(str(command[0]))
        if exe.startswith("python") or exe == "pypy3":
            return shutil.which(str(command[0]))
    return shutil.which("python3") or shutil.which("python")


def requirements_of(python: str | None, timeout: float = 30.0) -> bytes:
    """requirements.txt of another interpreter (that of a wrapped command); ours when that one fails."""
    if python and os.path.realpath(python) != os.path.realpath(sys.executable):
        try:
            out = subprocess.run([python, "-I", "-c", _SCRIPT], capture_output=True, timeout=timeout,
                                 stdin=subprocess.DEVNULL)
            if out.returncode == 0 and out.stdout.strip():
                return out.stdout.strip() + b"\n"
        except (OSError, subprocess.SubprocessError):
            pass
    return requirements()
