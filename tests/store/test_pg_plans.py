"""On PostgreSQL the reader's cursors are served by indexes: the plans say so (sequential scans off, so a
query that has no index to use still shows a Seq Scan)."""

from __future__ import annotations

import pytest
import tracktui
from tracktui.store.postgres import pg_sql


@pytest.fixture
def pg_store(pg_url):
    from tests.conftest import close_writers, pg_clean

    close_writers()
    pg_clean(pg_url)
    yield pg_url
    close_writers()


QUERIES = {
    "runs since rev": ("SELECT id FROM runs WHERE rev > ? ORDER BY created_at DESC", [5]),
    "max rev": ("SELECT max(rev) FROM runs", []),
    "run by id prefix": ("SELECT id FROM runs WHERE id >= ? AND id < ? LIMIT 2", ["ab", "ab\U0010ffff"]),
    "metric ids": ("SELECT key, id FROM metrics WHERE run_id = ? AND stream = ? ORDER BY id", ["r", "history"]),
    "history since step": ("SELECT step, value, kind, text FROM history WHERE metric_id = ? AND step > ? "
                           "ORDER BY step", [1, 100]),
    "rollup range": ("SELECT min(first_step) FROM history_rollup WHERE metric_id = ? AND bucket BETWEEN ? AND ?",
                     [1, 0, 10]),
    "step times": ("SELECT step, ts FROM steps WHERE run_id = ? AND step >= ? ORDER BY step LIMIT 1", ["r", 5]),
    "system since ts": ("SELECT ts, value FROM system WHERE metric_id = ? AND ts > ? ORDER BY ts", [1, 0.0]),
    "logs since line": ("SELECT seq, ts, stream, line FROM logs WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                        ["r", 10, 100]),
    "media steps": ("SELECT DISTINCT step FROM media WHERE run_id = ? AND key = ? AND step > ? ORDER BY step",
                    ["r", "k", 0]),
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_cursor_queries_use_indexes(pg_store, name):
    import psycopg

    run = tracktui.init(store=pg_store, settings={"capture": False})
    for i in range(50):
        run.log({"x": float(i)})
    run.finish()
    sql, params = QUERIES[name]
    with psycopg.connect(pg_store, autocommit=True, options="-c search_path=tracktui") as conn:
        conn.execute("ANALYZE")
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + pg_sql(sql), params).fetchall())
    assert "Seq Scan" not in plan, plan
    assert "Index" in plan, plan
