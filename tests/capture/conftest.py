"""The store fixture of the capture tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A fresh store root."""
    return tmp_path / "store"
