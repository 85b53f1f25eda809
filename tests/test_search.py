"""Search across runs: `tracktui grep`, store.search, the index kept by triggers, the migration of a store."""

from __future__ import annotations

import json
import random
import sqlite3
import time

import pytest
from tracktui.cli.main import main
from tracktui.store import schema
from tracktui.store.paths import db_path
from tracktui.store.reader import Reader
from tracktui.store.search import indexed, matcher, search
from tracktui.store.writer import Writer

from tests.conftest import close_writers, run_script

SCRIPT = """
import sys, tracktui
run = tracktui.init(project=sys.argv[1], name=sys.argv[2], notes="debugging the CUDA OOM", tags=["sweep", "a100"])
print("epoch 0 loss=0.75")
print("RuntimeError: CUDA out of memory. Tried to allocate 20.00 MiB")
print("evil \\x1b]0;title\\x07 line with CUDA")
print("warning: caf\\u00e9 cr\\u00e8me", file=sys.stderr)
run.log({"loss": 0.5})
run.finish()
"""


def _env(store: str) -> dict[str, str]:
    return {"TRACKTUI_STORE": store} if store.startswith("postgresql") else {}


def test_grep_finds_what_training_scripts_printed(any_store, capsys):
    """Real processes print; grep shows every matching line with run, stream, line number and time."""
    for project, name in (("llm", "big-run"), ("vision", "small-run")):
        run_script(SCRIPT, any_store, project, name, env=_env(any_store))
    if not any_store.startswith("postgresql"):
        assert indexed(Reader(any_store))
    assert main(["--store", any_store, "grep", "CUDA out of mem"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and {line.split()[0] for line in out} == {"big-run", "small-run"}
    assert all(" stdout#2 " in line and line.endswith("RuntimeError: CUDA out of memory. Tried to allocate "
                                                      "20.00 MiB") for line in out)
    day = time.strftime("%Y-%m-%d")
    assert all(day in line for line in out)

    assert main(["--store", any_store, "grep", "cuda", "--project", "llm", "--json"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(r["run"], r["stream"], r["seq"]) for r in rows] == [
        ("big-run", "notes", None), ("big-run", "stdout", 2), ("big-run", "stdout", 3)]
    assert rows[2]["text"] == "evil \x1b]0;title\x07 line with CUDA"  # JSON keeps the data exactly

    assert main(["--store", any_store, "grep", "line with"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and out.count("line with CUDA") == 2  # never to the terminal

    assert main(["--store", any_store, "grep", "CAFÉ CRÈME"]) == 0  # case folded beyond ASCII
    assert capsys.readouterr().out.count("stderr#4") == 2
    assert main(["--store", any_store, "grep", "a100", "--project", "vision"]) == 0
    assert "small-run" in capsys.readouterr().out
    assert main(["--store", any_store, "grep", "loss=0.75", "--limit", "1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1

    assert main(["--store", any_store, "grep", "uda out"]) == 1  # from the start of a word only
    assert "no match" in capsys.readouterr().err
    assert main(["--store", any_store, "grep", ""]) == 2


def _lines(rng: random.Random, n: int) -> list[str]:
    words = ["loss", "Loss", "cuda", "CUDA", "memory", "mem", "out", "of", "épée", "naïve", "x_y", "a1b", "step"]
    out = []
    for _ in range(n):
        parts = [rng.choice(words) if rng.random() < 0.6 else str(rng.randint(0, 99)) for _ in range(rng.randint(1, 6))]
        out.append(rng.choice([" ", "=", ".", "/", ": ", ""]).join(parts))
    return out


def _expected(reader: Reader, pattern: str) -> list[tuple[str, int]]:
    rx = matcher(pattern)
    found = []
    for run in sorted(reader.runs(), key=lambda r: r.created_at):
        found += [(run.id, seq) for seq, _, _, line in reader.logs(run.id, limit=10**9) if rx.search(line)]
    return found


def _patterns(rng: random.Random, lines: list[str], n: int) -> list[str]:
    out = ["cuda", "mem", "out of", "1", "=", "épé", "NAÏVE", "a1b", "x_y", "of.", "step 4"]
    for _ in range(n):
        line = rng.choice(lines)
        i = rng.randrange(len(line))
        out.append(line[i:i + rng.randint(1, 12)])
    return [p for p in out if p]


def test_index_gives_exactly_what_a_scan_gives_as_runs_write_and_trim(store_dir):
    """Lines written by the real writer (index kept by triggers), then trimmed (deletes), then more lines:
    at each point every pattern finds exactly the lines a full scan with the same rule finds."""
    rng = random.Random(15)
    w = Writer(store_dir)
    ids = []
    for i in range(3):
        rid = f"run{i}"
        ids.append(rid)
        w.save_run({"id": rid, "project": "p", "name": f"n{i}", "state": "running", "created_at": time.time() + i})
    lines = _lines(rng, 600)
    for j, line in enumerate(lines):
        w.put(("log", ids[j % 3], time.time(), "stdout", line))
    w.flush()
    reader = Reader(store_dir)
    assert indexed(reader)

    def check() -> None:
        for p in _patterns(rng, lines, 40):
            got = [(m.run_id, m.seq) for m in search(reader, p, runs=False)]
            assert got == _expected(reader, p), p

    check()
    # Console capture past its cap deletes a middle window of lines: the index must forget them.
    w.put(("log", ids[0], time.time(), "tracktui", "[tracktui: lines cut]"))
    cut = _lines(rng, 100)
    for line in cut:
        w.put(("log", ids[0], time.time(), "stdout", line))
    lines += cut
    w.flush()
    w.put(("log_trim", ids[0], "[tracktui: lines cut]", 20))
    w.flush()
    assert len(reader.logs(ids[0], limit=10**9)) == 200 + 1 + 20
    check()
    more = _lines(rng, 300)
    for j, line in enumerate(more):
        w.put(("log", ids[j % 3], time.time(), "stderr", line))
    lines += more
    w.flush()
    check()
    w.close()
    conn = sqlite3.connect(db_path(store_dir))
    conn.execute("INSERT INTO logs_fts(logs_fts) VALUES ('integrity-check')")
    conn.close()


def test_run_names_notes_and_tags_are_found_and_follow_updates(store_dir):
    w = Writer(store_dir)
    w.save_run({"id": "r1", "project": "p", "name": "resnet-baseline", "state": "running", "created_at": 1.0,
                "tags": '["sweep"]', "notes": None})
    reader = Reader(store_dir)
    assert [(m.stream, m.text) for m in search(reader, "resnet")] == [("name", "resnet-baseline")]
    w.update_run_now("r1", {"name": "vit-large", "notes": "a second try", "tags": '["final"]'})
    assert list(search(reader, "resnet")) == []
    assert [m.stream for m in search(reader, "vit")] == ["name"]
    assert [m.stream for m in search(reader, "second try")] == ["notes"]
    assert [m.stream for m in search(reader, "final")] == ["tags"]
    # a resumed run refreshes its row with an upsert (INSERT ... ON CONFLICT DO UPDATE): the index follows
    w.save_run({"id": "r1", "project": "p", "name": "resumed-name", "state": "running", "created_at": 1.0})
    assert [m.text for m in search(reader, "resumed")] == ["resumed-name"] and not list(search(reader, "vit"))
    w.close()


def _old_store(root, lines: list[tuple[str, int, str]]) -> None:
    """A store at the schema before search, as the previous release wrote it."""
    conn = sqlite3.connect(schema.prepare_root(root), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    for script in schema.MIGRATIONS[:-1]:
        for statement in schema._statements(script):
            conn.execute(statement)
    conn.execute(f"PRAGMA application_id={schema.APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version={len(schema.MIGRATIONS) - 1}")
    for rid in sorted({r for r, _, _ in lines}):
        conn.execute("INSERT INTO runs(id, project, name, state, created_at, updated_at, notes) "
                     "VALUES (?, 'p', ?, 'finished', 1, 1, 'old notes')", (rid, f"name-{rid}"))
    conn.executemany("INSERT INTO logs(run_id, seq, ts, stream, line) VALUES (?, ?, 1.0, 'stdout', ?)", lines)
    conn.close()


def test_an_existing_store_is_migrated_and_its_lines_indexed(store_dir):
    _old_store(store_dir, [("a", 1, "NCCL timeout on rank 3"), ("a", 2, "fine"), ("b", 1, "nccl TIMEOUT again")])
    reader = Reader(store_dir)
    assert not indexed(reader)  # readers never migrate: an old store is scanned, with the same answers
    before = [(m.run_id, m.stream, m.seq) for m in search(reader, "nccl timeout")]
    assert before == [("a", "stdout", 1), ("b", "stdout", 1)]
    reader.close()
    w = Writer(store_dir)  # the first writer migrates: every existing line gets indexed
    assert indexed(reader)
    assert [(m.run_id, m.stream, m.seq) for m in search(reader, "nccl timeout")] == before
    assert [m.run_id for m in search(reader, "old notes")] == ["a", "b"]
    w.put(("log", "b", 2.0, "stderr", "NCCL timeout, third time"))
    w.flush()
    assert [(m.run_id, m.seq) for m in search(reader, "nccl timeout")] == [("a", 1), ("b", 1), ("b", 2)]
    w.close()
    close_writers()
    conn = sqlite3.connect(db_path(store_dir))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    conn.execute("INSERT INTO logs_fts(logs_fts) VALUES ('integrity-check')")
    conn.close()


def test_migration_splits_statements_with_triggers():
    stmts = schema._statements(schema.SCHEMA_SEARCH)
    assert all(sqlite3.complete_statement(s) for s in stmts)
    assert sum(s.lstrip().startswith("CREATE TRIGGER") for s in stmts) == 6


def test_search_rejects_an_empty_pattern(store_dir):
    with pytest.raises(ValueError):
        list(search(Reader(store_dir), ""))


def test_a_store_synced_twice_finds_each_line_once(tmp_path, capsys):  # type: ignore[no-untyped-def]
    """sync copies lines with INSERT ... ON CONFLICT DO UPDATE: the second copy updates, the index follows."""
    src, dst = tmp_path / "src", tmp_path / "dst"
    w = Writer(src)
    w.save_run({"id": "r1", "project": "p", "name": "synced", "state": "finished", "created_at": 1.0})
    for i in range(50):
        w.put(("log", "r1", 1.0 + i, "stdout", f"line {i} NCCL watchdog" if i % 10 == 0 else f"line {i}"))
    w.close()
    close_writers()
    for _ in range(2):
        assert main(["sync", "--from", str(src), "--to", str(dst)]) == 0
        close_writers()
    capsys.readouterr()
    got = [(m.run_id, m.seq) for m in search(Reader(dst), "nccl watchdog")]
    assert got == [("r1", s) for s in (1, 11, 21, 31, 41)]
    conn = sqlite3.connect(db_path(dst))
    conn.execute("INSERT INTO logs_fts(logs_fts) VALUES ('integrity-check')")
    conn.close()
