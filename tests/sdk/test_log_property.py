"""A property test of log() (issue 9, never lose a run): random sequences of log() calls with hostile keys,
values and steps, interleaved with define_metric, summary writes and finish(), run against a model of what
should be stored.

Invariants: log() never raises; finish() returns within 2 s; every storable value reads back exactly through
tracktui.Api and tracktui.store.Reader (history, the min/max rollup behind Reader.sampled, the summary with
define_metric's aggregates); every value that could not be stored as given was reported (a warning or a log
record), and nothing else was; a later run in the same store is written too.

    TRACKTUI_HYPOTHESIS_PROFILE=long python -m pytest tests/sdk/test_log_property.py   # ~10 minutes
"""

from __future__ import annotations

import contextlib
import decimal
import hashlib
import logging
import math
import os
import time
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import tracktui
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tracktui import metric, values, warn
from tracktui.run_summary import Summary
from tracktui.store import Reader, report

try:
    import torch
except ImportError:  # torch strategies are left out
    torch = None

_common = dict(database=None, deadline=None, derandomize=False, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("ci", max_examples=300, **_common)  # about a minute on a busy 2-core machine
settings.register_profile("long", max_examples=8000, **_common)  # about 10 minutes
PROFILE = os.environ.get("TRACKTUI_HYPOTHESIS_PROFILE", "ci")

MAX_KEY, MAX_TEXT, MAX_STEP = values.MAX_KEY, values.MAX_TEXT, values.MAX_STEP
REFUSED = "refused"

# ---------------------------------------------------------------- strategies

SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
CONTROL = st.characters(categories=["Cc"])
HOSTILE_TEXT = st.text(st.one_of(st.characters(), SURROGATE, CONTROL), max_size=12)

plain_keys = st.sampled_from(["a", "b", "loss", "val/acc", "train.loss", "x.y"])
long_keys = st.builds(lambda n, c: "k" * n + c, st.sampled_from([MAX_KEY - 1, MAX_KEY, MAX_KEY + 1, 6000]),
                      st.sampled_from(["", "1", "2", "\udcff"]))
keys = st.one_of(plain_keys, plain_keys, HOSTILE_TEXT, st.just(""), long_keys, st.integers(-3, 3))



class Giant(int):
    """An int beyond what str() converts (4300 digits): its repr must not raise where Hypothesis prints it."""

    def __repr__(self) -> str:
        return f"Giant(10**{len(str(self // 10**4000)) + 3999})" if self > 0 else "Giant(-...)"


word_ints = st.one_of(st.integers(-10, 10), st.integers(-(2**64) + 1, 2**64 - 1),
                      st.sampled_from([2**53, 2**53 + 1, -(2**53) - 1, 2**60, 2**63, 2**64 - 1]))
giants = st.sampled_from([5000, 9000]).map(lambda n: Giant(10**n))
ints = st.one_of(word_ints, st.integers(), st.integers(-(2**70), 2**70),
                 st.sampled_from([10**308, 2**1024, -(10**400)]), giants)
floats = st.one_of(st.floats(), st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 0.0, 5e-324, -5e-324,
                                                  1.7976931348623157e308, -1.7976931348623157e308]))


class LongText(str):
    """A string of about MAX_TEXT characters whose repr stays short where Hypothesis prints examples."""

    def __repr__(self) -> str:
        return f"LongText('y' * {len(self.rstrip('z').rstrip(chr(0xDCFF)))} + {self[-1:]!r})"


strings = st.one_of(HOSTILE_TEXT, st.sampled_from(["", "[bold]x[/]", "\x1b]52;c;aGk=\x07", "é🚀"]),
                    st.builds(lambda n, c: LongText("y" * n + c), st.sampled_from([MAX_TEXT - 1, MAX_TEXT]),
                              st.sampled_from(["", "z", "\udcff"])))


def _np(kind: str, v: Any) -> Any:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "i64":
            return np.int64(max(-(2**63), min(2**63 - 1, v)))
        if kind == "u64":
            return np.uint64(min(2**64 - 1, abs(v)))
        if kind == "0d":
            return np.array(float(v))
        return getattr(np, kind)(v)


numpy_values = st.one_of(
    st.builds(_np, st.sampled_from(["float64", "float32", "float16"]), floats),
    st.builds(_np, st.sampled_from(["i64", "u64"]), word_ints),
    st.builds(np.bool_, st.booleans()),
    st.builds(_np, st.just("0d"), floats),
)
scalar_values = [floats, floats, ints, st.booleans(), strings, st.none(), numpy_values,
                 st.builds(complex, st.floats(-1, 1), st.floats(-1, 1))]
