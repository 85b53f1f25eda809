"""Git state, requirements, metadata (redacted), and the switches that turn each capture off."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from capture_helpers import only_run, run_python

SCRIPT = "import tracktui\nrun = tracktui.init(project='g')\nrun.log({'a': 1})\nrun.finish()"


def git(repo: Path, *args: str) -> None:
    """Run the git CLI in repo (the test skips where there is no git)."""
    if shutil.which("git") is None:
        pytest.skip("no git binary")
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    (r / "train.py").write_text("print('v1')\n")
    git(r, "add", "train.py")
    git(r, "commit", "-q", "-m", "first")
    git(r, "remote", "add", "origin", "https://alice:s3cretpw@github.com/alice/proj.git")
    return r


def test_git_commit_branch_clean_remote_diff_and_untracked(repo: Path, store: Path):
    (repo / "train.py").write_text("print('v2')\n")
    (repo / "notes.txt").write_text("new\n")
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    p = run_python(SCRIPT, store, cwd=repo)
    assert p.returncode == 0, p.stderr
    r, rec = only_run(store)
    g = rec.metadata["git"]
    assert g["commit"] == head and g["branch"] == "main" and g["dirty"] is True
    assert g["remote"] == "https://github.com/alice/proj.git"
    assert g["untracked"] == ["notes.txt"]
    diff = r.file_bytes(rec.id, "diff.patch").decode()
    assert "-print('v1')" in diff and "+print('v2')" in diff
    for f in store.rglob("*"):
        if f.is_file():
            assert b"s3cretpw" not in f.read_bytes()


def test_clean_repo_has_no_diff_and_detached_head_has_no_branch(repo: Path, store: Path):
    git(repo, "checkout", "-q", "--detach")
    p = run_python(SCRIPT, store, cwd=repo)
    assert p.returncode == 0
    r, rec = only_run(store)
    assert rec.metadata["git"]["dirty"] is False and rec.metadata["git"]["branch"] is None
    assert "diff.patch" not in [f[0] for f in r.files(rec.id)]


def test_no_repo_no_commits_and_no_git_binary_are_skipped_silently(tmp_path: Path):
    plain = tmp_path / "plain"
    plain.mkdir()
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    (empty / "a.py").write_text("x\n")
    nogit_bin = tmp_path / "bin"
    nogit_bin.mkdir()
    cases = [(plain, {}), (empty, {}), (empty, {"PATH": str(nogit_bin)})]
    for i, (cwd, env) in enumerate(cases):
        store = tmp_path / f"store{i}"
        p = run_python(SCRIPT, store, cwd=cwd, **env)
        assert p.returncode == 0 and p.stderr == b"", p.stderr
        r, rec = only_run(store)
        assert "git" not in rec.metadata
        names = [f[0] for f in r.files(rec.id)]
        assert "diff.patch" not in names and "requirements.txt" in names
        assert rec.metadata["python"]


def test_requirements_list_installed_distributions(store: Path, tmp_path: Path):
    import psutil

    p = run_python(SCRIPT, store, cwd=tmp_path)
    assert p.returncode == 0
    r, rec = only_run(store)
    reqs = r.file_bytes(rec.id, "requirements.txt").decode().splitlines()
    assert f"psutil=={psutil.__version__}" in reqs
    names = [line.split("==")[0].lower() for line in reqs]
    assert all("==" in line for line in reqs) and names == sorted(names) and len(set(names)) == len(names)


def test_metadata_facts_and_redacted_arguments(store: Path, tmp_path: Path):
    secret = "sk-" + "q" * 40
    p = run_python(SCRIPT, store, "--lr", "0.1", "--api-key", "plainsecret", f"--openai={secret}",
                   "https://bob:pw123@host/data", cwd=tmp_path, SLURM_JOB_ID="4242",
                   MY_SERVICE_TOKEN="envsecret")
    assert p.returncode == 0
    r, rec = only_run(store)
    md = rec.metadata
    assert md["args"] == ["--lr", "0.1", "--api-key", "***", "--openai=***", "https://bob:***@host/data"]
    assert md["slurm"] == {"SLURM_JOB_ID": "4242"}
    assert md["cwd"] == str(tmp_path) and md["pid"] > 0 and md["cpu_count"] >= 1 and md["memory_total"] > 0
    for key in ("host", "user", "python", "executable", "os", "started_at", "process_started_at", "program"):
        assert md.get(key), key
    blob = b"".join(f.read_bytes() for f in store.rglob("*") if f.is_file())
    for s in (b"plainsecret", secret.encode(), b"pw123", b"envsecret"):
        assert s not in blob


@pytest.mark.parametrize("how", ["settings", "env"])
def test_every_capture_can_be_switched_off(store: Path, tmp_path: Path, how: str):
    if how == "settings":
        code = SCRIPT.replace("project='g'", "project='g', settings={'capture': False}").replace(
            "run.log", "print('hi'); run.log")
        p = run_python(code, store, cwd=tmp_path)
    else:
        p = run_python(SCRIPT.replace("run.log", "print('hi'); run.log"), store, cwd=tmp_path,
                       TRACKTUI_CAPTURE_SYSTEM="0", TRACKTUI_CONSOLE="off", TRACKTUI_CAPTURE_GIT="0",
                       TRACKTUI_CAPTURE_REQUIREMENTS="0", TRACKTUI_CAPTURE_METADATA="0")
    assert p.returncode == 0 and p.stdout == b"hi\n"
    r, rec = only_run(store)
    assert r.logs(rec.id) == [] and r.files(rec.id) == [] and r.keys(rec.id, "system") == []
    assert rec.metadata == {}


def test_one_switch_leaves_the_others_on(store: Path, tmp_path: Path):
    p = run_python(SCRIPT.replace("run.log", "print('hi'); run.log"), store, cwd=tmp_path,
                   TRACKTUI_CAPTURE_REQUIREMENTS="false")
    assert p.returncode == 0
    r, rec = only_run(store)
    assert [x[3] for x in r.logs(rec.id)] == ["hi"] and r.files(rec.id) == []
    assert rec.metadata["python"]


def test_import_tracktui_stays_light(store: Path):
    code = ("import sys, tracktui\n"
            "heavy = ('psutil', 'git', 'pynvml', 'numpy', 'textual')\n"
            "assert not [m for m in heavy if m in sys.modules], [m for m in heavy if m in sys.modules]\n"
            "print('ok')")
    p = run_python(code, store)
    assert p.returncode == 0 and p.stdout == b"ok\n", p.stderr


def test_settings_win_over_the_environment_and_wandb_names_work(monkeypatch: pytest.MonkeyPatch):
    from tracktui.capture import Settings

    monkeypatch.setenv("TRACKTUI_CAPTURE_GIT", "0")
    monkeypatch.setenv("TRACKTUI_CONSOLE", "fd")
    monkeypatch.setenv("TRACKTUI_SYSTEM_INTERVAL", "5")
    s = Settings()
    assert (s.git, s.console, s.system_interval, s.system) == (False, "fd", 5.0, True)
    s = Settings({"git": True, "console": "wrap", "system_interval": 0.5})
    assert (s.git, s.console, s.system_interval) == (True, "python", 0.5)
    s = Settings({"disable_git": True, "x_disable_stats": True, "console": "off"})
    assert (s.git, s.system, s.gpu, s.console) == (False, False, False, "off")
    monkeypatch.setenv("TRACKTUI_CAPTURE", "0")
    s = Settings()
    assert not any((s.system, s.git, s.requirements, s.metadata)) and s.console == "off"


def test_requirements_cache_notices_an_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import sys

    from tracktui.capture import requirements as req

    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    first = req.requirements()
    assert req.requirements() is first  # cached
    dist = site / "fakepkg_xyz-1.2.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fakepkg-xyz\nVersion: 1.2.3\n")
    os.utime(site, ns=(time_ns := os.stat(site).st_mtime_ns + 10**9, time_ns))
    assert b"fakepkg-xyz==1.2.3" in req.requirements()
    assert sys.path[0] == str(site)
