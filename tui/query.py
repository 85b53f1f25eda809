"""The runs filter: free words and `field op value` terms, joined by whitespace (AND).

    state=running config.lr<1e-3 summary.val/acc>0.9 resnet

Free words match name, id, tags, notes and group (case-insensitive substring). Terms compare state,
project, group, name, id, notes, tags, host, job, config.<path> and summary.<key> with = != < <= > >= and ~
(regex). host matches any node of a cluster job (the run's host and its SLURM node list); job is the
scheduler's job id (1234, or 1230_4 for an array task).
Numbers compare as numbers; everything else as text (= and != case-insensitive). A run without the field
matches only `!=`. parse() raises QueryError with a message for the inline error line.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tracktui.store import RunRecord

from .format import flatten, scalar

FIELDS = ("state", "project", "group", "name", "id", "notes", "tags", "host", "job")
_MANY = ("tags", "host")  # fields with several values: a term matches when one does (!= when none does)
_TERM = re.compile(r"^([A-Za-z_][\w.\-/]*?)(!=|<=|>=|=|<|>|~)(.*)$", re.S)
_MISSING = object()


class QueryError(ValueError):
    """A malformed query; the message says what is wrong."""


@dataclass(frozen=True)
class Query:
    """A parsed query: a predicate over runs."""

    text: str
    tests: tuple[Callable[[RunRecord], bool], ...]

    def __call__(self, run: RunRecord) -> bool:
        return all(t(run) for t in self.tests)


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


def field_value(run: RunRecord, field: str) -> Any:
    """The value of a query field of a run (_MISSING where the run has none)."""
    if field in ("state", "project", "name", "id", "notes"):
        v = getattr(run, field)
        return _MISSING if v is None else v
    if field in ("host", "job"):
        return _cluster_value(run, field)
    if field == "group":
        return _MISSING if run.group is None else run.group
    if field == "tags":
        return run.tags
    src, _, path = field.partition(".")
    data = run.config if src == "config" else run.summary
    if path in data:
        return scalar(data[path])
    flat = flatten(data) if src == "config" else data
    if path in flat:
        return scalar(flat[path])
    return _MISSING


def _cluster_value(run: RunRecord, field: str) -> Any:
    """host: the run's host and the nodes of its job (a list); job: the job id (metadata['job'], see
    tracktui.distributed)."""
    md = run.metadata if isinstance(run.metadata, dict) else {}
    job = md.get("job") if isinstance(md.get("job"), dict) else {}
    if field == "job":
        return _MISSING if job.get("id") is None else str(job["id"])
    hosts = [run.host] if run.host else []
    if isinstance(job.get("hosts"), list):
        hosts += [str(h) for h in job["hosts"] if str(h) not in hosts]
    return hosts or _MISSING


def _compare(v: Any, op: str, want: str, rx: re.Pattern[str] | None) -> bool:
    if v is _MISSING or v is None:
        return op == "!="
    if rx is not None:
        return rx.search(str(v)) is not None
    a, b = _number(v), _number(want)
    if a is not None and b is not None and (not isinstance(v, str) or op in ("<", "<=", ">", ">=")):
        if math.isnan(a):  # NaN matches nothing but !=
            return op == "!="
        return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    s, w = str(v).lower(), want.lower()
    return {"=": s == w, "!=": s != w, "<": s < w, "<=": s <= w, ">": s > w, ">=": s >= w}[op]


def _term(field: str, op: str, want: str) -> Callable[[RunRecord], bool]:
    rx = None
    if op == "~":
        try:
            rx = re.compile(want, re.I)
        except re.error as e:
            raise QueryError(f"bad regex {want!r}: {e}") from None

    def test(run: RunRecord) -> bool:
        v = field_value(run, field)
        if field in _MANY:
            if v is _MISSING:
                return op == "!="
            hits = [_compare(t, "=" if op == "!=" else op, want, rx) for t in v]
            return not any(hits) if op == "!=" else any(hits)
        return _compare(v, op, want, rx)

    return test


def _word(word: str) -> Callable[[RunRecord], bool]:
    w = word.lower()

    def test(run: RunRecord) -> bool:
        hay = (run.name, run.id, run.notes or "", run.group or "", *run.tags)
        return any(w in str(h).lower() for h in hay)

    return test


def parse(text: str) -> Query:
    """A query from its text; raises QueryError where it is malformed."""
    try:
        words = shlex.split(text)
    except ValueError as e:
        raise QueryError(f"{e}") from None
    tests: list[Callable[[RunRecord], bool]] = []
    for word in words:
        m = _TERM.match(word)
        if m is None:
            if any(op in word for op in "=<>~") or word.startswith("!"):
                raise QueryError(f"cannot read {word!r}: use field=value, field<value, field~regex")
            tests.append(_word(word))
            continue
        field, op, want = m.groups()
        if not (field in FIELDS or field.startswith(("config.", "summary."))) or field.endswith("."):
            raise QueryError(f"unknown field {field!r} (try state, project, tags, config.<key>, "
                             "summary.<key>)")
        if want == "":
            raise QueryError(f"{field}{op} needs a value")
        if want[0] in "=<>~":
            raise QueryError(f"cannot read operator {op + want[0]!r} in {word!r}")
        tests.append(_term(field, op, want))
    return Query(text, tuple(tests))
