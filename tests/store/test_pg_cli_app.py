"""The command line, the app and `tracktui sync` on a PostgreSQL URL; the password never shows."""

from __future__ import annotations

import json
import math

import pytest
import tracktui
from tracktui.cli.main import main
from tracktui.store import Reader
from tracktui.store.location import StoreURL, redact, resolve_store


def test_url_forms_and_redaction(monkeypatch, tmp_path):
    u = resolve_store("postgresql://bob:hunter2@db.internal:6543/runs?sslmode=require&password=x")
    assert isinstance(u, StoreURL)
    assert str(u) == "postgresql://bob@db.internal:6543/runs?sslmode=require" and "hunter2" not in repr(u)
    assert redact("postgres://h/db") == "postgres://h/db"
    monkeypatch.setenv("TRACKTUI_STORE", "postgresql://x@y/z")
    assert resolve_store(None) == StoreURL("postgresql://x@y/z")
    assert resolve_store(str(tmp_path)) == tmp_path  # an explicit root wins over the environment
    monkeypatch.setenv("TRACKTUI_STORE", str(tmp_path / "s"))
    assert resolve_store(None) == tmp_path / "s"


def test_libpq_options_pass_through_and_defaults_only_where_unset():
    pytest.importorskip("psycopg")
    from psycopg.conninfo import conninfo_to_dict
    from tracktui.store.postgres import conninfo

    d = conninfo_to_dict(conninfo(StoreURL(
        "postgresql://u:pw@h:5433/db?sslmode=verify-full&sslrootcert=/ca.pem&connect_timeout=3&options=-cwork_mem%3D8MB")))
    assert d["sslmode"] == "verify-full" and d["sslrootcert"] == "/ca.pem" and d["connect_timeout"] == "3"
    assert d["password"] == "pw" and d["port"] == "5433" and d["keepalives"] == "1"
    assert "-cwork_mem=8MB" in d["options"] and "search_path=tracktui" in d["options"]


@pytest.fixture
def pg_store(pg_url):
    from tests.conftest import close_writers, pg_clean

    close_writers()
    pg_clean(pg_url)
    yield pg_url
    close_writers()


def _two_runs(store: str) -> list[str]:
    a = tracktui.init(store=store, project="mnist", name="first", config={"lr": 0.1},
                      settings={"system": False, "git": False, "requirements": False})
    for i in range(300):
        a.log({"loss": 1.0 / (i + 1), "acc": math.nan if i == 1 else i / 10})
    print("hello from first")
    a.finish()
    b = tracktui.init(store=store, project="cifar", name="second", settings={"capture": False})
    b.log({"loss": 2.0, "note": "text"})
    b.finish()
    return [a.id, b.id]


def test_cli_on_a_url(pg_store, capsys):
    ids = _two_runs(pg_store)
    capsys.readouterr()
    assert main(["--store", pg_store, "ls", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(r["name"] for r in rows) == ["first", "second"]
    assert main(["--store", pg_store, "show", "first"]) == 0
    assert "loss" in capsys.readouterr().out
    assert main(["--store", pg_store, "export", ids[0], "--format", "csv"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 301
    assert main(["--store", pg_store.rsplit("/", 1)[0] + "/no_such_database", "ls"]) == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and err.count("\n") == 1


def test_sync_local_to_postgres_and_back_is_idempotent(pg_store, tmp_path, capsys):
    local = str(tmp_path / "local")
    ids = _two_runs(local)
    for _ in range(2):  # twice: the second copy changes nothing
        assert main(["sync", "--from", local, "--to", pg_store]) == 0
    assert "copied 2 runs" in capsys.readouterr().err
    back = str(tmp_path / "back")
    assert main(["sync", "--from", pg_store, "--to", back]) == 0
    for store in (pg_store, back):
        with Reader(store) as r, Reader(local) as src:
            assert sorted(x.id for x in r.runs()) == sorted(ids)
            for rid in ids:
                a, b = src.run(rid), r.run(rid)
                assert (a.name, a.state, a.config, a.last_step) == (b.name, b.state, b.config, b.last_step)
                assert json.dumps(src.history(rid), default=repr) == json.dumps(r.history(rid), default=repr)
                assert src.logs(rid) == r.logs(rid)
                assert src.files(rid) == r.files(rid)
                assert sum(src.sampled(rid, "loss", 10).count) == sum(r.sampled(rid, "loss", 10).count)


async def test_app_on_a_url_shows_runs_and_a_run(pg_store):
    from tracktui.tui.app import make_app
    from tracktui.tui.widgets.runs_table import RunsTable

    ids = _two_runs(pg_store)
    app = make_app(store_dir=pg_store, poll_interval=None)
    async with app.run_test(size=(140, 40)) as pilot:
        for _ in range(50):
            await pilot.pause(0.1)
            if len(app.screen.query_one(RunsTable).model) == 2:
                break
        assert sorted(app.screen.query_one(RunsTable).model) == sorted(ids)
        assert "@" not in app.store_label or ":" not in app.store_label.split("@")[0].split("//")[1]
        app.open_run(ids[0])
        await pilot.pause(1.0)
        assert app.screen.__class__.__name__ == "RunScreen"
