"""Fixtures of the TUI tests: stores seeded through the real SDK, then pinned to fixed timestamps."""

from __future__ import annotations

import math
import os
import sqlite3
import time
from pathlib import Path

import pytest
import tracktui
from tracktui.store.writer import Writer

FIXED = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
NOW = FIXED + 3600

HOSTILE = [
    "[/]", "[@click=app.quit]", "[link=https://evil.example]x[/link]", "\x1b]52;c;SE9TVElMRQ==\x07",
    "\x1b]0;PWNED-TITLE\x07", "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\", "\x1b[2J\x1b[H",
    "\x1bPqDCS-PAYLOAD\x1b\\", "\x9b2J", "\x9d0;C1-TITLE\x9c",
]


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def pin_times(root: Path) -> None:
    """Rewrite every timestamp of a store to fixed values (snapshots must not follow the clock)."""
    conn = sqlite3.connect(root / "tracktui.db")
    ids = [r[0] for r in conn.execute("SELECT id FROM runs ORDER BY id")]
    for i, rid in enumerate(ids):
        t0 = FIXED + 60 * i
        conn.execute("UPDATE runs SET created_at=?, updated_at=?, heartbeat_at=?, finished_at=?, "
                     "host='host-1', pid=NULL WHERE id=?", (t0, t0 + 600, t0 + 600, t0 + 600, rid))
        conn.execute("UPDATE steps SET ts = ? + step WHERE run_id = ?", (t0, rid))
        conn.execute("UPDATE logs SET ts = ? + seq WHERE run_id = ?", (t0, rid))
    conn.execute("UPDATE files SET created_at = ?", (FIXED,))
    conn.commit()
    conn.close()


def seed(root: Path, hostile: bool = False) -> list[str]:
    """Four finished runs (one failed, one with NaN) with history, logs and files; returns their ids."""
    names = ["alpha", "bravo", "charlie", "delta"]
    ids = []
    for i, (lr, depth) in enumerate([(1e-3, 4), (3e-3, 4), (1e-2, 8), (1e-4, 8)]):
        bad = HOSTILE[i % len(HOSTILE)] if hostile else ""
        cfg = {"lr": lr, "model": {"depth": depth}, "opt": "adam" + bad}
        if hostile:
            cfg.update({h: h for h in HOSTILE})
        run = tracktui.init(dir=root, project="mnist", id=f"run{i}", name=names[i] + bad,
                            config=cfg, tags=["base", *(HOSTILE if hostile else [])], group="sweep1",
                            notes=("notes " + " ".join(HOSTILE)) if hostile else "a note",
                            settings={"capture": False})  # snapshots must not hold this machine's facts
        run.define_metric("val/*", step_metric="epoch")
        for s in range(300):
            data = {"train/loss": 2.0 / (s + 1) * (1 + i), "train/acc": 1 - 1 / (s + 2)}
            if s % 50 == 0:
                data.update({"epoch": s // 50, "val/acc": 0.5 + s / 1000 + i / 100})
            if hostile and s % 100 == 0:
                data.update({h: float(s) for h in HOSTILE})
            run.log(data)
        run.summary["val/best"] = math.nan if i == 2 else 0.9 + i / 100
        w = Writer.for_root(root)
        lines = ["\x1b[32mepoch 1\x1b[0m loss=0.5", "plain line", *(HOSTILE if hostile else [])]
        for j, line in enumerate(lines):
            w.put(("log", run.id, time.time(), "stderr" if j == 1 else "stdout", line))
        w.put(("file", run.id, "diff.patch", b"--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n"
                                             + ("\n".join(HOSTILE).encode() if hostile else b"")))
        w.put(("file", run.id, "requirements.txt", b"torch==2.3\nnumpy==1.26\n"))
        run.finish(exit_code=1 if i == 2 else 0)
        ids.append(run.id)
    pin_times(root)
    return ids


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """A store of four finished runs with fixed timestamps."""
    root = tmp_path / "store"
    seed(root)
    return root


@pytest.fixture
def hostile_store(tmp_path: Path) -> Path:
    """A store whose every string holds markup and terminal control sequences."""
    root = tmp_path / "hostile"
    seed(root, hostile=True)
    return root


async def wait_for(pilot, cond, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    """Let the app run until cond() holds."""
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.05)


os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
