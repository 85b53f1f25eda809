"""MediaPanel over a store seeded through the real SDK: scrubbing, galleries, table sorting, histogram
heatmaps, every plot type, describe-and-export, hostile keys and captions, one snapshot."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
import tracktui
from tracktui import plot
from tracktui.store import Reader
from tracktui.store import media as smedia

np = pytest.importorskip("numpy")
pytest.importorskip("PIL")

from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import ContentSwitcher, OptionList, Static  # noqa: E402
from tracktui.tui.live import Live  # noqa: E402
from tracktui.tui.widgets.media_file import EXPORT_DIR, FileViewer, WavePlot  # noqa: E402
from tracktui.tui.widgets.media_histogram import HistogramBars, HistogramHeatmap  # noqa: E402
from tracktui.tui.widgets.media_image import HalfBlockImage, ImageTile  # noqa: E402
from tracktui.tui.widgets.media_panel import MediaPanel  # noqa: E402
from tracktui.tui.widgets.media_plot import ConfusionGrid, PlotChart  # noqa: E402
from tracktui.tui.widgets.media_table import MediaTable, TableViewer  # noqa: E402

HOSTILE = ["[/]", "[@click=app.quit]", "\x1b]52;c;eA==\x07", "\x1b[2J", "[link=https://evil.example]x[/link]"]
RUN = "media1"
HTML = "<html><head><title>report [b]bold[/b]</title></head><body>hi \x1b]52;c;eA==\x07</body></html>"


def _image(seed: int, size: int = 16) -> np.ndarray:
    """A deterministic colourful image."""
    y, x = np.mgrid[0:size, 0:size]
    a = np.stack([(x * 16 + seed * 40) % 256, (y * 16) % 256, ((x + y) * 8 + seed * 60) % 256], axis=-1)
    return a.astype(np.uint8)


def seed_media(root: Path, hostile: bool = True) -> str:
    """One run with images (a gallery over 3 steps), a table with an image cell, histograms over 5 steps,
    every plot type, audio, HTML, text and a 3D point cloud; returns the run id."""
    run = tracktui.init(dir=root, project="media", id=RUN, name="media-run")
    rng = np.random.default_rng(0)
    for step in range(3):
        gallery = [tracktui.Image(_image(step * 3 + i), caption=f"sample {i} at {step * 10}")
                   for i in range(3)]
        run.log({"samples": gallery, "single": tracktui.Image(_image(step, 8)),
                 "weights": tracktui.Histogram(rng.normal(step, 1.0, 500), num_bins=16)}, step=step * 10)
    for step in (30, 40):
        run.log({"weights": tracktui.Histogram(rng.normal(step / 10, 0.5, 500), num_bins=16)}, step=step)
    table = tracktui.Table(columns=["name", "score", "img"])
    table.add_data("bravo", 2.5, tracktui.Image(_image(9, 8)))
    table.add_data("alpha", 9.0, None)
    table.add_data("charlie", -1.0, None)
    cls = tracktui.Table(columns=["x", "y", "c"], data=[[i, i * i, "a" if i % 2 else "b"] for i in range(10)])
    y_true = np.array([0, 1, 2, 1, 0, 2, 2, 1, 0, 0])
    probs = rng.dirichlet([1, 1, 1], size=10)
    run.log({
        "preds": table,
        "plot/line": plot.line(cls, "x", "y", title="quadratic"),
        "plot/scatter": plot.scatter(cls, "x", "y", title="dots"),
        "plot/bar": plot.bar(cls, "c", "y", title="bars"),
        "plot/hist": plot.histogram(cls, "y", title="hist"),
        "plot/series": plot.line_series([0, 1, 2], [[0, 1, 2], [2, 1, 0]], keys=["up", "down"]),
        "plot/confusion": plot.confusion_matrix(y_true=y_true, preds=np.array([0, 1, 1, 1, 0, 2, 0, 1, 0, 2]),
                                                class_names=["cat", "dog", "bird"]),
        "plot/pr": plot.pr_curve(y_true, probs, labels=["cat", "dog", "bird"]),
        "plot/roc": plot.roc_curve(y_true, probs, labels=["cat", "dog", "bird"]),
        "audio": tracktui.Audio(np.sin(np.linspace(0, 100, 800)) * 0.5, sample_rate=8000, caption="beep"),
        "page": tracktui.Html(HTML),
        "notes": tracktui.Text("# Notes\nline two [red]not markup[/red]\n"),
        "cloud": tracktui.Object3D(rng.normal(size=(20, 3))),
        "clip": tracktui.Video(np.stack([_image(i, 8) for i in range(4)]), fps=2),
    }, step=50)
    if hostile:
        for i, h in enumerate(HOSTILE):
            run.log({f"bad{i}/{h}": tracktui.Image(_image(i, 4), caption=h)}, step=60 + i)
    run.finish()
    return run.id


class MediaApp(App[None]):
    """A tiny app holding one MediaPanel."""

    def __init__(self, root: Path, run_id: str, poll_interval: float | None = None):
        super().__init__()
        self.root, self.run_id, self.interval = root, run_id, poll_interval

    def compose(self) -> ComposeResult:
        yield MediaPanel(Live(self, self.root, interval=self.interval), self.run_id)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("media-store")
    seed_media(root)
    return root


async def _settle(app: App[None], pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def _show(app: App[None], pilot, key: str) -> MediaPanel:  # type: ignore[no-untyped-def]
    panel = app.query_one(MediaPanel)
    await _settle(app, pilot)
    panel.select_key(key)
    await _settle(app, pilot)
    assert panel.shown is not None and panel.shown.key == key
    return panel


def _status(app: App[None]) -> str:
    return app.query_one(MediaPanel).status.plain


async def test_keys_listed_and_latest_image_shown(store: Path) -> None:
    app = MediaApp(store, RUN)
    async with app.run_test(size=(100, 40)) as pilot:
        panel = await _show(app, pilot, "single")
        names = [k.key for k in panel.keys]
        assert {"samples", "single", "weights", "preds", "plot/roc", "audio", "page", "notes"} <= set(names)
        assert app.query_one("#media-keys", OptionList).option_count == len(names)
        assert app.query_one(ContentSwitcher).current == "v-image"
        assert panel.shown.step == 20
        assert "step 20 (3/3)" in _status(app)
        img = app.query_one("#v-image").query_one(HalfBlockImage)
        line = img.render_line(img.size.height // 2)
        assert "▀" in line.text and any(seg.style and seg.style.bgcolor for seg in line)


async def test_scrubbing_changes_step_and_image(store: Path) -> None:
    app = MediaApp(store, RUN)
    async with app.run_test(size=(100, 40)) as pilot:
        panel = await _show(app, pilot, "single")
        app.query_one("#media-keys", OptionList).focus()
        first = app.query_one("#v-image").query_one(HalfBlockImage).image.tobytes()
        await pilot.press("left")
        await _settle(app, pilot)
        assert panel.shown.step == 10 and "step 10 (2/3)" in _status(app)
        assert app.query_one("#v-image").query_one(HalfBlockImage).image.tobytes() != first
        await pilot.press("left", "left")  # stops at the first step
        await _settle(app, pilot)
        assert panel.shown.step == 0
        await pilot.press("l")
        await _settle(app, pilot)
        assert panel.shown.step == 20 and "latest" in _status(app)


async def test_gallery_items_and_captions(store: Path) -> None:
    app = MediaApp(store, RUN)
    async with app.run_test(size=(100, 40)) as pilot:
        panel = await _show(app, pilot, "samples")
        tiles = list(app.query(ImageTile))
        assert len(tiles) == 3 and tiles[0].has_class("-selected")
        assert "item 1/3" in _status(app) and "sample 0 at 20" in _status(app)
        app.query_one("#media-keys", OptionList).focus()
        await pilot.press("right_square_bracket")
        await _settle(app, pilot)
        assert "item 2/3" in _status(app) and "sample 1 at 20" in _status(app)
        assert list(app.query(ImageTile))[1].has_class("-selected")
        await pilot.press("left")  # the gallery item stays chosen while scrubbing
        await _settle(app, pilot)
        assert panel.shown.step == 10 and "sample 1 at 10" in _status(app)
        await pilot.press("enter")  # the selected item alone
        await pilot.pause()
        tiles = list(app.query(ImageTile))
        assert len(tiles) == 1 and tiles[0].caption == "sample 1 at 10"
        await pilot.press("enter")
        await pilot.pause()
        assert len(app.query(ImageTile)) == 3


async def test_table_sorts_in_the_store(store: Path) -> None:
    app = MediaApp(store, RUN)
    async with app.run_test(size=(100, 40)) as pilot:
        panel = await _show(app, pilot, "preds")
        table = app.query_one(MediaTable)
        assert app.query_one(ContentSwitcher).current == "v-table"
        col0 = [str(table.get_cell_at((i, 0))) for i in range(table.row_count)]
        assert col0 == ["bravo", "alpha", "charlie"]
        assert str(table.get_cell_at((0, 2))) == "[image 8×8]"
        table.focus()
        table.move_cursor(column=1)
        await pilot.press("s")
        await _settle(app, pilot)
        assert [str(table.get_cell_at((i, 0))) for i in range(3)] == ["charlie", "bravo", "alpha"]
        await pilot.press("s")  # again: descending
        await _settle(app, pilot)
        assert [str(table.get_cell_at((i, 0))) for i in range(3)] == ["alpha", "bravo", "charlie"]
        assert "▼" in str(table.ordered_columns[1].label)
        await pilot.press("S")  # S reverses the direction
        await _settle(app, pilot)
        assert [str(table.get_cell_at((i, 0))) for i in range(3)] == ["charlie", "bravo", "alpha"]
        panel.sort_table(0)
        await _settle(app, pilot)
        assert [str(table.get_cell_at((i, 0))) for i in range(3)] == ["alpha", "bravo", "charlie"]


async def test_table_image_cell_thumbnail_and_write_out(store: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = MediaApp(store, RUN)
    async with app.run_test(size=(100, 40)) as pilot:
        panel = await _show(app, pilot, "preds")
        viewer = app.query_one(TableViewer)
        thumb = viewer.query_one(HalfBlockImage)
        assert not viewer.has_class("-thumb")
        table = app.query_one(MediaTable)
        table.focus()
        table.move_cursor(row=0, column=2)
        await _settle(app, pilot)
        assert viewer.has_class("-thumb") and thumb.image is not None and thumb.image.size == (8, 8)
        await pilot.press("w")
        await _settle(app, pilot)
        with Reader(store) as r:
            sha = smedia.table_rows(r, RUN, "preds", 50)[0][2]["sha256"]
            expected = smedia.blob(r, sha)
        assert panel.last_export == tmp_path / EXPORT_DIR / f"{sha[:16]}.png"
        assert panel.last_export.read_bytes() == expected
        table.move_cursor(row=1, column=2)  # a None cell: no thumbnail
        await _settle(app, pilot)
        assert not viewer.has_class("-thumb")


async def test_histogram_heatmap_and_bars(store: Path) -> None:
    app = MediaApp(store, RUN)
    async with app.run_test(size=(100, 40)) as pilot:
        panel = await _show(app, pilot, "weights")
        heat = app.query_one(HistogramHeatmap)
        assert [h.step for h in heat.histograms] == [0, 10, 20, 30, 40]
        text = heat.render()
        lines = text.plain.splitlines()
        assert [ln.split()[0] for ln in lines[:-2] if ln.strip()] == ["0", "10", "20", "30", "40"]
        backgrounds = {str(span.style) for span in text.spans if "on " in str(span.style)}
        assert len(backgrounds) > 5  # coloured cells, many shades
        bars = app.query_one(HistogramBars)
        assert bars.histogram is not None and bars.histogram.step == 40
        assert sum(bars.histogram.counts) == 500
        app.query_one("#media-keys", OptionList).focus()
        await pilot.press("left")
        await _settle(app, pilot)
        assert panel.shown.step == 30 and bars.histogram.step == 30


@pytest.mark.parametrize("key,kind", [("plot/line", "line"), ("plot/scatter", "scatter"), ("plot/bar", "bar"),
                                      ("plot/hist", "histogram"), ("plot/series", "line_series"),
                                      ("plot/pr", "pr_curve"), ("plot/roc", "roc_curve")])
async def test_plots_drawn_from_their_spec(store: Path, key: str, kind: str) -> None:
    app = MediaApp(store, RUN)
    async with app.run_test(size=(100, 40)) as pilot:
        await _show(app, pilot, key)
        chart = app.query_one(PlotChart)
        assert chart.spec["type"] == kind and chart.rows
        drawn = chart.render().plain
        assert sum(ch in drawn for ch in "⠁⠂⠄⡀⠈⠐⠠⢀█▇▆▅▄▃▂▁") >= 1, drawn


async def test_confusion_matrix_grid(store: Path) -> None:
    app = MediaApp(store, RUN)
    async with app.run_test(size=(100, 40)) as pilot:
        await _show(app, pilot, "plot/confusion")
        grid = app.query_one(ConfusionGrid)
        assert grid.display and not app.query_one(PlotChart).display
        text = grid.render()
        rows = {line.split()[0]: line.split()[1:] for line in text.plain.splitlines()[2:]}
        assert rows["cat"] == ["3", "0", "1"] and rows["dog"] == ["0", "3", "0"]
        assert rows["bird"] == ["1", "1", "1"]
        assert len({str(s.style) for s in text.spans if "on " in str(s.style)}) >= 3


@pytest.mark.parametrize("key,ext", [("audio", "wav"), ("page", "html"), ("notes", "md"), ("cloud", "f32"),
                                     ("single", "png"), ("clip", "gif")])
async def test_describe_and_write_out(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      key: str, ext: str) -> None:
    monkeypatch.chdir(tmp_path)
    app = MediaApp(store, RUN)
    async with app.run_test(size=(100, 40)) as pilot:
        panel = await _show(app, pilot, key)
        it = panel.shown.items[0]
        if key != "single":
            assert app.query_one(ContentSwitcher).current == "v-file"
            shown = str(app.query_one("#file-desc", Static).render())
            assert smedia.describe({"_type": it.type, **it.meta}).split()[0] in shown
            assert f"{EXPORT_DIR}/{it.sha256[:16]}.{ext}" in shown
        app.query_one("#media-keys", OptionList).focus()
        await pilot.press("w")
        await _settle(app, pilot)
        with Reader(store) as r:
            expected = smedia.blob(r, it.sha256)
        out = tmp_path / EXPORT_DIR / f"{it.sha256[:16]}.{ext}"
        assert panel.last_export == out and out.read_bytes() == expected
        assert hashlib.sha256(out.read_bytes()).hexdigest() == it.sha256


async def test_audio_waveform_and_video_poster(store: Path) -> None:
    app = MediaApp(store, RUN)
    async with app.run_test(size=(100, 40)) as pilot:
        await _show(app, pilot, "audio")
        viewer = app.query_one(FileViewer)
        wave = viewer.query_one(WavePlot)
        assert viewer.has_class("-wave") and not viewer.has_class("-poster")
        lo, hi = wave.wave
        assert len(lo) == 400 and 0.45 < max(hi) <= 0.5 and -0.5 <= min(lo) < -0.45  # a sine of amplitude 0.5
        assert "⠁" in wave.render().plain or any(ch in wave.render().plain for ch in "⡀⢀⠄⠂⠈⠐⠠")
        await _show(app, pilot, "clip")
        assert viewer.has_class("-poster") and not viewer.has_class("-wave")
        poster = viewer.query_one("#file-poster", HalfBlockImage)
        assert poster.image is not None and poster.image.size == (8, 8)
        assert "video gif 4 frames 8×8" in str(viewer.query_one("#file-desc", Static).render())


async def test_open_uses_the_system_viewer(store: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    opener = bindir / "xdg-open"
    log = tmp_path / "opened.txt"
    opener.write_text(f"#!/bin/sh\necho \"$1\" > '{log}'\n")
    opener.chmod(opener.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.chdir(tmp_path)
    app = MediaApp(store, RUN)
    async with app.run_test(size=(100, 40)) as pilot:
        panel = await _show(app, pilot, "page")
        app.query_one("#media-keys", OptionList).focus()
        await pilot.press("o")
        await _settle(app, pilot)
        for _ in range(100):
            if log.exists() and log.read_text().strip():
                break
            await pilot.pause(0.05)
        assert log.read_text().strip() == str(panel.last_export)
        assert panel.last_export.read_text(encoding="utf-8") == HTML


async def test_hostile_keys_and_captions_are_data(store: Path) -> None:
    app = MediaApp(store, RUN)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await _show(app, pilot, "single")
        for i, h in enumerate(HOSTILE):
            await _show(app, pilot, f"bad{i}/{h}")
            status = _status(app)
            assert "\x1b" not in status and "\x07" not in status
            if h.startswith("["):
                assert h in status  # shown literally (as key and as caption), not parsed as markup
            tiles = list(app.query(ImageTile))
            caption = str(tiles[0].query_one(".caption", Static).render())
            assert "\x1b" not in caption and (h in caption or not h.startswith("["))
        assert app.is_running  # [@click=app.quit] did nothing
        screen = app.export_screenshot()
        assert "\x1b" not in screen and "52;c" not in screen and "\x07" not in screen
        options = app.query_one("#media-keys", OptionList)
        for i in range(options.option_count):
            prompt = options.get_option_at_index(i).prompt
            assert "\x1b" not in str(prompt) and "\x07" not in str(prompt)
        assert panel.current is not None


async def test_live_poll_picks_up_new_steps(tmp_path: Path) -> None:
    root = tmp_path / "live"
    run = tracktui.init(dir=root, project="media", id="live1")
    run.log({"img": tracktui.Image(_image(0, 8))}, step=0)
    app = MediaApp(root, "live1", poll_interval=0.05)
    async with app.run_test(size=(100, 40)) as pilot:
        panel = app.query_one(MediaPanel)
        for _ in range(100):
            await pilot.pause(0.05)
            if panel.shown is not None:
                break
        assert panel.shown.step == 0
        run.log({"img": tracktui.Image(_image(1, 8))}, step=5)
        run.finish()
        for _ in range(100):
            await pilot.pause(0.05)
            if panel.shown.step == 5:
                break
        assert panel.shown.step == 5 and "step 5 (2/2)" in _status(app)


async def test_run_screen_media_tab(store: Path) -> None:
    from tracktui.tui.app import make_app
    from tracktui.tui.widgets.media_panel import MediaKeyList

    app = make_app(store, poll_interval=None)
    async with app.run_test(size=(100, 32)) as pilot:
        await _settle(app, pilot)
        app.open_run(RUN)
        await _settle(app, pilot)
        await pilot.press("6")
        await _settle(app, pilot)
        assert isinstance(app.focused, MediaKeyList)
        panel = app.screen.query_one(MediaPanel)
        assert panel.current == "audio" and panel.shown is not None  # the first key, shown
        await pilot.press("down")  # bad0/[/]: an image at step 60
        await _settle(app, pilot)
        assert panel.current == "bad0/[/]" and "step 60" in panel.status.plain


def test_snapshot(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "snap"
    seed_media(root, hostile=False)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        panel = pilot.app.query_one(MediaPanel)
        await _settle(pilot.app, pilot)
        panel.select_key("samples")
        await _settle(pilot.app, pilot)

    assert snap_compare(MediaApp(root, RUN), terminal_size=(100, 40), run_before=run_before)
