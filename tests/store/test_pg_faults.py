"""Faults against a real PostgreSQL server (a private one: restarting or killing it touches nothing else).

A training script logs at a steady pace while the server is restarted, killed with kill -9, or away when
the script ends; afterwards every point and console line is stored exactly once, log() never waited long,
and the script exited normally. Authentication refused and a missing database fail init() clearly, without
the password.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import tracktui
from tracktui.store import Reader, StoreError
from tracktui.store.writer import Writer

from tests import pg_private
from tests.conftest import close_writers, pg_available

pytestmark = pytest.mark.skipif(bool(pg_available() or pg_private.unavailable()),
                                reason=str(pg_available() or pg_private.unavailable()))

WRITER = """
import os, sys, time, tracktui
n, pace = int(sys.argv[1]), float(sys.argv[2])
run = tracktui.init(store=os.environ["STORE"], project="faults",
                    settings={"system": False, "git": False, "requirements": False, "metadata": False})
print("started", run.id, flush=True)
worst = 0.0
for i in range(n):
    t = time.perf_counter()
    run.log({"x": float(i), "y": i * 0.5})
    if i % 50 == 0:
        print(f"line {i}", flush=True)
    worst = max(worst, time.perf_counter() - t)
    time.sleep(pace)
run.finish()
sys.__stdout__.write(f"worst {worst:.3f}\\n")
"""


@pytest.fixture(scope="module")
def server():
    srv = pg_private.PrivateServer()
    srv.start()
    yield srv
    srv.close()


@pytest.fixture
def db(server, tmp_path, monkeypatch):
    import secrets

    name = f"faults_{secrets.token_hex(4)}"
    server.sql(f"CREATE DATABASE {name}")
    monkeypatch.setenv("TRACKTUI_SPOOL_DIR", str(tmp_path / "spool"))
    yield server.url(name)
    close_writers()
    from tracktui.store import postgres

    postgres.close_idle()
    if server.proc is not None and server.proc.poll() is None:
        server.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _start_writer(url: str, n: int, pace: float, tmp_path) -> subprocess.Popen[str]:
    env = {**os.environ, "STORE": url, "TRACKTUI_DIR": str(tmp_path / "local"),
           "TRACKTUI_SPOOL_DIR": str(tmp_path / "spool")}
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(WRITER), str(n), str(pace)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("started"), first + (proc.stderr.read() if proc.stderr else "")
    proc.run_id = first.split()[1]  # type: ignore[attr-defined]
    return proc


def _finish(proc: subprocess.Popen[str], timeout: float = 120) -> tuple[str, str]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    return out, err


def _check_exact(url: str, run_id: str, n: int) -> None:
    with Reader(url) as r:
        rec = r.run(run_id)
        assert rec is not None and rec.state == "finished" and rec.last_step == n - 1
        h = r.history(run_id, ["x", "y"])
        assert [s for s, _ in h["x"]] == list(range(n))
        assert [v for _, v in h["x"]] == [float(i) for i in range(n)]
        assert len(h["y"]) == n
        s = r.sampled(run_id, "x", 20)
        assert sum(s.count) == n  # the rollup counted every point once
        lines = [x[3] for x in r.logs(run_id, limit=10**6) if x[3].startswith("line ")]
        assert lines == [f"line {i}" for i in range(0, n, 50)]  # each console line once, in order
        seqs = [x[0] for x in r.logs(run_id, limit=10**6)]
        assert len(seqs) == len(set(seqs))


def _worst(out: str) -> float:
    return float(next(line for line in out.splitlines() if line.startswith("worst")).split()[1])


def test_server_restarted_mid_run(server, db, tmp_path):
    n = 2500
    proc = _start_writer(db, n, 0.002, tmp_path)
    time.sleep(2.0)
    server.stop("fast")
    time.sleep(1.5)
    server.start()
    out, err = _finish(proc)
    _check_exact(db, proc.run_id, n)  # type: ignore[attr-defined]
    assert _worst(out) < 1.0, out
    assert "does not answer" in err  # one message that the store was away


def test_server_killed_with_kill9_mid_run(server, db, tmp_path):
    n = 2500
    proc = _start_writer(db, n, 0.002, tmp_path)
    time.sleep(2.0)
    server.kill9()
    time.sleep(3.0)
    server.start()  # crash recovery, then the writer's probe finds it
    out, _ = _finish(proc)
    _check_exact(db, proc.run_id, n)  # type: ignore[attr-defined]
    assert _worst(out) < 1.0, out


def test_script_ends_while_server_is_away_then_tracktui_sync(server, db, tmp_path):
    n = 1500
    proc = _start_writer(db, n, 0.002, tmp_path)
    time.sleep(1.0)
    server.stop("fast")
    out, err = _finish(proc)  # finish() does not wait for the server: the rest is in the spool
    assert "tracktui sync --to" in err and "***" not in err
    spools = list((tmp_path / "spool").rglob("*.spool"))
    assert len(spools) == 1
    server.start()
    env = {**os.environ, "TRACKTUI_SPOOL_DIR": str(tmp_path / "spool")}
    cli = [sys.executable, "-m", "tracktui.cli", "sync", "--to", db]
    first = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "from 1 spool files" in first.stderr
    _check_exact(db, proc.run_id, n)  # type: ignore[attr-defined]
    again = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=120)
    assert "sent 0 spooled records" in again.stderr
    _check_exact(db, proc.run_id, n)  # type: ignore[attr-defined]
    assert not list((tmp_path / "spool").rglob("*.spool"))


def test_batch_retried_after_a_lost_acknowledgement_is_stored_once(db):
    run = tracktui.init(store=db, settings={"capture": False})
    w = run._writer
    records = [("history", run.id, i, time.time(), [("x", float(i), 0, None)], False) for i in range(100)]
    records += [("log", run.id, time.time(), "stdout", f"line {i}") for i in range(10)]
    for r in records:
        w.put(r)
    w.flush()
    head = w._head
    # The COMMIT went through but its acknowledgement was lost: the writer still holds the batch and retries.
    with w._write_lock:
        w._queue.extendleft(reversed(records))
        w._head = head - len(records)
        w._in_doubt = True
    w.flush()
    run.log({"x": 100.0}, step=100)
    run.finish()
    with Reader(db) as r:
        assert [s for s, _ in r.history(run.id, ["x"])["x"]] == list(range(101))
        assert sum(r.sampled(run.id, "x", 10).count) == 101
        assert [x[3] for x in r.logs(run.id)] == [f"line {i}" for i in range(10)]


def test_authentication_refused_and_database_missing(server, tmp_path, monkeypatch):
    server.sql("DROP ROLE IF EXISTS tt_user")
    server.sql("CREATE ROLE tt_user LOGIN PASSWORD 's3cret-pw'")
    server.sql("GRANT CREATE ON DATABASE postgres TO tt_user")
    hba = server.data / "pg_hba.conf"
    text = hba.read_text()
    hba.write_text(f"host all tt_user {server.host}/32 scram-sha-256\n" + text)
    server.sql("SELECT pg_reload_conf()")
    time.sleep(0.5)
    try:
        with pytest.raises(StoreError) as bad:
            tracktui.init(store=server.url(user="tt_user", password="wrong-pw"), settings={"capture": False})
        assert "refused the credentials" in str(bad.value) and "wrong-pw" not in str(bad.value)
        with pytest.raises(StoreError) as missing:
            tracktui.init(store=server.url(db="no_such_db"), settings={"capture": False})
        assert "does not exist" in str(missing.value)
        # the right password from PGPASSWORD: accepted, and it reaches neither the store nor a log line
        monkeypatch.setenv("PGPASSWORD", "s3cret-pw")
        url = server.url(user="tt_user")
        run = tracktui.init(store=url, settings={"system": False, "git": False, "requirements": False})
        print(f"the store is {run._root}")  # the store a run writes to, as a script might print it
        run.log({"x": 1.0})
        run.finish()
        monkeypatch.delenv("PGPASSWORD")
        with_pw = server.url(user="tt_user", password="s3cret-pw")
        run2 = tracktui.init(store=with_pw, settings={"system": False, "git": False, "requirements": False})
        print(f"the store is {run2._root} ({run2._root!r})")
        run2.finish()
        dump = subprocess.run([str(server.bin / "pg_dump"), "-h", server.host, "-p", str(server.port), "-U",
                               "postgres", "-a", "postgres"], capture_output=True, text=True, check=True).stdout
        assert "tracktui" in dump and "s3cret-pw" not in dump
        assert "the store is postgresql://tt_user@" in dump  # the console line was stored, without password
    finally:
        close_writers()
        hba.write_text(text)
        server.sql("SELECT pg_reload_conf()")


def test_writer_keeps_one_connection_and_never_raises_while_away(server, db):
    run = tracktui.init(store=db, settings={"capture": False})
    errors: list[BaseException] = []

    def log_steadily() -> None:
        try:
            for i in range(600):
                run.log({"x": float(i)})
                time.sleep(0.003)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    t = threading.Thread(target=log_steadily)
    t.start()
    time.sleep(0.5)
    server.stop("fast")
    time.sleep(1.0)
    assert run._writer.offline
    server.start()
    t.join()
    deadline = time.monotonic() + 30
    while run._writer.offline and time.monotonic() < deadline:  # the probe finds the server again
        time.sleep(0.1)
    assert not run._writer.offline
    run.finish()
    assert not errors
    import psycopg

    with psycopg.connect(server.url(db.rsplit("/", 1)[1]), autocommit=True) as c:
        n = c.execute("SELECT count(*) FROM tracktui.history").fetchone()[0]
    assert n == 600
    assert isinstance(Writer._instances, dict)
