"""The store contract: every reader query and every writer record type, run against both engines.

Each test gets an empty store from the `any_store` fixture: a SQLite root, and a database on the real
PostgreSQL server (skipped, with the reason, where none answers). The same assertions hold for both.
"""

from __future__ import annotations

import math
import os
import time

import pytest
import tracktui
from tracktui.store import Reader
from tracktui.store.media import blob as read_blob
from tracktui.store.media import media_items, media_keys, media_steps, table_count, table_rows
from tracktui.store.writer import Writer

from tests.conftest import run_script


def _writer(store: str) -> Writer:
    return Writer.for_store(store)


def test_runs_cursor_limit_project_and_lookups(any_store):
    a = tracktui.init(store=any_store, project="alpha", name="first", config={"lr": 0.1})
    a.finish()
    with Reader(any_store) as r:
        rev = r.max_rev()
        assert rev > 0 and [x.name for x in r.runs()] == ["first"]
    time.sleep(0.01)
    b = tracktui.init(store=any_store, project="beta", name="second", tags=["t1"])
    b.log({"x": 1.0})
    b.finish()
    with Reader(any_store) as r:
        assert [x.name for x in r.runs()] == ["second", "first"]  # newest first
        assert [x.name for x in r.runs(project="alpha")] == ["first"]
        assert [x.name for x in r.runs(limit=1)] == ["second"]
        assert [x.name for x in r.runs(since_rev=rev)] == ["second"]  # changed since the cursor
        assert r.runs(since_rev=r.max_rev()) == []
        assert r.projects() == ["alpha", "beta"]
        assert r.run(b.id).name == "second"
        assert r.run(b.id[:6]).id == b.id  # unique id prefix
        assert r.run("first").id == a.id  # by name
        assert r.run("nope") is None
        rec = r.run(b.id)
        assert rec.state == "finished" and rec.tags == ["t1"] and rec.last_step == 0 and rec.summary == {"x": 1.0}
        assert r.run(a.id).config == {"lr": 0.1}


def test_nonfinite_and_signed_zero_round_trip(any_store):
    run = tracktui.init(store=any_store, config={"inf": math.inf, "nan": math.nan, "nz": -0.0})
    values = [0.5, math.nan, math.inf, -math.inf, -0.0, 0.0, 1e308, -1e-308, 5e-324]
    for v in values:
        run.log({"v": v})
    run.summary["best"] = -math.inf
    run.finish()
    with Reader(any_store) as r:
        got = [v for _, v in r.history(run.id, ["v"])["v"]]
        assert len(got) == len(values)
        for want, have in zip(values, got, strict=True):
            if math.isnan(want):
                assert math.isnan(have)
            else:
                assert have == want and math.copysign(1, have) == math.copysign(1, want)
        rec = r.run(run.id)
        assert rec.config["inf"] == math.inf and math.isnan(rec.config["nan"])
        assert math.copysign(1, rec.config["nz"]) == -1
        assert rec.summary["best"] == -math.inf
        s = r.sampled(run.id, "v", 3)
        assert dict(s.special)[2] == math.inf and math.isnan(dict(s.special)[1])
        assert sum(s.count) == len(values) - 3


def test_strings_none_and_text_edge_cases(any_store):
    run = tracktui.init(store=any_store)
    texts = ["", "plain", "ünïcödé ✓ 漢字 🙂", "x" * 100_000, "quote ' \" ; DROP TABLE runs; --", "%s %(x)s ? ?1"]
    for t in texts:
        run.log({"s": t, "n": None})
    run.finish()
    with Reader(any_store) as r:
        h = r.history(run.id)
        assert [v for _, v in h["s"]] == texts
        assert [v for _, v in h["n"]] == [None] * len(texts)
        assert len(r.runs()) == 1  # the SQL-looking string was only data


def test_history_cursor_limit_ranges_and_rows(any_store):
    run = tracktui.init(store=any_store)
    for i in range(3000):
        run.log({"a": float(i), "b": float(-i)} if i % 2 == 0 else {"a": float(i)})
    run.finish()
    with Reader(any_store) as r:
        assert r.keys(run.id) == ["a", "b"]
        assert [s for s, _ in r.history(run.id, ["a"], since_step=2990)["a"]] == list(range(2991, 3000))
        assert len(r.history(run.id, ["a"], limit=10)["a"]) == 10
        assert r.step_range(run.id, "b") == (0, 2998)
        assert r.step_range(run.id, "missing") is None
        times = r.step_times(run.id, 10, 12)
        assert sorted(times) == [10, 11, 12] and all(t > 1e9 for t in times.values())
        steps, ts = r.step_times_sampled(run.id, 5)
        assert steps[0] == 0 and steps[-1] == 2999 and ts == sorted(ts)
        rows = list(r.history_rows(run.id, page=700))
        assert len(rows) == 3000 and rows[2] == {"_step": 2, "_timestamp": rows[2]["_timestamp"], "a": 2.0, "b": -2.0}
        assert "b" not in rows[3]
        only_b = list(r.history_rows(run.id, ["b"]))
        assert len(only_b) == 1500


