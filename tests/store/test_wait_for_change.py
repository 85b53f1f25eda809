"""Reader.wait_for_change on both engines: LISTEN/NOTIFY on PostgreSQL, PRAGMA data_version on SQLite.

Writers are other processes, as in the app. No assertion depends on how fast anything runs: a wait that
should end gets a minute, and "nothing changed" is only asserted while no writer process exists.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tracktui.store import Reader

WRITER = textwrap.dedent("""
    import os, sys, time, pathlib, tracktui
    go = pathlib.Path(sys.argv[1])
    run = tracktui.init(store=os.environ["STORE"], project="w", name=sys.argv[2], settings={"capture": False})
    run._writer.flush()
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.02)
    run.log({"x": 1.0})
    run.finish()
""")


def _start(store: str, go: Path, name: str) -> subprocess.Popen[str]:
    p = subprocess.Popen([sys.executable, "-c", WRITER, str(go), name], env={**os.environ, "STORE": store},
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stdout.readline().strip() == "ready", p.communicate()
    return p


def _finished(r: Reader, name: str) -> bool:
    rec = r.run(name)
    return rec is not None and rec.state == "finished" and rec.summary.get("x") == 1.0


def test_wait_for_change_wakes_on_another_process_commit(any_store, tmp_path):
    go = tmp_path / "go"
    first = _start(any_store, go, "first")
    with Reader(any_store) as r:
        assert r.wait_for_change(0) is True  # the first call starts watching: read what is there
        go.touch()
        woke = 0
        while not _finished(r, "first"):  # every wake-up is a commit of the writer, until its last one
            assert r.wait_for_change(60), "the writer committed but wait_for_change timed out"
            woke += 1
            assert woke < 100
        assert first.wait(60) == 0, first.communicate()
        while r.wait_for_change(0.3):  # take what the last commits left (no writer process exists now)
            pass
        assert r.wait_for_change(0.3) is False  # nothing writes: the timeout passes, False

        go.unlink()
        second = _start(any_store, go, "second")  # commits its run row while nobody waits
        go.touch()
        assert second.wait(60) == 0, second.communicate()
        assert r.wait_for_change(0) is True  # commits between two calls are not missed
        assert _finished(r, "second")


def test_wait_for_change_on_a_store_that_does_not_exist_yet(tmp_path):
    store = str(tmp_path / "later")
    with Reader(store) as r:
        assert r.wait_for_change(0) is True and r.wait_for_change(0.1) is False
        go = tmp_path / "go"
        go.touch()
        p = _start(store, go, "late")
        assert p.wait(60) == 0, p.communicate()
        assert r.wait_for_change(60) is True and _finished(r, "late")


def test_wait_for_change_after_close_starts_again(any_store):
    with Reader(any_store) as r:
        assert r.wait_for_change(0) is True
        r.close()
        assert r.wait_for_change(0) is True  # closed: watching starts again (what happened meanwhile is read)


def test_postgres_wait_raises_store_error_when_the_server_is_away(pg_url):
    from tracktui.store import StoreError

    bad = pg_url.rsplit("/", 1)[0] + "/tracktui_no_such_database"
    with pytest.raises(StoreError, match="does not exist"):
        Reader(bad).wait_for_change(0)
