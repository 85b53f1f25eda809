"""define_metric as wandb has it: the Metric object, argument checks, every summary type, NaN, nested and
escaped keys, merging and overwrite. The cases follow what wandb's own tests check
(tests/unit_tests/test_wandb_define_metric.py, tests/system_tests/test_core/test_metric_full.py), asserted on
the live run.summary and on the stored summary read back through Api."""

from __future__ import annotations

import math

import pytest
import tracktui


@pytest.fixture
def run(store_dir):
    r = tracktui.init(dir=store_dir, settings={"capture": False})
    yield r
    r.finish()


def stored(store_dir, run):
    run.finish()
    return tracktui.Api(store_dir).run(run.id)


# ---------------------------------------------------------------- the returned object and argument checks


def test_returns_a_metric_object_with_the_calls_arguments(run):
    glob = run.define_metric("glob", hidden=True)
    val = run.define_metric("val", step_metric=glob)  # a Metric works as step_metric
    assert glob.name == "glob" and glob.hidden is True and glob.step_metric is None
    assert val.step_metric == "glob" and val.step_sync is True  # step_sync defaults to True with a step metric
    assert run.define_metric("m3", step_metric="s", step_sync=False).step_sync is False
    assert run.define_metric("m4").step_sync is False
    assert run.define_metric("g", goal="maximize").goal == "maximize"
    assert run.define_metric("g", goal="minimize").goal == "minimize"
    assert run.define_metric("s", summary="min,max").summary == ("min", "max")
    assert run.define_metric("s", summary="best").summary == ("best",)
    assert not run.define_metric("s").summary and not run.define_metric("s", summary="").summary
    assert run.define_metric("s", summary="first").summary == ("first",)
    assert run.define_metric("sm", step_metric="globalstep").step_metric == "globalstep"
    assert not run.define_metric("sm").step_metric  # the object is this call's; the definitions merge


@pytest.mark.parametrize("args, kwargs", [
    ("", {}),
    ("junk", {"step_metric": 1}),
    ("metric", {"summary": "doesnotexist"}),
    ("metric", {"goal": "nothing"}),
    ("metric", {"hidden": "yes"}),
    ("metric", {"summary": ["min"]}),
])
def test_wrong_arguments_raise_a_tracktui_error_and_record_nothing(run, store_dir, args, kwargs):
    with pytest.raises(tracktui.Error) as err:
        run.define_metric(args, **kwargs)
    assert isinstance(err.value, ValueError)  # also a ValueError, as before
    assert stored(store_dir, run).metric_defs == []


# ---------------------------------------------------------------- summaries


@pytest.mark.parametrize("summary, expected", [("min", 1), ("max", 8), ("last", 3), ("mean", 4), ("first", 1)])
def test_each_summary_type(run, store_dir, summary, expected):
    run.define_metric("val", summary=summary)
    for v in (1, 8, 3):
        run.log({"val": v})
    assert run.summary["val"] == {summary: expected}  # "last" asked for explicitly is a dict too
    assert stored(store_dir, run).summary["val"] == {summary: expected}


@pytest.mark.parametrize("summary, expected", [("min", 1), ("max", 3), ("mean", 2), ("first", 1)])
def test_strings_are_skipped_by_numeric_summaries(run, summary, expected):
    run.define_metric("val", summary=summary)
    for v in (1, "oops a string", 3):
        run.log({"val": v})
    assert run.summary["val"][summary] == expected


@pytest.mark.parametrize("summary", [None, "copy", ""])
def test_default_copy_and_empty_keep_the_plain_last_value(run, store_dir, summary):
    run.define_metric("*", summary=summary)
    for step, val in ((1, 2), (2, 8), (3, 3)):
        run.log({"mystep": step, "val": val})
    run.log({"val2": 4})
    run.log({"val2": 1})
    assert stored(store_dir, run).summary == {"val": 3, "val2": 1, "mystep": 3}


def test_none_removes_the_key_and_copy_glob_keeps_the_rest(run, store_dir):
    run.define_metric("*", summary="copy")
    run.define_metric("val", summary="none")
    for i in (1, 2, 3):
        run.log({"val": i, "other": i})
    assert stored(store_dir, run).summary == {"other": 3}


def test_best_follows_the_goal(run, store_dir):
    run.define_metric("acc", summary="best", goal="maximize")
    run.define_metric("loss", summary="best")  # minimize unless the goal says otherwise
    run.define_metric("err", summary="best,min,max", goal="minimize")
    for acc in (0.5, 0.9, 0.7):
        run.log({"acc": acc, "loss": 1 - acc, "err": acc})
    s = stored(store_dir, run).summary
    assert s["acc"] == {"best": 0.9}
    assert s["loss"] == {"best": pytest.approx(0.1)}
    assert s["err"] == {"best": 0.5, "min": 0.5, "max": 0.9}


