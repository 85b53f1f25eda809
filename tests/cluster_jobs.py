"""Cluster jobs of real processes, shared by the tests of SLURM jobs and DDP ranks (a local store, and a shared
store on sshfs): ranks started srun-style (the environment srun gives each task) on "nodes" that are UTS
namespaces of their own (`unshare --uts`, which needs root or user namespaces), killed with kill -9 and
requeued.

    procs = start_job(tmp, store, ["nodea", "nodeb"], per_node=4, restart=0, steps=30, tail="hang")
    wait_all(start_job(..., restart=1, tail="done"))    # the requeued job, to its end

RANK_SCRIPT logs `steps` steps ("loss" = 1000 * rank + step, "attempt"), a console line and a summary, then
(tail "hang") flushes rank 0, prints "ready" and sleeps to be killed, or (tail "done") waits for two system
samples of its node and finishes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest


def unshare_reason() -> str | None:
    """Why processes cannot get host names of their own here (None: they can)."""
    if shutil.which("unshare") is None or shutil.which("hostname") is None:
        return "needs unshare and hostname (util-linux) to give processes host names of their own"
    try:
        p = subprocess.run(["unshare", "--uts", "sh", "-c", "hostname tt-probe && hostname"], capture_output=True,
                           text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unshare --uts failed ({e})"
    if p.returncode != 0 or p.stdout.strip() != "tt-probe":
        return f"unshare --uts is not permitted here (root or user namespaces needed): {p.stderr.strip()[:200]}"
    return None


UNSHARE = unshare_reason()
needs_hosts = pytest.mark.skipif(UNSHARE is not None, reason=str(UNSHARE))
WAIT_SAMPLED = """
def wait_sampled(run, n=2):
    # until this process's system sampler (if it has one) has stored n samples: no test waits on a clock
    from tracktui import capture
    sampler = getattr(run, "_sampler", None) or getattr(capture.session(run), "sampler", None)
    deadline = time.monotonic() + 120
    while sampler is not None and sampler.samples < n and time.monotonic() < deadline:
        time.sleep(0.05)
"""

RANK_SCRIPT = """
import os, sys, time
import tracktui
""" + WAIT_SAMPLED + """

rank = int(os.environ["SLURM_PROCID"])
attempt = int(os.environ.get("SLURM_RESTART_COUNT", "0"))
run = tracktui.init(project="cluster", config={"rank_seen": rank}, distributed=os.environ.get("MODE") or None)
print(f"line from rank {rank} attempt {attempt}", flush=True)
for _ in range(int(sys.argv[1])):
    run.log({"loss": 1000.0 * rank + run.step, "attempt": attempt})
run.summary["rank_summary"] = rank
if sys.argv[2] == "hang":
    if rank == 0:
        run._writer.flush()
    sys.stdout.write("ready\\n")
    sys.stdout.flush()
    time.sleep(600)
wait_sampled(run)
run.finish()
"""


def env(store: Path, **extra: str) -> dict[str, str]:
    """This environment without any job, launcher or tracktui setting, plus the store and quick sampling."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLURM_", "TORCHELASTIC_", "OMPI_", "PMI", "TRACKTUI_"))
           and k not in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK", "NODE_RANK")}
    env.update(TRACKTUI_DIR=str(store), TRACKTUI_SYSTEM_INTERVAL="0.2", TRACKTUI_CAPTURE_GIT="0",
               TRACKTUI_CAPTURE_REQUIREMENTS="0", PYTHONUNBUFFERED="1", **extra)
    return env


def on_host(host: str, argv: list[str]) -> list[str]:
    """argv run in a UTS namespace of its own whose host name is host."""
    return ["unshare", "--uts", "sh", "-c", f'hostname {host} && exec "$0" "$@"', *argv]


def slurm(rank: int, hosts: list[str], per_node: int, restart: int, job: str = "4242") -> dict[str, str]:
    """What srun sets for one task of a job on hosts with per_node tasks each."""
    node = rank // per_node
    return {"SLURM_JOB_ID": job, "SLURM_CLUSTER_NAME": "testcluster", "SLURM_PROCID": str(rank),
            "SLURM_LOCALID": str(rank % per_node), "SLURM_NODEID": str(node), "SLURM_STEP_ID": "0",
            "SLURM_STEP_NUM_TASKS": str(per_node * len(hosts)), "SLURM_NTASKS": str(per_node * len(hosts)),
            "SLURM_JOB_NODELIST": ",".join(hosts), "SLURM_JOB_PARTITION": "gpu", "SLURM_JOB_NAME": "train",
            "SLURM_RESTART_COUNT": str(restart)}


def start_job(tmp: Path, store: Path, hosts: list[str], per_node: int, restart: int, steps: int, tail: str,
              caches: Path | None = None, **extra: str) -> list[subprocess.Popen[str]]:
    """Every rank of one attempt of the job, started at once (caches: each host's XDG_CACHE_HOME is
    caches/<host>, its own local disk)."""
    script = tmp / "rank.py"
    script.write_text(textwrap.dedent(RANK_SCRIPT))
    procs = []
    for rank in range(per_node * len(hosts)):
        host = hosts[rank // per_node]
        local = {} if caches is None else {"XDG_CACHE_HOME": str(caches / host)}
        e = env(store, **slurm(rank, hosts, per_node, restart), **local, **extra)
        argv = on_host(host, [sys.executable, str(script), str(steps), tail])
        procs.append(subprocess.Popen(argv, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    return procs


def wait_all(procs: list[subprocess.Popen[str]], timeout: float = 180) -> list[tuple[str, str]]:
    """(stdout, stderr) of each rank once all have exited 0."""
    out = []
    for i, p in enumerate(procs):
        stdout, stderr = p.communicate(timeout=timeout)
        assert p.returncode == 0, f"rank {i} exited {p.returncode}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        out.append((stdout, stderr))
    return out


def poll(what: str, fn, timeout: float = 120.0):  # type: ignore[no-untyped-def]
    """fn() once it is truthy, asked every 0.1 s."""
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