@pytest.mark.parametrize("buckets", [10, 100, 2000])  # rollup path, raw path
def test_sampled_min_max_spikes_and_steps_replaced(any_store, buckets):
    run = tracktui.init(store=any_store)
    for i in range(6000):
        run.log({"loss": math.sin(i / 300) + (40.0 if i == 4321 else 0.0)})
    run._writer.flush()
    run.log({"loss": 99.0}, step=17)  # a step replaced: its bucket is recomputed
    run.log({"loss": -99.0}, step=5000)
    run.finish()
    with Reader(any_store) as r:
        s = r.sampled(run.id, "loss", buckets)
        assert 1 <= len(s.vmax) <= buckets
        assert max(s.vmax) == 99.0 and min(s.vmin) == -99.0
        assert sum(s.count) == 6000
        assert any(v == pytest.approx(40.0 + math.sin(4321 / 300)) for v in s.vmax) or buckets < 100
        assert dict(r.history(run.id, ["loss"], since_step=16, limit=1)["loss"])[17] == 99.0
        sub = r.sampled(run.id, "loss", 4, lo=1000, hi=1999)
        assert sub.first_step[0] == 1000 and sub.last_step[-1] == 1999 and sum(sub.count) == 1000


def test_system_logs_files_and_trim(any_store):
    w = _writer(any_store)
    run = tracktui.init(store=any_store, settings={"capture": False})
    t0 = time.time()
    for i in range(5):
        w.put(("system", run.id, t0 + i, [("cpu", float(i * 10)), ("gpu.0.util", None)]))
    for i in range(20):
        w.put(("log", run.id, t0 + i, "stdout" if i % 2 else "stderr", f"line {i}"))
    w.put(("log", run.id, t0 + 20, "tracktui", "[marker]"))
    for i in range(20, 30):
        w.put(("log", run.id, t0 + i, "stdout", f"line {i}"))
    w.put(("log_trim", run.id, "[marker]", 3))  # keep the marker and the last 3 lines after it
    w.put(("file", run.id, "notes/a.txt", b"hello"))
    w.put(("file", run.id, "notes/a.txt", b"hello again"))  # replaces
    w.put(("file", run.id, "b.bin", bytes(range(256))))
    run.finish()
    with Reader(any_store) as r:
        sys_ = r.system(run.id)
        assert [v for _, v in sys_["cpu"]] == [0.0, 10.0, 20.0, 30.0, 40.0]
        assert [v for _, v in sys_["gpu.0.util"]] == [None] * 5
        assert [v for _, v in r.system(run.id, ["cpu"], since_ts=t0 + 2.5)["cpu"]] == [30.0, 40.0]
        logs = r.logs(run.id)
        lines = [x[3] for x in logs]
        assert lines == [f"line {i}" for i in range(20)] + ["[marker]", "line 27", "line 28", "line 29"]
        assert [x[2] for x in logs[:2]] == ["stderr", "stdout"]
        seqs = [x[0] for x in logs]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        assert [x[3] for x in r.logs(run.id, since_seq=seqs[-2])] == ["line 29"]
        assert [x[3] for x in r.logs(run.id, limit=2)] == ["line 0", "line 1"]
        assert [x[3] for x in r.logs_tail(run.id, 2)] == ["line 28", "line 29"]
        assert [(n, s) for n, s, _ in r.files(run.id)] == [("b.bin", 256), ("notes/a.txt", 11)]
        assert r.file_bytes(run.id, "notes/a.txt") == b"hello again"
        assert r.file_bytes(run.id, "b.bin") == bytes(range(256))
        assert r.file_bytes(run.id, "nope") is None


def test_media_round_trip(any_store):
    np = pytest.importorskip("numpy")
    pytest.importorskip("PIL")
    run = tracktui.init(store=any_store, settings={"capture": False})
    img = (np.arange(8 * 6 * 3) % 256).astype("uint8").reshape(8, 6, 3)
    for step in range(3):
        run.log({"img": tracktui.Image(img, caption=f"s{step}"), "hist": [1.0, 2.0, 2.0, float(step)]}, step=step)
    table = tracktui.Table(columns=["name", "score", "pic"],
                           data=[["b", 2.0, tracktui.Image(img)], ["a", 3.0, None], ["c", 1.0, None]])
    run.log({"tbl": table}, step=3)
    run.finish()
    with Reader(any_store) as r:
        keys = {k.key: k for k in media_keys(r, run.id)}
        assert sorted(keys) == ["hist", "img", "tbl"]
        assert keys["img"].steps == 3 and keys["img"].first_step == 0 and keys["img"].last_step == 2
        assert media_steps(r, run.id, "img", since_step=0) == [1, 2]
        item = media_items(r, run.id, "img")[0]  # the last step
        assert item.step == 2 and item.type == "image" and item.meta["width"] == 6
        png = read_blob(r, item.sha256)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) == item.size
        assert media_items(r, run.id, "hist", 1)[0].type == "histogram"
        assert table_count(r, run.id, "tbl", 3) == 3
        assert [row[0] for row in table_rows(r, run.id, "tbl", 3)] == ["b", "a", "c"]
        assert [row[0] for row in table_rows(r, run.id, "tbl", 3, order_by=1)] == ["c", "b", "a"]
        assert [row[0] for row in table_rows(r, run.id, "tbl", 3, order_by=0, descending=True)] == ["c", "b", "a"]
        assert [row[0] for row in table_rows(r, run.id, "tbl", 3, where={0: "a"})] == ["a"]
        assert [row[0] for row in table_rows(r, run.id, "tbl", 3, where={1: 1.0})] == ["c"]
        assert [row[0] for row in table_rows(r, run.id, "tbl", 3, where={2: None})] == ["a", "c"]
        assert [row[0] for row in table_rows(r, run.id, "tbl", 3, offset=1, limit=1)] == ["a"]
        cell = table_rows(r, run.id, "tbl", 3)[0][2]
        assert read_blob(r, cell["sha256"])[:4] == b"\x89PNG"
    api_run = tracktui.Api(any_store).run(run.id)
    assert api_run.image("img", 1, format="numpy").shape == (8, 6, 3)
    assert [d["name"] for d in api_run.table("tbl")] == ["b", "a", "c"]


