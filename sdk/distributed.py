"""Where this process sits in a cluster job: the SLURM job, the distributed rank, and the run id they share.

Read from the environment only (launchers and schedulers set it; nothing here talks to other processes):

- the rank, local rank and world size: torchrun / torch.distributed.run, DeepSpeed and Accelerate
  (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK), Lightning (NODE_RANK, LOCAL_RANK),
  srun (SLURM_PROCID, SLURM_LOCALID, SLURM_STEP_NUM_TASKS), Open MPI (OMPI_COMM_WORLD_*), PMIx
  (PMIX_RANK), MPICH / Intel MPI (PMI_RANK, PMI_SIZE, MPI_LOCALRANKID). The first family found wins, in
  that order: torchrun inside an srun step reports torch's ranks, not srun's tasks.
- the job: SLURM (SLURM_CLUSTER_NAME, SLURM_JOB_ID, SLURM_ARRAY_JOB_ID + SLURM_ARRAY_TASK_ID,
  SLURM_JOB_NODELIST, SLURM_JOB_PARTITION, SLURM_RESTART_COUNT).

The run id every rank of a job derives on its own (see job_key()):

1. SLURM: cluster, job id (array job id and task id for an array task). A requeued or preempted job keeps
   its id, so it resumes the same run; every rank on every node sees the same variables.
2. torchrun's rendezvous id (TORCHELASTIC_RUN_ID), unless it is torchrun's default "none": the same on
   every node of a rendezvous, a fresh uuid with --standalone; a relaunch with the same --rdzv-id resumes.
3. PMIX_NAMESPACE (Open MPI 4+, other PMIx launchers): one name per mpirun, on every node.
4. Otherwise the launcher process: the parent's pid and start time on this host (torchrun's agent,
   mpirun, the DeepSpeed launcher are the parent of every local rank). Unique per launch, but only within
   one node: a multi-node job launched this way warns once and should set TRACKTUI_RUN_ID in the job's
   environment (all ranks inherit it) or pass init(id=...).

The project is part of the id, so two projects logged from one job are two runs.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MODES = ("job", "all")  # init(distributed=...): one run per job (rank 0 records), or one run per rank
MAX_HOSTS = 1024  # node names kept in the metadata (SLURM_JOB_NODELIST expanded)

_RANK_FAMILIES: tuple[tuple[str, str, str, str, str], ...] = (
    # (launcher, rank, local rank, world size, local world size)
    ("torchrun", "RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE"),
    ("openmpi", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_SIZE",
     "OMPI_COMM_WORLD_LOCAL_SIZE"),
    ("pmix", "PMIX_RANK", "", "", ""),
    ("mpich", "PMI_RANK", "MPI_LOCALRANKID", "PMI_SIZE", "MPI_LOCALNRANKS"),
    ("srun", "SLURM_PROCID", "SLURM_LOCALID", "SLURM_STEP_NUM_TASKS", ""),
)


def _int(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name, "").strip() if name else ""
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Ranks:
    """This process's place among the job's processes (rank 0 of 1 when it is alone)."""

    launcher: str | None = None
    rank: int = 0
    local_rank: int | None = 0
    world_size: int = 1
    local_world_size: int | None = None
    node_rank: int | None = None

    @property
    def distributed(self) -> bool:
        """More than one process in the job."""
        return self.world_size > 1 or self.rank > 0

    @property
    def node_leader(self) -> bool:
        """The process that records this node's system metrics: local rank 0 (rank 0 when the local rank
        is unknown, so that one process only samples a node)."""
        return self.local_rank == 0 if self.local_rank is not None else self.rank == 0

    def as_dict(self) -> dict[str, Any]:
        """For the run's metadata."""
        d: dict[str, Any] = {"launcher": self.launcher, "rank": self.rank, "local_rank": self.local_rank,
                             "world_size": self.world_size}
        if self.local_world_size is not None:
            d["local_world_size"] = self.local_world_size
        if self.node_rank is not None:
            d["node_rank"] = self.node_rank
        return d


