"""Helpers for the integration tests: each trains a tiny model with the real framework, on the CPU, in a
fresh interpreter (the frameworks are heavy to import and keep global state)."""

from __future__ import annotations

import importlib.util

import pytest

INSTALL = 'pip install torch==2.13.0 && pip install -e ".[integrations]"'


def require(*modules: str) -> None:
    """Skip the calling test module, saying which framework is missing and how to install it.

    find_spec only looks for the package: the heavy import happens in the test's own subprocess."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed ({INSTALL})", allow_module_level=True)
