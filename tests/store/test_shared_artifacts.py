"""Artifacts in shared mode on a real network filesystem (an sshfs mount through an sshd on the loopback).

Writers are real processes logging through the mount, some on other "hosts" (unshare --uts); readers fold
into caches of their own. Checked: a file and a directory logged by one process are listed and downloaded
byte for byte by another host; the same bytes are one blob file; two writers logging one name at the same
moment get distinct versions every reader numbers alike; kill -9 in the middle of log_artifact leaves no
version visible, and logging it again completes it. Skipped, saying why, where sshd, sshfs or FUSE are missing.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from tracktui.store import segments, shared

sys.path.insert(0, str(Path(__file__).parent))
from test_shared import _env, _no_sqlite_on  # noqa: E402

pytestmark = pytest.mark.timeout(300)

# A writer: logs the artifacts of a JSON spec [[name, type, {entry: local path}, [aliases]], ...] after the
# file `go` exists (when given), prints each logged name, then uses `use` (when given) and prints its files.
WRITER = textwrap.dedent("""
    import json, os, sys, time
    import tracktui
    import tracktui.store.artifacts as sart
    store, run_id, spec, go, use, chunk = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4], \\
        sys.argv[5], int(sys.argv[6])
    if chunk:
        sart.CHUNK_BYTES = chunk
    run = tracktui.init(project="shared", id=run_id, name=run_id, dir=store)
    while go and not os.path.exists(go):
        time.sleep(0.01)
    for name, type_, entries, aliases in spec:
        art = tracktui.Artifact(name, type=type_, metadata={"by": run_id})
        for entry, local in entries.items():
            if os.path.isdir(local):
                art.add_dir(local, name=entry)
            else:
                art.add_file(local, name=entry)
        run.log_artifact(art, aliases=aliases)
        print("logged", art.name, flush=True)
    if use:
        got = run.use_artifact(use)
        print("used", got.name, json.dumps(sorted(e.path for e in got.files())), flush=True)
    run.finish()