def test_run_columns_config_metric_defs_and_resume(any_store):
    run = tracktui.init(store=any_store, id="resumable", config={"a": 1}, settings={"capture": False})
    run.define_metric("acc", summary="max")
    for i in range(10):
        run.log({"acc": i / 10})
    run.config.update({"b": 2})
    run.finish()
    again = tracktui.init(store=any_store, id="resumable", resume="allow", config={"c": 3},
                          settings={"capture": False})
    assert again.step == 10
    again.log({"acc": 0.05})
    again.finish(exit_code=3)
    with Reader(any_store) as r:
        rec = r.run("resumable")
        assert rec.config == {"a": 1, "b": 2, "c": 3}
        assert set(rec.summary["acc"]) == {"max"}
        assert rec.metric_defs[0]["name"] == "acc"
        assert rec.state == "failed" and rec.exit_code == 3 and rec.last_step == 10
        assert [s for s, _ in r.history("resumable", ["acc"])["acc"]] == list(range(11))
    with pytest.raises(ValueError, match="already exists"):
        tracktui.init(store=any_store, id="resumable")
    with pytest.raises(ValueError, match="no run"):
        tracktui.init(store=any_store, id="absent", resume="must")


def test_crashed_from_heartbeat_of_another_host(any_store):
    run = tracktui.init(store=any_store, settings={"capture": False})
    w = run._writer
    w.detach(run.id)  # stop the live heartbeat: the row now says what another host left behind
    w.put(("run", run.id, {"host": "gpu-node-17", "pid": 4242, "pid_started_at": None,
                           "heartbeat_at": time.time() - 3600}))
    w.flush()
    with Reader(any_store) as r:
        assert r.run(run.id).state == "crashed"
    w.put(("run", run.id, {"heartbeat_at": time.time()}))  # a fresh heartbeat: running again
    w.flush()
    with Reader(any_store) as r:
        assert r.run(run.id).state == "running"
    run._finished = True  # this process does not own the row's state any more


def test_process_killed_reads_as_crashed(any_store):
    proc = run_script("""
        import os, tracktui
        r = tracktui.init(store=os.environ["STORE"], settings={"capture": False})
        r.log({"x": 1.0}); r._writer.flush(); print(r.id, flush=True); os._exit(0)
    """, os.path.join("/nonexistent"), env={"STORE": any_store})
    run_id = proc.stdout.strip()
    with Reader(any_store) as r:
        rec = r.run(run_id)
        assert rec.state == "crashed" and rec.summary == {"x": 1.0}


def test_api_and_rev_cursor_with_two_writer_processes(any_store):
    code = """
        import os, sys, tracktui
        r = tracktui.init(store=os.environ["STORE"], project="many", settings={"capture": False})
        for i in range(2000):
            r.log({"x": float(i)})
        r.finish()
    """
    import subprocess
    import sys
    import textwrap

    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env={**os.environ, "STORE": any_store})
             for _ in range(2)]
    seen: dict[str, int] = {}
    cursor = 0
    with Reader(any_store) as r:
        while any(p.poll() is None for p in procs) or cursor < r.max_rev():
            top = r.max_rev()
            for rec in r.runs(since_rev=cursor):
                seen[rec.id] = max(seen.get(rec.id, -1), rec.rev)
            cursor = top
            time.sleep(0.05)
        final = {rec.id: rec.rev for rec in r.runs()}
    assert all(p.wait() == 0 for p in procs)
    assert seen == final  # the cursor saw every run at its last rev: nothing was missed
    runs = tracktui.Api(any_store).runs(project="many")
    assert len(runs) == 2 and all(x.state == "finished" and x.last_step == 1999 for x in runs)
    assert all(len(x.history()) == 2000 for x in runs)
