"""A second init() as wandb has it (reinit), run.dir as the run's own files directory, and tracktui.config /
tracktui.summary before init(). The reinit cases follow wandb's tests/system_tests/test_core/
test_wandb_init_reinit.py."""

from __future__ import annotations

import os
import stat

import pytest
import tracktui
from tracktui.store import Reader

OFF = {"capture": False}


def test_default_returns_the_running_run(store_dir, capfd):
    first = tracktui.init(dir=store_dir, settings=OFF)
    again = tracktui.init(dir=store_dir, project="other", settings=OFF)
    assert again is first and not first._finished and tracktui.run is first
    assert "returning it" in capfd.readouterr().err
    for flag in (False, "return_previous", "default"):
        assert tracktui.init(dir=store_dir, reinit=flag, settings=OFF) is first
    first.finish()
    assert tracktui.run is None
    assert len(tracktui.Api(store_dir).runs()) == 1


@pytest.mark.parametrize("finish_previous", [True, "finish_previous"])
def test_finish_previous_finishes_every_active_run(store_dir, finish_previous):
    run1 = tracktui.init(dir=store_dir, settings=OFF)
    run2 = tracktui.init(dir=store_dir, reinit="create_new", settings=OFF)
    run3 = tracktui.init(dir=store_dir, reinit=finish_previous, settings=OFF)
    assert run1._finished and run2._finished and not run3._finished and tracktui.run is run3
    run3.finish()
    assert {r.state for r in tracktui.Api(store_dir).runs()} == {"finished"}


def test_return_previous_gives_the_most_recent_unfinished_run(store_dir):
    tracktui.init(dir=store_dir, settings=OFF)
    run2 = tracktui.init(dir=store_dir, reinit="create_new", settings=OFF)
    run3 = tracktui.init(dir=store_dir, reinit="create_new", settings=OFF)
    run3.finish()
    assert tracktui.init(dir=store_dir, reinit="return_previous", settings=OFF) is run2
    run2.finish()


def test_create_new_runs_log_independently_and_leave_tracktui_run(store_dir):
    with tracktui.init(dir=store_dir, reinit="create_new", settings=OFF) as alone:
        assert tracktui.run is None  # as wandb: create_new does not become the global run
    main = tracktui.init(dir=store_dir, settings=OFF)
    side = tracktui.init(dir=store_dir, reinit="create_new", settings=OFF)
    assert tracktui.run is main and side is not main
    for i in range(50):
        main.log({"loss": float(i)})
        if i % 2:
            side.log({"acc": float(i)})
    tracktui.log({"loss": 99.0})  # the module-level call goes to tracktui.run
    side.define_metric("acc", summary="max")
    side.finish()
    assert not main._finished
    main.finish()
    with Reader(store_dir) as r:
        assert [v for _, v in r.history(main.id)["loss"]] == [*map(float, range(50)), 99.0]
        assert "acc" not in r.history(main.id)
        assert [s for s, _ in r.history(side.id)["acc"]] == list(range(25))
        assert r.run(side.id).state == "finished" and r.run(alone.id).state == "finished"


def test_create_new_refuses_an_id_in_use_but_not_a_finished_one(store_dir):
    with tracktui.init(dir=store_dir, settings=OFF) as run1:
        with pytest.raises(tracktui.Error, match="in use"):
            tracktui.init(dir=store_dir, id=run1.id, reinit="create_new", settings=OFF)
    again = tracktui.init(dir=store_dir, id=run1.id, resume="allow", reinit="create_new", settings=OFF)
    assert again.resumed
    again.finish()


def test_resume_must_while_a_run_is_active_is_an_error(store_dir):
    with tracktui.init(dir=store_dir, id="r1", settings=OFF):
        with pytest.raises(tracktui.Error, match="finish it first"):
            tracktui.init(dir=store_dir, id="r1", resume="must", settings=OFF)


def test_reinit_from_settings_and_bad_values(store_dir):
    first = tracktui.init(dir=store_dir, settings=OFF)
    second = tracktui.init(dir=store_dir, settings=tracktui.Settings(reinit="finish_previous", capture=False))
    assert first._finished and tracktui.run is second
    with pytest.raises(ValueError, match="reinit"):
        tracktui.init(dir=store_dir, reinit="sometimes", settings=OFF)


def test_a_forked_child_starts_its_own_run(store_dir):
    parent = tracktui.init(dir=store_dir, settings=OFF)
    pid = os.fork()
    if pid == 0:  # the child: init() must not hand back the parent's run
        code = 1
        try:
            child = tracktui.init(dir=store_dir, settings=OFF)
            code = 0 if child is not parent else 3
            child.finish()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    parent.finish()
    assert len(tracktui.Api(store_dir).runs()) == 2


# ---------------------------------------------------------------- run.dir


