"""The layering rules of the charter that tests/test_boundaries.py (the import rules) does not check, read from
the source: no SQL outside store/, no import cycle between the SDK's modules (module level), the SDK does not
reach into the writer's privates, and the records the SDK hands the writer are typed."""

from __future__ import annotations

import ast
import re
import threading
from pathlib import Path

import pytest
from tracktui.store import records

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"sdk": "tracktui", "store": "tracktui.store", "tui": "tracktui.tui", "cli": "tracktui.cli",
            "importers": "tracktui.importers"}


def _modules(folder: str) -> dict[str, Path]:
    out = {}
    for p in sorted((ROOT / folder).rglob("*.py")):
        parts = list(p.relative_to(ROOT / folder).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join([PACKAGES[folder], *parts])] = p
    return out


def _imports(name: str, path: Path, top_level_only: bool) -> set[str]:
    """Absolute names a module imports (only its top-level statements when asked)."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out: set[str] = set()
    for n in nodes:
        if isinstance(n, ast.Import):
            out.update(a.name for a in n.names)
        elif isinstance(n, ast.ImportFrom):
            if n.level:
                base = package.split(".")
                base = base[: len(base) - n.level + 1]
                module = ".".join(base + ([n.module] if n.module else []))
            else:
                module = n.module or ""
            out.add(module)
            out.update(f"{module}.{a.name}" for a in n.names)
    return out


def test_no_import_cycle_between_sdk_modules():
    mods = _modules("sdk")
    graph = {n: {m for m in _imports(n, p, True) if m in mods and m != n} for n, p in mods.items()}
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(n: str, path: list[str]) -> None:
        state[n] = 1
        for d in sorted(graph[n]):
            if state.get(d) == 1:
                pytest.fail("import cycle: " + " -> ".join(path[path.index(d):] + [n, d]))
            if d not in state:
                visit(d, path + [n])
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n, [])
    assert graph["tracktui.runs"], "the graph has edges (the check sees imports)"


_SQL = re.compile(r"\b(SELECT\s+[\w*(]|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE|PRAGMA\s)")


@pytest.mark.parametrize("folder", ["sdk", "tui", "cli", "importers"])
def test_no_sql_outside_the_store(folder):
    for name, path in _modules(folder).items():
        text = path.read_text()
        assert not _SQL.search(text), f"SQL in {name}: {_SQL.search(text).group(0)!r}"  # type: ignore[union-attr]
        assert ".execute(" not in text and ".executemany(" not in text, f"{name} executes SQL"


def test_the_sdk_uses_only_the_writers_public_calls():
    privates = re.compile(r"\b(?:w|writer|_writer|self\._writer)\.(_[a-z]\w*)")
    for name, path in _modules("sdk").items():
        found = set(privates.findall(path.read_text()))
        assert not found, f"{name} uses writer privates {sorted(found)}"


@pytest.mark.parametrize("folder", ["sdk", "importers"])
def test_what_reaches_the_writer_is_a_typed_record(folder):
    bare = re.compile(r"\.put\(\(")  # w.put(("history", ...)): a tuple the writer must take on trust
    for name, path in _modules(folder).items():
        assert not bare.search(path.read_text()), f"{name} puts a bare tuple: use tracktui.store.records"


def test_records_are_typed_tuples_with_their_op():
    ev = threading.Event()
    made = [
        records.RunFields("r", {"a": 1}), records.History("r", 3, 1.0, [("k", 1.0, 0, None)]),
        records.System("r", 1.0, [("cpu", 2.0)]), records.LogLine("r", 1.0, "stdout", "x"),
        records.LogTrim("r", "[m]", 3), records.FileRecord("r", "f", b"x"), records.Media("r", "k", 1, []),
        records.Sync(ev),
    ]
    assert [r.op for r in made] == ["run", "history", "system", "log", "log_trim", "file", "media", "sync"]
    assert all(isinstance(r, tuple) and r[0] == r.op for r in made)
    h = made[1]
    assert (h.run_id, h.step, h.rewrite) == ("r", 3, False) and h == ("history", "r", 3, 1.0, h.items, False)


def test_typed_records_go_through_the_spool_and_segments_as_plain_tuples():
    from tracktui.store import segments, spool

    recs = [records.History("r", 3, 1.5, [("k", float("nan"), 1, None), ("t", None, 5, "x")], True),
            records.FileRecord("r", "f.bin", bytes(range(5))), records.RunFields("r", {"summary": "{}"}),
            ("log", "r", 1.0, "stdout", "a plain tuple of a record's shape")]
    for i, r in enumerate(recs):
        pos, back = spool.decode(spool.encode(i, r))
        assert pos == i and type(back) is tuple and repr(back) == repr(tuple(r))  # the on-disk format is unchanged
        if r[0] != "history":  # (history has a short form of its own in segments)
            assert segments.encode_record(r) == segments.encode_record(tuple(r))