def ranks(env: Mapping[str, str] | None = None) -> Ranks:
    """The rank of this process from the launcher's environment variables."""
    env = os.environ if env is None else env
    for launcher, r, lr, ws, lws in _RANK_FAMILIES:
        rank = _int(env, r)
        if rank is None:
            continue
        if launcher == "srun" and not env.get("SLURM_STEP_ID", env.get("SLURM_STEPID")):
            continue  # the batch script itself (not an srun task): one process
        local = _int(env, lr)
        world = _int(env, ws) or (_int(env, "SLURM_NTASKS") if launcher == "srun" else None) or max(1, rank + 1)
        if launcher == "pmix":
            world = _int(env, "PMIX_SIZE") or world
        node = _int(env, "GROUP_RANK") if launcher == "torchrun" else None
        if launcher == "srun":
            node = _int(env, "SLURM_NODEID")
        return Ranks(launcher, rank, local, max(world, rank + 1), _int(env, lws), node)
    # Lightning's own launcher: NODE_RANK and LOCAL_RANK (its first process has neither: rank 0)
    local = _int(env, "LOCAL_RANK")
    if local is not None:
        node = _int(env, "NODE_RANK") or 0
        world = _int(env, "WORLD_SIZE") or 1
        per_node = _int(env, "LOCAL_WORLD_SIZE")
        rank = node * per_node + local if per_node else (local if node == 0 else None)
        if rank is not None:
            return Ranks("lightning", rank, local, max(world, rank + 1), per_node, node)
    return Ranks()


@dataclass(frozen=True)
class Job:
    """The scheduler's job this process runs in (SLURM), or None fields outside one."""

    scheduler: str | None = None
    cluster: str | None = None
    id: str | None = None  # the job id as users see it: 1234, or 1230_4 for an array task
    job_id: str | None = None
    array_job_id: str | None = None
    array_task_id: str | None = None
    name: str | None = None
    partition: str | None = None
    nodelist: str | None = None
    hosts: list[str] = field(default_factory=list)
    restart_count: int = 0

    def as_dict(self) -> dict[str, Any]:
        """For the run's metadata (empty outside a job)."""
        if self.scheduler is None:
            return {}
        d: dict[str, Any] = {"scheduler": self.scheduler, "id": self.id, "job_id": self.job_id}
        for k in ("cluster", "array_job_id", "array_task_id", "name", "partition", "nodelist"):
            v = getattr(self, k)
            if v:
                d[k] = v
        if self.hosts:
            d["hosts"] = self.hosts
        d["restart_count"] = self.restart_count
        return d


def job(env: Mapping[str, str] | None = None) -> Job:
    """The SLURM job of this process (Job() outside one)."""
    env = os.environ if env is None else env
    job_id = env.get("SLURM_JOB_ID", env.get("SLURM_JOBID", "")).strip()
    if not job_id:
        return Job()
    array_job, array_task = env.get("SLURM_ARRAY_JOB_ID", "").strip(), env.get("SLURM_ARRAY_TASK_ID", "").strip()
    shown = f"{array_job}_{array_task}" if array_job and array_task else job_id
    nodelist = env.get("SLURM_JOB_NODELIST", env.get("SLURM_NODELIST", "")).strip() or None
    return Job(scheduler="slurm", cluster=env.get("SLURM_CLUSTER_NAME", "").strip() or None, id=shown,
               job_id=job_id, array_job_id=array_job or None, array_task_id=array_task or None,
               name=env.get("SLURM_JOB_NAME") or None, partition=env.get("SLURM_JOB_PARTITION") or None,
               nodelist=nodelist, hosts=expand_hostlist(nodelist or ""),
               restart_count=_int(env, "SLURM_RESTART_COUNT") or 0)


