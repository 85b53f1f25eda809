"""The store file: identity, versions, permissions, refusal of what it must not touch."""

from __future__ import annotations

import sqlite3
import stat

import pytest
import tracktui
from tracktui.store import Reader, StoreError, StoreVersionError, schema
from tracktui.store.paths import db_path, default_root


def test_new_store_is_stamped_wal_and_private(store_dir):
    tracktui.init(dir=store_dir).finish()
    conn = sqlite3.connect(db_path(store_dir))
    assert conn.execute("PRAGMA application_id").fetchone()[0] == schema.APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert stat.S_IMODE(store_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(db_path(store_dir).stat().st_mode) == 0o600


def test_store_from_a_newer_version_is_refused_clearly(store_dir):
    tracktui.init(dir=store_dir).finish()
    tracktui.store.writer.Writer._instances.clear()
    conn = sqlite3.connect(db_path(store_dir))
    conn.execute(f"PRAGMA user_version={schema.SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreVersionError, match="newer tracktui"):
        tracktui.init(dir=store_dir)
    with pytest.raises(StoreVersionError):
        Reader(store_dir).runs()


def test_a_foreign_sqlite_file_is_not_touched(store_dir):
    store_dir.mkdir()
    conn = sqlite3.connect(db_path(store_dir))
    conn.execute("PRAGMA application_id=42")
    conn.execute("CREATE TABLE mine(x)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not a tracktui store"):
        tracktui.init(dir=store_dir)


def test_unwritable_location_raises_one_clear_error_and_leaves_nothing(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    target = blocker / "sub" / "store"
    with pytest.raises(StoreError, match="cannot write the tracktui store at .*a-file/sub/store"):
        tracktui.init(dir=target)
    assert blocker.read_text() == "x"
    parent_only = tmp_path / "new" / "deeper"
    # a failure after the directories were made removes them again
    (tmp_path / "new").mkdir()
    (parent_only).mkdir()
    (parent_only / "tracktui.db").mkdir()  # a directory where the database file should be
    with pytest.raises(StoreError):
        tracktui.init(dir=parent_only)


def test_sqlite_is_refused_on_network_filesystems(store_dir, monkeypatch):
    # init() chooses shared mode there (tests/store/test_shared.py, on a real sshfs mount); SQLite itself
    # is still never opened on one
    monkeypatch.setattr(schema, "filesystem_type", lambda path: "nfs4")
    with pytest.raises(StoreError, match="network filesystem"):
        schema.connect_writer(store_dir)
    assert not store_dir.exists()


def test_default_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TRACKTUI_DIR", str(tmp_path / "a"))
    assert default_root() == tmp_path / "a"
    monkeypatch.delenv("TRACKTUI_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_root() == tmp_path / "xdg" / "tracktui"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_root() == tmp_path / "home" / ".local" / "share" / "tracktui"


def test_missing_or_empty_store_reads_as_no_runs(store_dir):
    assert Reader(store_dir).runs() == [] and not Reader(store_dir).exists
    store_dir.mkdir()
    db_path(store_dir).touch()
    assert Reader(store_dir).runs() == []


def test_insert_rows_binds_many_rows_per_statement_and_keeps_executemany_order():
    from tracktui.store.engine import ROWS_PER_STATEMENT, insert_rows

    sql = "INSERT INTO t(a, b, v)", "ON CONFLICT(a, b) DO UPDATE SET v = excluded.v"
    for n in (0, 1, ROWS_PER_STATEMENT - 1, 2 * ROWS_PER_STATEMENT, 2 * ROWS_PER_STATEMENT + 1, 1234):
        rows = [(i % 7, i % 5, i) for i in range(n)]  # the same key again and again: the last one wins
        got, want = sqlite3.connect(":memory:"), sqlite3.connect(":memory:")
        for c in (got, want):
            c.execute("CREATE TABLE t(a INTEGER, b INTEGER, v, PRIMARY KEY (a, b)) WITHOUT ROWID")
        insert_rows(got, sql[0], 3, sql[1], rows)
        want.executemany(f"{sql[0]} VALUES (?, ?, ?) {sql[1]}", rows)
        q = "SELECT a, b, v FROM t ORDER BY a, b"
        assert got.execute(q).fetchall() == want.execute(q).fetchall(), n