if torch is not None:
    torch_dtypes = st.sampled_from([torch.float32, torch.float64, torch.float16, torch.bfloat16])
    scalar_values += [st.builds(lambda v, d: torch.tensor(v, dtype=d), floats, torch_dtypes),
                      st.builds(lambda v: torch.tensor(v, dtype=torch.int64), st.integers(-(2**63), 2**63 - 1))]
leaf = st.one_of(*scalar_values)
data = st.dictionaries(keys, st.one_of(leaf, leaf, st.dictionaries(
    keys, st.one_of(leaf, st.dictionaries(keys, leaf, max_size=2)), max_size=3)), max_size=5)


def _step(obj: Any, expect: Any) -> tuple[Any, Any]:
    return obj, expect


ok_ints = st.one_of(st.integers(0, 40), st.sampled_from([255, 256, 300, 1000, 70_000, 2**53 + 1, 2**62,
                                                         MAX_STEP - 3, MAX_STEP - 1]))
steps = st.one_of(
    st.just((None, None)), st.just((None, None)), st.just((None, None)),
    ok_ints.map(lambda i: (i, i)),
    st.integers(0, 40).map(lambda i: (float(i), i)),
    st.sampled_from([(-0.0, 0), (2.0**62, 2**62), (np.int64(7), 7), (np.int32(3), 3), (np.float32(5.0), 5)]),
    st.sampled_from([MAX_STEP, MAX_STEP + 1, 2**64, 2**100, -1, -(2**63) - 1, True, False, "3", "", 3.5, math.nan,
                     math.inf, -math.inf, 1e300, 2.0**63, -1.0, np.uint64(2**64 - 1), np.float64(math.nan),
                     np.bool_(True), [1], object()]).map(lambda s: (s, REFUSED)),
)
if torch is not None:
    steps = st.one_of(steps, st.sampled_from([(torch.tensor(9), 9), (torch.tensor(11.0), 11),
                                              (torch.tensor(True), REFUSED), (torch.tensor(2.5), REFUSED)]))

def_names = st.one_of(plain_keys, HOSTILE_TEXT, st.sampled_from(["*", "val/*", "a*", "[ab]", "x.*", "?"]))
def_specs = st.sampled_from([None, "", "copy", "min", "max", "mean", "first", "last", "best", "none", "min,max",
                             "max,mean,first", "median"])
summary_values = st.one_of(floats, ints, st.booleans(), strings, st.none())

ops = st.lists(st.one_of(
    st.tuples(st.just("log"), data, steps, st.sampled_from([None, True, False])),
    st.tuples(st.just("log"), data, steps, st.sampled_from([None, True, False])),
    st.tuples(st.just("log"), data, steps, st.sampled_from([None, True, False])),
    st.tuples(st.just("define_metric"), def_names, def_specs),
    st.tuples(st.just("summary"), keys, summary_values),
), max_size=14)
after_finish = st.lists(st.tuples(st.just("log"), data, steps, st.sampled_from([None, False])), max_size=2)

# ---------------------------------------------------------------- the model


