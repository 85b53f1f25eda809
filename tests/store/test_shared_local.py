"""Shared mode without a network filesystem: forced by init(settings=...) or TRACKTUI_SHARED=1 on a local
directory (same code path as on NFS), read through Api and the Reader; the segment format's checks."""

from __future__ import annotations

import hashlib
import math
import time

import pytest
import tracktui
from tracktui.store import segments, shared
from tracktui.store.reader import Reader


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("TRACKTUI_SHARED", raising=False)
    yield
    shared._overrides.clear()
    shared._detected.clear()


def test_init_setting_forces_shared_mode_and_everything_round_trips(tmp_path):
    store = tmp_path / "store"
    run = tracktui.init(project="p", dir=str(store), config={"lr": 0.5}, settings={"shared": True})
    values = [1.5, float("nan"), float("inf"), float("-inf"), -0.0, "text", 7]
    for step, v in enumerate(values):
        run.log({"v": v}, step=step)
    run.log({"sys_like": 1.0}, step=len(values))
    run.summary["best"] = 1.5
    run.finish()
    assert (store / shared.MARKER).is_file()
    assert not list(store.rglob("tracktui.db*"))  # no SQLite on the store root
    shared._overrides.clear()
    shared._detected.clear()
    assert shared.is_shared(store)  # another process, without the setting: the marker says so
    with Reader(store) as r:
        (rec,) = r.runs()
        assert rec.state == "finished" and rec.config == {"lr": 0.5} and rec.summary["best"] == 1.5
        got = [v for _, v in r.history(rec.id, ["v"])["v"]]
    assert got[0] == 1.5 and math.isnan(got[1]) and got[2] == math.inf and got[3] == -math.inf
    assert got[4] == 0.0 and math.copysign(1, got[4]) == -1 and got[5:] == ["text", 7]
    assert [x.id for x in tracktui.Api(dir=str(store)).runs()] == [rec.id]  # the Api reads the cache too


def test_env_forces_shared_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKTUI_SHARED", "1")
    store = tmp_path / "s"
    run = tracktui.init(project="p", dir=str(store))
    run.log({"a": 1})
    run.finish()
    assert list((store / shared.SEGMENTS_DIR).rglob("*.seg"))
    with Reader(store) as r:
        assert len(r.runs()) == 1


def test_messages_name_the_store_given_not_the_local_cache(tmp_path, monkeypatch, capsys):
    from tracktui.cli.main import main

    monkeypatch.setenv("TRACKTUI_SHARED", "1")
    store, cache = tmp_path / "s", tmp_path / "cache"
    tracktui.init(project="p", dir=str(store)).finish()
    with Reader(store) as r:
        assert r.store == store and r.root == shared.cache_root(store)  # reads the cache, names the store
    for args in (["show", "nope"], ["export", "nope"]):
        assert main(["--dir", str(store), *args]) == 1
        err = capsys.readouterr().err
        assert f"no run 'nope' in {store}\n" in err and str(cache) not in err, err
    with pytest.raises(ValueError, match="^no run 'p/nope' in ") as e:
        tracktui.Api(dir=str(store)).run("p/nope")
    assert str(e.value) == f"no run 'p/nope' in {store}"
    # a shared store that is not there reads as missing (it used to read as an empty store: "no runs", 0)
    gone = tmp_path / "gone"
    assert main(["--dir", str(gone), "ls"]) == 1
    assert f"no tracktui store at {gone}" in capsys.readouterr().err
    assert not shared.cache_root(gone).exists() and not gone.exists()


def test_tracktui_host_names_the_host_of_runs_samples_and_segments(tmp_path, monkeypatch):
    from tracktui.store.procinfo import hostname

    monkeypatch.setenv("TRACKTUI_SHARED", "1")
    monkeypatch.setenv("TRACKTUI_HOST", " gpu07.cluster ")
    assert hostname() == "gpu07.cluster"
    store = tmp_path / "s"
    monkeypatch.setenv("TRACKTUI_SYSTEM_INTERVAL", "0.1")
    run = tracktui.init(project="p", dir=str(store), settings={"git": False, "requirements": False})
    run.log({"a": 1})
    from tracktui import capture

    sampler = capture.session(run).sampler  # the real system sampler: its samples go under TRACKTUI_HOST
    deadline = time.monotonic() + 30
    while sampler.samples < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    run.finish()
    assert [d.name for d in (store / shared.SEGMENTS_DIR).iterdir()] == ["gpu07.cluster"]
    with Reader(store) as r:
        (rec,) = r.runs()
        assert rec.host == "gpu07.cluster" and r.system_hosts(rec.id) == ["gpu07.cluster"]
    monkeypatch.setenv("TRACKTUI_HOST", "")
    assert hostname() not in ("", "gpu07.cluster")  # empty: the system's name


