"""wandb.util's names that training scripts call: generate_id() for a run id chosen before init() (to resume
that run after a restart)."""

from __future__ import annotations

from .names import new_id


def generate_id(length: int = 8) -> str:
    """A random run id of lowercase letters and digits, as wandb.util.generate_id: pass it to init(id=...)."""
    return new_id(length)
