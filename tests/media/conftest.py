"""Fixtures for the media tests: a run in a tmp_path store, and the Api on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tracktui


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A fresh store root."""
    return tmp_path / "store"


@pytest.fixture
def run(store: Path) -> Iterator[Any]:
    """A run recording into the store; finished at teardown if the test did not."""
    r = tracktui.init(project="media", dir=store)
    yield r
    r.finish()


@pytest.fixture
def read(store: Path) -> Callable[[Any], Any]:
    """read(run): finish run (flushing everything) and return its ApiRun."""

    def _read(run: Any) -> Any:
        run.finish()
        return tracktui.Api(store).run(run.id)

    return _read
