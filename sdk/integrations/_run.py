"""What the integrations share: the run they log into (the script's own, or one they start) and safe calls."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

from ..warn import warn_once

F = TypeVar("F", bound=Callable[..., Any])


def current_or_init(project: str | None, default_project: str, **init_kwargs: Any) -> tuple[Any, bool]:
    """The run the script already started with tracktui.init(), else a new one; and whether it is new.

    The project is the one given, else TRACKTUI_PROJECT, else the framework's default (as wandb's
    integrations default to WANDB_PROJECT, then "huggingface" or "lightning_logs")."""
    from .. import lifecycle

    if lifecycle.current is not None:
        return lifecycle.current, False
    project = project or os.environ.get("TRACKTUI_PROJECT") or default_project
    init_kwargs = {k: v for k, v in init_kwargs.items() if v is not None}
    return lifecycle.init(project=project, **init_kwargs), True


def never_raises(what: str) -> Callable[[F], F]:
    """A framework hook that warns once instead of raising into the training loop."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as e:  # noqa: BLE001 - tracking never stops training
                warn_once(f"{what}:{fn.__name__}:{type(e).__name__}",
                          f"tracktui: the {what} integration failed in {fn.__name__} ({type(e).__name__}: {e}); "
                          "training goes on")
                return None

        return wrapper  # type: ignore[return-value]

    return decorate