def expand_hostlist(text: str, limit: int = MAX_HOSTS) -> list[str]:
    """SLURM's compressed node list as names: "gpu[01-03,07],login1" -> gpu01 gpu02 gpu03 gpu07 login1.

    One bracket group per name (what SLURM prints for ordinary node names); a name it cannot read is kept
    as written. At most limit names."""
    out: list[str] = []
    for m in re.finditer(r"([^,\[]+)(?:\[([^\]]*)\])?([^,\[]*)", text):
        prefix, ranges, suffix = m.group(1), m.group(2), m.group(3)
        if not prefix.strip() and ranges is None:
            continue
        if ranges is None:
            out.append(prefix + suffix)
        else:
            for part in ranges.split(","):
                lo, _, hi = part.partition("-")
                if lo.isdigit() and (not hi or hi.isdigit()):
                    width = len(lo)
                    for n in range(int(lo), int(hi or lo) + 1):
                        out.append(f"{prefix}{n:0{width}d}{suffix}")
                        if len(out) >= limit:
                            return out
                else:
                    out.append(f"{prefix}[{part}]{suffix}")
        if len(out) >= limit:
            return out[:limit]
    return out


def _parent_token() -> str:
    """The launcher process on this host: the parent's pid and start time (every local rank shares it)."""
    from tracktui.store.procinfo import hostname, process_start_time

    ppid = os.getppid()
    return f"{hostname()}:{ppid}:{process_start_time(ppid)}"


def job_key(env: Mapping[str, str] | None = None, r: Ranks | None = None) -> tuple[str, str, bool] | None:
    """(kind, token, node_local) naming this job, the same in every rank; None outside a job.

    node_local: the token is only shared by the ranks of this node (the launcher fallback)."""
    env = os.environ if env is None else env
    j = job(env)
    if j.scheduler == "slurm":
        return "slurm", f"{j.cluster or ''}/{j.array_job_id or j.job_id}/{j.array_task_id or ''}", False
    r = ranks(env) if r is None else r
    if not r.distributed:
        return None
    rdzv = env.get("TORCHELASTIC_RUN_ID", "").strip()
    if rdzv and rdzv.lower() != "none":
        return "torchrun", rdzv, False
    pmix = env.get("PMIX_NAMESPACE", "").strip()
    if pmix:
        return "mpi", pmix, False
    return "launch", _parent_token(), True


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._]+", "-", text.lower()).strip("-.")[:40]


def run_id(project: str, key: tuple[str, str, bool], rank: int | None = None) -> str:
    """The run id of a job's run in project (of one rank's run with rank): readable for SLURM jobs
    ("slurm-mycluster-1234-3f9a2c"), a digest otherwise; [a-z0-9._-] only."""
    kind, token, _ = key
    digest = hashlib.sha256(f"{kind}\0{token}\0{project}".encode()).hexdigest()
    if kind == "slurm":
        cluster, jobid, task = token.split("/")
        base = "-".join(p for p in ("slurm", _slug(cluster), _slug(jobid), _slug(task)) if p) + f"-{digest[:6]}"
    else:
        base = f"{kind}-{digest[:12]}"
    return base if rank is None else f"{base}-rank{rank}"


def job_label(key: tuple[str, str, bool], j: Job) -> str:
    """A short name of the job for groups and run names: slurm-1234_5, torchrun-1a2b3c4d."""
    if j.scheduler == "slurm" and j.id:
        return f"slurm-{j.id}"
    return f"{key[0]}-{hashlib.sha256(key[1].encode()).hexdigest()[:8]}"


# ---------------------------------------------------------------- init(): the job's run, or this rank's part


@dataclass
class Plan:
    """What init() does in a job: the run id (None: init's own choice), name and group, whether this process
    records the run (global rank 0, or every rank with distributed="all"), and this process's place."""

    run_id: str | None
    name: str | None
    group: str | None
    records: bool
    ranks: Ranks
    job: Job
    takeover: bool  # a requeued SLURM job's own run id: a stored "running" owner elsewhere is its last attempt


