"""Shared-filesystem mode on a real network filesystem: an sshfs mount through an sshd on the loopback.

Writers are real processes logging through the mount; readers fold the published segments into a SQLite
cache on local disk. Faults: kill -9 of a writer mid-publish and of a reader mid-fold, the mount dropped
(fusermount -uz) and brought back, a segment of random bytes, a damaged line, a segment of a newer version.
Counts are exact. Skipped, saying why, where sshd, sshfs or FUSE are missing.
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from tracktui.store import segments, shared
from tracktui.store.reader import Reader

pytestmark = pytest.mark.timeout(300)

# A writer process: logs steps 0..n-1 (loss = step * 0.5, acc = step), prints a console line every `every`
# steps, and after each flush() that returned True writes the last step it knows is published to `confirm`
# (on local disk). Optional sleep between steps.
WRITER = textwrap.dedent("""
    import os, sys, time
    import tracktui
    store, run_id, n, every, confirm, pause = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), \\
        sys.argv[5], float(sys.argv[6])
    run = tracktui.init(project="shared", id=run_id, name=run_id, dir=store, config={"n": n})
    w = run._writer_for_this_process()
    for step in range(n):
        run.log({"loss": step * 0.5, "acc": step}, step=step)
        if step % every == every - 1:
            print(f"line {step}", flush=True)
            if w.flush(30):
                with open(confirm, "w") as f:
                    f.write(str(step))
        if pause:
            time.sleep(pause)
    run.summary["done"] = True
    run.finish()