def esc(text: str) -> str:
    """Lone surrogates as their escaped text (what the store holds)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def cut(key: str, report: set[str]) -> str:
    if len(key) <= MAX_KEY:
        return key
    report.add("was cut")
    return key[:MAX_KEY - 17] + "~" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def key_part(k: Any, report: set[str]) -> str:
    text = k if isinstance(k, str) else str(k)
    if esc(text) != text:
        report.add("surrogates")
    return cut(esc(text), report)


def int_expect(i: int, report: set[str]) -> Any:
    if abs(i) <= 2**53:
        return float(i)
    try:
        f = float(i)
    except OverflowError:
        report.add("digits are stored as text")
        try:
            return str(i)
        except ValueError:
            return f"{decimal.Decimal(i):.15e}"
    report.add("nearest float")
    return f


def expect_value(v: Any, report: set[str]) -> Any:
    """What history holds for one logged leaf value (floats, text or None)."""
    if isinstance(v, (bool, np.bool_)):
        return float(v)
    if isinstance(v, (int, np.integer)):
        return int_expect(int(v), report)  # int subclasses (Giant) as ints
    if isinstance(v, (float, np.floating)) or (isinstance(v, np.ndarray) and v.ndim == 0):
        return float(v)
    if torch is not None and isinstance(v, torch.Tensor):
        x = v.item()
        return int_expect(x, report) if isinstance(x, int) else float(x)
    if isinstance(v, str):
        text = esc(v)
        if text != v:
            report.add("surrogates")
        if len(text) > MAX_TEXT:
            report.add("longer than")
            text = text[:MAX_TEXT]
        return text
    if v is None:
        return None
    assert isinstance(v, complex)
    report.add("repr is kept")
    return repr(v)


def flat(d: dict[Any, Any], report: set[str], prefix: str = "", out: dict[str, Any] | None = None) -> dict:
    """key -> (logged value, stored value), as log() flattens and cleans."""
    out = {} if out is None else out
    for k, v in d.items():
        key = key_part(k, report)
        key = f"{prefix}.{key}" if prefix else key
        if isinstance(v, dict):
            flat(v, report, key, out)
        else:
            out[key] = (v, expect_value(v, report))
    if not prefix:
        out = {cut(k, report): v for k, v in out.items()}
    return out


class Model:
    """What the store should hold after the calls made so far."""

    def __init__(self) -> None:
        self.next = 0
        self.max_step = -1
        self.pending: dict[str, Any] = {}
        self.pending_step: int | None = None
        self.history: dict[str, dict[int, Any]] = {}
        self.steps: set[int] = set()
        self.summary: dict[str, Any] = {}
        self.defs: list[dict[str, Any]] = []
        self.aggregator = Summary()
        self.finished = False
        self.report: set[str] = set()  # causes that must have been reported (message fragments)
        self.allowed: set[str] = set()  # reports that may come (a lower step is legal but warned)

    def log(self, d: dict, step: Any, commit: bool) -> None:
        if self.finished:
            self.report.add("after run")
            return
        staged = flat(d, self.report)
        if step is not None:
            if step == REFUSED:
                self.report.add("is refused")
                step = self.next if self.pending_step is None else self.pending_step
            elif step <= self.max_step and step != self.pending_step:
                self.allowed.add("lower than the current step")
            pending_at = self.next if self.pending_step is None else self.pending_step
            if self.pending and pending_at != step:
                self.commit()
            self.pending_step = step
        for key, (_, stored) in staged.items():
            self.pending[key] = stored
            aggs = self.aggregator.aggregates(key)
            if aggs is None:
                self.summary[key] = stored
            else:  # define_metric's aggregates (tracktui.run_summary) over the values history holds
                before = self.aggregator._data.get(key)
                self.aggregator.observe(key, stored, aggs)
                if self.aggregator._data.get(key) is not before:  # written only when it has something
                    self.summary[key] = self.aggregator._data[key]
        if commit:
            self.commit()

    def commit(self) -> None:
        if not self.pending:
            self.pending_step = None
            return
        step = self.next if self.pending_step is None else self.pending_step
        if step > MAX_STEP:
            self.report.add("largest step")
            step = MAX_STEP
        for key, value in self.pending.items():
            self.history.setdefault(key, {})[step] = value
        self.steps.add(step)
        self.pending, self.pending_step = {}, None
        self.next = max(self.next, step + 1)
        self.max_step = max(self.max_step, step)

    def define_metric(self, name: str, spec: str | None) -> bool:
        """False when define_metric must refuse the arguments (tracktui.Error)."""
        try:
            m = metric.parse(esc(name), summary=spec)
        except tracktui.Error:
            return False
        self.defs = metric.merge(self.defs, m)
        self.aggregator.set_defs(self.defs)
        return True

    def set_summary(self, key: Any, value: Any) -> None:
        """run.summary[key] = value: kept as given (JSON escapes lone surrogates and reads them back)."""
        if self.finished:
            return
        key = str(key)
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 2000:
            try:
                str(int(value))
            except ValueError:
                value = f"{decimal.Decimal(int(value)):.15e}"
        self.summary[key] = value

    def finish(self) -> None:
        if not self.finished:
            self.commit()
            self.finished = True


# ---------------------------------------------------------------- comparing


def same(a: Any, b: Any) -> bool:
    """Equal as stored values: NaN equals NaN, the sign of a float zero counts, bools are numbers."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        if a != a or b != b:
            return a != a and b != b
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if a is None or b is None:
        return a is b
    return a == b


@contextlib.contextmanager
def reports() -> Iterator[list[str]]:
    """Every warning and every tracktui log record while the block runs (warn_once forgets what it saw)."""
    messages: list[str] = []

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING and record.name.startswith("tracktui"):
                messages.append(record.getMessage())

    handler = Handler()
    root = logging.getLogger()
    root.addHandler(handler)
    warn._seen.clear()
    report._seen.clear()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield messages
        messages.extend(str(w.message) for w in caught)
    finally:
        root.removeHandler(handler)