def plan(mode: str | None, project: str, given_id: str | None, name: str | None, group: str | None,
         env: Mapping[str, str] | None = None) -> Plan | None:
    """The plan for init() in a job, None outside one (init goes on as for a lone process).

    mode: "job" (the default; TRACKTUI_DISTRIBUTED) or "all". given_id: init's id= or TRACKTUI_RUN_ID, which
    win over the job's id."""
    env = os.environ if env is None else env
    mode = (mode or env.get("TRACKTUI_DISTRIBUTED") or "job").strip().lower()
    if mode not in MODES:
        raise ValueError(f"distributed must be one of {', '.join(MODES)}, got {mode!r}")
    r = ranks(env)
    key = job_key(env, r)
    if key is None:
        return None
    j = job(env)
    if key[2] and r.local_world_size is not None and r.world_size > r.local_world_size and given_id is None:
        from .warn import warn_once

        warn_once("distributed-node-local",
                  "tracktui: the ranks of this multi-node job have no shared job id (no SLURM job, torchrun "
                  "rendezvous id or PMIx namespace): each node records its own run. Set TRACKTUI_RUN_ID in the "
                  "job's environment (or torchrun --rdzv-id) to make it one run.")
    label = job_label(key, j)
    if mode == "all":
        derived = given_id is None
        rid = given_id if given_id is not None else run_id(project, key, r.rank)
        if not derived and r.distributed:
            rid = f"{rid}-rank{r.rank}"
        base = name or label
        shown = f"{base}-rank{r.rank}" if r.distributed else base
        return Plan(rid, shown, group or label, True, r, j, derived and j.restart_count > 0)
    derived = given_id is None
    rid = given_id if given_id is not None else run_id(project, key)
    return Plan(rid, name, group, r.rank == 0, r, j, derived and j.restart_count > 0)


def metadata(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The job and rank facts for the run's metadata: {"job": {...}, "ranks": {...}} (empty outside a job)."""
    env = os.environ if env is None else env
    md: dict[str, Any] = {}
    j = job(env).as_dict()
    if j:
        md["job"] = j
    r = ranks(env)
    if r.distributed:
        md["ranks"] = r.as_dict()
    return md


class RankRun:
    """What init() returns on a rank that does not record the run (distributed="job", rank > 0): the Run
    interface with log(), summary and config as cheap no-ops. On the node's local rank 0 it records this
    node's system and GPU metrics into the job's run, under this host's name."""

    def __init__(self, root: Any, p: Plan, project: str, config: Any, settings: Any = None):
        from .lifecycle import DisabledRun

        self._base = DisabledRun(project=project, name=p.name, config=config)
        self.id = str(p.run_id)
        self.ranks = p.ranks
        self.job = p.job
        self._root = root
        self._sampler: Any = None
        self._writer: Any = None
        self._finished = False
        if p.ranks.node_leader:
            self._start_sampler(settings)

    def __getattr__(self, name: str) -> Any:  # the rest of the Run interface: DisabledRun's no-ops
        if name == "_base":
            raise AttributeError(name)
        return getattr(self._base, name)

    @property
    def path(self) -> str:
        """project/id of the job's run."""
        return f"{self._base.project}/{self.id}"

    def _start_sampler(self, settings: Any) -> None:
        import atexit

        from tracktui.store.procinfo import hostname
        from tracktui.store.writer import Writer

        from . import capture

        s = capture.Settings(settings)
        if not s.system:
            return
        from .capture.system import Sampler

        self._writer = Writer.for_store(self._root)
        self._sampler = Sampler(self.id, self._writer.put, s.system_interval, gpu=s.gpu, disk_paths=s.disk_paths,
                                host=hostname())
        self._sampler.start()
        atexit.register(self.finish)

    def log(self, data: Any, step: int | None = None, commit: bool | None = None) -> None:
        """No-op: global rank 0 records the run."""

    def finish(self, exit_code: int | None = None, quiet: bool | None = None, **kwargs: Any) -> None:
        """Stop sampling and write what was sampled (at most 2 s); the run's state is rank 0's."""
        if self._finished:
            return
        self._finished = True
        try:
            if self._sampler is not None:
                self._sampler.stop()
            if self._writer is not None:
                self._writer.flush(2.0)
        except Exception:  # noqa: BLE001 - tracking never raises into training
            pass
        self._base.finish()
        from . import lifecycle

        lifecycle.forget(self)  # type: ignore[arg-type]

    def __enter__(self) -> RankRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()

    def __repr__(self) -> str:
        return f"<tracktui.RankRun rank {self.ranks.rank} of run {self.id}>"
