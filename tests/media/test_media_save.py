"""run.save(): the now, end and live policies, globs and names."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
import tracktui
from tracktui import files


@pytest.fixture
def workdir(tmp_path: Path) -> Any:
    work = tmp_path / "work"
    (work / "ckpt").mkdir(parents=True)
    cwd = os.getcwd()
    os.chdir(work)
    yield work
    os.chdir(cwd)


def test_now_with_a_glob(workdir: Path, run: Any, read: Any) -> None:
    (workdir / "ckpt" / "a.pt").write_bytes(b"A")
    (workdir / "ckpt" / "b.pt").write_bytes(b"B")
    (workdir / "ckpt" / "c.txt").write_bytes(b"C")
    assert run.save("ckpt/*.pt") == ["ckpt/a.pt", "ckpt/b.pt"]
    (workdir / "ckpt" / "a.pt").write_bytes(b"changed later")  # "now" took the bytes at the call
    assert run.save(str(workdir / "ckpt" / "c.txt")) == ["c.txt"]  # absolute: relative to its directory
    assert run.save("ckpt/b.pt", base_path="ckpt") == ["b.pt"]
    api = read(run)
    assert user_files(api) == ["b.pt", "c.txt", "ckpt/a.pt", "ckpt/b.pt"]
    assert api.file("ckpt/a.pt") == b"A"


def test_end_stores_what_exists_at_finish(workdir: Path, run: Any, read: Any) -> None:
    run.save("out/*.json", policy="end")
    (workdir / "out").mkdir()
    (workdir / "out" / "r.json").write_text("{}")
    api = read(run)
    assert user_files(api) == ["out/r.json"] and api.file("out/r.json") == b"{}"


def test_live_follows_changes(
    workdir: Path, run: Any, read: Any, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "LIVE_INTERVAL", 0.05)
    log = workdir / "train.log"
    log.write_text("one\n")
    assert run.save("train.log", policy="live") == ["train.log"]
    run._writer.flush(10)
    assert tracktui.Api(store).run(run.id).file("train.log") == b"one\n"
    log.write_text("one\ntwo\n")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        run._writer.flush(10)
        if tracktui.Api(store).run(run.id).file("train.log") == b"one\ntwo\n":
            break
        time.sleep(0.05)
    else:
        pytest.fail("the live file was not stored again after it changed")
    log.write_text("one\ntwo\nthree\n")
    os.utime(log, (time.time() + 5, time.time() + 5))
    api = read(run)  # finish stores the last version
    assert api.file("train.log") == b"one\ntwo\nthree\n"
    deadline = time.monotonic() + 5
    while files._live_thread is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert files._live_thread is None  # the poller stops once no run has live files


def test_bad_policy_and_missing_files(workdir: Path, run: Any) -> None:
    with pytest.raises(ValueError, match="policy"):
        run.save("x", policy="sometimes")
    with pytest.warns(tracktui.TrackTuiWarning, match="matched no file"):
        assert run.save("nothing-here-*.bin") == []


def user_files(api: Any) -> list[str]:
    """Files the test saved, without those captured automatically (requirements.txt, diff.patch)."""
    return [f for f in api.files() if f not in ("requirements.txt", "diff.patch")]
