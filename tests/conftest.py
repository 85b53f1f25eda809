"""Shared fixtures: a fresh store root per test, and no run left open between tests."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tracktui import lifecycle

# The suite run inside a SLURM job or a torchrun launch (on a cluster) must not see the job: init() would
# derive one run id for every test (tracktui.distributed). The cluster tests set these variables themselves.
for _var in [v for v in os.environ if v.startswith(("SLURM_", "TORCHELASTIC_", "OMPI_COMM_WORLD_", "PMIX_RANK",
                                                     "PMI_RANK", "PMI_SIZE"))
             or v in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK", "NODE_RANK",
                      "TRACKTUI_DISTRIBUTED")]:
    del os.environ[_var]


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    """An empty store root (not yet created)."""
    return tmp_path / "store"


@pytest.fixture(autouse=True)
def _no_open_run():
    yield
    for run in reversed(lifecycle.active_runs()):  # a run left open would be what the next init() returns
        run.finish()


def run_script(code: str, store: Path, *args: str, timeout: float = 60, check: bool = True,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a Python snippet in a fresh interpreter with TRACKTUI_DIR=store."""
    full_env = {**os.environ, "TRACKTUI_DIR": str(store), **(env or {})}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                          timeout=timeout, env=full_env)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


# ---------------------------------------------------------------- PostgreSQL: a real server, a fresh database

PG_BASE = os.environ.get("TRACKTUI_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
_pg_reason: str | None = None


def pg_available() -> str | None:
    """None when a PostgreSQL server answers at PG_BASE, else why not (the PostgreSQL tests skip with it)."""
    global _pg_reason
    if _pg_reason is None:
        try:
            import psycopg
        except ImportError:
            _pg_reason = "psycopg is not installed (pip install 'psycopg[binary]')"
            return _pg_reason
        try:
            psycopg.connect(f"{PG_BASE}/postgres", connect_timeout=3).close()
            _pg_reason = ""
        except Exception as e:  # noqa: BLE001
            _pg_reason = f"no PostgreSQL server answers at {PG_BASE} ({type(e).__name__}); .ci/run starts one"
    return _pg_reason or None


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def pg_url():
    """A fresh database for this test session on the real server (dropped at the end)."""
    reason = pg_available()
    if reason:
        pytest.skip(reason)
    import secrets

    name = f"tracktui_test_{secrets.token_hex(6)}"
    pg_admin(f"CREATE DATABASE {name}")
    yield f"{PG_BASE}/{name}"
    from tracktui.store import postgres

    postgres.close_idle()
    pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def pg_clean(url: str) -> None:
    """Empty every table of the tracktui schema (a fresh store for the next test, without a new database)."""
    import psycopg
    from tracktui.store import postgres

    with psycopg.connect(url, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'tracktui' AND tablename <> 'meta'")]
        if tables:
            conn.execute("TRUNCATE " + ", ".join(f"tracktui.{t}" for t in tables) + " RESTART IDENTITY")
    postgres.close_idle()


def close_writers() -> None:
    """Close every writer of this process (a fresh store means a fresh writer and its caches)."""
    from tracktui.store.writer import Writer

    for w in list(Writer._instances.values()):
        w.close(10)
    Writer._instances.clear()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request, tmp_path):
    """The same test on both engines: a store root (SQLite) or a PostgreSQL URL, empty."""
    if request.param == "sqlite":
        yield str(tmp_path / "store")
        return
    url = request.getfixturevalue("pg_url")
    close_writers()
    pg_clean(url)
    yield url
    for run in list(lifecycle.active_runs()):
        run.finish()
    close_writers()
