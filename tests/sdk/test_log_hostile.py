"""Issue 9, never lose a run: inputs that used to make SQLite refuse a whole batch (and with it the run's other
data and every later run's) are normalised at log() time. Each trigger runs in its own interpreter, between
other data of the same run and before a second run, and the process must end normally with all of it stored."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Mapping

import pytest
import tracktui
from tracktui import values
from tracktui.store import Reader, report

from tests.conftest import run_script

# code run with `r` the run; the first log() joins step 0, where "other" is pending; key -> expected points
TRIGGERS = {
    "inf-then-finite": ('r.log({"best": float("inf")}); r.log({"best": 1.0})',
                        {"best": [(0, math.inf), (1, 1.0)]}),
    "nan-loss-at-step-0": ('r.log({"loss": float("nan")}, step=0); r.log({"loss": 0.5})',
                           {"loss": [(0, math.nan), (1, 0.5)]}),
    "surrogate-key": ('r.log({"k\\udcff": 1.0})', {"k\\udcff": [(0, 1.0)]}),
    "surrogate-value": ('r.log({"text": "bad \\udcff byte"})', {"text": [(0, "bad \\udcff byte")]}),
    "step-2**63": ('r.log({"v": 1.0}, step=2**63)', {"v": [(0, 1.0)]}),
    "step-2**63-1-then-one-more": ('r.log({"v": 1.0}, step=2**63 - 1); r.log({"v": 2.0})',
                                   {"v": [(0, 1.0), (1, 2.0)]}),
    "step-inf": ('r.log({"v": 1.0}, step=float("inf"))', {"v": [(0, 1.0)]}),
    "huge-int": ('r.log({"n": 10**400})', {"n": [(0, str(10**400))]}),
}

SCRIPT = """
import tracktui
r = tracktui.init(project="p", name="hostile")
r.log({"other": 1.0}, commit=False)
%s
r.log({"other": 2.0})
r.finish()
later = tracktui.init(project="p", name="later")
later.log({"after": 3.0})
later.finish()
print("done")
"""


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b and type(a) is type(b)


@pytest.mark.parametrize("name", list(TRIGGERS))
def test_a_trigger_keeps_the_run_and_later_runs(store_dir, name):
    code, expected = TRIGGERS[name]
    proc = run_script(SCRIPT % code, store_dir, timeout=60)
    assert proc.stdout.strip() == "done"
    assert "fail" not in proc.stderr and "not fully written" not in proc.stderr, proc.stderr  # no batch retried
    runs = {r.name: r for r in tracktui.Api(store_dir).runs()}
    assert {n: r.state for n, r in runs.items()} == {"hostile": "finished", "later": "finished"}
    with Reader(store_dir) as rd:
        hist = rd.history(runs["hostile"].id)
        later = rd.history(runs["later"].id)
    assert later == {"after": [(0, 3.0)]}
    other = hist.pop("other")
    assert [v for _, v in other] == [1.0, 2.0] and other[0][0] == 0 and other[1][0] > 0
    for key, points in expected.items():
        got = hist[key]
        assert [s for s, _ in got] == [s for s, _ in points], (key, got)
        assert all(_same(g, e) for (_, g), (_, e) in zip(got, points, strict=True)), (key, got)


def test_a_key_with_a_surrogate_warns_once_and_keeps_its_escaped_text(store_dir):
    run = tracktui.init(dir=store_dir)
    with pytest.warns(tracktui.TrackTuiWarning, match="surrogates"):
        run.log({"k\udcff": 1.0, "fine": 2.0, "nested": {"x\udcfe": "y\udcfd"}})
    run.define_metric("k\udcff", summary="max")  # names the logged key: escaped alike
    run.log({"k\udcff": 3.0})
    run.summary["s\udcfc"] = "v\udcfb"  # the summary's JSON escapes it and reads it back as it was
    run.finish()
    rec = tracktui.Api(store_dir).run(run.id)
    assert rec.history()[0] | {"_timestamp": 0} == {"_step": 0, "_timestamp": 0, "k\\udcff": 1.0, "fine": 2.0,
                                                   "nested.x\\udcfe": "y\\udcfd"}
    assert rec.summary == {"k\\udcff": {"max": 3.0}, "fine": 2.0, "nested.x\\udcfe": "y\\udcfd",
                           "s\udcfc": "v\udcfb"}


def test_empty_control_and_long_keys_are_data_and_absurd_ones_are_cut_apart(store_dir):
    run = tracktui.init(dir=store_dir)
    long_a = "a" * 5000 + "1"
    long_b = "a" * 5000 + "2"
    run.log({"": 1.0, "\x00nul\x1b[31m": 2.0, "k" * values.MAX_KEY: 3.0})
    with pytest.warns(tracktui.TrackTuiWarning, match="was cut"):
        run.log({long_a: 4.0, long_b: 5.0})
    run.finish()
    with Reader(store_dir) as r:
        hist = r.history(run.id)
    assert hist[""] == [(0, 1.0)] and hist["\x00nul\x1b[31m"] == [(0, 2.0)] and hist["k" * values.MAX_KEY]
    cut = sorted(k for k in hist if k.startswith("aaa"))
    assert len(cut) == 2 and all(len(k) == values.MAX_KEY for k in cut)  # two metrics, not one
    assert sorted(v for k in cut for _, v in hist[k]) == [4.0, 5.0]


class HalfMapping(Mapping):
    """A mapping whose items() raises after two items, as a lazy or remote mapping might."""

    def __getitem__(self, key):
        return 1.0

    def __len__(self) -> int:
        return 3

    def __iter__(self) -> Iterator[str]:
        return iter("abc")

    def items(self):  # type: ignore[override]
        yield "a", 1.0
        yield "b", 2.0
        raise RuntimeError("the mapping broke")


def test_a_mapping_that_raises_halfway_leaves_nothing_behind(store_dir, caplog):
    run = tracktui.init(dir=store_dir)
    run.log({"x": 1.0}, commit=False)
    report._seen.clear()
    run.log(HalfMapping())  # reported as not stored, through the tracktui logger
    assert "the mapping broke" in caplog.text and "not recorded" in caplog.text
    run.log(HalfMapping(), step=7, commit=False)  # also with a step: nothing pending at 7 either
    run.log({"y": 2.0})
    run.log({"z": 3.0})
    run.finish()
    rows = tracktui.Api(store_dir).run(run.id).history()
    assert [{k: v for k, v in r.items() if k != "_timestamp"} for r in rows] == [
        {"_step": 0, "x": 1.0, "y": 2.0}, {"_step": 1, "z": 3.0}]
    assert set(tracktui.Api(store_dir).run(run.id).summary) == {"x", "y", "z"}


@pytest.mark.parametrize("step, stored, refused", [
    (3, 3, False), (3.0, 3, False), (2**63 - 2, 2**63 - 2, False), (None, 0, False),
    (True, 0, True), ("3", 0, True), (3.5, 0, True), (math.nan, 0, True), (math.inf, 0, True),
    (-math.inf, 0, True), (-1, 0, True), (2**63 - 1, 0, True), (2**64, 0, True), (1e300, 0, True),
    ([3], 0, True), (object(), 0, True),
], ids=repr)
def test_every_kind_of_step(store_dir, step, stored, refused):
    run = tracktui.init(dir=store_dir)
    tracktui.warn._seen.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run.log({"v": 1.0}, step=step)
    run.finish()
    with Reader(store_dir) as r:
        assert r.history(run.id) == {"v": [(stored, 1.0)]}
    assert [str(w.message) for w in caught if "is refused" in str(w.message)] != [] if refused else not caught


def test_numpy_and_torch_steps(store_dir):
    np = pytest.importorskip("numpy")
    run = tracktui.init(dir=store_dir)
    run.log({"v": 1.0}, step=np.int64(4))
    run.log({"v": 2.0}, step=np.float32(6.0))
    run.log({"v": 3.0}, step=np.uint64(2**64 - 1))  # too large: the automatic step, 7
    run.log({"v": 4.0}, step=np.bool_(True))  # a bool: 8
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        run.log({"v": 5.0}, step=torch.tensor(20))
        run.log({"v": 6.0}, step=torch.tensor(22.0))
    run.finish()
    with Reader(store_dir) as r:
        steps = [s for s, _ in r.history(run.id)["v"]]
    assert steps == [4, 6, 7, 8] + ([20, 22] if torch is not None else [])


def test_the_automatic_step_stops_at_the_largest_integer_with_a_warning(store_dir):
    run = tracktui.init(dir=store_dir)
    run.log({"v": 0.5})
    run.log({"v": 1.0}, step=2**63 - 2)
    run.log({"v": 2.0})  # 2**63-1: the largest step SQLite holds
    with pytest.warns(tracktui.TrackTuiWarning, match="largest step"):
        run.log({"v": 3.0})  # replaces it
    run.log({"w": 4.0})
    run.finish()
    with Reader(store_dir) as r:
        assert r.history(run.id) == {"v": [(0, 0.5), (2**63 - 2, 1.0), (2**63 - 1, 3.0)], "w": [(2**63 - 1, 4.0)]}
        whole = r.sampled(run.id, "v", 1)  # steps 0 to 2**63-1 in one bucket, from the rollup
        assert (whole.vmin, whole.vmax, whole.count) == ([0.5], [3.0], [3])  # the replaced 2.0 is gone
        assert sorted(r.step_times(run.id)) == [0, 2**63 - 2, 2**63 - 1]
    assert tracktui.Api(store_dir).run(run.id).last_step == 2**63 - 1


def test_big_ints_warn_and_say_what_is_stored(store_dir):
    np = pytest.importorskip("numpy")
    run = tracktui.init(dir=store_dir)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run.log({"py": 2**53 + 1, "np": np.int64(2**53 + 1), "u64": np.uint64(2**64 - 1), "huge": 10**400,
                 "giant": 10**5000, "ok": np.int64(2**53)})
    messages = sorted(str(w.message) for w in caught)
    assert len(messages) == 5
    assert sum("the nearest float is stored" in m for m in messages) == 3
    assert sum("its digits are stored as text" in m for m in messages) == 2
    run.finish()
    row = tracktui.Api(store_dir).run(run.id).history()[0]
    assert row["py"] == row["np"] == float(2**53) and row["u64"] == float(2**64) and row["ok"] == float(2**53)
    assert row["huge"] == str(10**400) and row["giant"] == "1.000000000000000e+5000"
    summary = tracktui.Api(store_dir).run(run.id).summary
    assert summary["huge"] == row["huge"] and summary["py"] == row["py"]  # the summary says what history holds


def test_a_self_containing_dict_is_kept_as_its_repr(store_dir):
    run = tracktui.init(dir=store_dir)
    loop: dict = {"x": 1.0}
    loop["me"] = loop
    with pytest.warns(tracktui.TrackTuiWarning, match="repr"):
        run.log({"loop": loop, "ok": 2.0})
    run.finish()
    row = tracktui.Api(store_dir).run(run.id).history()[0]
    assert row["loop.x"] == 1.0 and row["loop.me"] == "{'x': 1.0, 'me': {...}}" and row["ok"] == 2.0
