"""What needs a wandb server and has nothing to do here: login(), require(), setup() accept wandb's
arguments and return at once, so scripts that call them run unchanged."""

from __future__ import annotations

from typing import Any


def login(anonymous: Any = None, key: str | None = None, relogin: bool | None = None, host: str | None = None,
          force: bool | None = None, timeout: int | None = None, verify: bool = False, **kwargs: Any) -> bool:
    """Nothing to log in to: every run is recorded locally. Returns True (as wandb does once logged in)."""
    return True


def require(requirement: Any = None, experiment: Any = None) -> None:
    """wandb.require("core") and friends select wandb internals; nothing to select here."""


def setup(settings: Any = None) -> None:
    """wandb.setup() starts wandb's service process early; tracktui has none (init() is cheap)."""