def test_segment_lines_carry_a_checksum():
    enc = segments.encode_record(("log", "r", 1.0, "stdout", "hello\nworld \x1b[31m"))
    data = segments._header() + segments.line(3, enc)
    parsed = segments.parse(data)
    assert parsed.version == segments.VERSION and parsed.bad == 0
    assert parsed.records == [(3, ("log", "r", 1.0, "stdout", "hello\nworld \x1b[31m"))]
    for i in range(len(segments._header()), len(data) - 1):  # any one byte changed: skipped, never misread
        bad = bytearray(data)
        bad[i] ^= 0x20
        p = segments.parse(bytes(bad))
        assert p.records in ([], parsed.records) and (p.records == [] or p.bad == 0)
    assert segments.parse(b"not a segment\n").version is None
    assert segments.parse(b"tracktui-segment 2\n" + segments.line(0, enc)).records == []


def test_a_writer_merges_its_own_small_segments(tmp_path):
    store = tmp_path / "store"
    run = tracktui.init(project="p", dir=str(store), settings={"shared": True})
    w = run._writer_for_this_process()
    for step in range(2 * segments.SELF_COMPACT_EVERY + 20):
        run.log({"x": step * 2}, step=step)
        assert w.flush(30)  # one publication each
    run.finish()
    (wdir,) = [d for _, d in segments.writer_dirs(store)]
    files = segments.seg_files(wdir)
    assert len(files) < 40, [f.path.name for f in files]
    with Reader(store) as r:
        (rec,) = r.runs()
        assert r.history(rec.id, ["x"])["x"] == [(s, s * 2) for s in range(2 * segments.SELF_COMPACT_EVERY + 20)]


def test_a_quiet_writer_is_looked_at_less_often_but_not_forgotten(tmp_path, monkeypatch):
    store = tmp_path / "store"
    run = tracktui.init(project="p", dir=str(store), settings={"shared": True})
    run.log({"x": 1}, step=0)
    run.finish()
    cache = tmp_path / "c"
    seen: dict[str, list[float]] = {}
    assert segments.fold(store, cache, seen=seen).records > 0
    (key,) = seen
    seen[key][0] -= segments.QUIET_AFTER + 1  # nothing new for a minute: quiet
    (_, d), = segments.writer_dirs(store)
    n = len(segments.seg_files(d))
    late = segments.line(n, segments.encode_record(("log", run.id, 1.0, "stdout", "late line")))
    segments.publish_file(d, segments._seg_name(n, n), segments._header() + late)
    assert segments.fold(store, cache, seen=seen).records == 0  # looked at a moment ago
    seen[key][1] -= segments.QUIET_EVERY + 1
    assert segments.fold(store, cache, seen=seen).records == 1  # and again after QUIET_EVERY


# ---------------------------------------------------------------- artifacts


def _art_segment(root, writer: str, seq: int, records) -> None:  # type: ignore[no-untyped-def]
    d = root / shared.SEGMENTS_DIR / writer
    d.mkdir(parents=True, exist_ok=True)
    data = segments._header() + b"".join(segments.line(seq, segments.encode_record(r)) for r in records)
    segments.publish_file(d, segments._seg_name(seq, seq), data)


def _numbers(cache) -> dict[int, tuple[str, list[str], str | None]]:  # type: ignore[no-untyped-def]
    from tracktui.store import artifacts as sart

    with Reader(cache) as r:
        vs = sart.versions(r, name="x")
        return {v.version: (v.digest, v.aliases, v.run_id, sart.users(r, v.id)) for v in vs}


