"""Code state from git (GitPython, imported here, on a background thread): commit, branch, remote, dirty."""

from __future__ import annotations

import os
from typing import Any

from .redact import clean_url

MAX_UNTRACKED = 1000
MAX_DIFF_BYTES = 20 * 1024 * 1024


def git_info(path: str | os.PathLike[str]) -> tuple[dict[str, Any], bytes | None] | None:
    """({commit, branch, remote, dirty, untracked, root}, diff bytes against HEAD or None), or None.

    None outside a repository, in one without commits, or without a git binary: skipped silently.
    """
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")  # no git binary: an ImportError, not a warning
    try:
        import git
    except Exception:  # noqa: BLE001
        return None
    try:
        repo = git.Repo(path, search_parent_directories=True)
    except Exception:  # noqa: BLE001 - not a repository (or an unreadable one)
        return None
    try:
        try:
            commit = repo.head.commit.hexsha
        except Exception:  # noqa: BLE001 - no commits yet
            return None
        info: dict[str, Any] = {"commit": commit, "root": repo.working_tree_dir}
        try:
            info["branch"] = repo.active_branch.name
        except Exception:  # noqa: BLE001 - a detached HEAD
            info["branch"] = None
        remote = None
        try:
            remotes = {r.name: r for r in repo.remotes}
            r = remotes.get("origin") or next(iter(remotes.values()), None)
            if r is not None:
                remote = clean_url(next(iter(r.urls)))
        except Exception:  # noqa: BLE001
            remote = None
        info["remote"] = remote
        diff: bytes | None = None
        try:
            text = repo.git.diff("HEAD", "--no-color", "--no-ext-diff", stdout_as_string=False)
            if text:
                diff = bytes(text[:MAX_DIFF_BYTES]) + b"\n"
        except Exception:  # noqa: BLE001
            diff = None
        info["dirty"] = bool(diff)
        try:
            untracked = repo.untracked_files
            info["untracked"] = untracked[:MAX_UNTRACKED]
            if untracked:
                info["dirty"] = True
            if len(untracked) > MAX_UNTRACKED:
                info["untracked_count"] = len(untracked)
        except Exception:  # noqa: BLE001
            pass
        return info, diff
    finally:
        try:
            repo.close()
        except Exception:  # noqa: BLE001
            pass
