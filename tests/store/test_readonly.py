"""Stores that cannot be written here are still read; what is not a store gets a clear error."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import tempfile
from pathlib import Path

import pytest
import tracktui
from tracktui.cli.main import main
from tracktui.store import Reader, StoreError
from tracktui.store.paths import db_path, shm_path, wal_path
from tracktui.tui import prefs

from tests.readonly_helpers import immutable, kill_a_writer, make_store, read_as_nobody, read_only_mount


@pytest.fixture
def shared_tmp():
    """A directory that other users may enter (pytest's tmp_path lies below a root-only directory)."""
    d = Path(tempfile.mkdtemp(prefix="tracktui-ro-"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def check_readable_snapshot(root, capsys, names=("clean-0",)):
    """Reader, Api and the CLI read root, and say that it is a snapshot."""
    with Reader(root) as r:
        runs = r.runs()
        assert sorted(x.name for x in runs) == sorted(names)
        assert r.history(runs[0].id)["loss"][-1] == (19, 1.0 / 20)
        assert "read-only" in r.snapshot and "snapshot" in r.snapshot
    assert sorted(x.name for x in tracktui.Api(root).runs()) == sorted(names)
    assert main(["--dir", str(root), "ls"]) == 0
    out, err = capsys.readouterr()
    assert all(n in out for n in names) and "read-only" in err and "snapshot" in err
    assert main(["--dir", str(root), "show", names[0]]) == 0
    assert "lr = 0.1" in capsys.readouterr().out


def test_read_only_bind_mount_is_read_as_a_snapshot(tmp_path, capsys):
    src = tmp_path / "store"
    make_store(src)
    assert not wal_path(src).exists() and not shm_path(src).exists()  # clean: nothing beside the db
    with read_only_mount(src, tmp_path / "mnt") as mnt:
        check_readable_snapshot(mnt, capsys)
        with pytest.raises(StoreError, match="cannot write the tracktui store at .*mounted read-only"):
            tracktui.init(dir=mnt)
    assert sorted(os.listdir(src)) == ["tracktui.db"]


def test_chattr_immutable_store_is_read_as_a_snapshot(tmp_path, capsys):
    src = tmp_path / "store"
    make_store(src)
    with immutable(src, db_path(src)):
        check_readable_snapshot(src, capsys)
        with pytest.raises(StoreError, match="cannot write the tracktui store"):
            tracktui.init(dir=src)
        assert sorted(os.listdir(src)) == ["tracktui.db"]


def test_another_users_store_is_read_by_nobody(shared_tmp):
    src = shared_tmp / "store"
    make_store(src)
    os.chmod(src, 0o755)  # readable, not writable, by others
    os.chmod(db_path(src), 0o644)
    proc = read_as_nobody(src)
    assert proc.returncode == 0, proc.stderr
    first, *table = proc.stdout.splitlines()
    got = json.loads(first)
    assert got["uid"] != 0 and got["runs"] == got["api"] == ["clean-0"], got
    assert "read-only" in got["snapshot"]
    assert "clean-0" in "\n".join(table) and "snapshot" in proc.stderr
    os.chmod(db_path(src), 0o600)  # not readable by others: a clear error, exit code 1
    proc = read_as_nobody(src)
    got = json.loads(proc.stdout.splitlines()[0])
    assert "permission denied" in got["error"] and proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "permission denied" in proc.stderr
    os.chmod(src, 0o700)  # a directory this user may not enter: the same kind of error
    proc = read_as_nobody(src)
    assert "Permission denied" in json.loads(proc.stdout.splitlines()[0])["error"] and proc.returncode == 1


def test_a_killed_writers_wal_is_read_through_its_shm_and_reported_without_it(tmp_path, capsys):
    src = tmp_path / "store"
    make_store(src)
    kill_a_writer(src)
    assert wal_path(src).stat().st_size > 32 and shm_path(src).exists()  # committed writes in the -wal only
    with read_only_mount(src, tmp_path / "mnt") as mnt:
        with Reader(mnt) as r:  # the -shm exists: SQLite reads the -wal read-only, nothing is missing
            killed = r.run("killed")
            assert killed.state == "crashed" and len(r.history(killed.id)["loss"]) == 30
    os.rename(shm_path(src), tmp_path / "shm-aside")
    with read_only_mount(src, tmp_path / "mnt") as mnt:
        with Reader(mnt) as r:  # no -shm, none can be made: immutable, the -wal out of reach, and said so
            assert r.run("clean-0") is not None
            assert "write-ahead log tracktui.db-wal" in r.snapshot and "may be missing" in r.snapshot
        assert main(["--dir", str(mnt), "ls"]) == 0
        assert "may be missing" in capsys.readouterr().err


def test_a_store_whose_data_is_all_in_an_unreadable_wal_is_not_shown_as_empty(tmp_path, capsys):
    src = tmp_path / "store"
    kill_a_writer(src)  # the store's first writer: the schema itself is in the -wal only
    os.remove(shm_path(src))
    with read_only_mount(src, tmp_path / "mnt") as mnt:
        with pytest.raises(StoreError, match="its data is in the write-ahead log tracktui.db-wal"):
            Reader(mnt).runs()
        assert main(["--dir", str(mnt), "ls"]) == 1
        assert "write-ahead log" in capsys.readouterr().err


def test_a_file_as_the_store_root_is_a_clear_error_everywhere(tmp_path, monkeypatch, capsys):
    f = tmp_path / "notes.txt"
    f.write_text("my notes")
    for root in (f, f / "sub"):
        with pytest.raises(StoreError, match="is a file, not a directory"):
            tracktui.init(dir=root)
        with pytest.raises(StoreError, match="is a file, not a directory"):
            Reader(root).runs()
        with pytest.raises(StoreError, match="is a file, not a directory"):
            tracktui.Api(root).runs()
        assert main(["--dir", str(root), "ls"]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "is a file, not a directory" in err
    monkeypatch.setenv("TRACKTUI_DIR", str(f))
    assert main(["ls"]) == 1 and "is a file" in capsys.readouterr().err
    assert main([]) == 1 and "is a file" in capsys.readouterr().err  # the app does not start
    assert f.read_text() == "my notes"


def test_the_database_file_given_as_root_names_its_directory(store_dir, capsys):
    make_store(store_dir)
    assert main(["--dir", str(db_path(store_dir)), "ls"]) == 1
    assert f"name the directory that holds it, {store_dir}" in capsys.readouterr().err


def foreign_db(root):
    root.mkdir()
    conn = sqlite3.connect(db_path(root))
    conn.execute("CREATE TABLE contacts(name TEXT, phone TEXT)")
    conn.execute("INSERT INTO contacts VALUES ('ada', '123')")
    conn.commit()
    conn.close()
    return db_path(root).read_bytes()


def test_another_programs_database_is_refused_and_left_untouched(store_dir, capsys):
    before = foreign_db(store_dir)  # application_id 0, user_version 0, but tables: not a new store
    with pytest.raises(StoreError, match="not a tracktui store: it is another program's SQLite database"):
        tracktui.init(dir=store_dir)
    with pytest.raises(StoreError, match="tables: contacts"):
        Reader(store_dir).runs()
    with pytest.raises(StoreError, match="not a tracktui store"):
        tracktui.Api(store_dir).runs()
    assert main(["--dir", str(store_dir), "ls"]) == 1
    assert "not a tracktui store" in capsys.readouterr().err
    assert main(["--dir", str(store_dir)]) == 1  # no app on it either
    assert db_path(store_dir).read_bytes() == before  # not even journal_mode=WAL was set
    conn = sqlite3.connect(db_path(store_dir))
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["contacts"]


def test_an_empty_database_file_is_still_a_new_store(store_dir):
    store_dir.mkdir(mode=0o700)
    db_path(store_dir).touch(mode=0o600)
    assert Reader(store_dir).runs() == []
    tracktui.init(dir=store_dir, name="first").finish()
    assert [x.name for x in Reader(store_dir).runs()] == ["first"]


def test_tui_prefs_are_private_whatever_the_umask(store_dir):
    old = os.umask(0)
    try:
        assert prefs.save(store_dir, columns=["name"])
        assert prefs.save(store_dir, columns=["name", "state"])  # replaced, still private
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(store_dir / prefs.PREFS_NAME).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(store_dir).st_mode) == 0o700
    assert prefs.load(store_dir) == {"columns": ["name", "state"]}