def test_versions_are_numbered_alike_whatever_order_a_reader_folds_them_in(tmp_path):
    from tracktui.store import artifacts as sart
    from tracktui.store import shared_artifacts as sa

    def rec(writer, n, at, content, aliases, run):  # type: ignore[no-untyped-def]
        files = [sart.FileRow("f", hashlib.sha256(content).hexdigest(), len(content))]
        return sa.log_record(writer=writer, n=n, at=at, project="p", name="x", type="model", files=files,
                             description=None, metadata={"at": at}, aliases=aliases, run_id=run)

    root = tmp_path / "store"
    a1 = rec("h1/a", 1, 2.0, b"A", ["mine"], "ra")
    b1 = rec("h2/b", 1, 1.0, b"B", ["theirs"], "rb")
    a2 = rec("h1/a", 2, 3.0, b"B", ["mine"], "ra")  # B's content again: B's version, alias "mine" moves
    use = sa.use_record(writer="h1/a", n=3, at=3.5, run_id="ra", project="p", name="x",
                        digest=b1[1]["digest"])
    early = tmp_path / "early"
    _art_segment(root, "h1/a", 0, [a1])
    segments.fold(root, early)
    assert {k: v[0] for k, v in _numbers(early).items()} == {0: a1[1]["digest"]}
    _art_segment(root, "h1/a", 1, [a2, use])  # uses B's content before B's own record is published
    segments.fold(root, early)
    _art_segment(root, "h2/b", 0, [b1])  # published last, logged first: it becomes v0
    segments.fold(root, early)
    late = tmp_path / "late"
    segments.fold(root, late)
    assert _numbers(early) == _numbers(late) == {
        0: (b1[1]["digest"], ["mine", "theirs"], "rb", ["ra"]),
        1: (a1[1]["digest"], ["latest"], "ra", []),
    }
    segments.fold(root, early)  # folding again changes nothing
    assert _numbers(early) == _numbers(late)


def test_artifacts_round_trip_in_forced_shared_mode(tmp_path):
    store = tmp_path / "store"
    f = tmp_path / "w.bin"
    f.write_bytes(b"weights")
    run = tracktui.init(project="p", dir=str(store), settings={"shared": True})
    art = tracktui.Artifact("m", type="model")
    art.add_file(str(f))
    run.log_artifact(art, aliases=["best"])
    assert art.name == "m:v0" and art.aliases == ["latest", "best"]
    again = tracktui.Artifact("m", type="model")
    again.add_file(str(f))
    run.log_artifact(again)
    assert again.name == "m:v0"  # the same content: the same version
    got = run.use_artifact("m:best")
    assert got.name == "m:v0" and [e.path for e in got.files()] == ["w.bin"]
    run.finish()
    assert not list(store.rglob("tracktui.db*"))
    out = tracktui.Api(str(store)).artifact("m:latest").download(root=tmp_path / "dl")
    assert (tmp_path / "dl" / "w.bin").read_bytes() == b"weights" and out == str(tmp_path / "dl")
    shared.folder(store).fold_now()  # this process's reader folds every half second: now, not in a moment
    assert [r.id for r in tracktui.Api(str(store)).artifact("m:v0").used_by()] == [run.id]


def test_compact_removes_blob_temps_a_killed_writer_left_an_hour_ago(tmp_path):
    import os
    import time

    from tracktui.store import shared_artifacts as sa

    root = tmp_path / "store"
    sha = hashlib.sha256(b"x").hexdigest()
    assert sa.write_blob(root, sha, b"x") and not sa.write_blob(root, sha, b"x")  # written once, then kept
    old, fresh = root / "blobs" / sha[:2] / f".{sha}.dead.tmp", root / "blobs" / sha[:2] / f".{sha}.live.tmp"
    old.write_bytes(b"half")
    fresh.write_bytes(b"half")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert segments.compact(root).removed_temps == 1
    assert not old.exists() and fresh.exists() and (root / "blobs" / sha[:2] / sha).read_bytes() == b"x"


