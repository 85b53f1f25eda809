"""log(), summary, config and define_metric end to end: init, log, finish, read back through Api."""

from __future__ import annotations

import argparse
import math
import threading

import pytest
import tracktui
from tracktui.store import Reader


def history_of(store, run_id, key):
    with Reader(store) as r:
        return r.history(run_id, [key])[key]


def test_every_call_is_a_step_and_commit_false_joins_the_next(store_dir):
    run = tracktui.init(project="p", dir=store_dir)
    for i in range(10):
        run.log({"train/loss": 1.0 / (i + 1)})
        if i % 5 == 0:
            run.log({"val/acc": 0.5 + i, "epoch": i // 5}, commit=False)
    run.finish()
    api_run = tracktui.Api(store_dir).run(run.id)
    rows = api_run.history()
    assert [r["_step"] for r in rows] == list(range(10))
    assert rows[1]["val/acc"] == 0.5 and rows[1]["epoch"] == 0.0 and "train/loss" in rows[1]
    assert rows[6]["val/acc"] == 5.5
    assert "val/acc" not in rows[0]
    assert api_run.summary["train/loss"] == pytest.approx(0.1)
    assert api_run.last_step == 9


def test_explicit_steps_and_a_lower_step_is_stored_with_one_warning(store_dir):
    run = tracktui.init(dir=store_dir)
    run.log({"a": 1}, step=10)
    run.log({"a": 2})  # step 11
    with pytest.warns(tracktui.TrackTuiWarning, match="lower than the current step"):
        run.log({"a": 3}, step=4)
    run.log({"a": 4}, step=2)  # warned once only
    run.log({"a": 5})  # continues after the highest step: 12
    run.finish()
    assert history_of(store_dir, run.id, "a") == [(2, 4.0), (4, 3.0), (10, 1.0), (11, 2.0), (12, 5.0)]


def test_step_with_commit_false_accumulates(store_dir):
    run = tracktui.init(dir=store_dir)
    run.log({"a": 1}, step=3, commit=False)
    run.log({"b": 2}, step=3)
    run.log({"c": 3})
    run.finish()
    rows = tracktui.Api(store_dir).run(run.id).history()
    assert rows[0]["_step"] == 3 and rows[0]["a"] == 1.0 and rows[0]["b"] == 2.0
    assert rows[1] == {**rows[1], "_step": 4, "c": 3.0}


def test_nested_dicts_flatten_and_slashes_are_kept(store_dir):
    run = tracktui.init(dir=store_dir)
    run.log({"train": {"loss": 1.0, "inner": {"x": 2}}, "val/acc": 3})
    run.finish()
    with Reader(store_dir) as r:
        assert r.keys(run.id) == ["train.loss", "train.inner.x", "val/acc"]


def test_numbers_of_every_flavour_behave_the_same(store_dir):
    np = pytest.importorskip("numpy")
    run = tracktui.init(dir=store_dir)
    values = {"bool": True, "int": 3, "float": 2.5, "np64": np.float64(2.5), "np32": np.float32(0.5),
              "np16": np.float16(0.5), "npint": np.int64(7), "np0d": np.array(1.5), "npbool": np.bool_(True)}
    run.log(values)
    run.finish()
    row = tracktui.Api(store_dir).run(run.id).history()[0]
    assert row["bool"] == 1.0 and row["int"] == 3.0 and row["float"] == 2.5 and row["np64"] == 2.5
    assert row["np32"] == 0.5 and row["np16"] == 0.5 and row["npint"] == 7.0 and row["np0d"] == 1.5
    assert row["npbool"] == 1.0
    assert all(isinstance(row[k], float) for k in values)


def test_torch_scalars(store_dir):
    torch = pytest.importorskip("torch")
    run = tracktui.init(dir=store_dir)
    run.log({"t32": torch.tensor(0.25), "t16": torch.tensor(0.5, dtype=torch.float16),
             "bf16": torch.tensor(0.75, dtype=torch.bfloat16), "one": torch.ones(1)})
    run.finish()
    row = tracktui.Api(store_dir).run(run.id).history()[0]
    assert (row["t32"], row["t16"], row["bf16"], row["one"]) == (0.25, 0.5, 0.75, 1.0)


def test_nan_inf_and_negative_zero_round_trip(store_dir):
    run = tracktui.init(dir=store_dir)
    run.log({"nan": math.nan, "inf": math.inf, "ninf": -math.inf, "nz": -0.0, "big": 1e308, "tiny": 5e-324})
    run.finish()
    api_run = tracktui.Api(store_dir).run(run.id)
    for source in (api_run.history()[0], api_run.summary):
        assert math.isnan(source["nan"])
        assert source["inf"] == math.inf and source["ninf"] == -math.inf
        assert source["nz"] == 0.0 and math.copysign(1.0, source["nz"]) == -1.0
        assert source["big"] == 1e308 and source["tiny"] == 5e-324


def test_strings_keys_with_markup_emoji_and_controls_are_data(store_dir):
    run = tracktui.init(dir=store_dir)
    keys = ["a[b]", "[/]", "[@click=app.quit]", "emoji 🚀/loss", "ctl\x1b]52;c;aGk=\x07", "tab\tkey"]
    big = "x" * (1 << 20)
    run.log({k: i for i, k in enumerate(keys)} | {"text": "[bold]hi[/bold]", "big": big})
    run.finish()
    row = tracktui.Api(store_dir).run(run.id).history()[0]
    assert [row[k] for k in keys] == [float(i) for i in range(len(keys))]
    assert row["text"] == "[bold]hi[/bold]" and row["big"] == big


def test_unserializable_values_keep_a_repr_and_warn_once(store_dir):
    run = tracktui.init(dir=store_dir)

    class Thing:
        def __repr__(self):
            return "<Thing>"

    with pytest.warns(tracktui.TrackTuiWarning, match="repr"):
        run.log({"obj": Thing(), "ok": 1.0})
    run.log({"obj": Thing(), "ok": 2.0})
    run.finish()
    rows = tracktui.Api(store_dir).run(run.id).history()
    assert [r["obj"] for r in rows] == ["<Thing>", "<Thing>"] and [r["ok"] for r in rows] == [1.0, 2.0]


def test_log_after_finish_is_reported_and_never_raises(store_dir, caplog):
    run = tracktui.init(dir=store_dir)
    run.log({"a": 1})
    run.finish()
    run.log({"a": 2})
    assert "after run" in caplog.text  # data not stored: the tracktui logger, not a warning
    run.finish()  # idempotent
    assert history_of(store_dir, run.id, "a") == [(0, 1.0)]


def test_log_rejects_non_dicts_without_raising(store_dir):
    run = tracktui.init(dir=store_dir)
    with pytest.warns(tracktui.TrackTuiWarning, match="takes a dict"):
        run.log([1, 2, 3])  # type: ignore[arg-type]
    run.log({"a": 1}, step="nope")  # type: ignore[arg-type]
    run.finish()
    assert history_of(store_dir, run.id, "a") == [(0, 1.0)]


def test_define_metric_summaries_and_step_metric(store_dir):
    run = tracktui.init(dir=store_dir)
    run.define_metric("epoch")
    run.define_metric("val/*", step_metric="epoch", summary="max")
    run.define_metric("loss", summary="min,max,mean")
    run.define_metric("first", summary="first")
    run.define_metric("quiet", summary="none", hidden=True)
    for i, v in enumerate([3.0, 1.0, 2.0]):
        run.log({"val/acc": v, "loss": v, "first": v, "quiet": v, "epoch": i})
    with pytest.raises(ValueError, match="summary"):
        run.define_metric("x", summary="median")
    run.finish()
    rec = tracktui.Api(store_dir).run(run.id)
    assert rec.summary["val/acc"] == {"max": 3.0}
    assert rec.summary["loss"] == {"min": 1.0, "max": 3.0, "mean": 2.0}
    assert rec.summary["first"] == {"first": 3.0}
    assert "quiet" not in rec.summary
    assert rec.summary["epoch"] == 2
    defs = {d["name"]: d for d in rec.metric_defs}
    assert defs["val/*"]["step_metric"] == "epoch" and defs["quiet"]["hidden"] is True


def test_summary_is_last_value_overridable_and_persisted(store_dir):
    run = tracktui.init(dir=store_dir)
    run.log({"acc": 0.5})
    run.log({"acc": 0.7})
    run.summary["best_acc"] = 0.93
    run.summary.update({"note": "ok"})
    assert run.summary["acc"] == 0.7 and dict(run.summary)["best_acc"] == 0.93
    run.finish()
    assert tracktui.Api(store_dir).run(run.id).summary == {"acc": 0.7, "best_acc": 0.93, "note": "ok"}


def test_config_dict_attribute_update_namespace_persisted(store_dir):
    ns = argparse.Namespace(lr=0.1, batch_size=32)
    run = tracktui.init(dir=store_dir, config=ns)
    assert run.config.lr == 0.1 and run.config["batch_size"] == 32
    run.config.update({"model": {"depth": 4}})
    run.config.dropout = 0.2
    with Reader(store_dir) as r:  # persisted on update, before finish
        tracktui.Run  # noqa: B018
        run._writer.flush()
        assert r.run(run.id).config == {"lr": 0.1, "batch_size": 32, "model": {"depth": 4}, "dropout": 0.2}
    run.finish()


def test_module_level_api_and_reinit_finishing_the_first(store_dir):
    with pytest.raises(tracktui.Error):
        tracktui.log({"a": 1})
    first = tracktui.init(dir=store_dir, project="p")
    assert tracktui.run is first and tracktui.config is first.config and tracktui.summary is first.summary
    tracktui.log({"a": 1})
    second = tracktui.init(dir=store_dir, project="p", reinit="finish_previous")
    assert first._finished and tracktui.run is second
    tracktui.finish()
    assert tracktui.run is None
    states = {r.id: r.state for r in tracktui.Api(store_dir).runs()}
    assert states == {first.id: "finished", second.id: "finished"}


def test_context_manager_marks_failed_on_exception(store_dir):
    with pytest.raises(RuntimeError):
        with tracktui.init(dir=store_dir) as run:
            run.log({"a": 1})
            raise RuntimeError("boom")
    rec = tracktui.Api(store_dir).run(run.id)
    assert rec.state == "failed" and "RuntimeError: boom" in rec.error


def test_disabled_mode_is_a_cheap_no_op(store_dir):
    run = tracktui.init(dir=store_dir, mode="disabled", config={"a": 1})
    run.log({"x": 1})
    run.define_metric("x", summary="max")
    run.summary["y"] = 2
    assert run.config.a == 1
    run.finish()
    assert not store_dir.exists()


def test_names_and_ids(store_dir):
    a = tracktui.init(dir=store_dir, project="p")
    a.finish()
    b = tracktui.init(dir=store_dir, project="p", name="mine")
    b.finish()
    assert a.name.endswith("-1") and a.name.count("-") == 2 and b.name == "mine"
    assert len(a.id) == 8 and a.id.isalnum() and a.id != b.id


def test_resume_allow_must_never(store_dir):
    run = tracktui.init(dir=store_dir, id="abc123", config={"lr": 1})
    run.log({"a": 1})
    run.log({"a": 2})
    run.summary["best"] = 9
    run.finish()
    with pytest.raises(ValueError, match="already exists"):
        tracktui.init(dir=store_dir, id="abc123")
    with pytest.raises(ValueError, match="already exists"):
        tracktui.init(dir=store_dir, id="abc123", resume="never")
    with pytest.raises(ValueError, match="no run"):
        tracktui.init(dir=store_dir, id="zzz", resume="must")
    again = tracktui.init(dir=store_dir, id="abc123", resume="allow", config={"bs": 2})
    assert again.name == run.name and again.step == 2 and again.summary["best"] == 9
    again.log({"a": 3})
    again.finish()
    rec = tracktui.Api(store_dir).run("abc123")
    assert rec.state == "finished" and rec.config == {"lr": 1, "bs": 2}
    assert history_of(store_dir, "abc123", "a") == [(0, 1.0), (1, 2.0), (2, 3.0)]


def test_threads_logging_at_once_lose_nothing(store_dir):
    run = tracktui.init(dir=store_dir)

    def worker(i: int) -> None:
        for j in range(2000):
            run.log({f"t{i}": float(j)})

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run.finish()
    with Reader(store_dir) as r:
        hist = r.history(run.id)
    assert sorted(len(v) for v in hist.values()) == [2000] * 4
    assert all([p[1] for p in v] == [float(j) for j in range(2000)] for v in hist.values())
    assert r.run(run.id).last_step == 7999


def test_numpy_integers_stay_integers_in_the_summary(store_dir):
    np = pytest.importorskip("numpy")
    run = tracktui.init(dir=store_dir)
    run.log({"tokens": np.int64(306176), "epoch": np.uint8(3), "py": 5, "loss": np.float32(0.5), "big": 2**60})
    assert type(run.summary["tokens"]) is int and run.summary["tokens"] == 306176
    run.finish()
    summary = tracktui.Api(store_dir).run(run.id).summary
    assert summary["tokens"] == 306176 and type(summary["tokens"]) is int and summary["epoch"] == 3
    assert summary["py"] == 5 and summary["loss"] == 0.5 and summary["big"] == float(2**60)  # as history holds it
