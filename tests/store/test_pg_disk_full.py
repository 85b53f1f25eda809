"""Disk full on the server side, for real: the store's tables live in a tablespace on an 8 MiB tmpfs of a
private PostgreSQL server, and a training script logs far more than fits.

While the disk is full, log() neither raises nor hangs (records go to the bounded local spool); when space is
freed (the tmpfs grown, as an administrator would), the script's own writer sends the spool while the script
goes on logging, and every point and console line is stored exactly once. The mount, the tablespace and the
database go in the teardown.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from tracktui.store import Reader

from tests import pg_private
from tests.conftest import close_writers, pg_available

pytestmark = pytest.mark.skipif(bool(pg_available() or pg_private.unavailable()),
                                reason=str(pg_available() or pg_private.unavailable()))

KEYS = 10
WRITER = """
import os, sys, time, pathlib, tracktui
n, go = int(sys.argv[1]), pathlib.Path(sys.argv[2])
run = tracktui.init(store=os.environ["STORE"], project="diskfull",
                    settings={"system": False, "git": False, "requirements": False, "metadata": False})
w = run._writer
print("started", run.id, flush=True)
worst, most_spooled, errors = 0.0, 0, 0
for i in range(n):
    t = time.perf_counter()
    try:
        run.log({f"k{j}": float(i * 10 + j) for j in range(%d)})
    except Exception:
        errors += 1
    worst = max(worst, time.perf_counter() - t)
    if i %% 100 == 0:
        print(f"line {i}", flush=True)
        most_spooled = max(most_spooled, w.spooled)
w.flush(120)
most_spooled = max(most_spooled, w.spooled)
sys.__stdout__.write(f"logged worst={worst:.3f} spooled={most_spooled} errors={errors}\\n")
sys.__stdout__.flush()
while not go.exists():
    time.sleep(0.05)
worst = 0.0
for i in range(n, n + n // 3):  # logging goes on while the spool is sent
    t = time.perf_counter()
    run.log({f"k{j}": float(i * 10 + j) for j in range(%d)})
    worst = max(worst, time.perf_counter() - t)
    if i %% 100 == 0:
        print(f"line {i}", flush=True)
deadline = time.monotonic() + 240
while (w.offline or w.spooled) and time.monotonic() < deadline:
    w.wake()
    time.sleep(0.2)
left = w.spooled
run.finish()
sys.__stdout__.write(f"done spooled_left={left} worst={worst:.3f}\\n")
""" % (KEYS, KEYS)


def _mount_tmpfs(size: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix="tracktui-pgspace-"))
    os.chmod(path, 0o755)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)], check=True,
                   capture_output=True)
    subprocess.run(["chown", "postgres:postgres", str(path)], check=True)
    return path


@pytest.fixture
def full_store(tmp_path, monkeypatch):
    """A database of a private server whose tables go to a tablespace on an 8 MiB tmpfs; yields (url, mount)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs for the tablespace needs root and mount(8)")
    srv = pg_private.PrivateServer()
    srv.start()
    mount: Path | None = None
    name = f"diskfull_{secrets.token_hex(4)}"
    try:
        try:
            mount = _mount_tmpfs("8m")
        except (subprocess.CalledProcessError, OSError) as e:
            pytest.skip(f"cannot mount a tmpfs here ({e})")
        srv.sql(f"CREATE TABLESPACE small LOCATION '{mount}'")
        srv.sql(f"CREATE DATABASE {name}")
        srv.sql(f"ALTER DATABASE {name} SET default_tablespace = small")
        monkeypatch.setenv("TRACKTUI_SPOOL_DIR", str(tmp_path / "spool"))
        yield srv.url(name), mount
    finally:
        close_writers()
        from tracktui.store import postgres

        postgres.close_idle()
        try:
            srv.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            srv.sql("DROP TABLESPACE IF EXISTS small")
        finally:
            srv.close()
            if mount is not None:
                subprocess.run(["umount", str(mount)], capture_output=True)
                mount.rmdir()


def _used_fraction(mount: Path) -> float:
    st = os.statvfs(mount)
    return 1.0 - st.f_bavail / st.f_blocks


def test_disk_full_on_the_server_spools_then_sends_exactly_once(full_store, tmp_path):
    url, mount = full_store
    n = 30_000  # ~300k points: several times what 8 MiB of tables hold
    go = tmp_path / "go"
    env = {**os.environ, "STORE": url, "TRACKTUI_DIR": str(tmp_path / "local"),
           "TRACKTUI_SPOOL_DIR": str(tmp_path / "spool"), "TRACKTUI_SPOOL_MAX_MB": "256"}
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(WRITER), str(n), str(go)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("started"), first + (proc.stderr.read() if proc.stderr else "")
    run_id = first.split()[1]
    lines = []
    for line in proc.stdout:
        if line.startswith("logged"):
            break
        lines.append(line)
    else:
        pytest.fail("the script ended before logging everything: " + (proc.stderr.read() if proc.stderr else ""))
    stats = dict(kv.split("=") for kv in line.split()[1:])
    print("while full:", stats, f"tablespace used {_used_fraction(mount):.3f}")
    assert int(stats["errors"]) == 0  # log() never raised
    assert int(stats["spooled"]) > 0, stats  # the store refused records: they waited in the local spool
    assert _used_fraction(mount) > 0.95  # the tablespace really is full
    assert float(stats["worst"]) < 30, stats  # no call hung (the bound is back-pressure, not a timeout)

    subprocess.run(["mount", "-o", "remount,size=256m", str(mount)], check=True)  # space is freed
    go.touch()
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    assert "done spooled_left=0" in out, out + err[-3000:]
    print("after space was freed:", out.splitlines()[-1])
    total = n + n // 3
    assert "does not answer" in err and "DiskFull" in err  # one message, naming the cause

    with Reader(url) as r:
        rec = r.run(run_id)
        assert rec is not None and rec.state == "finished" and rec.last_step == total - 1
        h = r.history(run_id, [f"k{j}" for j in range(KEYS)], limit=10**7)
        for j in range(KEYS):
            assert [s for s, _ in h[f"k{j}"]] == list(range(total)), f"k{j}"
            assert [v for _, v in h[f"k{j}"]] == [float(i * 10 + j) for i in range(total)]
        assert sum(r.sampled(run_id, "k0", 20).count) == total  # the rollup counted every point once
        logged = [x[3] for x in r.logs(run_id, limit=10**6) if x[3].startswith("line ")]
        assert logged == [f"line {i}" for i in range(0, total, 100)]  # each console line once, in order
