"""Cluster jobs with real processes: srun-style ranks on two "nodes", a job killed with kill -9 and requeued,
torchrun with four ranks on one host, and torchrun on two "hosts" through a real c10d rendezvous.

Nodes are separate UTS namespaces (`unshare --uts`, which needs root or user namespaces): each process
has its own host name, as on a cluster, while sharing this machine's store and loopback network. Tests that
need them skip with the reason when they cannot be made; the torchrun tests skip where torch is missing.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from tracktui.store import Reader

from tests.cluster_jobs import WAIT_SAMPLED, env, needs_hosts, on_host, poll, start_job, wait_all

try:
    import torch  # noqa: F401

    TORCH = None
except ImportError:
    TORCH = "torch is not installed (pip install torch==2.13.0 for the torchrun tests)"
needs_torch = pytest.mark.skipif(TORCH is not None, reason=str(TORCH))


def _only_run(store: Path):  # type: ignore[no-untyped-def]
    with Reader(store) as r:
        runs = r.runs()
    assert len(runs) == 1, [(x.id, x.name) for x in runs]
    return runs[0]


@needs_hosts
def test_slurm_job_on_two_nodes_is_one_run_and_a_killed_requeued_job_continues_it(tmp_path):
    store = tmp_path / "store"
    # attempt 0: 2 nodes x 2 ranks; rank 0 logs 30 steps, then every rank is killed with kill -9
    procs = start_job(tmp_path, store, ["nodea", "nodeb"], 2, restart=0, steps=30, tail="hang")
    try:
        for p in procs:
            assert p.stdout is not None
            assert p.stdout.readline().startswith("line from rank")
            assert p.stdout.readline() == "ready\n"

        def both_nodes_sampled() -> bool:
            with Reader(store) as r:
                runs = r.runs()
                return bool(runs) and all(r.system(runs[0].id, ["cpu.percent"], host=h).get("cpu.percent")
                                          for h in ("nodea", "nodeb"))

        poll("system samples of both nodes", both_nodes_sampled)
    finally:
        for p in procs:
            p.send_signal(signal.SIGKILL)
        for p in procs:
            p.communicate(timeout=60)
    first = _only_run(store)
    assert first.last_step == 29
    assert first.id.startswith("slurm-testcluster-4242-")

    # attempt 1: requeued onto two other nodes, SLURM_RESTART_COUNT=1: the same run continues after step 29
    outs = wait_all(start_job(tmp_path, store, ["nodec", "noded"], 2, restart=1, steps=10, tail="done"))
    assert "resumed at step 30" in outs[0][1]
    assert "rank 1 of 4: log() and summary are not recorded here" in outs[1][1]
    run = _only_run(store)
    assert run.id == first.id and run.state == "finished" and run.host == "nodec"
    with Reader(store) as r:
        hist = r.history(run.id)
        logs = [line for _, _, _, line in r.logs(run.id)]
        hosts = r.system_hosts(run.id)
        per_host = {h: r.system(run.id, ["cpu.percent"], host=h).get("cpu.percent", []) for h in hosts}
    # every point of rank 0, in both attempts, continuing at the step after the last one stored
    assert sorted(hist) == ["attempt", "loss"]
    assert hist["loss"] == [(s, float(s)) for s in range(40)]
    assert hist["attempt"] == [(s, 0.0 if s < 30 else 1.0) for s in range(40)]
    # nothing from ranks 1-3: no console line, no summary, no config
    assert [x for x in logs if x.startswith("line from")] == ["line from rank 0 attempt 0",
                                                               "line from rank 0 attempt 1"]
    assert set(logs) <= {"line from rank 0 attempt 0", "ready", "line from rank 0 attempt 1"}
    assert run.summary["rank_summary"] == 0 and run.config == {"rank_seen": 0}
    # but each node's system metrics, under its host, the run's own host first
    assert hosts == ["nodec", "nodea", "nodeb", "noded"]
    assert all(per_host[h] for h in hosts), {h: len(v) for h, v in per_host.items()}
    job = run.metadata["job"]
    assert (job["id"], job["restart_count"], job["partition"], job["hosts"]) == ("4242", 1, "gpu",
                                                                                 ["nodec", "noded"])
    assert run.metadata["ranks"] == {"launcher": "srun", "rank": 0, "local_rank": 0, "world_size": 4,
                                     "node_rank": 0}


@needs_hosts
def test_distributed_all_gives_every_rank_its_own_run_grouped_by_the_job(tmp_path):
    store = tmp_path / "store"
    wait_all(start_job(tmp_path, store, ["nodea", "nodeb"], 1, restart=0, steps=5, tail="done", MODE="all"))
    with Reader(store) as r:
        runs = sorted(r.runs(), key=lambda x: x.name)
        assert [x.name for x in runs] == ["slurm-4242-rank0", "slurm-4242-rank1"]
        assert {x.group for x in runs} == {"slurm-4242"}
        assert [x.host for x in runs] == ["nodea", "nodeb"]
        for rank, x in enumerate(runs):
            assert r.history(x.id)["loss"] == [(s, 1000.0 * rank + s) for s in range(5)]
            assert [line for _, _, _, line in r.logs(x.id)] == [f"line from rank {rank} attempt 0"]
            assert r.system_hosts(x.id) == [x.host]


DDP_SCRIPT = """
import os, sys, time
import torch
import torch.distributed as dist
import tracktui
""" + WAIT_SAMPLED + """

dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
run = tracktui.init(project="ddp", config={"rank_seen": rank})
print(f"rank {rank} of {world} on {os.uname().nodename}", flush=True)
for step in range(20):
    t = torch.tensor([float(rank + step)])
    dist.all_reduce(t)  # a real collective: every rank takes part in every step
    run.log({"allreduced": t.item(), "rank": rank})
run.summary["who"] = rank
wait_sampled(run)
dist.barrier()
run.finish()
dist.destroy_process_group()
"""


def _ddp_check(store: Path, world: int, hosts: list[str]) -> None:
    run = _only_run(store)
    assert run.state == "finished"
    with Reader(store) as r:
        hist = r.history(run.id)
        logs = [line for _, _, _, line in r.logs(run.id)]
        found = r.system_hosts(run.id)
        sampled = {h: r.system(run.id, ["cpu.percent"], host=h).get("cpu.percent") for h in found}
    total = world * (world - 1) // 2
    assert hist["allreduced"] == [(s, float(total + world * s)) for s in range(20)]
    assert hist["rank"] == [(s, 0.0) for s in range(20)]
    assert [line.split(" on ")[0] for line in logs if line.startswith("rank ")] == [f"rank 0 of {world}"]
    assert run.summary["who"] == 0 and run.config == {"rank_seen": 0}
    assert found == hosts and all(sampled.values())
    ranks = run.metadata["ranks"]
    assert (ranks["launcher"], ranks["world_size"], ranks["rank"]) == ("torchrun", world, 0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@needs_torch
def test_torchrun_four_ranks_on_one_host_record_one_run(tmp_path):
    store = tmp_path / "store"
    script = tmp_path / "ddp.py"
    script.write_text(textwrap.dedent(DDP_SCRIPT))
    p = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "4",
                        str(script)], env=env(store, GLOO_SOCKET_IFNAME="lo"), capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    _ddp_check(store, 4, [socket.gethostname()])
    assert _only_run(store).id.startswith("torchrun-")  # from torchrun's rendezvous id (a uuid: --standalone)


@needs_torch
@needs_hosts
def test_torchrun_on_two_hosts_through_a_c10d_rendezvous_is_one_run_with_both_nodes(tmp_path):
    store = tmp_path / "store"
    script = tmp_path / "ddp.py"
    script.write_text(textwrap.dedent(DDP_SCRIPT))
    port = _free_port()
    procs = []
    for host in ("nodea", "nodeb"):
        argv = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc-per-node", "2",
                "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{port}", "--rdzv-id", "job7",
                "--local-addr", "127.0.0.1", str(script)]
        procs.append(subprocess.Popen(on_host(host, argv), env=env(store, GLOO_SOCKET_IFNAME="lo"),
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        time.sleep(0.5)  # the first agent hosts the rendezvous store
    for p in procs:
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0, out
    run = _only_run(store)
    # which agent's worker gets rank 0 is the rendezvous's choice: that node is the run's host
    assert run.host in ("nodea", "nodeb")
    _ddp_check(store, 4, [run.host, "nodeb" if run.host == "nodea" else "nodea"])


@needs_torch
def test_torchrun_static_rendezvous_one_run_per_launch(tmp_path):
    """Without --standalone or --rdzv-id torchrun's rendezvous id is "none": the ranks agree on their launcher
    process instead, so each launch is one run and a second launch on the same port is a new run."""
    store = tmp_path / "store"
    script = tmp_path / "ddp.py"
    script.write_text(textwrap.dedent(DDP_SCRIPT))
    for _ in range(2):
        p = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                            "--master-port", str(_free_port()), str(script)],
                           env=env(store, GLOO_SOCKET_IFNAME="lo"), capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stdout + p.stderr
    with Reader(store) as r:
        runs = r.runs()
        assert len(runs) == 2 and all(x.id.startswith("launch-") for x in runs)
        for x in runs:
            assert r.history(x.id)["allreduced"] == [(s, float(1 + 2 * s)) for s in range(20)]
            assert x.metadata["ranks"]["world_size"] == 2
