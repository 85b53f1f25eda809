"""Reading a process's place in a cluster job from the launcher's environment (tracktui.distributed).

Pure functions of an environment mapping: what torchrun, srun, Open MPI, MPICH and Lightning set, as they
set it. The real processes are in test_distributed_procs.py.
"""

from __future__ import annotations

import pytest
from tracktui import distributed as d

SLURM = {"SLURM_JOB_ID": "4242", "SLURM_CLUSTER_NAME": "alps", "SLURM_JOB_NODELIST": "gpu[01-02,07],login1",
         "SLURM_JOB_PARTITION": "a100", "SLURM_JOB_NAME": "llm"}


def test_torchrun_ranks_win_over_the_srun_task_they_run_in():
    env = {**SLURM, "SLURM_PROCID": "1", "SLURM_LOCALID": "0", "SLURM_STEP_ID": "0", "SLURM_STEP_NUM_TASKS": "2",
           "RANK": "6", "LOCAL_RANK": "2", "WORLD_SIZE": "8", "LOCAL_WORLD_SIZE": "4", "GROUP_RANK": "1"}
    r = d.ranks(env)
    assert (r.launcher, r.rank, r.local_rank, r.world_size, r.local_world_size, r.node_rank) == \
        ("torchrun", 6, 2, 8, 4, 1)
    assert r.distributed and not r.node_leader


@pytest.mark.parametrize("env, want", [
    ({"SLURM_PROCID": "3", "SLURM_LOCALID": "1", "SLURM_STEP_ID": "0", "SLURM_STEP_NUM_TASKS": "4",
      "SLURM_NODEID": "1"}, ("srun", 3, 1, 4)),
    ({"OMPI_COMM_WORLD_RANK": "5", "OMPI_COMM_WORLD_LOCAL_RANK": "0", "OMPI_COMM_WORLD_SIZE": "8"},
     ("openmpi", 5, 0, 8)),
    ({"PMI_RANK": "2", "PMI_SIZE": "4", "MPI_LOCALRANKID": "2"}, ("mpich", 2, 2, 4)),
    ({"PMIX_RANK": "1", "PMIX_SIZE": "2"}, ("pmix", 1, None, 2)),
    ({"LOCAL_RANK": "1", "NODE_RANK": "1", "WORLD_SIZE": "4", "LOCAL_WORLD_SIZE": "2"}, ("lightning", 3, 1, 4)),
    ({}, (None, 0, 0, 1)),
])
def test_each_launcher_family(env, want):
    r = d.ranks(env)
    assert (r.launcher, r.rank, r.local_rank, r.world_size) == want


def test_the_batch_script_of_a_job_is_one_process_not_srun_task_0_of_many():
    r = d.ranks({**SLURM, "SLURM_PROCID": "0", "SLURM_NTASKS": "8"})  # no SLURM_STEP_ID: not inside srun
    assert not r.distributed and r.node_leader


def test_an_unknown_local_rank_lets_only_rank_0_sample_a_node():
    assert d.ranks({"PMIX_RANK": "0", "PMIX_SIZE": "2"}).node_leader
    assert not d.ranks({"PMIX_RANK": "1", "PMIX_SIZE": "2"}).node_leader


def test_slurm_job_facts_and_node_list():
    j = d.job({**SLURM, "SLURM_RESTART_COUNT": "2"})
    assert j.as_dict() == {"scheduler": "slurm", "id": "4242", "job_id": "4242", "cluster": "alps", "name": "llm",
                           "partition": "a100", "nodelist": "gpu[01-02,07],login1",
                           "hosts": ["gpu01", "gpu02", "gpu07", "login1"], "restart_count": 2}
    array = d.job({"SLURM_JOB_ID": "5001", "SLURM_ARRAY_JOB_ID": "5000", "SLURM_ARRAY_TASK_ID": "1"})
    assert (array.id, array.job_id) == ("5000_1", "5001")
    assert d.job({}).as_dict() == {}


@pytest.mark.parametrize("text, want", [
    ("n[1-3]", ["n1", "n2", "n3"]),
    ("gpu[008-010]-ib", ["gpu008-ib", "gpu009-ib", "gpu010-ib"]),
    ("a,b[2,4],c", ["a", "b2", "b4", "c"]),
    ("odd[x-y]", ["odd[x-y]"]),
    ("", []),
])
def test_expand_hostlist(text, want):
    assert d.expand_hostlist(text) == want


def test_expand_hostlist_is_bounded():
    assert len(d.expand_hostlist("n[1-1000000]", limit=50)) == 50


def test_the_run_id_is_the_same_for_every_rank_and_attempt_and_differs_per_job_task_and_project():
    def rid(env, project="p"):
        key = d.job_key(env)
        assert key is not None
        return d.run_id(project, key)

    base = {**SLURM, "SLURM_STEP_ID": "0", "SLURM_STEP_NUM_TASKS": "8"}
    ids = {rid({**base, "SLURM_PROCID": str(r), "SLURM_LOCALID": str(r % 4), "SLURM_RESTART_COUNT": str(r % 2)})
           for r in range(8)}
    assert len(ids) == 1
    (one,) = ids
    assert one.startswith("slurm-alps-4242-")
    assert rid({**base, "SLURM_JOB_ID": "4243"}) != one
    assert rid({**base, "SLURM_CLUSTER_NAME": "other"}) != one
    assert rid(base, project="q") != one
    t1 = rid({**base, "SLURM_ARRAY_JOB_ID": "4240", "SLURM_ARRAY_TASK_ID": "1"})
    t2 = rid({**base, "SLURM_ARRAY_JOB_ID": "4240", "SLURM_ARRAY_TASK_ID": "2"})
    assert t1 != t2 and t1.startswith("slurm-alps-4240-1-")
    assert all(c.isalnum() or c in "-._" for c in one + t1)


