"""run.log_code() and init(save_code=True): source files stored with the run, named "code/<path>".

log_code walks a directory (by default the directory of the script being run) for the files wandb picks by
default: *.py, Dockerfile*, requirements.txt. It skips what is not the project's own code: hidden
directories, virtual environments (a directory with pyvenv.cfg), site-packages, node_modules, __pycache__,
wandb/ and the tracktui store itself; at most MAX_FILES files are stored.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

from . import files
from .term import termwarn
from .warn import lost

PREFIX = "code/"
MAX_FILES = 1000
SKIP_DIRS = {"__pycache__", "node_modules", "site-packages", "wandb", "build", "dist"}


def default_include(path: str, root: str | None = None) -> bool:
    """wandb's default: Python files, Dockerfiles, requirements.txt."""
    name = os.path.basename(path)
    return name.endswith(".py") or name.startswith("Dockerfile") or name == "requirements.txt"


def default_exclude(path: str, root: str | None = None) -> bool:
    """Nothing beyond the directories always skipped."""
    return False


def program_path() -> str | None:
    """The script being run (None in a notebook, an interactive session, or `python -c`)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return os.path.abspath(path) if path and os.path.isfile(path) else None


def _call(fn: Callable[..., bool], path: str, root: str) -> bool:
    try:
        n = len(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        n = 2
    return bool(fn(path, root) if n >= 2 else fn(path))


def _walk(root: str, skip: set[str]) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIP_DIRS
                             and os.path.join(dirpath, d) not in skip
                             and not os.path.isfile(os.path.join(dirpath, d, "pyvenv.cfg")))
        for f in sorted(filenames):
            yield os.path.join(dirpath, f)


def log_code(run: Any, root: str | os.PathLike[str] | None = None,
             include_fn: Callable[..., bool] = default_include,
             exclude_fn: Callable[..., bool] = default_exclude) -> list[str] | None:
    """Store the matching files under root as "code/<relative path>"; their names, or None if none matched."""
    if root is None:
        program = program_path()
        root = os.path.dirname(program) if program else os.getcwd()
    base = os.path.abspath(os.fspath(root))
    skip = {os.path.abspath(str(run._root))}
    found = []
    for path in _walk(base, skip):
        try:
            if not _call(include_fn, path, base) or _call(exclude_fn, path, base):
                continue
        except Exception as e:  # noqa: BLE001 - a user's filter that fails skips the file, not the run
            lost(f"log-code-filter:{type(e).__name__}", f"tracktui: log_code(): the filter failed on {path} "
                                                              f"({type(e).__name__}: {e}); file skipped")
            continue
        found.append(path)
        if len(found) >= MAX_FILES:
            lost("log-code-many", f"tracktui: log_code() stores at most {MAX_FILES} files; the rest of "
                                       f"{base} was not stored (pass root= or include_fn= to narrow it)")
            break
    if not found:
        termwarn(f"log_code(): no code files found under {base}; nothing stored")
        return None
    return files.save_paths(run, found, base, prefix=PREFIX)


def save_program(run: Any) -> list[str]:
    """init(save_code=True): store the script being run as code/<its name> (nothing in a notebook)."""
    program = program_path()
    if program is None:
        return []
    return files.save_paths(run, [program], os.path.dirname(program), prefix=PREFIX)
