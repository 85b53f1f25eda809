"""Artifacts: content-addressed storage, versions and aliases, lineage, byte-exact downloads, references,
bad input, tracking problems that never raise, several processes at once, the migration and the CLI."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
import tracktui
from tracktui.cli.main import main
from tracktui.store import Reader, schema
from tracktui.store import artifacts as sart
from tracktui.store.paths import db_path
from tracktui.store.writer import Writer

from tests.conftest import run_script


def _init(store_dir: Path, **kw):  # type: ignore[no-untyped-def]
    return tracktui.init(dir=store_dir, project=kw.pop("project", "p"), settings={"capture": False}, **kw)


def _db(store_dir: Path) -> sqlite3.Connection:
    return sqlite3.connect(db_path(store_dir))


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _artifact(name: str, *files: Path, type: str = "model", **kw) -> tracktui.Artifact:  # type: ignore[no-untyped-def]
    art = tracktui.Artifact(name, type=type, **kw)
    for f in files:
        art.add_file(f)
    return art


def test_the_same_bytes_are_stored_once(store_dir, tmp_path):
    data = os.urandom(200_000)
    a = _write(tmp_path / "a.bin", data)
    b = _write(tmp_path / "copy" / "a.bin", data)
    run = _init(store_dir)
    first = _artifact("weights", a)
    first.add_file(b, name="again.bin")  # the same bytes twice in one artifact
    run.log_artifact(first)
    run.log_artifact(_artifact("other-name", b, type="dataset"))  # and in another artifact
    same = tracktui.Artifact("weights", type="model")
    same.add_file(a)
    same.add_file(b, name="again.bin")
    run.log_artifact(same)  # identical content: the same version, nothing stored again
    run.finish()
    conn = _db(store_dir)
    digest = hashlib.sha256(data).hexdigest()
    assert conn.execute("SELECT count(*), sum(size) FROM blobs WHERE sha256 = ?", (digest,)).fetchone() == (1, 200_000)
    assert conn.execute("SELECT count(*) FROM artifact_versions").fetchone()[0] == 2
    assert first.version == same.version == "v0" and first.digest == same.digest
    assert {f.path: f.digest for f in same.files()} == {"a.bin": digest, "again.bin": digest}


def test_versions_and_aliases(store_dir, tmp_path):
    run = _init(store_dir)
    logged = []
    for i, aliases in enumerate([["best"], [], ["best", "candidate"]]):
        art = _artifact("ckpt", _write(tmp_path / f"e{i}" / "model.pt", f"weights {i}".encode()))
        logged.append(run.log_artifact(art, aliases=aliases))
    assert [a.version for a in logged] == ["v0", "v1", "v2"] and logged[2].name == "ckpt:v2"
    assert logged[2].aliases == ["latest", "best", "candidate"]
    # identical content again: no new version, the aliases are added, latest stays on the newest
    again = run.log_artifact(_artifact("ckpt", tmp_path / "e0" / "model.pt"), aliases=["prod"])
    assert again.version == "v0" and again.aliases == ["prod"]
    api = tracktui.Api(store_dir)
    assert api.artifact("ckpt:v0").aliases == ["prod"]  # best moved to v2
    assert api.artifact("ckpt:latest").version == api.artifact("ckpt").version == "v2"
    assert api.artifact("ckpt:best").version == "v2" and api.artifact("p/ckpt:prod").version == "v0"
    assert api.artifact("ckpt:v1").aliases == []
    assert run.use_artifact("ckpt:candidate").version == "v2"
    with pytest.raises(ValueError, match="no version or alias 'nope'"):
        run.use_artifact("ckpt:nope")
    with pytest.raises(ValueError, match="no artifact 'missing'"):
        run.use_artifact("missing:latest")
    with pytest.raises(ValueError, match="no artifact 'nope' in "):  # no project: every project looked in
        api.artifact("nope:latest")
    with pytest.raises(ValueError, match="has type 'model', not 'dataset'"):
        run.use_artifact("ckpt:v1", type="dataset")
    # aliases that could not name one version are left out with a warning; the good ones are kept
    with pytest.warns(tracktui.TrackTuiWarning, match="cannot be an artifact alias"):
        v3 = run.log_artifact(_artifact("ckpt", _write(tmp_path / "e3.pt", b"3")), aliases=["v9", "a:b", "ok"])
    assert v3.version == "v3" and v3.aliases == ["latest", "ok"]
    run.finish()
    assert [a.version for a in api.artifacts(name="ckpt")] == ["v3", "v2", "v1", "v0"]


def test_lineage_producer_and_consumers(store_dir, tmp_path):
    data = _write(tmp_path / "train.csv", b"x,y\n1,2\n")
    with _init(store_dir, name="prep") as prep:
        prep.log_artifact(_artifact("mnist", data, type="dataset"))
    with _init(store_dir, name="train") as train:
        used = train.use_artifact("mnist:latest")
        train.use_artifact("mnist:v0")  # twice in one run: one record
        train.log_model(_write(tmp_path / "model.pt", b"model bytes"), name="cnn", aliases=["best"])
    with _init(store_dir, name="rerun") as rerun:  # logs bit-identical data: the same version, a second logger
        rerun.log_artifact(_artifact("mnist", data, type="dataset"))
    with _init(store_dir, name="eval") as ev:
        ev.use_artifact("cnn:best", type="model")
        given = ev.use_artifact(_artifact("labels", _write(tmp_path / "labels.txt", b"cat"), type="dataset"))
        ev.use_artifact(used)  # an artifact object read before: its use is recorded too
    api = tracktui.Api(store_dir)
    mnist = api.artifact("mnist:v0")
    assert mnist.logged_by().id == prep.id and [r.id for r in mnist.used_by()] == [train.id, ev.id]
    assert [a.name for a in api.run(prep.id).logged_artifacts()] == ["mnist:v0"]
    assert [a.name for a in api.run(rerun.id).logged_artifacts()] == ["mnist:v0"]
    assert [a.name for a in api.run(train.id).used_artifacts()] == ["mnist:v0"]
    assert [a.name for a in api.run(train.id).logged_artifacts()] == ["cnn:v0"]
    assert api.artifact("cnn").logged_by().id == train.id and used.logged_by().id == prep.id
    assert api.run(ev.id).logged_artifacts() == []  # a new artifact it used is stored, not made by it
    assert [a.name for a in api.run(ev.id).used_artifacts()] == ["cnn:v0", "labels:v0", "mnist:v0"]
    assert given.version == "v0" and given.logged_by() is None and [r.id for r in given.used_by()] == [ev.id]


def test_download_round_trip_is_byte_exact(store_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(sart, "CHUNK_BYTES", 64 << 10)  # big files in several chunks, without big files
    src = tmp_path / "src"
    files = {
        "big.bin": os.urandom((1 << 20) + 17),  # 16 chunks and a bit
        "edge.bin": os.urandom(64 << 10),  # exactly one chunk
        "empty.txt": b"",
        "nested/deeper/x.json": b'{"a": 1}',
        "nested/\u00e9t\u00e9 with space.txt": "caf\u00e9".encode(),
    }
    for name, data in files.items():
        _write(src / name, data)
    run = _init(store_dir)
    art = tracktui.Artifact("data", type="dataset", description="all of it", metadata={"n": 5, "lr": float("nan")})
    art.add_dir(src)
    with art.new_file("made/inline.txt") as f:
        f.write("written in place\n")
    run.log_artifact(art)
    run.finish()
    files["made/inline.txt"] = b"written in place\n"
    chunked = _db(store_dir).execute("SELECT count(DISTINCT sha256), count(*) FROM blob_chunks").fetchone()
    assert chunked == (1, 17)  # only big.bin is cut in chunks; edge.bin is exactly one
    got = tracktui.Api(store_dir).artifact("data:v0")
    assert got.description == "all of it" and got.metadata["n"] == 5 and got.metadata["lr"] != got.metadata["lr"]
    assert got.size == sum(map(len, files.values())) and got.file_count == len(files)
    out = Path(got.download(tmp_path / "out"))
    assert {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()} == files
    # the default root is ./artifacts/<name>:<version>; files already there with the same bytes stay untouched
    monkeypatch.chdir(tmp_path)
    default = Path(got.download())
    assert default == Path("artifacts") / "data:v0" and (default / "big.bin").read_bytes() == files["big.bin"]
    before = (default / "big.bin").stat().st_mtime_ns
    (default / "empty.txt").write_bytes(b"changed locally")
    got.download()
    assert (default / "big.bin").stat().st_mtime_ns == before and (default / "empty.txt").read_bytes() == b""
    one = got.get_entry("nested/deeper/x.json").download(tmp_path / "single")
    assert Path(one).read_bytes() == b'{"a": 1}' and not (tmp_path / "single" / "big.bin").exists()
    with pytest.raises(KeyError):
        got.get_path("nope.txt")


def test_references_are_recorded_not_fetched(store_dir, tmp_path):
    run = _init(store_dir)
    art = tracktui.Artifact("remote", type="dataset")
    art.add_reference("s3://bucket/data/train.csv")
    art.add_reference("https://example.invalid/weights.bin", name="w/weights.bin")
    art.add_file(_write(tmp_path / "local.txt", b"here"))
    run.log_artifact(art)
    other = tracktui.Artifact("remote", type="dataset")
    other.add_reference("s3://bucket/data/OTHER.csv", name="train.csv")
    other.add_reference("https://example.invalid/weights.bin", name="w/weights.bin")
    other.add_file(tmp_path / "local.txt")
    run.log_artifact(other)  # another URI under the same name is another version
    run.finish()
    got = tracktui.Api(store_dir).artifact("remote:v0")
    refs = {e.path: e.ref for e in got.files()}
    assert refs == {"local.txt": None, "train.csv": "s3://bucket/data/train.csv",
                    "w/weights.bin": "https://example.invalid/weights.bin"}
    assert other.version == "v1"
    out = Path(got.download(tmp_path / "out"))
    assert sorted(p.name for p in out.rglob("*")) == ["local.txt"]


def test_bad_input_raises_when_the_artifact_is_built(tmp_path):
    f = _write(tmp_path / "f.txt", b"x")
    for name in ("", "a/b", "a:b", "x" * 129, 3):
        with pytest.raises(ValueError, match="artifact name"):
            tracktui.Artifact(name, type="model")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="artifact type"):
        tracktui.Artifact("ok", type="has space")
    with pytest.raises(TypeError, match="metadata must be a dict"):
        tracktui.Artifact("ok", type="model", metadata=[1, 2])  # type: ignore[arg-type]
    art = tracktui.Artifact("ok", type="model")
    with pytest.raises(ValueError, match="Path is not a file: .*missing.pt"):
        art.add_file(tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="Path is not a directory"):
        art.add_dir(f)
    for bad in ("../escape.txt", "/abs.txt", "a/../../b"):
        with pytest.raises(ValueError, match="relative path without"):
            art.add_file(f, name=bad)
    art.add_file(f, name="./dir//f.txt")
    assert [e.path for e in art.files()] == ["dir/f.txt"]
    with pytest.raises(ValueError, match="already has a file named 'dir/f.txt'"):
        art.add_file(_write(tmp_path / "g.txt", b"y"), name="dir/f.txt")
    art.add_file(tmp_path / "g.txt", name="dir/f.txt", overwrite=True)
    with pytest.raises(ValueError, match="not logged yet"):
        art.download(tmp_path / "out")
    assert art.version is None and art.state == "PENDING"


def test_log_artifact_never_raises_into_training(store_dir, tmp_path, caplog):
    run = _init(store_dir)
    gone = _write(tmp_path / "gone.pt", b"soon deleted")
    art = _artifact("ckpt", gone)
    gone.unlink()  # the file vanished between add_file and log_artifact
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # data not stored is reported through logging: a filter cannot hide it
        assert run.log_artifact(art) is art
    assert art.version is None
    assert re.search(r"log_artifact\(ckpt\) failed \(FileNotFoundError.*not stored", caplog.text)
    run.log_artifact(_artifact("ckpt", _write(tmp_path / "ok.pt", b"ok")))
    run.log_artifact(_artifact("ckpt", tmp_path / "ok.pt", type="dataset"))
    assert "has type 'model', not 'dataset'" in caplog.text
    run.log({"loss": 1.0})
    run.finish()
    run.log_artifact(_artifact("late", tmp_path / "ok.pt"))
    assert re.search(r"log_artifact\(\) after run .* finished; late was not stored", caplog.text)
    assert [a.name for a in tracktui.Api(store_dir).artifacts()] == ["ckpt:v0"]
    with pytest.raises(ValueError, match="already logged"):
        tracktui.Api(store_dir).artifact("ckpt").add_file(tmp_path / "ok.pt")


def test_log_model_use_model_and_module_level_calls(store_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = _write(tmp_path / "model.safetensors", os.urandom(5000))
    run = _init(store_dir)
    run.log_model(model, aliases=["best"])
    name = f"run-{run.id}-model.safetensors"
    tracktui.log_model(_write(tmp_path / "dir" / "w.bin", b"w").parent, name="dirmodel")
    tracktui.log_artifact(str(model), name="plain", type="weights")  # a path, as wandb accepts
    with pytest.raises(ValueError, match="is not a file or directory"):
        run.log_model(tmp_path / "missing.pt")
    path = tracktui.use_model(f"{name}:best")
    assert (Path(path) / "model.safetensors").read_bytes() == model.read_bytes()
    used = tracktui.use_artifact("dirmodel")
    assert used.type == "model" and [e.path for e in used.files()] == ["w.bin"]
    run.finish()
    kinds = {a.name: a.type for a in tracktui.Api(store_dir).artifacts()}
    assert kinds == {f"{name}:v0": "model", "dirmodel:v0": "model", "plain:v0": "weights"}


def test_disabled_mode_stores_nothing(store_dir, tmp_path, monkeypatch):
    run = tracktui.init(dir=store_dir, mode="disabled")
    art = _artifact("ckpt", _write(tmp_path / "m.pt", b"m"))
    assert run.log_artifact(art) is art and art.version is None
    run.log_model(tmp_path / "m.pt")
    run.finish()
    assert not db_path(store_dir).exists()
    with _init(store_dir) as real:  # a disabled run still reads what exists, and records nothing
        real.log_artifact(art)
    monkeypatch.setenv("TRACKTUI_DIR", str(store_dir))
    disabled = tracktui.init(mode="disabled")
    assert disabled.use_artifact("ckpt:latest").version == "v0"
    disabled.finish()
    assert _db(store_dir).execute("SELECT count(*) FROM artifact_runs WHERE role = 'used'").fetchone()[0] == 0


def test_processes_logging_at_once_get_distinct_versions(store_dir, tmp_path):
    """Six processes log the same name at once: four contents (two of them twice) make four versions."""
    code = textwrap.dedent("""
        import sys, pathlib, tracktui
        content, out = sys.argv[1], pathlib.Path(sys.argv[2])
        out.write_text(content * 1000)
        run = tracktui.init(project="p", settings={"capture": False})
        art = tracktui.Artifact("shared", type="dataset")
        art.add_file(out, name="data.txt")
        run.log_artifact(art, aliases=["p-" + content])
        print(art.version)
        run.finish()
    """)
    env = {**os.environ, "TRACKTUI_DIR": str(store_dir)}
    _init(store_dir).finish()  # the store exists before the race (migrations have their own test)
    contents = ["a", "b", "c", "d", "a", "b"]
    procs = [subprocess.Popen([sys.executable, "-c", code, c, str(tmp_path / f"{i}.txt")], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i, c in enumerate(contents)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    versions = [o[0].strip() for o in outs]
    assert versions[0] == versions[4] and versions[1] == versions[5]
    assert sorted(set(versions)) == ["v0", "v1", "v2", "v3"]
    rows = tracktui.Api(store_dir).artifacts(name="shared")
    assert sorted(a.version for a in rows) == ["v0", "v1", "v2", "v3"]
    assert rows[0].aliases[0] == "latest" and len({a.digest for a in rows}) == 4
    assert sum(len(a.aliases) for a in rows) == 5  # latest + one alias per content


def test_a_version_1_store_is_migrated(store_dir, tmp_path):
    run = _init(store_dir, name="old")
    run.log({"loss": 0.5})
    run.finish()
    Writer._instances.clear()
    conn = _db(store_dir)  # make it a store as the previous tracktui left it
    for table in ("artifacts", "artifact_versions", "artifact_files", "artifact_aliases", "artifact_runs",
                  "blob_chunks"):
        conn.execute(f"DROP TABLE {table}")
    conn.execute("PRAGMA user_version=1")
    conn.commit()
    conn.close()
    assert tracktui.Api(store_dir).run(run.id).logged_artifacts() == []  # read as empty, not an error
    with _init(store_dir) as new:
        new.log_artifact(_artifact("after", _write(tmp_path / "f", b"f")))
    assert _db(store_dir).execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    assert tracktui.Api(store_dir).run(run.id).name == "old"
    assert tracktui.Api(store_dir).artifact("after").version == "v0"


def test_artifact_queries_are_served_by_indexes(store_dir, tmp_path):
    with _init(store_dir) as run:
        for i in range(5):
            run.log_artifact(_artifact("ckpt", _write(tmp_path / f"{i}.pt", bytes([i]) * 10)), aliases=[f"a{i}"])
        run.use_artifact("ckpt:a1")
    with Reader(store_dir) as r:
        conn = r._connection()
        seen: list[str] = []
        conn.set_trace_callback(seen.append)
        v = sart.resolve(r, "p", "ckpt", "a2")
        sart.resolve(r, "p", "ckpt", "v3")
        sart.logged_by_run(r, run.id)
        sart.used_by_run(r, run.id)
        sart.users(r, v.id)
        sart.files(r, v.id)
        list(sart.read_blob(r, sart.files(r, v.id)[0].sha256 or ""))
        conn.set_trace_callback(None)
        for sql in {s.strip() for s in seen if s.lstrip().upper().startswith("SELECT")}:
            plan = " | ".join(row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql))
            for table in ("artifacts", "artifact_versions", "artifact_files", "artifact_aliases", "artifact_runs",
                          "blob_chunks", "blobs"):
                assert not re.search(rf"SCAN {table}\b(?! USING)", plan), (sql, plan)


# ---------------------------------------------------------------- the command line


@pytest.fixture
def two_projects(store_dir, tmp_path):
    with _init(store_dir, project="mnist") as a:
        a.log_artifact(_artifact("ckpt", _write(tmp_path / "m0.pt", b"zero")), aliases=["best"])
        a.log_artifact(_artifact("ckpt", _write(tmp_path / "m1.pt", b"one\x1b]0;evil\x07")))
        a.log_artifact(_artifact("data", _write(tmp_path / "d.csv", b"1,2"), type="dataset"))
    with _init(store_dir, project="cifar") as b:
        b.log_artifact(_artifact("ckpt", _write(tmp_path / "c.pt", b"cifar")))
    return a, b


def test_cli_artifact_ls(store_dir, two_projects, capsys):
    a, _ = two_projects
    assert main(["--dir", str(store_dir), "artifact", "ls"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["NAME", "VERSION", "TYPE", "ALIASES", "FILES", "SIZE", "PROJECT", "RUN", "CREATED"]
    assert [line.split()[:4] for line in out[1:]] == [
        ["ckpt", "v0", "model", "latest"], ["ckpt", "v1", "model", "latest"], ["ckpt", "v0", "model", "best"],
        ["data", "v0", "dataset", "latest"]]
    assert main(["--dir", str(store_dir), "artifact", "ls", "--project", "mnist", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["name"], r["version"], r["aliases"], r["files"], r["run_id"]) for r in rows] == [
        ("ckpt", "v1", ["latest"], 1, a.id), ("ckpt", "v0", ["best"], 1, a.id), ("data", "v0", ["latest"], 1, a.id)]
    assert main(["--dir", str(store_dir), "artifact", "ls", "--type", "dataset"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_cli_artifact_get(store_dir, two_projects, tmp_path, capsys, monkeypatch):
    d = str(store_dir)
    assert main(["--dir", d, "artifact", "get", "mnist/ckpt:v1", "--root", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "out")
    assert (tmp_path / "out" / "m1.pt").read_bytes() == b"one\x1b]0;evil\x07"
    monkeypatch.chdir(tmp_path)
    assert main(["--dir", d, "--project", "mnist", "artifact", "get", "ckpt:best"]) == 0
    assert (tmp_path / "artifacts" / "ckpt:v0" / "m0.pt").read_bytes() == b"zero"
    assert main(["--dir", d, "artifact", "get", "data"]) == 0  # one project holds it: no need to name it
    capsys.readouterr()
    assert main(["--dir", d, "artifact", "get", "ckpt"]) == 1
    assert "exists in projects cifar, mnist" in capsys.readouterr().err
    assert main(["--dir", d, "artifact", "get", "mnist/ckpt:v9"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no version or alias 'v9'" in err
    assert main(["--dir", str(tmp_path / "nowhere"), "artifact", "get", "x"]) == 1
    assert "no tracktui store" in capsys.readouterr().err


def test_cli_artifact_ls_on_a_store_without_artifacts(store_dir, capsys):
    _init(store_dir).finish()
    assert main(["--dir", str(store_dir), "artifact", "ls"]) == 0
    assert capsys.readouterr().err.strip() == "no artifacts"


def test_run_script_uses_artifacts_across_processes(store_dir, tmp_path):
    """A producer and a consumer process, as a real pipeline has them."""
    (tmp_path / "w.bin").write_bytes(bytes(range(256)) * 100)
    run_script(f"""
        import tracktui
        with tracktui.init(project="pipe") as run:
            art = tracktui.Artifact("weights", type="model")
            art.add_file({str(tmp_path / "w.bin")!r})
            run.log_artifact(art, aliases=["stable"])
    """, store_dir)
    proc = run_script(f"""
        import tracktui
        with tracktui.init(project="pipe") as run:
            print(run.use_artifact("weights:stable").download({str(tmp_path / "got")!r}))
    """, store_dir)
    assert (Path(proc.stdout.strip()) / "w.bin").read_bytes() == bytes(range(256)) * 100