def test_torchrun_rendezvous_id_names_the_job_and_its_default_none_does_not():
    env = {"RANK": "1", "LOCAL_RANK": "1", "WORLD_SIZE": "2", "TORCHELASTIC_RUN_ID": "3f2a-uuid"}
    assert d.job_key(env) == ("torchrun", "3f2a-uuid", False)
    kind, _, node_local = d.job_key({**env, "TORCHELASTIC_RUN_ID": "none"})  # type: ignore[misc]
    assert (kind, node_local) == ("launch", True)
    assert d.job_key({**env, "TORCHELASTIC_RUN_ID": "none", "PMIX_NAMESPACE": "prterun-h-1@1"}) == \
        ("mpi", "prterun-h-1@1", False)


def test_a_lone_process_is_not_in_a_job():
    assert d.job_key({}) is None
    assert d.plan(None, "p", None, None, None, env={}) is None


def test_plan_job_mode_rank_0_records_the_others_do_not():
    base = {**SLURM, "SLURM_STEP_ID": "0", "SLURM_STEP_NUM_TASKS": "4"}
    plans = [d.plan(None, "p", None, None, None, env={**base, "SLURM_PROCID": str(r), "SLURM_LOCALID": str(r % 2)})
             for r in range(4)]
    assert [p.records for p in plans] == [True, False, False, False]  # type: ignore[union-attr]
    assert len({p.run_id for p in plans}) == 1  # type: ignore[union-attr]
    assert not any(p.takeover for p in plans)  # type: ignore[union-attr]
    requeued = d.plan(None, "p", None, None, None, env={**base, "SLURM_PROCID": "0", "SLURM_RESTART_COUNT": "1"})
    assert requeued and requeued.takeover and requeued.run_id == plans[0].run_id  # type: ignore[union-attr]
    assert not d.plan(None, "p", "mine", None, None, env={**base, "SLURM_PROCID": "0",  # type: ignore[union-attr]
                                                          "SLURM_RESTART_COUNT": "1"}).takeover


def test_plan_all_mode_every_rank_its_own_run_grouped_by_the_job():
    base = {**SLURM, "SLURM_STEP_ID": "0", "SLURM_STEP_NUM_TASKS": "2"}
    p0 = d.plan("all", "p", None, None, None, env={**base, "SLURM_PROCID": "0"})
    p1 = d.plan("all", "p", None, "exp", None, env={**base, "SLURM_PROCID": "1"})
    assert p0 and p1 and p0.records and p1.records
    assert p0.run_id != p1.run_id and p1.run_id.endswith("-rank1")  # type: ignore[union-attr]
    assert p0.group == p1.group == "slurm-4242"
    assert (p0.name, p1.name) == ("slurm-4242-rank0", "exp-rank1")
    given = d.plan("all", "p", "mine", None, "g", env={**base, "SLURM_PROCID": "1"})
    assert given and (given.run_id, given.group, given.takeover) == ("mine-rank1", "g", False)


def test_plan_refuses_an_unknown_mode():
    with pytest.raises(ValueError, match="distributed must be one of job, all"):
        d.plan("every", "p", None, None, None, env=SLURM)


def test_metadata_outside_and_inside_a_job():
    assert d.metadata({}) == {}
    md = d.metadata({**SLURM, "RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "8", "LOCAL_WORLD_SIZE": "4"})
    assert md["job"]["id"] == "4242"
    assert md["ranks"] == {"launcher": "torchrun", "rank": 0, "local_rank": 0, "world_size": 8,
                           "local_world_size": 4}


def _in_job(monkeypatch, rank: int, **extra: str) -> None:
    for k, v in {**SLURM, "SLURM_PROCID": str(rank), "SLURM_LOCALID": str(rank), "SLURM_STEP_ID": "0",
                 "SLURM_STEP_NUM_TASKS": "2", **extra}.items():
        monkeypatch.setenv(k, v)


def test_init_on_rank_1_records_nothing_and_says_so_once(monkeypatch, tmp_path, capsys):
    import tracktui
    from tracktui.store import Reader

    _in_job(monkeypatch, 1)
    run = tracktui.init(project="p", dir=tmp_path / "s", config={"a": 1}, settings={"capture": False})
    assert tracktui.run is run and run.ranks.rank == 1 and run.id.startswith("slurm-alps-4242-")
    run.log({"loss": 1.0})
    tracktui.log({"loss": 2.0})
    run.summary["x"] = 1
    run.config.update({"b": 2})
    assert tracktui.init(project="p", dir=tmp_path / "s") is run  # reinit returns it, as for any run
    run.finish()
    err = capsys.readouterr().err
    assert err.count("rank 1 of 2: log() and summary are not recorded here") == 1
    with Reader(tmp_path / "s") as r:
        assert r.runs() == []


def test_init_all_with_a_given_id_adds_the_rank(monkeypatch, tmp_path):
    import tracktui

    _in_job(monkeypatch, 1)
    run = tracktui.init(project="p", dir=tmp_path / "s", id="mine", distributed="all", settings={"capture": False})
    assert (run.id, run.name, run.group) == ("mine-rank1", "slurm-4242-rank1", "slurm-4242")
    run.finish()