def check_rollup(reader: Reader, run_id: str, key: str, points: dict[int, Any]) -> None:
    """Reader.sampled over the whole range (the rollup once the range spans 256 steps) agrees with history."""
    finite = [v for v in points.values() if isinstance(v, float) and v - v == 0.0]
    specials = sorted((s, v) for s, v in points.items() if isinstance(v, float) and v - v != 0.0)
    numeric = sorted(s for s, v in points.items() if isinstance(v, float))
    sampled = reader.sampled(run_id, key, 1)
    assert sum(sampled.count) == len(finite), (key, sampled, points)
    if finite:
        assert sampled.vmin == [min(finite)] and sampled.vmax == [max(finite)], (key, sampled, points)
        if max(abs(v) for v in finite) < 1e290:
            scale = sum(abs(v) for v in finite) / len(finite)
            assert abs(sampled.mean[0] - sum(finite) / len(finite)) <= 1e-9 * scale + 1e-300, (key, sampled)
    else:
        assert sampled.vmin == []
    assert len(sampled.special) == len(specials) and all(
        s == t and same(v, w) for (s, v), (t, w) in zip(sorted(sampled.special), specials, strict=True)
    ), (key, sampled.special, specials)
    if numeric:  # and bucket by bucket, a few buckets over the numeric steps
        lo, hi = numeric[0], numeric[-1]
        parts = reader.sampled(run_id, key, 3, lo, hi)
        assert sum(parts.count) == len(finite) and min(parts.vmin, default=None) == (min(finite) if finite else None)


def stop_writer(run: Any) -> None:
    """Each example has its own store, and so its own writer thread: stop it, even one stuck retrying."""
    w = run._writer
    if w is not None and not w.close(2.0):
        w._closed = True
        w._wake.set()


# ---------------------------------------------------------------- the property


@pytest.mark.timeout(3600 if PROFILE == "long" else 900)  # room for Hypothesis to shrink a failure
@settings(parent=settings.get_profile(PROFILE))
@given(calls=ops, late=after_finish, tail=st.booleans())
def test_log_keeps_every_storable_value_and_reports_the_rest(tmp_path_factory, monkeypatch_env, calls, late,
                                                              tail):
    store = tmp_path_factory.mktemp("store")
    model = Model()
    with reports() as messages:
        run = tracktui.init(dir=store, project="prop")
        for op in calls:
            if op[0] == "log":
                _, d, (step_obj, step_expect), commit = op
                try:
                    run.log(d, step=step_obj, commit=commit)
                except BaseException as e:  # noqa: BLE001
                    pytest.fail(f"log() raised {e!r}")
                model.log(d, step_expect, commit is not False)
            elif op[0] == "define_metric":
                if model.define_metric(op[1], op[2]):
                    run.define_metric(op[1], summary=op[2])
                else:
                    with pytest.raises(tracktui.Error):
                        run.define_metric(op[1], summary=op[2])
            else:
                run.summary[op[1]] = op[2]
                model.set_summary(op[1], op[2])
        t = time.monotonic()
        run.finish()
        took = time.monotonic() - t
        model.finish()
        for _, d, (step_obj, step_expect), commit in late:
            run.log(d, step=step_obj, commit=commit)
            model.log(d, step_expect, commit is not False)
        run.finish()
        if tail:
            later = tracktui.init(dir=store, project="prop")
            later.log({"after": 1.0})
            later.finish()
        stop_writer(run)
    assert took < 2.0, f"finish() took {took:.2f} s"

    # every report was expected, and every expected one came
    expected = model.report
    unexplained = [m for m in messages if not any(f in m for f in expected | model.allowed)]
    assert not unexplained, unexplained
    missing = [f for f in expected if not any(f in m for m in messages)]
    assert not missing, (missing, messages)

    rec = tracktui.Api(store).run(run.id)
    assert rec.state == "finished"
    with Reader(store) as reader:
        hist = reader.history(run.id)
        assert set(hist) == set(model.history)
        for key, points in model.history.items():
            got = hist[key]
            assert [s for s, _ in got] == sorted(points), (key, got, points)
            bad = [(s, v, points[s]) for s, v in got if not same(v, points[s])]
            assert not bad, (key, bad)
            check_rollup(reader, run.id, key, points)
        if tail:
            assert reader.history(later.id) == {"after": [(0, 1.0)]}
    rows = rec.history()
    assert len(rows) == len(model.steps)
    for r, step in zip(rows, sorted(model.steps), strict=True):
        # a logged key named _step or _timestamp takes that field's place in the row (wandb reserves both)
        want = {"_step": step, "_timestamp": r["_timestamp"]}
        want.update({k: p[step] for k, p in model.history.items() if step in p})
        assert same(r, want), (step, r, want)
        if step not in model.history.get("_timestamp", {}):
            assert type(r["_timestamp"]) is float
    assert same(rec.summary, model.summary), (rec.summary, model.summary)


@pytest.fixture(scope="module")
def monkeypatch_env() -> Iterator[None]:
    """No console, system or git capture: they are not what this test is about, and they cost time."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TRACKTUI_CAPTURE", "0")
    yield
    mp.undo()