""")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKTUI_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env.update(extra)
    return env


def _start_writer(tmp_path: Path, store: Path, run_id: str, n: int, every: int = 500, pause: float = 0.0,
                  **env: str) -> tuple[subprocess.Popen[str], Path]:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    confirm = tmp_path / f"confirm-{run_id}"
    p = subprocess.Popen([sys.executable, str(script), str(store), run_id, str(n), str(every), str(confirm),
                          str(pause)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=_env(tmp_path, **env))
    return p, confirm


def _confirmed(confirm: Path) -> int:
    try:
        return int(confirm.read_text() or -1)
    except (FileNotFoundError, ValueError):
        return -1


def _wait_confirmed(p: subprocess.Popen[str], confirm: Path, at_least: int, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        c = _confirmed(confirm)
        if c >= at_least:
            return c
        if p.poll() is not None:
            raise AssertionError(f"writer ended early ({p.returncode}): {p.stderr.read() if p.stderr else ''}")
        time.sleep(0.05)
    raise AssertionError(f"writer did not publish step {at_least} in {timeout}s")


def _fold(store: Path, cache: Path) -> segments.FoldResult:
    return segments.fold(store, cache)


def _steps(cache: Path, run_id: str, key: str = "loss") -> list[tuple[int, float]]:
    with sqlite3.connect(cache / "tracktui.db") as c:
        return c.execute("SELECT h.step, h.value FROM history h JOIN metrics m ON m.id = h.metric_id "
                         "WHERE m.run_id = ? AND m.key = ? ORDER BY h.step", (run_id, key)).fetchall()


def _count(cache: Path, sql: str, *params: object) -> int:
    with sqlite3.connect(cache / "tracktui.db") as c:
        return int(c.execute(sql, params).fetchone()[0])


def _no_sqlite_on(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.name.startswith("tracktui.db") or p.suffix in (".db", "-wal", "-shm")]


# ---------------------------------------------------------------- detection


def test_network_filesystem_chooses_shared_mode_and_overrides(mount, tmp_path, monkeypatch):
    store = mount.mnt / "store"
    assert mount.fstype() == "fuse.sshfs"
    shared._detected.clear()
    assert shared.is_shared(store)
    assert not shared.is_shared(tmp_path / "local")
    monkeypatch.setenv("TRACKTUI_SHARED", "0")
    assert not shared.is_shared(store)
    monkeypatch.setenv("TRACKTUI_SHARED", "1")
    assert shared.is_shared(tmp_path / "local")
    # The cache is on local disk, not on the mount.
    assert shared.cache_root(store).is_relative_to(tmp_path / "cache")


# ---------------------------------------------------------------- writers and a reader at once


def test_writers_through_the_mount_while_a_reader_watches(mount, tmp_path):
    store = mount.mnt / "store"
    n, every = 3000, 300
    procs = [_start_writer(tmp_path, store, f"w{i}", n, every, pause=0.0005) for i in range(3)]
    seen_live: dict[str, set[int]] = {f"w{i}": set() for i in range(3)}
    shared._detected.clear()
    deadline = time.monotonic() + 240
    done = False
    while time.monotonic() < deadline and not done:
        with Reader(store) as r:  # the store's root: the Reader opens the folded cache by itself
            assert r.root != store
            runs = {x.id: x for x in r.runs(project="shared")}
        for rid, rec in runs.items():
            if rec.last_step is not None:
                seen_live[rid].add(rec.last_step)
        done = len(runs) == 3 and all(x.state == "finished" and x.summary.get("done") for x in runs.values())
        time.sleep(0.2)
    outs = [(p.wait(60), p.stderr.read() if p.stderr else "") for p, _ in procs]
    assert all(rc == 0 for rc, _ in outs), outs
    assert done, "the reader did not see the three runs finish"
    cache = shared.cache_root(store)
    for i in range(3):
        rid = f"w{i}"
        assert _steps(cache, rid) == [(s, s * 0.5) for s in range(n)]
        assert _count(cache, "SELECT count(*) FROM history h JOIN metrics m ON m.id = h.metric_id "
                             "WHERE m.run_id = ? AND m.key = 'acc'", rid) == n
        lines = _count(cache, "SELECT count(*) FROM logs WHERE run_id = ? AND line LIKE 'line %'", rid)
        assert lines == n // every
        assert len(seen_live[rid]) >= 2, f"{rid} was only seen at {seen_live[rid]}"  # watched while it ran
    assert _no_sqlite_on(mount.remote) == []  # no SQLite file, lock or WAL on the shared filesystem
    assert list((mount.remote / "store").glob(shared.MARKER))


# ---------------------------------------------------------------- kill -9


def test_kill_9_of_a_writer_mid_publish_loses_nothing_published(mount, tmp_path):
    store = mount.mnt / "store"
    p, confirm = _start_writer(tmp_path, store, "victim", 10**7, every=200)
    confirmed = _wait_confirmed(p, confirm, 3000)
    p.send_signal(signal.SIGKILL)
    p.wait(30)
    cache = tmp_path / "cache1"
    res = _fold(store, cache)
    assert res.skipped_lines == 0 and res.skipped_files == 0
    got = _steps(cache, "victim")
    last = got[-1][0]
    assert last >= confirmed
    assert got == [(s, s * 0.5) for s in range(last + 1)]  # a whole prefix: no hole, nothing misread
    with sqlite3.connect(cache / "tracktui.db") as c:  # console lines are captured on a thread: a prefix
        lines = [r[0] for r in c.execute("SELECT line FROM logs WHERE run_id = 'victim' AND line LIKE 'line %' "
                                         "ORDER BY seq")]
    assert lines == [f"line {s}" for s in range(199, 200 * len(lines), 200)]


def test_kill_9_of_a_reader_mid_fold_loses_and_doubles_nothing(mount, tmp_path):
    store = mount.mnt / "store"
    n, every = 60_000, 20
    p, _ = _start_writer(tmp_path, store, "big", n, every)
    out = p.communicate(timeout=240)
    assert p.returncode == 0, out
    cache = tmp_path / "cache-kill"
    folder = tmp_path / "folder.py"
    folder.write_text("import sys\nfrom pathlib import Path\nfrom tracktui.store import segments\n"
                      "print('start', flush=True)\nsegments.fold(Path(sys.argv[1]), Path(sys.argv[2]))\n")
    for delay in (0.3, 0.6, 1.0):
        r = subprocess.Popen([sys.executable, str(folder), str(store), str(cache)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=_env(tmp_path))
        assert r.stdout is not None and r.stdout.readline().strip() == "start"
        time.sleep(delay)
        r.send_signal(signal.SIGKILL)
        r.wait(30)
    _fold(store, cache)
    assert _steps(cache, "big") == [(s, s * 0.5) for s in range(n)]
    lines = _count(cache, "SELECT count(*) FROM logs WHERE run_id = 'big' AND line LIKE 'line %'")
    assert lines == n // every  # folded once each: a line folded twice would be counted twice
    again = _fold(store, cache)
    assert again.records == 0
    assert _count(cache, "SELECT count(*) FROM logs WHERE run_id = 'big'") == \
        _count(cache, "SELECT count(*) FROM logs WHERE run_id = 'big'")
    assert _count(cache, "SELECT count(*) FROM logs WHERE run_id = 'big' AND line LIKE 'line %'") == n // every


# ---------------------------------------------------------------- the mount goes away


def test_mount_dropped_mid_run_and_brought_back_sends_everything_later(mount, tmp_path):
    store = mount.mnt / "store"
    n = 6000
    p, confirm = _start_writer(tmp_path, store, "outage", n, every=100, pause=0.001)
    _wait_confirmed(p, confirm, 500)
    mount.drop()
    time.sleep(3)  # the writer keeps logging; its publications fail and are kept
    mount.mount()
    out, err = p.communicate(timeout=240)
    assert p.returncode == 0, err
    assert "retried" in err  # one message said the records wait
    cache = tmp_path / "cache-outage"
    _fold(store, cache)
    assert _steps(cache, "outage") == [(s, s * 0.5) for s in range(n)]
    assert _no_sqlite_on(mount.mnt) == []


def test_mount_gone_at_exit_counts_what_was_lost_in_one_warning(mount, tmp_path):
    store = mount.mnt / "store"
    p, confirm = _start_writer(tmp_path, store, "gone", 4000, every=100, pause=0.001)
    confirmed = _wait_confirmed(p, confirm, 300)
    mount.drop()
    out, err = p.communicate(timeout=240)
    assert p.returncode == 0, err  # training never crashes
    lost = [ln for ln in err.splitlines() if "could not be published" in ln]
    assert len(lost) == 1, err
    count = int(lost[0].split("tracktui: ")[1].split()[0])
    mount.mount()
    cache = tmp_path / "cache-gone"
    _fold(store, cache)
    got = _steps(cache, "gone")
    assert got[-1][0] >= confirmed and got == [(s, s * 0.5) for s in range(len(got))]
    assert count >= 4000 - len(got)  # every step not published is in the count (with the run's state records)


# ---------------------------------------------------------------- damaged and foreign segments


def test_random_bytes_damaged_lines_and_a_newer_version_are_skipped(mount, tmp_path, caplog):
    store = mount.mnt / "store"
    p, _ = _start_writer(tmp_path, store, "ok", 500, every=100)
    assert p.wait(120) == 0
    seg = store / shared.SEGMENTS_DIR / "otherhost"
    (seg / "1-junk").mkdir(parents=True)
    (seg / "1-junk" / "0000000000-0000000000.seg").write_bytes(os.urandom(4096))
    (seg / "2-newer").mkdir()
    newer = b"tracktui-segment 99\n" + segments.line(0, segments.encode_record(("log", "ok", 1.0, "stdout", "x")))
    (seg / "2-newer" / "0000000000-0000000000.seg").write_bytes(newer)
    (seg / "3-torn").mkdir()
    good = segments.line(0, segments.encode_record(("log", "ok", 2.0, "stdout", "from torn")))
    bad = bytearray(segments.line(0, segments.encode_record(("log", "ok", 3.0, "stdout", "flipped"))))
    bad[-5] ^= 0x01  # one bit flipped in the body: the checksum says so
    torn = segments.line(0, segments.encode_record(("log", "ok", 4.0, "stdout", "torn tail")))[:-7]
    (seg / "3-torn" / "0000000000-0000000000.seg").write_bytes(
        segments._header() + good + bytes(bad) + torn)
    cache = tmp_path / "cache-bad"
    with caplog.at_level(logging.WARNING, logger="tracktui"):
        res = _fold(store, cache)
        res2 = _fold(store, cache)
    assert res.skipped_files == 2 and res.skipped_lines == 2
    assert res2.records == 0
    assert _steps(cache, "ok") == [(s, s * 0.5) for s in range(500)]
    lines = [r[0] for r in sqlite3.connect(cache / "tracktui.db").execute(
        "SELECT line FROM logs WHERE run_id = 'ok' AND line NOT LIKE 'line %' AND stream = 'stdout'")]
    assert "from torn" in lines and "flipped" not in lines and "torn tail" not in lines and "x" not in lines
    msgs = [r.getMessage() for r in caplog.records]
    assert sum("newer tracktui" in m for m in msgs) == 1
    assert sum("not a tracktui segment" in m for m in msgs) == 1
    assert sum("damaged lines" in m for m in msgs) == 1


# ---------------------------------------------------------------- compact and sync


def test_compact_while_a_writer_runs_drops_no_record(mount, tmp_path):
    store = mount.mnt / "store"
    n = 4000
    p, confirm = _start_writer(tmp_path, store, "cmp", n, every=50, pause=0.0005)  # a segment per 50 steps
    cache = tmp_path / "cache-live"
    merged = 0
    while p.poll() is None:
        merged += segments.compact(store).merged_files
        _fold(store, cache)  # a reader folding at the same time
        time.sleep(0.1)
    assert p.returncode == 0, p.stderr.read() if p.stderr else ""
    merged += segments.compact(store).merged_files
    assert merged > 10
    files = [f for _, d in segments.writer_dirs(store) for f in segments.seg_files(d)]
    assert len(files) == 1  # one writer, everything merged into one file
    _fold(store, cache)
    fresh = tmp_path / "cache-fresh"
    _fold(store, fresh)
    for c in (cache, fresh):
        assert _steps(c, "cmp") == [(s, s * 0.5) for s in range(n)]
        assert _count(c, "SELECT count(*) FROM logs WHERE run_id = 'cmp' AND line LIKE 'line %'") == n // 50


def test_sync_and_compact_commands(mount, tmp_path):
    store = mount.mnt / "store"
    p, _ = _start_writer(tmp_path, store, "s1", 1000, every=100)
    assert p.wait(120) == 0, p.stderr.read() if p.stderr else ""
    local = tmp_path / "local"
    tracktui = Path(sys.executable).parent / "tracktui"
    cmd = [str(tracktui)] if tracktui.exists() else [sys.executable, "-m", "tracktui.tui.cli"]
    r = subprocess.run([*cmd, "--dir", str(store), "compact"], capture_output=True, text=True,
                       env=_env(tmp_path), timeout=120)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([*cmd, "sync", "--from", str(store), "--to", str(local)], capture_output=True, text=True,
                       env=_env(tmp_path), timeout=120)
    assert r.returncode == 0, r.stderr
    assert (local / "tracktui.db").exists()
    assert _steps(local, "s1") == [(s, s * 0.5) for s in range(1000)]
    with Reader(local) as rd:
        (rec,) = rd.runs()
        assert rec.state == "finished" and rec.summary["done"] is True and rec.config == {"n": 1000}


def test_tracktui_shared_0_keeps_sqlite_on_the_mount(mount, tmp_path):
    store = mount.mnt / "sqlite-store"
    p, _ = _start_writer(tmp_path, store, "sq", 200, every=100, TRACKTUI_SHARED="0")
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert (mount.remote / "sqlite-store" / "tracktui.db").exists()
    assert not (mount.remote / "sqlite-store" / shared.MARKER).exists()
    shared._detected.clear()
    assert not shared.is_shared(store)  # a reader without the setting reads the SQLite store there
    with Reader(store) as r:
        assert r.root == store
        assert [x.id for x in r.runs()] == ["sq"]


def test_sigterm_publishes_what_was_logged_and_the_killed_state(mount, tmp_path):
    store = mount.mnt / "store"
    p, confirm = _start_writer(tmp_path, store, "term", 10**7, every=1000, pause=0.0002)
    confirmed = _wait_confirmed(p, confirm, 1999)
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=60)
    cache = tmp_path / "cache-term"
    _fold(store, cache)
    got = _steps(cache, "term")
    assert got[-1][0] >= confirmed and got == [(s, s * 0.5) for s in range(len(got))]
    with Reader(cache) as r:
        (rec,) = r.runs()
    assert rec.state == "killed" and rec.last_step == got[-1][0]


def test_writers_on_two_hosts_each_get_a_directory_and_a_third_host_reads_both(mount, tmp_path):
    """Hosts as UTS namespaces (unshare --uts): node-a and node-b write, this host reads."""
    probe = subprocess.run(["unshare", "--uts", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"unshare --uts is not allowed here: {probe.stderr.decode(errors='replace').strip()}")
    store = mount.mnt / "store"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    procs = []
    for host in ("node-a", "node-b"):
        cmd = (f"hostname {host} && exec {sys.executable} {script} {store} run-{host} 800 100 "
               f"{tmp_path / ('c-' + host)} 0")
        procs.append(subprocess.Popen(["unshare", "--uts", "sh", "-c", cmd], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, env=_env(tmp_path)))
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert sorted(h.name for h in (mount.remote / "store" / shared.SEGMENTS_DIR).iterdir()) == ["node-a", "node-b"]
    shared._detected.clear()
    with Reader(store) as r:
        runs = {x.id: x for x in r.runs()}
    assert {rid: (x.host, x.state, x.last_step) for rid, x in runs.items()} == {
        "run-node-a": ("node-a", "finished", 799), "run-node-b": ("node-b", "finished", 799)}


async def test_the_app_shows_a_shared_store_live(mount, tmp_path):
    from tracktui.tui.app import make_app
    from tracktui.tui.screens.runs import RunsScreen
    from tracktui.tui.widgets.runs_table import RunsTable

    store = mount.mnt / "store"
    p, confirm = _start_writer(tmp_path, store, "live", 10**7, every=100, pause=0.001)
    try:
        _wait_confirmed(p, confirm, 199)
        shared._detected.clear()
        app = make_app(store_dir=store, poll_interval=0.3)
        async with app.run_test(size=(160, 30)) as pilot:
            async def until(cond, timeout=90.0):  # type: ignore[no-untyped-def]
                end = time.monotonic() + timeout
                while not cond():
                    assert time.monotonic() < end, "not reached in time"
                    await pilot.pause(0.1)

            await until(lambda: isinstance(app.screen, RunsScreen) and app.screen.loaded)
            table = app.screen.query_one(RunsTable)
            await until(lambda: "live" in table.model)
            first = table.model["live"].last_step or 0
            await until(lambda: (table.model["live"].last_step or 0) > first + 100)  # live, through the fold
            assert table.model["live"].state == "running"
    finally:
        p.kill()
        p.wait(30)


HUNG_WRITER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    import tracktui
    store, flags = sys.argv[1], Path(sys.argv[2])
    run = tracktui.init(project="shared", id="hung", name="hung", dir=store)
    for step in range(1000):
        run.log({"loss": step * 0.5}, step=step)
    assert run._writer_for_this_process().flush(60)
    (flags / "published").write_text("1")
    while not (flags / "hung").exists():
        time.sleep(0.02)
    for step in range(1000, 6000):  # the mount is hung: log() must not wait for it
        run.log({"loss": step * 0.5}, step=step)
    (flags / "logged").write_text("1")
    run.finish()
""")


