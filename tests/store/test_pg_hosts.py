"""Many hosts against one PostgreSQL server: writers in network namespaces (each its own host, with its own
veth and address), the connection cut under them, and the app watching from yet another namespace.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from tracktui.store import Reader

from tests import netns, pg_private
from tests.conftest import pg_available

_why = pg_available() or pg_private.unavailable() or netns.unavailable()
pytestmark = pytest.mark.skipif(bool(_why), reason=str(_why))

WRITER = """
import os, sys, time, tracktui
n, pace = int(sys.argv[1]), float(sys.argv[2])
run = tracktui.init(store=os.environ["STORE"], project=os.environ.get("PROJECT", "hosts"),
                    settings={"system": False, "git": False, "requirements": False, "metadata": False})
print("started", run.id, flush=True)
worst = 0.0
for i in range(n):
    t = time.perf_counter()
    run.log({"x": float(i)})
    if i % 100 == 0:
        print(f"line {i}", flush=True)
    worst = max(worst, time.perf_counter() - t)
    time.sleep(pace)
run.finish()
sys.__stdout__.write(f"worst {worst:.3f}\\n")
"""

APP = """
import asyncio, os, sys, time
from tracktui.tui.app import make_app
from tracktui.tui.widgets.runs_table import RunsTable

async def main():
    app = make_app(store_dir=os.environ["STORE"], poll_interval=0.5)
    async with app.run_test(size=(160, 50)) as pilot:
        end = time.monotonic() + float(sys.argv[1])
        while time.monotonic() < end:
            await pilot.pause(0.5)
            try:
                model = app.screen.query_one(RunsTable).model
            except Exception:
                continue
            running = sum(1 for r in model.values() if r.state == "running")
            steps = sum((r.last_step or 0) for r in model.values())
            print(len(model), running, steps, flush=True)
            if len(model) == int(sys.argv[2]) and running == 0:
                break

asyncio.run(main())
"""


def _env(url: str, tmp_path, name: str) -> dict[str, str]:
    return {**os.environ, "STORE": url, "TRACKTUI_DIR": str(tmp_path / f"local-{name}"),
            "TRACKTUI_SPOOL_DIR": str(tmp_path / f"spool-{name}")}


def _check(url: str, run_ids: list[str], n: int) -> None:
    with Reader(url) as r:
        for rid in run_ids:
            rec = r.run(rid)
            assert rec is not None and rec.state == "finished" and rec.last_step == n - 1, rid
            h = r.history(rid, ["x"])["x"]
            assert [s for s, _ in h] == list(range(n))
            assert sum(r.sampled(rid, "x", 10).count) == n
            lines = [x[3] for x in r.logs(rid, limit=10**6) if x[3].startswith("line ")]
            assert lines == [f"line {i}" for i in range(0, n, 100)]


def test_connection_cut_then_restored(tmp_path):
    with netns.Hosts(["a"]) as hosts:
        srv = pg_private.PrivateServer(listen=f"127.0.0.1,{hosts.host_ip('a')}")
        try:
            srv.start()
            srv.sql("CREATE DATABASE cut")
            url = srv.url("cut", host=hosts.host_ip("a"))
            n = 3000
            procs = []
            for _ in range(2):
                p = subprocess.Popen(hosts.cmd("a", [sys.executable, "-c", textwrap.dedent(WRITER), str(n), "0.004"]),
                                     env=_env(url, tmp_path, "a"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
                procs.append(p)
            ids = [p.stdout.readline().split()[1] for p in procs]  # type: ignore[union-attr]
            time.sleep(2.0)
            hosts.cut("a")  # a short cut: TCP carries on once the link is back
            time.sleep(3.0)
            hosts.heal("a")
            time.sleep(2.0)
            hosts.cut("a")  # a long cut: past tcp_user_timeout the batch fails, records go to the spool
            outs = [p.communicate(timeout=180) for p in procs]  # the scripts end during the cut
            for p, (out, err) in zip(procs, outs, strict=True):
                assert p.returncode == 0, err[-3000:]
                assert "tracktui sync --to" in err  # where the rest waits, and how to send it
                print("worst log() seconds:", out.split()[-1])
            hosts.heal("a")
            hosts.wait_reachable("a", hosts.host_ip("a"), srv.port)  # what a user does: sync once it answers
            sync = subprocess.run(hosts.cmd("a", [sys.executable, "-m", "tracktui.cli", "sync", "--to", url]),
                                  env=_env(url, tmp_path, "a"), capture_output=True, text=True, timeout=120)
            assert sync.returncode == 0 and "from 2 spool files" in sync.stderr, sync.stderr
            _check(srv.url("cut"), ids, n)
        finally:
            srv.close()


def test_32_writers_on_4_hosts_watched_live_from_a_fifth(tmp_path):
    names = ["h1", "h2", "h3", "h4", "app"]
    per_host, n = 8, 400
    with netns.Hosts(names) as hosts:
        srv = pg_private.PrivateServer(listen=",".join(["127.0.0.1", *hosts.server_ips]))
        try:
            srv.start()
            srv.sql("CREATE DATABASE many")
            # the schema exists before 32 processes race to create it (they would wait on its lock anyway)
            import tracktui
            from tracktui.store.writer import Writer

            Writer.for_store(srv.url("many")).close()
            app = subprocess.Popen(hosts.cmd("app", [sys.executable, "-c", textwrap.dedent(APP), "240", "32"]),
                                   env=_env(srv.url("many", host=hosts.host_ip("app")), tmp_path, "app"),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(4.0)  # the app is up (watching an empty store) before the writers start
            procs = []
            for h in names[:4]:
                url = srv.url("many", host=hosts.host_ip(h))
                for _ in range(per_host):
                    procs.append(subprocess.Popen(
                        hosts.cmd(h, [sys.executable, "-c", textwrap.dedent(WRITER), str(n), "0.01"]),
                        env=_env(url, tmp_path, h), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
            peak: dict[str, int] = {}
            stop = threading.Event()

            def sample() -> None:
                import psycopg

                with psycopg.connect(srv.url(), autocommit=True) as c:
                    while not stop.is_set():
                        for addr, count in c.execute(
                                "SELECT host(client_addr), count(*) FROM pg_stat_activity "
                                "WHERE datname = 'many' GROUP BY 1").fetchall():
                            peak[addr] = max(peak.get(addr, 0), count)
                        time.sleep(0.2)

            sampler = threading.Thread(target=sample)
            sampler.start()
            outs = [p.communicate(timeout=400) for p in procs]
            stop.set()
            sampler.join()
            errors = [err[-2000:] for p, (_, err) in zip(procs, outs, strict=True) if p.returncode != 0]
            assert not errors
            ids = [out.split()[1] for out, _ in outs]
            _check(srv.url("many"), ids, n)
            for h in names[:4]:  # never more than one connection per writer process
                assert peak.get(hosts.inner_ip(h), 0) <= per_host, peak
            app_out, app_err = app.communicate(timeout=300)
            seen = [tuple(map(int, line.split())) for line in app_out.splitlines() if line.strip()]
            assert seen, app_err[-3000:]
            print("app saw (runs, running, sum of last steps):", seen[::max(1, len(seen) // 12)])
            assert max(r for _, r, _ in seen) >= 8, (seen, app_err[-2000:])  # many runs running at once...
            assert max(total for total, _, _ in seen) == 32
            progress = [s for total, r, s in seen if r > 0]
            assert len(set(progress)) >= 3 and progress == sorted(progress)  # ...and their steps grow live
            assert tracktui is not None
        finally:
            srv.close()
