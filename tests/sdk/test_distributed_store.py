"""System metrics per host in the store: the migration that adds the host dimension (SQLite and PostgreSQL),
on a store written before it, and reading one node at a time through Reader and Api."""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path

import pytest
import tracktui
from tracktui.store import Reader, codec, postgres, schema
from tracktui.store.procinfo import hostname
from tracktui.store.writer import Writer

from tests.conftest import PG_BASE, close_writers, pg_admin, pg_available


def test_system_samples_of_several_hosts_are_kept_apart(any_store):
    run = tracktui.init(store=any_store, project="p", settings={"capture": False})
    w = Writer.for_store(any_store)
    own = hostname()
    for i in range(3):
        w.put(("system", run.id, 100.0 + i, [("cpu.percent", 10.0 + i)], own))
        w.put(("system", run.id, 100.0 + i, [("cpu.percent", 50.0 + i), ("gpu.0.gpu", 7.0)], "node-b"))
        w.put(("system", run.id, 100.5 + i, [("cpu.percent", 90.0 + i)], "node-a"))
    run.finish()
    assert w.flush(10)
    with Reader(any_store) as r:
        assert r.system_hosts(run.id) == [own, "node-a", "node-b"]
        assert r.system(run.id)["cpu.percent"] == [(100.0, 10.0), (101.0, 11.0), (102.0, 12.0)]
        assert r.system(run.id, host=own) == r.system(run.id)
        b = r.system(run.id, host="node-b")
        assert b == {"cpu.percent": [(100.0, 50.0), (101.0, 51.0), (102.0, 52.0)],
                     "gpu.0.gpu": [(100.0, 7.0), (101.0, 7.0), (102.0, 7.0)]}
        assert r.system(run.id, ["cpu.percent"], since_ts=101.0, host="node-a") == {"cpu.percent": [(101.5, 91.0),
                                                                                                  (102.5, 92.0)]}
        assert r.keys(run.id, "system", host="node-b") == ["cpu.percent", "gpu.0.gpu"]
        assert r.keys(run.id, "system") == ["cpu.percent"]
        assert r.system(run.id, host="nowhere") == {}
    api_run = tracktui.Api(dir=any_store).run(run.id) if not any_store.startswith("postgresql") else None
    if api_run is not None:
        assert api_run.system_hosts() == [own, "node-a", "node-b"]
        assert api_run.system(host="node-b")["gpu.0.gpu"][0] == (100.0, 7.0)


def _old_sqlite_store(root: Path) -> None:
    """A store as the tracktui before hosts wrote it: one run, history and system points."""
    upto = schema.MIGRATIONS.index(schema.SCHEMA_METRICS_HOST)
    root.mkdir(mode=0o700)
    conn = sqlite3.connect(root / "tracktui.db", isolation_level=None)
    for m in schema.MIGRATIONS[:upto]:
        for st in m.split(";"):
            if st.strip():
                conn.execute(st)
    conn.execute(f"PRAGMA application_id={schema.APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version={upto}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("INSERT INTO runs(id, project, name, state, created_at, updated_at, host, config, summary, "
                 "metadata, last_step) VALUES ('old', 'p', 'old-run', 'finished', 1, 2, 'oldhost', '{}', '{}', "
                 "'{}', 1)")
    conn.execute("INSERT INTO metrics(id, run_id, stream, key) VALUES (7, 'old', 'history', 'loss'), "
                 "(9, 'old', 'system', 'cpu.percent')")
    conn.execute("INSERT INTO history(metric_id, step, value) VALUES (7, 0, 1.5), (7, 1, 0.5)")
    conn.execute("INSERT INTO system(metric_id, ts, value) VALUES (9, 10.0, 33.0)")
    conn.close()


def test_a_store_from_before_hosts_reads_then_migrates_keeping_every_point(tmp_path):
    root = tmp_path / "store"
    _old_sqlite_store(root)
    with Reader(root) as r:  # read as it is (a viewer does not migrate)
        assert r.system_hosts("old") == ["oldhost"]
        assert r.system("old") == {"cpu.percent": [(10.0, 33.0)]}
        assert r.system("old", host="oldhost") == {"cpu.percent": [(10.0, 33.0)]}
    w = Writer.for_store(root)  # migrates
    w.put(("system", "old", 11.0, [("cpu.percent", 44.0)], "newhost"))
    assert w.flush(10)
    conn = sqlite3.connect(root / "tracktui.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    assert conn.execute("SELECT id, host FROM metrics WHERE key = 'loss'").fetchall() == [(7, "")]
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    with Reader(root) as r:
        assert r.history("old") == {"loss": [(0, 1.5), (1, 0.5)]}
        assert r.system_hosts("old") == ["oldhost", "newhost"]
        assert r.system("old") == {"cpu.percent": [(10.0, 33.0)]}  # '' rows are the run's own host's
        assert r.system("old", host="newhost") == {"cpu.percent": [(11.0, 44.0)]}


def test_postgresql_migration_adds_hosts_to_a_store_from_before_them():
    reason = pg_available()
    if reason:
        pytest.skip(reason)
    import psycopg

    name = f"tracktui_hosts_{secrets.token_hex(5)}"
    pg_admin(f"CREATE DATABASE {name}")
    url = f"{PG_BASE}/{name}"
    try:
        upto = postgres.MIGRATIONS.index(postgres.SCHEMA_METRICS_HOST)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE SCHEMA tracktui")
            conn.execute("SET search_path TO tracktui")
            conn.execute("CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL)")
            for m in postgres.MIGRATIONS[:upto]:
                for st in m.split(";"):
                    if st.strip():
                        conn.execute(st)  # type: ignore[arg-type]
            conn.execute("INSERT INTO meta VALUES ('schema_version', %s), ('application', 'tracktui')", (str(upto),))
            conn.execute("INSERT INTO runs(id, project, name, state, created_at, updated_at, host) "
                         "VALUES ('old', 'p', 'old-run', 'finished', 1, 2, 'oldhost')")
            conn.execute("INSERT INTO metrics(id, run_id, stream, key) VALUES (9, 'old', 'system', 'cpu.percent')")
            conn.execute("INSERT INTO system(metric_id, ts, value) VALUES (9, 10.0, 33.0)")
        close_writers()
        w = Writer.for_store(url)
        w.put(("system", "old", 11.0, [("cpu.percent", 44.0)], "newhost"))
        w.put(("system", "old", 12.0, [("cpu.percent", 55.0)], "oldhost"))
        w.put(("run", "old", {"metadata": codec.dumps({"x": 1})}))
        assert w.flush(20)
        with Reader(url) as r:
            assert r.system_hosts("old") == ["oldhost", "newhost"]
            assert r.system("old", host="newhost") == {"cpu.percent": [(11.0, 44.0)]}
            # the run's own host: its samples from before the migration ('') and after, as one series
            assert r.system("old") == {"cpu.percent": [(10.0, 33.0), (12.0, 55.0)]}
    finally:
        close_writers()
        postgres.close_idle()
        pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
