"""The cluster scenario end to end, on a real network filesystem: a SLURM job of 8 ranks on two "nodes" writes
a store on an sshfs mount, every rank is killed with kill -9, the job is requeued and finishes, and a third
"host" (the login node) reads the store through tracktui.Api and the terminal app.

Nodes are UTS namespaces of their own (`unshare --uts`), each with its own local cache directory; the mount
is an sshfs mount through an sshd on the loopback (tests/store/sshfs_mount.py). Skipped, saying why, where
either cannot be made.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from tracktui.store import Reader, shared

from tests.cluster_jobs import UNSHARE, env, needs_hosts, on_host, poll, start_job, wait_all

pytestmark = [needs_hosts, pytest.mark.timeout(300)]

# The login node: everything of the store through the public reader API, then the terminal app's System tab
# of the run (a Textual pilot), as one JSON line.
LOGIN = textwrap.dedent("""
    import asyncio, json, socket, sys, time
    import tracktui

    out = {"host": socket.gethostname()}
    runs = tracktui.Api().runs()
    out["runs"] = [(x.id, x.host, x.state, x.last_step) for x in runs]
    run = runs[0]
    out["summary"], out["config"], out["metadata"] = dict(run.summary), run.config, run.metadata
    out["history"] = run.history()
    out["logs"] = [line for _, _, _, line in run.logs()]
    out["hosts"] = run.system_hosts()
    out["samples"] = {h: [ts for ts, _ in run.system(["cpu.percent"], host=h).get("cpu.percent", [])]
                      for h in out["hosts"]}

    async def app_system_tab():
        from tracktui.tui.app import make_app
        from tracktui.tui.screens.run import RunScreen
        from tracktui.tui.widgets.system_panel import SystemPanel

        app = make_app(poll_interval=0.3)
        async with app.run_test(size=(160, 60)) as pilot:
            async def until(cond, what):
                end = time.monotonic() + 60
                while not cond():
                    assert time.monotonic() < end, f"the app did not show {what}"
                    await pilot.pause(0.1)

            await until(lambda: getattr(app.screen, "loaded", False), "the runs")
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, RunScreen), "the run")
            await pilot.press("2")

            def panels():
                return list(app.screen.query(SystemPanel))

            def status(p):
                return str(p.query_one("#sys-status").render())

            await until(lambda: len(panels()) == 2 and all(
                p.store.latest("cpu.percent") is not None and status(p).startswith("node ") for p in panels()),
                "a block per node")
            return {"tab": app.screen.query_one("TabbedContent").active,
                    "blocks": [(p.host, status(p).split(" · ")[0]) for p in panels()], "top": panels()[0].hosts}

    out["app"] = asyncio.run(app_system_tab())
    print(json.dumps(out))
""")


def test_two_node_job_on_sshfs_killed_and_requeued_is_one_run_on_a_third_host(mount, tmp_path):
    assert UNSHARE is None
    store, caches = mount.mnt / "store", tmp_path / "caches"
    # attempt 0: 2 nodes x 4 ranks; rank 0 logs steps 0-29, publishes them, then every rank gets kill -9
    procs = start_job(tmp_path, store, ["nodea", "nodeb"], 4, restart=0, steps=30, tail="hang", caches=caches)
    try:
        for p in procs:
            assert p.stdout is not None
            assert p.stdout.readline().startswith("line from rank")
            assert p.stdout.readline() == "ready\n"

        def both_nodes_sampled() -> bool:  # published through the mount (read here, folded into a cache)
            with Reader(store) as r:
                runs = r.runs()
                return bool(runs) and runs[0].last_step == 29 and all(
                    r.system(runs[0].id, ["cpu.percent"], host=h).get("cpu.percent") for h in ("nodea", "nodeb"))

        poll("rank 0's steps and system samples of both nodes", both_nodes_sampled)
    finally:
        for p in procs:
            p.send_signal(signal.SIGKILL)
        for p in procs:
            p.communicate(timeout=60)
    killed_at = time.time()
    assert [p.returncode for p in procs] == [-signal.SIGKILL] * 8

    # attempt 1: requeued (SLURM_RESTART_COUNT=1) onto the same two nodes, rank 0 now on nodeb; steps 30-39
    outs = wait_all(start_job(tmp_path, store, ["nodeb", "nodea"], 4, restart=1, steps=10, tail="done",
                              caches=caches))
    assert "resumed at step 30" in outs[0][1], outs[0][1]

    # the login node: a third host with a cache of its own
    script = tmp_path / "login.py"
    script.write_text(LOGIN)
    p = subprocess.run(on_host("login", [sys.executable, str(script)]), capture_output=True, text=True,
                       timeout=180, env=env(store, XDG_CACHE_HOME=str(caches / "login")))
    assert p.returncode == 0, p.stdout + p.stderr
    got = json.loads(p.stdout.strip().splitlines()[-1])
    assert got["host"] == "login"

    # exactly one run: the job's, finished, its host that of the last attempt's rank 0
    [(run_id, host, state, last_step)] = got["runs"]
    assert run_id.startswith("slurm-testcluster-4242") and (host, state, last_step) == ("nodeb", "finished", 39)
    job, ranks = got["metadata"]["job"], got["metadata"]["ranks"]
    assert (job["id"], job["restart_count"], job["hosts"]) == ("4242", 1, ["nodeb", "nodea"])
    assert (ranks["rank"], ranks["world_size"]) == (0, 8)
    # every point of rank 0, contiguous across both attempts; nothing of ranks 1-7 (their loss is >= 1000)
    assert [(row["_step"], row["loss"], row["attempt"]) for row in got["history"]] == [
        (s, float(s), 0.0 if s < 30 else 1.0) for s in range(40)]
    assert {k for row in got["history"] for k in row} == {"_step", "_timestamp", "loss", "attempt"}
    assert [x for x in got["logs"] if x.startswith("line from")] == ["line from rank 0 attempt 0",
                                                                     "line from rank 0 attempt 1"]
    assert set(got["logs"]) <= {"line from rank 0 attempt 0", "ready", "line from rank 0 attempt 1"}
    assert got["summary"]["rank_summary"] == 0 and got["config"] == {"rank_seen": 0}
    # but the system metrics of both nodes, under their hosts, from before the kill and after the requeue
    assert got["hosts"] == ["nodeb", "nodea"]
    for h, ts in got["samples"].items():
        assert min(ts) < killed_at < max(ts), (h, len(ts))
    # the terminal app on the login node: the System tab holds one block per node
    assert got["app"]["tab"] == "system"
    assert got["app"]["top"] == ["nodeb", "nodea"]
    assert got["app"]["blocks"] == [[None, "node nodeb"], ["nodea", "node nodea"]]
    # writers wrote a directory per node and no SQLite file; the readers wrote nothing on the mount
    remote = mount.remote / "store"
    assert sorted(d.name for d in (remote / shared.SEGMENTS_DIR).iterdir()) == ["nodea", "nodeb"]
    assert [f for f in remote.rglob("*") if ".db" in f.name] == []