""")


def _writer(tmp_path: Path, store: Path, run_id: str, spec: list, go: str = "", use: str = "", chunk: int = 0,
            host: str | None = None, cache: str = "cache") -> subprocess.Popen[str]:
    script = tmp_path / "art_writer.py"
    script.write_text(WRITER)
    args = [sys.executable, str(script), str(store), run_id, json.dumps(spec), go, use, str(chunk)]
    env = _env(tmp_path)
    env["XDG_CACHE_HOME"] = str(tmp_path / cache)
    if host is not None:
        cmd = f"hostname {host} && exec " + " ".join(f"'{a}'" for a in args)
        args = ["unshare", "--uts", "sh", "-c", cmd]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _done(p: subprocess.Popen[str], timeout: float = 120) -> str:
    out, err = p.communicate(timeout=timeout)
    assert p.returncode == 0, err
    return out


def _unshare_ok() -> None:
    probe = subprocess.run(["unshare", "--uts", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"unshare --uts is not allowed here: {probe.stderr.decode(errors='replace').strip()}")


def _blob_files(remote_store: Path) -> list[Path]:
    return sorted(p for p in (remote_store / "blobs").rglob("*") if p.is_file() and not p.name.startswith("."))


def _versions(cache: Path, name: str) -> dict[int, tuple[str, list[str]]]:
    """version -> (digest, aliases) of an artifact as a folded cache holds it."""
    with sqlite3.connect(cache / "tracktui.db") as c:
        rows = c.execute("SELECT v.version, v.digest, v.id FROM artifact_versions v JOIN artifacts a "
                         "ON a.id = v.artifact_id WHERE a.name = ?", (name,)).fetchall()
        out = {}
        for num, digest, vid in rows:
            aliases = sorted(r[0] for r in c.execute("SELECT alias FROM artifact_aliases WHERE version_id = ?",
                                                     (vid,)))
            out[num] = (digest, aliases)
    return out


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_artifact_logged_on_one_host_is_listed_and_downloaded_on_another(mount, tmp_path):
    _unshare_ok()
    store = mount.mnt / "store"
    src = tmp_path / "src"
    (src / "tok" / "sub").mkdir(parents=True)
    (src / "model.pt").write_bytes(os.urandom(3 * 2**20 + 5))  # 4 chunks of 1 MiB (chunk=2**20 below)
    (src / "tok" / "vocab.txt").write_text("a\nb\n")
    (src / "tok" / "sub" / "merges.txt").write_text("a b\n")
    (src / "copy.pt").write_bytes((src / "model.pt").read_bytes())  # the same bytes under another name
    spec = [["ck", "model", {"model.pt": str(src / "model.pt"), "tok": str(src / "tok")}, ["best"]],
            ["ck", "model", {"model.pt": str(src / "copy.pt")}, []],
            ["ck", "model", {"model.pt": str(src / "model.pt"), "tok": str(src / "tok")}, ["again"]]]
    out = _done(_writer(tmp_path, store, "maker", spec, chunk=2**20, host="node-a"))
    # The third log is the first's content: the same version, found again (an alias added).
    assert [ln.split()[1] for ln in out.splitlines()] == ["ck:v0", "ck:v1", "ck:v0"]

    remote = mount.remote / "store"
    blobs = _blob_files(remote)
    # model.pt's 4 chunks (copy.pt is the same bytes: no new blob) + vocab + merges, each once.
    assert len(blobs) == 6
    assert all(b.parent.name == b.name[:2] and _sha(b) == b.name for b in blobs)
    assert _no_sqlite_on(mount.remote) == []

    # Another host, another cache: a second writer uses ck:latest (it folds first), and the CLI lists and
    # downloads what the first one logged.
    used = _done(_writer(tmp_path, store, "user", [], use="ck:latest", host="node-b", cache="cache-b"))
    assert used.split()[:2] == ["used", "ck:v1"] and json.loads(used.split(" ", 2)[2]) == ["model.pt"]
    env = _env(tmp_path)
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache-c")
    cli = [sys.executable, "-m", "tracktui.cli", "--dir", str(store)]
    ls = subprocess.run(["unshare", "--uts", "sh", "-c", "hostname node-c && exec \"$@\"", "sh", *cli,
                         "artifact", "ls", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert ls.returncode == 0, ls.stderr
    rows = [json.loads(ln) for ln in ls.stdout.splitlines()]
    got = {r["version"]: r for r in rows}
    assert sorted(got) == ["v0", "v1"] and got["v0"]["files"] == 3 and got["v1"]["files"] == 1
    assert sorted(got["v0"]["aliases"]) == ["again", "best"] and got["v1"]["aliases"] == ["latest"]
    dest = tmp_path / "dl"
    get = subprocess.run(["unshare", "--uts", "sh", "-c", "hostname node-c && exec \"$@\"", "sh", *cli,
                          "artifact", "get", "ck:best", "--root", str(dest)], capture_output=True, text=True,
                         env=env, timeout=120)
    assert get.returncode == 0, get.stderr
    assert (dest / "model.pt").read_bytes() == (src / "model.pt").read_bytes()
    assert (dest / "tok" / "vocab.txt").read_text() == "a\nb\n"
    assert (dest / "tok" / "sub" / "merges.txt").read_text() == "a b\n"

    # Lineage, through the Api of this process (its own cache).
    import tracktui

    shared._detected.clear()
    api = tracktui.Api(str(store))
    assert [a.name for a in api.run("maker").logged_artifacts()] == ["ck:v0", "ck:v1"]
    assert [a.name for a in api.run("user").used_artifacts()] == ["ck:v1"]
    assert [r.id for r in api.artifact("ck:v1").used_by()] == ["user"]
    assert api.artifact("ck:v0").logged_by().id == "maker"


def test_two_writers_logging_one_name_at_once_get_versions_every_reader_numbers_alike(mount, tmp_path):
    _unshare_ok()
    store = mount.mnt / "store"
    go = tmp_path / "go"
    procs = []
    for host in ("node-a", "node-b"):
        spec = []
        for i in range(3):
            f = tmp_path / f"{host}-{i}.bin"
            f.write_bytes(f"{host} {i}".encode())
            spec.append(["race", "dataset", {"data.bin": str(f)}, [host]])
        procs.append(_writer(tmp_path, store, f"run-{host}", spec, go=str(go), host=host, cache=f"cache-{host}"))
    # A reader folding all along (it may see a number move while both are publishing) ...
    live = tmp_path / "live-cache"
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            segments.fold(store, live)
            time.sleep(0.05)

    t = threading.Thread(target=watch)
    t.start()
    time.sleep(1.0)  # both writers are at the start line
    go.write_text("go")
    try:
        outs = [_done(p) for p in procs]
    finally:
        stop.set()
        t.join(60)
    for out in outs:  # each writer got three distinct versions
        names = [ln.split()[1] for ln in out.splitlines()]
        assert len(names) == 3 and len(set(names)) == 3
    # ... and one that folds everything at the end: the same numbers, aliases and digests.
    segments.fold(store, live)
    late = tmp_path / "late-cache"
    segments.fold(store, late)
    a, b = _versions(live, "race"), _versions(late, "race")
    assert a == b
    assert sorted(a) == [0, 1, 2, 3, 4, 5]  # six contents, six versions, no gap, no double
    wanted = {hashlib.sha256(json.dumps([["data.bin", hashlib.sha256(f"{h} {i}".encode()).hexdigest(),
                                          len(f"{h} {i}"), None]], separators=(",", ":")).encode()).hexdigest()
              for h in ("node-a", "node-b") for i in range(3)}
    assert {d for d, _ in a.values()} == wanted
    assert "latest" in a[5][1]
    for host in ("node-a", "node-b"):  # an alias is on the last version its writer logged
        last = [num for num, (_, al) in a.items() if host in al]
        assert len(last) == 1
    # The writers' own caches agree too, once folded.
    for host in ("node-a", "node-b"):
        segments.fold(store, tmp_path / f"cache-{host}" / "x")
        assert _versions(tmp_path / f"cache-{host}" / "x", "race") == a


def test_kill_9_in_the_middle_of_log_artifact_leaves_no_half_artifact(mount, tmp_path):
    store = mount.mnt / "store"
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(48 * 2**20))  # 48 blobs of 1 MiB
    spec = [["ckpt", "model", {"big.bin": str(big)}, ["best"]]]
    p = _writer(tmp_path, store, "victim", spec, chunk=2**20)
    remote = mount.remote / "store"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(_blob_files(remote)) < 8:
        assert p.poll() is None, p.stderr.read() if p.stderr else ""
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL)
    p.wait(30)
    stored = len(_blob_files(remote))
    assert 8 <= stored < 48
    shared._detected.clear()
    import tracktui

    cache = tmp_path / "reader-cache"
    segments.fold(store, cache)
    assert _versions(cache, "ckpt") == {}  # nothing of it: no version, no alias
    assert [r.name for r in tracktui.Api(str(store)).runs(project="shared")] == ["victim"]
    assert tracktui.Api(str(store)).artifacts() == []
    # Logging it again stores only what is missing and completes it.
    out = _done(_writer(tmp_path, store, "again", spec, chunk=2**20))
    assert out.split() == ["logged", "ckpt:v0"]
    assert len(_blob_files(remote)) == 48
    art = tracktui.Api(str(store)).artifact("ckpt:best")
    path = art.download(root=tmp_path / "dl")
    assert _sha(Path(path) / "big.bin") == _sha(big)
