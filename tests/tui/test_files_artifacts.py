"""The Files tab lists the artifacts a run logged (↑) and used (↓), with version, aliases, file count and size,
and shows one version's detail (lineage, files, references); stored strings stay plain text."""

from __future__ import annotations

import io
from pathlib import Path

import tracktui
from rich.console import Console
from textual.widgets import OptionList, Static
from tracktui.tui.app import make_app
from tracktui.tui.screens.run import RunScreen
from tracktui.tui.widgets.files_panel import FilesPanel

from .conftest import NOW, pin_times, wait_for

EVIL = "[bold red]x[/]\x1b]0;PWNED\x07\x1b[2J"


def _store(root: Path, tmp_path: Path) -> tuple[str, str]:
    (tmp_path / "m0.pt").write_bytes(b"0" * 2048)
    (tmp_path / "m1.pt").write_bytes(b"1" * 3000)
    with tracktui.init(dir=root, project="mnist", name="producer", settings={"capture": False}) as prod:
        for i, aliases in ((0, ["best"]), (1, [])):
            art = tracktui.Artifact("ckpt", type="model", description="desc " + EVIL, metadata={EVIL: i})
            art.add_file(tmp_path / f"m{i}.pt")
            art.add_reference("s3://bucket/" + EVIL, name="remote.bin")
            prod.log_artifact(art, aliases=aliases)
        prod.log({"loss": 1.0})
    with tracktui.init(dir=root, project="mnist", name="consumer", settings={"capture": False}) as cons:
        cons.use_artifact("ckpt:best")
        cons.log({"loss": 1.0})
    pin_times(root)
    return prod.id, cons.id


def _text(panel: FilesPanel) -> str:
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(panel.query_one("#file-content", Static).content)
    return console.export_text()


async def _files_tab(pilot, run_id: str) -> FilesPanel:  # type: ignore[no-untyped-def]
    app = pilot.app
    await wait_for(pilot, lambda: getattr(app.screen, "loaded", False))
    await pilot.pause()
    app.push_screen(RunScreen(app.live, run_id))
    await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.record is not None)
    await pilot.press("5")
    await wait_for(pilot, lambda: any(p.artifacts for p in app.screen.query(FilesPanel)))
    return app.screen.query_one(FilesPanel)


async def test_files_tab_lists_logged_and_used_artifacts(tmp_path: Path) -> None:
    root = tmp_path / "store"
    prod_id, cons_id = _store(root, tmp_path)
    app = make_app(store_dir=root, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await _files_tab(pilot, cons_id)
        assert [(role, f"{v.name}:v{v.version}", v.aliases) for role, v in panel.artifacts] == [
            ("used", "ckpt:v0", ["best"])]
        ol = panel.query_one(OptionList)
        labels = [str(ol.get_option_at_index(i).prompt) for i in range(ol.option_count)]
        assert labels[0] == "artifacts"  # a heading: the consumer has no attached files
        assert labels[1].splitlines() == ["↓ ckpt:v0 best", "  2 files · 2.0 kB"]
        await wait_for(pilot, lambda: "used by this run" in _text(panel))
        text = _text(panel)
        assert f"made by      {prod_id}" in text and "used by      this run" in text
        assert "m0.pt" in text and "2.0 kB" in text and "→ s3://bucket/[bold red]x[/]" in text
        assert "\x1b" not in text and "desc [bold red]x[/]" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, RunScreen))

        panel = await _files_tab(pilot, prod_id)
        assert [(role, v.version, v.aliases) for role, v in panel.artifacts] == [
            ("logged", 0, ["best"]), ("logged", 1, ["latest"])]
        await wait_for(pilot, lambda: "logged by this run" in _text(panel))
        assert "ckpt:v0" in _text(panel) and f"used by      {cons_id}" in _text(panel)
        ol = panel.query_one(OptionList)
        ol.focus()
        await pilot.press("down")  # the second artifact
        await wait_for(pilot, lambda: "ckpt:v1" in _text(panel))
        assert "aliases      latest" in _text(panel) and "m1.pt" in _text(panel)
        screenshot = app.export_screenshot().replace("&#160;", " ")
        assert "↑ ckpt:v1" in screenshot and "\x1b" not in screenshot and "\x07" not in screenshot


async def test_files_tab_without_artifacts_is_unchanged(seeded: Path) -> None:
    app = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: getattr(app.screen, "loaded", False))
        app.push_screen(RunScreen(app.live, "run0"))
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.record is not None)
        await pilot.press("5")
        await wait_for(pilot, lambda: any(p.files for p in app.screen.query(FilesPanel)))
        panel = app.screen.query_one(FilesPanel)
        ol = panel.query_one(OptionList)
        assert panel.artifacts == [] and ol.option_count == 2  # diff.patch and requirements.txt, no heading


async def test_files_tab_lists_the_artifacts_of_a_shared_store(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tracktui.store import shared

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "store"
    (tmp_path / "m.pt").write_bytes(b"m" * 2048)
    settings = {"capture": False, "shared": True}
    try:
        with tracktui.init(dir=root, project="mnist", name="producer", settings=settings) as prod:
            art = tracktui.Artifact("ckpt", type="model")
            art.add_file(tmp_path / "m.pt")
            prod.log_artifact(art, aliases=["best"])
        with tracktui.init(dir=root, project="mnist", name="consumer", settings=settings) as cons:
            cons.use_artifact("ckpt:best")
        shared._overrides.clear()  # the app finds the store shared by its marker, as another process does
        shared._detected.clear()
        assert not (root / "tracktui.db").exists()
        app = make_app(store_dir=root, poll_interval=None, fixed_now=NOW)
        async with app.run_test(size=(120, 40)) as pilot:
            panel = await _files_tab(pilot, cons.id)
            assert [(role, f"{v.name}:v{v.version}", v.aliases) for role, v in panel.artifacts] == [
                ("used", "ckpt:v0", ["latest", "best"])]
            await wait_for(pilot, lambda: f"made by  {prod.id}" in _text(panel))
            assert "used by  this run" in _text(panel) and "m.pt" in _text(panel)
    finally:
        shared.stop_folders()
        shared._overrides.clear()
        shared._detected.clear()
