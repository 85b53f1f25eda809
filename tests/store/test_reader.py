"""Reader queries: cursors, downsampling that keeps spikes, and every query served by an index."""

from __future__ import annotations

import math
import re

import pytest
import tracktui
from tracktui.store import Reader


@pytest.fixture
def long_run(store_dir):
    run = tracktui.init(dir=store_dir, project="p")
    for i in range(20_000):
        v = math.sin(i / 500)
        if i == 12_345:
            v = 50.0  # one spike
        if i == 7_000:
            v = math.nan
        if i == 7_001:
            v = math.inf
        run.log({"loss": v, "sparse": float(i)} if i % 1000 == 0 else {"loss": v})
    run.finish()
    return run


@pytest.mark.parametrize("buckets", [40, 200, 5_000])  # rollup path, raw path
def test_sampled_keeps_min_max_spikes_and_nonfinite_points(store_dir, long_run, buckets):
    with Reader(store_dir) as r:
        s = r.sampled(long_run.id, "loss", buckets)
    assert 1 <= len(s.vmax) <= buckets
    assert max(s.vmax) == 50.0 and min(s.vmin) == pytest.approx(-1.0, abs=1e-3)
    assert s.first_step[0] == 0 and s.last_step[-1] == 19_999
    assert sum(s.count) == 20_000 - 2
    steps = dict(s.special)
    assert math.isnan(steps[7000]) and steps[7001] == math.inf
    spike_bucket = next(i for i, v in enumerate(s.vmax) if v == 50.0)
    assert s.first_step[spike_bucket] <= 12_345 <= s.last_step[spike_bucket]


def test_sampled_subrange_and_sparse_keys(store_dir, long_run):
    with Reader(store_dir) as r:
        s = r.sampled(long_run.id, "loss", 10, lo=1000, hi=1999)
        assert s.first_step[0] == 1000 and s.last_step[-1] == 1999 and sum(s.count) == 1000
        sparse = r.sampled(long_run.id, "sparse", 100)
        assert sum(sparse.count) == 20 and sparse.vmax[-1] == 19_000.0
        assert r.sampled(long_run.id, "missing", 10).vmax == []


def test_rollup_follows_overwritten_steps(store_dir):
    run = tracktui.init(dir=store_dir)
    for _ in range(2000):
        run.log({"x": 1.0})
    run._writer.flush()
    run.log({"x": 99.0}, step=5)  # rewrite an old step: its bucket is recomputed
    run.finish()
    with Reader(store_dir) as r:
        assert max(r.sampled(run.id, "x", 2).vmax) == 99.0


def test_cursors_return_only_what_is_new(store_dir):
    run = tracktui.init(dir=store_dir, project="p")
    run.log({"a": 1})
    run._writer.flush()
    with Reader(store_dir) as r:
        rev = r.max_rev()
        assert r.runs(since_rev=rev) == []
        run.log({"a": 2})
        run.log({"a": 3})
        run._writer.flush()
        changed = r.runs(since_rev=rev)
        assert [x.id for x in changed] == [run.id] and changed[0].summary["a"] == 3
        assert r.history(run.id, ["a"], since_step=0)["a"] == [(1, 2.0), (2, 3.0)]
        times = r.step_times(run.id)
        assert sorted(times) == [0, 1, 2] and times[0] <= times[2]
    run.finish()


def test_history_rows_and_scan_history_page_through_steps(store_dir):
    run = tracktui.init(dir=store_dir)
    for i in range(2500):
        run.log({"a": i, "b": -i} if i % 2 else {"a": i})
    run.finish()
    api_run = tracktui.Api(store_dir).run(run.id)
    rows = list(api_run.scan_history(page_size=300))
    assert len(rows) == 2500 and rows[3] == {**rows[3], "_step": 3, "a": 3.0, "b": -3.0} and "b" not in rows[2]
    assert len(api_run.history(samples=10)) == 10
    assert [r["_step"] for r in api_run.history(keys=["b"])][:3] == [1, 3, 5]


def _plans(conn, sql, params):
    return " | ".join(row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))


def test_every_history_query_is_served_by_an_index(store_dir, long_run):
    """No query of the reader scans a whole table of points."""
    with Reader(store_dir) as r:
        conn = r._connection()
        seen = []
        conn.set_trace_callback(seen.append)
        r.sampled(long_run.id, "loss", 40)
        r.sampled(long_run.id, "loss", 5000)
        r.history(long_run.id, ["loss"], since_step=100)
        r.step_times(long_run.id, 0, 10)
        list(r.history_rows(long_run.id, ["loss"]))
        r.runs(since_rev=3)
        r.logs(long_run.id, 0)
        r.system(long_run.id)
        conn.set_trace_callback(None)
        for sql in {s for s in seen if s.lstrip().upper().startswith("SELECT")}:
            plan = _plans(conn, re.sub(r"^\s*", "", sql), ())
            for table in ("history", "history_rollup", "steps", "system", "logs"):
                assert not re.search(rf"SCAN {table}\b(?! USING)", plan), (sql, plan)