def test_nan_makes_min_max_mean_nan_as_in_wandb(run, store_dir):
    run.define_metric("mean", summary="mean")
    run.define_metric("min_only_nan", summary="min")
    run.define_metric("min_then", summary="min,max,first,last")
    run.define_metric("inf", summary="min,max")
    for v in (2.0, float("nan"), 4.0):
        run.log({"mean": v, "inf": v})
    run.log({"min_only_nan": float("nan")})
    run.log({"min_then": float("nan")})
    run.log({"min_then": 4.0})
    run.log({"inf": float("-inf")})
    for s in (run.summary, stored(store_dir, run).summary):
        assert math.isnan(s["mean"]["mean"])
        assert math.isnan(s["min_only_nan"]["min"])
        assert math.isnan(s["min_then"]["min"]) and math.isnan(s["min_then"]["max"])
        assert math.isnan(s["min_then"]["first"]) and s["min_then"]["last"] == 4.0
        assert math.isnan(s["inf"]["min"]) and math.isnan(s["inf"]["max"])


def test_infinities_are_ordinary_extremes(run):
    run.define_metric("x", summary="min,max")
    for v in (1.0, float("inf"), float("-inf"), 2):
        run.log({"x": v})
    assert run.summary["x"] == {"min": float("-inf"), "max": float("inf")}


def test_integers_count_in_min_max_mean_on_every_log_path(run):
    run.define_metric("n", summary="min,max,mean")
    run.log({"n": 3, "label": "a"})  # a string beside it takes the general path
    run.log({"n": 1})
    run.log({"n": 2, "flag": True})
    assert run.summary["n"] == {"min": 1, "max": 3, "mean": 2.0}


# ---------------------------------------------------------------- nested and escaped keys


def test_nested_values_read_both_ways(run, store_dir):
    for v in (3, 2, 4):
        run.log({"this": {"that": v}, "deep": {"a": {"b": v}}})
    assert run.summary["this"] == {"that": 4} and run.summary["this"]["that"] == 4
    assert run.summary["this.that"] == 4 and run.summary.this == {"that": 4}
    assert run.summary["deep"]["a"]["b"] == 4 and "deep" in run.summary
    with pytest.raises(KeyError):
        run.summary["thi"]  # noqa: B018 - a prefix that is not a whole part is no key
    s = stored(store_dir, run).summary
    assert s["this"]["that"] == 4 and s["this.that"] == 4 and s.get("deep") == {"a": {"b": 4}}
    assert "this" in s and "nope" not in s and s.get("nope", 0) == 0


@pytest.mark.parametrize("summary, expected", [("copy", {"that": 4}), ("min", {"that": {"min": 2}}),
                                               ("min,max", {"that": {"min": 2, "max": 4}})])
def test_nested_with_a_definition(run, summary, expected):
    run.define_metric("this.that", summary=summary)
    for v in (3, 2, 4):
        run.log({"this": {"that": v}})
    assert run.summary["this"] == expected


def test_nested_glob(run):
    run.define_metric("*", summary="min,max")
    for v in (3, 2, 4):
        run.log({"this": {"that": v}})
    assert run.summary["this"] == {"that": {"min": 2, "max": 4}}


def test_escaped_dots_name_a_key_with_a_dot(run, store_dir):
    run.define_metric("test\\this\\.that", summary="min")
    for v in (3, 2, 4):
        run.log({"test\\this.that": v})
    assert stored(store_dir, run).summary["test\\this.that"] == {"min": 2}


# ---------------------------------------------------------------- merging


@pytest.mark.parametrize("name", ["m", "*"])
def test_a_second_definition_merges_unless_overwrite(store_dir, name):
    for overwrite, expected in ((False, {"min": 1, "max": 1}), (None, {"min": 1, "max": 1}), (True, {"max": 1})):
        run = tracktui.init(dir=store_dir, settings={"capture": False})
        run.define_metric(name, summary="min", step_metric="s")
        run.define_metric(name, summary="max", overwrite=overwrite)
        run.log({"m": 1})
        rec = stored(store_dir, run)
        assert rec.summary["m"] == expected
        (d,) = rec.metric_defs
        assert d["step_metric"] == (None if overwrite else "s")


def test_none_then_a_summary_again(run):
    run.define_metric("x", summary="min")
    run.define_metric("x", summary="none")
    run.log({"x": 1})
    assert "x" not in run.summary
    run.define_metric("x", summary="max")
    run.log({"x": 2})
    assert run.summary["x"] == {"min": 2, "max": 2}  # the min survives "none" (as wandb's summary flags do)


def test_step_metric_and_flags_are_stored_for_the_app(run, store_dir):
    run.define_metric("epoch", hidden=True)
    run.define_metric("val/*", step_metric="epoch", summary="max", goal="maximize")
    run.log({"epoch": 0, "val/acc": 0.5})
    defs = {d["name"]: d for d in stored(store_dir, run).metric_defs}
    assert defs["val/*"] == {"name": "val/*", "step_metric": "epoch", "step_sync": True, "summary": ["max"],
                             "hidden": False, "goal": "maximize"}
    assert defs["epoch"]["hidden"] is True