def _log_everything(run, flush=None):
    """One script, logged the same way into a local store and a shared one: NaN, Inf, -0.0, None, text, ints,
    several keys, buckets crossed, steps rewritten, define_metric summaries, summary set by hand."""
    run.define_metric("acc", summary="max")
    run.define_metric("loss", summary="min,mean,last")
    run.define_metric("val/*", summary="best", goal="maximize")
    specials = [math.nan, math.inf, -math.inf, -0.0, None, "text", 7, 2**40]
    for step in range(700):
        data = {"loss": 1.0 / (step + 1) + step * 0.1, "acc": (step * 37 % 101) / 101}
        if step % 50 == 0:
            data["odd"] = specials[(step // 50) % len(specials)]
        if step % 3 == 0:
            data["val/a"] = math.sin(step)
        if step in (250, 255, 256, 513):
            data["acc"] = math.inf if step != 513 else math.nan
        run.log(data, step=step)
        if flush is not None and step % 90 == 89:
            flush()
    run.log({"loss": 5.0, "acc": math.nan}, step=10)  # rewrites: buckets recomputed from history
    run.log({"loss": -0.0}, step=300)
    run.log({"loss": 0.25}, step=700)
    run.summary["by_hand"] = {"x": 1}
    run.finish()


def _dump(db):
    """History, rollups, steps and the run row of the one run in a SQLite store, keyed by metric name."""
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        hist = conn.execute("SELECT m.key, h.step, h.value, h.kind, h.text FROM history h JOIN metrics m ON "
                            "m.id = h.metric_id ORDER BY m.key, h.step").fetchall()
        roll = conn.execute("SELECT m.key, r.bucket, r.first_step, r.last_step, r.n, r.vmin, r.vmax, r.vsum, "
                            "r.n_special FROM history_rollup r JOIN metrics m ON m.id = r.metric_id "
                            "ORDER BY m.key, r.bucket").fetchall()
        steps = [s for (s,) in conn.execute("SELECT step FROM steps ORDER BY step")]
        run = conn.execute("SELECT summary, metric_defs, last_step, state, config FROM runs").fetchall()
    finally:
        conn.close()
    return hist, roll, steps, run


def test_a_fold_stores_what_the_local_writer_stores(tmp_path, monkeypatch):
    """The same script in local mode and in shared mode (folded in small chunks, a few segments at a time,
    then again: nothing changes): the same history, rollups, steps and summary. vsum alone may differ in
    its last bits (a sum of floats depends on how the points were batched)."""
    local = tmp_path / "local"
    run = tracktui.init(project="p", id="same", dir=str(local), settings={"shared": False})
    _log_everything(run)

    store = tmp_path / "shared"
    cache = tmp_path / "cache-a"
    monkeypatch.setattr(segments, "FOLD_CHUNK", 37)
    run = tracktui.init(project="p", id="same", dir=str(store), settings={"shared": True})
    w = run._writer_for_this_process()

    def flush():
        assert w.flush(30)
        segments.fold(store, cache)

    _log_everything(run, flush)
    segments.fold(store, cache)
    from tracktui.store.paths import db_path

    want = _dump(db_path(local))
    got = _dump(db_path(cache))
    assert segments.fold(store, cache).records == 0 and _dump(db_path(cache)) == got  # folding again: nothing
    assert len(got[0]) > 1600 and any(k == 4 for *_, k, _ in got[0])  # the script logged what it meant to
    assert got[0] == want[0]  # history, NaN and Inf kinds, -0.0, text and None included
    assert [r[:7] + r[8:] for r in got[1]] == [r[:7] + r[8:] for r in want[1]]
    assert all(g[7] == pytest.approx(w_[7], rel=1e-12, abs=1e-12) for g, w_ in zip(got[1], want[1], strict=True))
    assert got[2] == want[2]
    assert got[3] == want[3]  # summary (define_metric's min, max, mean, best; NaN, Inf), metric_defs, last_step
    assert "by_hand" in got[3][0][0] and '"acc": {"max"' in got[3][0][0].replace(" ", " "), got[3][0][0]


def test_history_lines_are_the_short_forms_json_byte_for_byte():
    # the writer formats a plain history record's line itself (no general encoder): the bytes must be the
    # JSON of the short form, so segments written before and after read the same; anything not plain takes
    # the tagged form and comes back exactly
    odd = "k\u00e9\"\\\n\u2028\udcff"
    plain = [("history", "r1", 7, 1.7e9 + 0.123456, [("loss", 0.1, 0, None), (odd, 3, 0, odd), ("n", None, 6, None),
                                                       ("big", 2**70, 0, None), ("tiny", -5e-324, 0, "t")], True),
             ("history", odd, 0, -0.0, [], False)]
    for rec in plain:
        enc = segments.encode_record(rec)
        assert enc == segments._dumps(segments._plain_history(rec)).encode("ascii")
        assert segments.parse(segments._header() + segments.line(1, enc)).records[0][1][1:4] == rec[1:4]
    tagged = [("history", "r", 1, 1.0, [("x", float("nan"), 1, None)], False),
              ("history", "r", 1, 1.0, [("x", -0.0, 0, None)], False),
              ("history", "r", 1, 1.0, [("x", True, 0, None)], False),
              ("history", "r", 1, 1.0, [("x", 1.0, 0, b"bytes")], False),
              ("history", "r", 1, float("inf"), [("x", 1.0, 0, None)], False)]
    for rec in tagged:
        enc = segments.encode_record(rec)
        assert not enc.startswith(b'["H"')
        (_, back), = segments.parse(segments._header() + segments.line(1, enc)).records
        assert repr(back) == repr(rec)