def test_a_hung_mount_does_not_block_log(mount, tmp_path):
    """sshd's session processes stopped (SIGSTOP): every filesystem call on the mount hangs. 5,000 log()
    calls (under the queue's bound) still return; once the server goes on, everything is published."""
    store = mount.mnt / "store"
    script = tmp_path / "hung.py"
    script.write_text(HUNG_WRITER)
    flags = tmp_path / "flags"
    flags.mkdir()
    p = subprocess.Popen([sys.executable, str(script), str(store), str(flags)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=_env(tmp_path))
    sessions: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while not (flags / "published").exists():
            assert p.poll() is None and time.monotonic() < deadline, p.stderr.read() if p.stderr else ""
            time.sleep(0.05)
        assert mount.sshd is not None
        todo = [mount.sshd.pid]
        while todo:  # the connection's processes: every descendant of the listening sshd
            out = subprocess.run(["pgrep", "-P", str(todo.pop())], capture_output=True, text=True).stdout
            kids = [int(x) for x in out.split()]
            sessions += kids
            todo += kids
        assert sessions, "no sshd session process to stop"
        def published() -> list[str]:  # seen on the server's side, not through the mount
            return sorted(f.name for f in (mount.remote / "store" / shared.SEGMENTS_DIR).rglob("*.seg"))

        for pid in sessions:
            os.kill(pid, signal.SIGSTOP)
        before = published()
        (flags / "hung").write_text("1")
        deadline = time.monotonic() + 120
        while not (flags / "logged").exists():  # log() returned 5,000 times while nothing reached the mount
            assert p.poll() is None and time.monotonic() < deadline, "log() blocked on the hung mount"
            time.sleep(0.05)
        time.sleep(2 * segments.PUBLISH_INTERVAL + 0.5)
        assert published() == before  # the mount was hung indeed: no publication went through
    finally:
        for pid in sessions:
            os.kill(pid, signal.SIGCONT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    cache = tmp_path / "cache-hung"
    _fold(store, cache)
    assert _steps(cache, "hung") == [(s, s * 0.5) for s in range(6000)]
