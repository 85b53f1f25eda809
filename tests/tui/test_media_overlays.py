"""Masks and boxes drawn on images in the Media tab: the drawing itself (pixels), the keys that switch sets and
classes and filter boxes by score, the legend, a table's image cell full screen, hostile captions, a snapshot."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import tracktui
from rich.console import Console

np = pytest.importorskip("numpy")
pytest.importorskip("PIL")

from PIL import Image as PILImage  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import OptionList, SelectionList, Static  # noqa: E402
from tracktui.tui.live import Live  # noqa: E402
from tracktui.tui.messages import ImageFullScreenRequested, PickRequested  # noqa: E402
from tracktui.tui.screens.chart import answer_pick  # noqa: E402
from tracktui.tui.screens.help import HelpScreen  # noqa: E402
from tracktui.tui.screens.image_full import ImageScreen, answer_image  # noqa: E402
from tracktui.tui.screens.pick_many import PickManyScreen  # noqa: E402
from tracktui.tui.widgets.media_image import HalfBlockImage, ImageViewer, OverlayLegend  # noqa: E402
from tracktui.tui.widgets.media_overlay import (  # noqa: E402
    MASK_ALPHA,
    Overlay,
    OverlayView,
    class_color,
    draw_overlay,
    move_threshold,
    score_step,
)
from tracktui.tui.widgets.media_panel import MediaPanel  # noqa: E402
from tracktui.tui.widgets.media_table import MediaTable, TableViewer  # noqa: E402

from .conftest import NOW, pin_times, wait_for  # noqa: E402

RUN = "overlay1"
H, W = 48, 64
EVIL = "\x1b]52;c;eA==\x07[red]evil[/red]\x1b[2J"


def _picture() -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W]
    return np.stack([x * 3, y * 4, (x + y) * 2], axis=-1).astype(np.uint8)


def _mask() -> np.ndarray:
    m = np.zeros((H, W), dtype=np.uint8)
    m[12:36, 20:44] = 1  # a square of class 1
    return m


def _boxes(caption: str = "cat 0.92") -> dict[str, Any]:
    return {"predictions": {"box_data": [
        {"position": {"minX": 0.1, "maxX": 0.5, "minY": 0.2, "maxY": 0.7}, "class_id": 1, "box_caption": caption,
         "scores": {"score": 0.92, "iou": 0.4}},
        {"position": {"middle": [48, 16], "width": 20, "height": 14}, "domain": "pixel", "class_id": 2,
         "box_caption": "dog 0.31", "scores": {"score": 0.31, "iou": 0.8}},
    ], "class_labels": {1: "cat", 2: "dog"}}}


def seed_overlays(root: Path) -> str:
    """A run with a detection-and-segmentation image, a plain image, and a table whose cell has overlays."""
    run = tracktui.init(dir=root, project="vision", id=RUN, name="vision-run", settings={"capture": False})
    img = tracktui.Image(_picture(), caption="frame 7", boxes=_boxes(),
                         masks={"segmentation": {"mask_data": _mask(), "class_labels": {0: "background", 1: "cat"}}})
    plain = tracktui.Image(_picture())
    table = tracktui.Table(columns=["id", "image"], data=[[0, img], [1, plain]])
    run.log({"det": img, "plain": plain, "preds": table}, step=3)
    run.log({"evil": tracktui.Image(_picture(), boxes=_boxes(EVIL))}, step=4)
    run.finish()
    return run.id


class MediaApp(App[None]):
    """One MediaPanel; the panel asks for a pick or a full-screen image by message, answered here as the run
    screen answers it (test_run_screen_answers_the_media_tab covers the run screen itself)."""

    def __init__(self, root: Path):
        super().__init__()
        self.root = root

    def compose(self) -> ComposeResult:
        yield MediaPanel(Live(self, self.root, interval=None), RUN)

    def on_pick_requested(self, message: PickRequested) -> None:
        answer_pick(self.screen, message)

    def on_image_full_screen_requested(self, message: ImageFullScreenRequested) -> None:
        answer_image(self.screen, message)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("overlay-store")
    seed_overlays(root)
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
    app.query_one("#media-keys", OptionList).focus()
    await pilot.pause()
    return panel


def _drawn(widget: HalfBlockImage) -> str:
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


def _colours(widget: HalfBlockImage) -> set[tuple[int, int, int]]:
    out = set()
    for y in range(widget.size.height):
        for seg in widget.render_line(y):
            for c in (seg.style.color, seg.style.bgcolor) if seg.style else ():
                if c is not None and c.triplet is not None:
                    out.add(tuple(c.triplet))
    return out


def _legend(app: App[None]) -> str:
    return str(app.query_one(OverlayLegend).render())


# ---------------------------------------------------------------- drawing (pixels)


def _overlay() -> Overlay:
    return Overlay(W, H, masks={"segmentation": (_mask(), {0: "background", 1: "cat"})},
                   boxes={k: (v["box_data"], v["class_labels"]) for k, v in _boxes().items()},
                   classes={1: "cat", 2: "dog"})


def test_masks_wash_their_classes_and_boxes_are_outlined() -> None:
    base = PILImage.fromarray(_picture())
    view = OverlayView()
    drawn, labels = draw_overlay(_overlay(), view, base)
    px, orig = np.asarray(drawn).astype(int), _picture().astype(int)
    inside, outside = (24, 30), (46, 2)  # (row, col): in the square of class 1 / in class 0
    for (r, c), cid in ((inside, 1), (outside, 0)):
        want = np.round(orig[r, c] * (1 - MASK_ALPHA) + np.array(class_color(cid)) * MASK_ALPHA)
        assert np.abs(px[r, c] - want).max() <= 1, (r, c)
    # the cat box (fractions 0.1..0.5 × 0.2..0.7 of 64×48): outline at x 6..31, y 9..33 in class 1's colour
    assert tuple(px[9, 15]) == class_color(1) and tuple(px[20, 6]) == class_color(1)
    assert tuple(px[20, 31]) == class_color(1) and tuple(px[33, 15]) == class_color(1)
    # the dog box in pixels: middle (48, 16), 20 × 14 → x 38..57, y 9..22
    assert tuple(px[9, 45]) == class_color(2) and tuple(px[22, 45]) == class_color(2)
    assert tuple(px[15, 47]) != class_color(2)  # an outline, not a filled box
    assert labels == [(6, 4, "cat 0.92", class_color(1)), (38, 4, "dog 0.31", class_color(2))]


def test_view_switches_sets_classes_and_scores() -> None:
    base = PILImage.fromarray(_picture())
    ov = _overlay()
    view = OverlayView(masks=False)
    drawn, labels = draw_overlay(ov, view, base)
    assert np.array_equal(np.asarray(drawn)[24, 30], _picture()[24, 30]) and len(labels) == 2
    view.hidden_classes.add(2)
    assert [t for _, _, t, _ in draw_overlay(ov, view, base)[1]] == ["cat 0.92"]
    view.hidden_classes.clear()
    view.hidden_sets.add("boxes:predictions")
    assert draw_overlay(ov, view, base)[1] == []
    view.hidden_sets.clear()
    for _ in range(7):  # 0.05 a step: 0.35 hides the dog (0.31), keeps the cat (0.92)
        move_threshold(view, [ov], 1)
    assert view.threshold == pytest.approx(0.35)
    assert [t for _, _, t, _ in draw_overlay(ov, view, base)[1]] == ["cat 0.92"]
    view.score, view.threshold = "iou", 0.5  # the other score: the cat (0.4) goes, the dog (0.8) stays
    assert [t for _, _, t, _ in draw_overlay(ov, view, base)[1]] == ["dog 0.31"]
    for _ in range(30):
        move_threshold(view, [ov], -1)
    assert view.threshold is None
    assert score_step([0.1, 0.9]) == 0.05 and score_step([-2.0, 18.0]) == 1.0


# ---------------------------------------------------------------- the Media tab


async def test_media_tab_draws_overlays_with_a_legend(store: Path) -> None:
    app = MediaApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _show(app, pilot, "det")
        img = app.query_one(ImageViewer).query_one(HalfBlockImage)
        drawn = _drawn(img)
        assert "cat 0.92" in drawn and "dog 0.31" in drawn
        assert {class_color(1), class_color(2)} <= _colours(img)
        legend = _legend(app)
        for word in ("■ background", "■ cat", "■ dog", "boxes: predictions 2/2", "masks: segmentation",
                     "score ≥ any"):
            assert word in legend, legend
        assert "2 boxes, 1 mask" in app.query_one(MediaPanel).status.plain
        shown = {b.action for b in app.screen.active_bindings.values() for b in [b.binding]}
        assert {"overlay_boxes", "overlay_masks", "overlay_pick", "overlay_threshold(1)", "overlay_score"} <= shown
        await _show(app, pilot, "plain")  # no overlay: no legend, no overlay keys
        assert not app.query_one(OverlayLegend).display
        assert not any(b.binding.action.startswith("overlay_") for b in app.screen.active_bindings.values())


async def test_keys_toggle_sets_and_filter_by_score(store: Path) -> None:
    app = MediaApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await _show(app, pilot, "det")

        def img() -> HalfBlockImage:
            return app.query_one(ImageViewer).query_one(HalfBlockImage)

        await pilot.press("b")
        await pilot.pause()
        assert "cat 0.92" not in _drawn(img()) and "boxes: predictions off" in _legend(app)
        await pilot.press("b", "m")
        await pilot.pause()
        assert "cat 0.92" in _drawn(img()) and "masks: segmentation off" in _legend(app)
        for _ in range(7):
            await pilot.press("plus")
        await pilot.pause()
        assert panel.overlay_view.threshold == pytest.approx(0.35)
        drawn = _drawn(img())
        assert "cat 0.92" in drawn and "dog 0.31" not in drawn
        assert "predictions 1/2" in _legend(app) and "score ≥ 0.35" in _legend(app)
        await pilot.press("f")  # the threshold now reads "iou", starting over
        await pilot.pause()
        assert panel.overlay_view.score == "iou" and panel.overlay_view.threshold is None
        assert "iou ≥ any" in _legend(app)
        await pilot.press("minus")
        await pilot.pause()
        assert "dog 0.31" in _drawn(img())
        await pilot.press("c")  # the checklist: every named set and class
        await wait_for(pilot, lambda: isinstance(app.screen, PickManyScreen))
        picker = app.screen
        assert picker.values == ["boxes: predictions", "masks: segmentation", "class 0: background",
                                 "class 1: cat", "class 2: dog"]
        assert picker.chosen() == picker.values
        sel = picker.query_one(SelectionList)
        sel.deselect(4)  # class 2: dog
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, PickManyScreen))
        await pilot.pause()
        assert panel.overlay_view.hidden_classes == {2}
        assert "dog 0.31" not in _drawn(img()) and "□ dog (off)" in _legend(app)
        await pilot.press("right")  # the view stays while scrubbing and changing keys
        await _show(app, pilot, "evil")
        assert panel.overlay_view.hidden_classes == {2}


async def test_help_lists_the_overlay_keys(store: Path) -> None:
    app = MediaApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _show(app, pilot, "det")
        app.push_screen(HelpScreen(app.screen))
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen) and len(app.screen.query(Static)) > 2)
        await pilot.pause()
        console = Console(width=120, record=True, file=io.StringIO())
        for st in app.screen.query(Static):
            console.print(st.content)
        text = console.export_text()
        for words in ("boxes on or off", "masks on or off", "raise the score threshold", "each class on/off",
                      "which score the threshold filters on"):
            assert words in text, text


async def test_table_image_cell_full_screen(store: Path) -> None:
    app = MediaApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await _show(app, pilot, "preds")
        table = app.query_one(MediaTable)
        assert str(table.get_cell_at((0, 1))) == "[image 64×48 +boxes +masks]"
        table.focus()
        table.move_cursor(row=0, column=1)
        await _settle(app, pilot)
        thumb = app.query_one(TableViewer).query_one(HalfBlockImage)
        assert thumb.overlay is not None and class_color(1) in _colours(thumb)
        await pilot.press("enter")
        await _settle(app, pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, ImageScreen))
        screen = app.screen
        full = screen.query_one(HalfBlockImage)
        assert "cat 0.92" in _drawn(full) and "dog 0.31" in _drawn(full)
        assert "■ cat" in str(screen.query_one(OverlayLegend).render())
        await pilot.press("b")  # the same keys, the same view as the tab
        await pilot.pause()
        assert "cat 0.92" not in _drawn(full) and panel.overlay_view.boxes is False
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ImageScreen))
        table.move_cursor(row=1, column=1)  # a plain image: no overlay keys
        await _settle(app, pilot)
        assert not any(b.binding.action.startswith("overlay_") for b in app.screen.active_bindings.values())


async def test_run_screen_answers_the_media_tab(store: Path) -> None:
    """In the app, the run screen answers the panel's messages: enter on an image cell shows it full screen,
    c there (and in the tab) the checklist, whose choice reaches the shared view."""
    from tracktui.tui.app import make_app

    app = make_app(store, poll_interval=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        app.open_run(RUN)
        await _settle(app, pilot)
        await pilot.press("6")
        await _settle(app, pilot)
        run_screen = app.screen
        panel = run_screen.query_one(MediaPanel)
        panel.select_key("det")
        await _settle(app, pilot)
        run_screen.query_one("#media-keys", OptionList).focus()
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, PickManyScreen))
        assert app.screen.hint == " space switches · enter applies · escape cancels"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is run_screen)
        panel.select_key("preds")
        await _settle(app, pilot)
        table = run_screen.query_one(MediaTable)
        table.focus()
        table.move_cursor(row=0, column=1)
        await _settle(app, pilot)
        await pilot.press("enter")
        await _settle(app, pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, ImageScreen))
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, PickManyScreen))
        app.screen.query_one(SelectionList).deselect(0)  # boxes: predictions
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ImageScreen))
        assert panel.overlay_view.hidden_sets == {"boxes:predictions"}
        assert "cat 0.92" not in _drawn(app.screen.query_one(HalfBlockImage))


async def test_hostile_captions_are_text(store: Path) -> None:
    app = MediaApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _show(app, pilot, "evil")
        drawn = _drawn(app.query_one(ImageViewer).query_one(HalfBlockImage))
        assert "\x1b" not in drawn and "\x07" not in drawn and "[red]evil" in drawn
        screen = app.export_screenshot()
        assert "\x1b]52" not in screen and "\x07" not in screen


def test_snapshot_media_tab_with_overlays(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tracktui.tui.app import make_app

    root = tmp_path / "snap"
    seed_overlays(root)
    pin_times(root)  # no clock, no host name in the picture

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        app = pilot.app
        await _settle(app, pilot)
        app.open_run(RUN)
        await _settle(app, pilot)
        await pilot.press("6")
        await _settle(app, pilot)
        panel = app.screen.query_one(MediaPanel)
        panel.select_key("det")
        await _settle(app, pilot)
        await wait_for(pilot, lambda: app.screen.query(OverlayLegend) and app.screen.query_one(OverlayLegend).display)
        for _ in range(7):
            await pilot.press("plus")
        await _settle(app, pilot)
        await pilot.pause(0.3)

    app = make_app(root, poll_interval=None, fixed_now=NOW)
    app.store_label_text = "~/store"
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