def test_run_dir_is_the_runs_own_private_directory_stored_at_finish(store_dir):
    run = tracktui.init(dir=store_dir, settings=OFF)
    other = tracktui.init(dir=store_dir, reinit="create_new", settings=OFF)
    assert not (store_dir / "files").exists()  # made on first use only
    d = run.dir
    assert isinstance(d, str) and os.path.isdir(d) and d != other.dir and d == run.dir
    assert os.path.dirname(d) == str(store_dir / "files")
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    with open(os.path.join(d, "model.txt"), "w") as f:  # as scripts write checkpoints into wandb.run.dir
        f.write("weights")
    os.makedirs(os.path.join(d, "sub"))
    with open(os.path.join(d, "sub", "b.json"), "w") as f:
        f.write("{}")
    other.finish()
    run.finish()
    api = tracktui.Api(store_dir).run(run.id)
    assert {"model.txt", "sub/b.json"} <= set(api.files()) and api.file("model.txt") == b"weights"
    assert tracktui.Api(store_dir).run(other.id).files() == []
    assert run.settings.files_dir == d and run.settings.root_dir == str(store_dir)


def test_run_dir_never_uses_an_odd_id_as_a_path(store_dir):
    run = tracktui.init(dir=store_dir, id="../../escape", settings=OFF)
    d = run.dir
    assert os.path.dirname(d) == str(store_dir / "files") and ".." not in os.path.basename(d)
    run.finish()


def test_disabled_mode_has_a_usable_dir_and_the_wandb_names(store_dir):
    run = tracktui.init(dir=store_dir, mode="disabled")
    assert os.path.isdir(run.dir)
    run.alert("t", "x")
    run.mark_preempting()
    assert run.define_metric("x", summary="max").name == "x"
    assert run.get_url() is None and run.offline and run.settings.mode == "disabled"
    run.finish()
    assert not store_dir.exists()


def test_teardown_finishes_every_active_run(store_dir):
    """wandb.setup() ... wandb.teardown(): teardown completes the runs not finished yet, as wandb's does."""
    tracktui.setup()
    first = tracktui.init(dir=store_dir, settings=OFF)
    side = tracktui.init(dir=store_dir, reinit="create_new", settings=OFF)
    first.log({"a": 1.0})
    tracktui.teardown()
    assert first._finished and side._finished and tracktui.run is None
    tracktui.teardown()  # nothing left: a no-op
    assert {r.state for r in tracktui.Api(store_dir).runs()} == {"finished"}


def test_an_id_from_util_generate_id_resumes_its_run(store_dir):
    """id = wandb.util.generate_id(), kept by the script to resume the same run after a restart."""
    run_id = tracktui.util.generate_id()
    assert len(run_id) == 8 and run_id.isalnum() and run_id == run_id.lower()
    assert len(tracktui.util.generate_id(12)) == 12 and tracktui.util.generate_id() != run_id
    with tracktui.init(dir=store_dir, id=run_id, resume="allow", settings=OFF) as run:
        run.log({"a": 1.0})
    with tracktui.init(dir=store_dir, id=run_id, resume="allow", settings=OFF) as run:
        run.log({"a": 2.0})
    (back,) = tracktui.Api(store_dir).runs()
    assert back.id == run_id and [r["a"] for r in back.history()] == [1.0, 2.0]


# ---------------------------------------------------------------- before init()


def test_config_and_summary_before_init_raise_a_clear_error():
    assert tracktui.run is None
    for use in (lambda: tracktui.config.update({"a": 1}), lambda: tracktui.config["lr"],
                lambda: tracktui.config.__setitem__("lr", 1), lambda: setattr(tracktui.config, "lr", 1),
                lambda: tracktui.summary["acc"], lambda: tracktui.summary.update({"a": 1})):
        with pytest.raises(tracktui.Error, match=r"tracktui\.init\(\)"):
            use()
    assert not tracktui.config and "before init" in repr(tracktui.summary)
    for call in (lambda: tracktui.alert("t", "x"), lambda: tracktui.mark_preempting()):
        with pytest.raises(tracktui.Error, match=r"init\(\)"):
            call()


def test_config_and_summary_after_init_are_the_runs(store_dir):
    run = tracktui.init(dir=store_dir, settings=OFF)
    tracktui.config.update({"a": 1})
    tracktui.summary["s"] = 2
    assert run.config.a == 1 and run.summary["s"] == 2
    run.finish()
    with pytest.raises(tracktui.Error):
        tracktui.config.update({"b": 2})  # after finish: the placeholder again


# ---------------------------------------------------------------- Settings


def test_settings_give_init_arguments_and_capture_switches(store_dir):
    s = tracktui.Settings(project="from-settings", run_name="nm", run_tags=("a",), entity="team",
                          console="off", disable_git=True, x_disable_stats=True, x_disable_meta=True,
                          start_method="thread", _unknown_private=1)
    s.update({"run_notes": "n"}, run_group="g")
    assert s.start_method == "thread" and s.to_dict()["run_group"] == "g"
    with pytest.raises(AttributeError):
        s.not_a_setting  # noqa: B018
    run = tracktui.init(dir=store_dir, name="explicit", settings=s)  # an argument wins over a setting
    print("to the console")
    assert (run.project, run.name, run.tags, run.notes, run.group, run.entity) == (
        "from-settings", "explicit", ("a",), "n", "g", "team")
    assert run.settings.start_method == "thread" and run.settings.run_name == "explicit"
    run.finish()
    rec = tracktui.Api(store_dir).run(run.id)
    assert rec.logs() == [] and rec.system() == {} and rec.metadata in ({}, None)  # all switched off

