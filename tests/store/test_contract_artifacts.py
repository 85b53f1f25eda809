"""The store contract for artifacts, on both engines (the `any_store` fixture: SQLite and the real PostgreSQL).

Versions and aliases, content stored once, big files in chunks, byte-exact downloads, lineage, references,
several processes logging one name at once, and a store that holds no artifact tables yet.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import tracktui
from tracktui.store import Reader, report
from tracktui.store import artifacts as sart


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _init(store: str, **kw):  # type: ignore[no-untyped-def]
    return tracktui.init(store=store, project=kw.pop("project", "p"), settings={"capture": False}, **kw)


def _artifact(name: str, *files: Path, type: str = "model") -> tracktui.Artifact:
    art = tracktui.Artifact(name, type=type)
    for f in files:
        art.add_file(f)
    return art


def test_versions_aliases_and_content_stored_once(any_store, tmp_path, caplog):
    run = _init(any_store)
    logged = []
    for i, aliases in enumerate([["best"], [], ["best", "candidate"]]):
        art = _artifact("ckpt", _write(tmp_path / f"e{i}" / "model.pt", f"weights {i}".encode()))
        logged.append(run.log_artifact(art, aliases=aliases))
    assert [a.version for a in logged] == ["v0", "v1", "v2"]
    assert logged[2].aliases == ["latest", "best", "candidate"]
    again = run.log_artifact(_artifact("ckpt", tmp_path / "e0" / "model.pt"), aliases=["prod"])
    assert again.version == "v0" and again.digest == logged[0].digest  # identical content: the same version
    cause = "log_artifact:ArtifactTypeError"  # one message per cause and process: let this test see its own
    report._seen.discard(cause)
    try:
        other = run.log_artifact(_artifact("ckpt", tmp_path / "e1" / "model.pt", type="dataset"))
        assert other.version is None  # refused with one message: the name has type "model"
        assert "has type 'model', not 'dataset'" in caplog.text
    finally:
        report._seen.discard(cause)  # and leave it unseen for the next test that provokes it
    run.finish()
    api = tracktui.Api(any_store)
    assert api.artifact("ckpt:best").version == "v2" and api.artifact("ckpt:prod").version == "v0"
    assert api.artifact("ckpt").version == "v2" and api.artifact("p/ckpt:v1").digest == logged[1].digest
    assert [a.version for a in api.artifacts(name="ckpt")] == ["v2", "v1", "v0"]
    assert api.artifact("ckpt:v0").aliases == ["prod"]
    with Reader(any_store) as r:
        rows = sart.versions(r, project="p", name="ckpt")
        assert {v.version: v.aliases for v in rows} == {2: ["latest", "best", "candidate"], 1: [], 0: ["prod"]}
        assert sart.projects_with(r, "ckpt") == ["p"] and sart.projects_with(r, "none") == []
    with pytest.raises(sart.ArtifactNotFound):
        api.artifact("ckpt:v9")
    with pytest.raises(sart.ArtifactNotFound):
        api.artifact("absent")


def test_big_files_in_chunks_download_byte_exact(any_store, tmp_path, monkeypatch):
    monkeypatch.setattr(sart, "CHUNK_BYTES", 64 << 10)  # several chunks without big files
    big = os.urandom(300_000)
    files = {"big.bin": big, "empty.txt": b"", "sub/dir/small.txt": b"small", "nul.bin": bytes(1000)}
    src = tmp_path / "src"
    for name, data in files.items():
        _write(src / name, data)
    run = _init(any_store)
    art = tracktui.Artifact("data", type="dataset")
    art.add_dir(src)
    art.add_reference("s3://bucket/key.bin", name="remote.bin")
    run.log_artifact(art)
    run.finish()
    got = tracktui.Api(any_store).artifact("data:latest")
    assert {e.path for e in got.files()} == {*files, "remote.bin"}
    assert [e.ref for e in got.files() if e.path == "remote.bin"] == ["s3://bucket/key.bin"]
    out = Path(got.download(tmp_path / "out"))
    for name, data in files.items():
        assert (out / name).read_bytes() == data
    assert not (out / "remote.bin").exists()  # references are recorded, never fetched
    with Reader(any_store) as r:
        assert b"".join(sart.read_blob(r, hashlib.sha256(big).hexdigest())) == big
        with pytest.raises(sart.ArtifactNotFound):
            list(sart.read_blob(r, "0" * 64))


def test_lineage_on_both_engines(any_store, tmp_path):
    data = _write(tmp_path / "train.csv", b"x,y\n1,2\n")
    with _init(any_store, name="prep") as prep:
        prep.log_artifact(_artifact("mnist", data, type="dataset"))
    with _init(any_store, name="train") as train:
        used = train.use_artifact("mnist:latest")
        train.use_artifact("mnist:v0")  # twice: one record
        train.log_model(_write(tmp_path / "model.pt", b"model bytes"), name="cnn", aliases=["best"])
    with _init(any_store, name="eval") as ev:
        ev.use_artifact("cnn:best", type="model")
        given = ev.use_artifact(_artifact("labels", _write(tmp_path / "labels.txt", b"cat"), type="dataset"))
        with pytest.raises(ValueError, match="no artifact"):
            ev.use_artifact("missing:v0")
    api = tracktui.Api(any_store)
    mnist = api.artifact("mnist:v0")
    assert mnist.logged_by().id == prep.id and [r.id for r in mnist.used_by()] == [train.id]
    assert used.logged_by().id == prep.id
    assert [a.name for a in api.run(train.id).used_artifacts()] == ["mnist:v0"]
    assert [a.name for a in api.run(train.id).logged_artifacts()] == ["cnn:v0"]
    assert [a.name for a in api.run(ev.id).used_artifacts()] == ["cnn:v0", "labels:v0"]
    assert api.run(ev.id).logged_artifacts() == []
    assert given.logged_by() is None and [r.id for r in given.used_by()] == [ev.id]


def test_processes_logging_one_name_at_once_get_distinct_versions(any_store, tmp_path):
    """Six processes log the same name at once: four contents (two of them twice) make four versions."""
    code = textwrap.dedent("""
        import os, sys, pathlib, tracktui
        content, out = sys.argv[1], pathlib.Path(sys.argv[2])
        out.write_text(content * 1000)
        run = tracktui.init(store=os.environ["STORE"], project="p", settings={"capture": False})
        art = tracktui.Artifact("shared", type="dataset")
        art.add_file(out, name="data.txt")
        run.log_artifact(art, aliases=["p-" + content])
        print(art.version)
        run.finish()
    """)
    _init(any_store).finish()  # the store exists before the race
    contents = ["a", "b", "c", "d", "a", "b"]
    procs = [subprocess.Popen([sys.executable, "-c", code, c, str(tmp_path / f"{i}.txt")],
                              env={**os.environ, "STORE": any_store}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i, c in enumerate(contents)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    versions = [o[0].strip() for o in outs]
    assert versions[0] == versions[4] and versions[1] == versions[5], outs
    assert sorted(set(versions)) == ["v0", "v1", "v2", "v3"], outs
    rows = tracktui.Api(any_store).artifacts(name="shared")
    assert sorted(a.version for a in rows) == ["v0", "v1", "v2", "v3"]
    assert rows[0].aliases[0] == "latest" and sum(len(a.aliases) for a in rows) == 5


def test_a_store_without_artifact_tables_reads_as_none(any_store):
    _init(any_store).finish()
    with Reader(any_store) as r:
        assert sart.versions(r) == [] and sart.projects_with(r, "x") == []
    if any_store.startswith("postgresql"):  # a store written before artifacts existed (schema version 1)
        import psycopg
        from tracktui.store import postgres

        with psycopg.connect(any_store, autocommit=True) as conn:
            conn.execute("ALTER TABLE tracktui.artifact_runs RENAME TO artifact_runs_gone")
            conn.execute("ALTER TABLE tracktui.artifact_files RENAME TO artifact_files_gone")
        try:
            postgres.close_idle()
            with Reader(any_store) as r:
                assert sart.users(r, 1) == [] and sart.files(r, 1) == []
        finally:
            with psycopg.connect(any_store, autocommit=True) as conn:
                conn.execute("ALTER TABLE tracktui.artifact_runs_gone RENAME TO artifact_runs")
                conn.execute("ALTER TABLE tracktui.artifact_files_gone RENAME TO artifact_files")
            postgres.close_idle()
