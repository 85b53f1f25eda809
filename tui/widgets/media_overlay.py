"""What is drawn on images: masks as a coloured wash, boxes as coloured outlines with their caption, a legend of
classes (colour AND name), and the keys that switch each named set and each class on and off and filter boxes
by score, as wandb's media panel does.

    overlay = read_overlay(reader, item.meta)          # in a worker thread: boxes from meta, masks from blobs
    small, labels = draw_overlay(overlay, view, small)  # at the size the image is shown (lines stay one pixel)

OverlayView holds what is switched on; OverlayKeys gives a widget or screen the keys (b, m, c, +, -, f).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from tracktui.media.overlays import box_pixels

from ..messages import PickRequested
from ..text import safe_text

MASK_ALPHA = 0.5
MAX_MASK = 512  # masks are kept at most this big (in pixels) for drawing
# Twenty distinct colours (Sasha Trubetskoy's list); class id i is drawn in PALETTE[i % 20].
PALETTE = [
    (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240),
    (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (220, 190, 255), (170, 110, 40),
    (255, 250, 200), (128, 0, 0), (170, 255, 195), (128, 128, 0), (255, 215, 180), (0, 0, 128), (128, 128, 128),
]


def class_color(cid: int) -> tuple[int, int, int]:
    """The colour of a class id (the same in masks, boxes and the legend)."""
    return PALETTE[cid % len(PALETTE)]


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#%02x%02x%02x" % rgb


def _ink(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black or white, whichever reads better on rgb."""
    return (0, 0, 0) if 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 140 else (255, 255, 255)


@dataclass
class Overlay:
    """The masks and boxes of one stored image, ready to draw (masks as arrays of class ids)."""

    width: int  # the image's own size: box positions are read against it
    height: int
    masks: dict[str, tuple[Any, dict[int, str]]] = field(default_factory=dict)  # name: (ids, labels)
    boxes: dict[str, tuple[list[dict[str, Any]], dict[int, str]]] = field(default_factory=dict)
    classes: dict[int, str] = field(default_factory=dict)

    def name(self, cid: int, labels: dict[int, str] | None = None) -> str:
        """A class's name: the set's labels, then the image's classes, else "class N"."""
        return (labels or {}).get(cid) or self.classes.get(cid) or f"class {cid}"

    def present(self) -> dict[int, str]:
        """The classes that appear (in a mask or as a box), with their names, by id."""
        import numpy as np

        out: dict[int, str] = {}
        for ids, labels in self.masks.values():
            for cid in np.unique(ids).tolist():
                out.setdefault(int(cid), self.name(int(cid), labels))
        for boxes, labels in self.boxes.values():
            for b in boxes:
                out.setdefault(b["class_id"], self.name(b["class_id"], labels))
        return out

    def score_names(self) -> list[str]:
        """The names of the scores boxes carry, in the order first seen."""
        seen: dict[str, None] = {}
        for boxes, _ in self.boxes.values():
            for b in boxes:
                for k in b.get("scores") or {}:
                    seen.setdefault(k, None)
        return list(seen)


def _int_keys(labels: Any) -> dict[int, str]:
    out = {}
    for k, v in (labels or {}).items() if isinstance(labels, dict) else ():
        try:
            out[int(k)] = str(v)
        except (TypeError, ValueError):
            continue
    return out


def _box_ok(b: Any) -> bool:
    """Whether a stored box has what drawing it needs (an int class_id, a position of finite numbers)."""
    if not isinstance(b, dict) or not isinstance(b.get("class_id"), int) or not isinstance(b.get("position"), dict):
        return False
    p = b["position"]
    if "middle" in p:
        m = p["middle"]
        nums = (list(m) if isinstance(m, list) and len(m) == 2 else [None]) + [p.get("width"), p.get("height")]
    else:
        nums = [p.get(k) for k in ("minX", "maxX", "minY", "maxY")]
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in nums)


def read_overlay(reader: Any, meta: dict[str, Any]) -> Overlay | None:
    """The overlay of an image's metadata (mask PNGs read from the store), or None when it has none.
    Anything malformed is left out rather than raised: the picture is shown regardless."""
    from tracktui.store import media as smedia

    masks_meta, boxes_meta = meta.get("masks"), meta.get("boxes")
    if not (isinstance(masks_meta, dict) and masks_meta) and not (isinstance(boxes_meta, dict) and boxes_meta):
        return None
    width, height = meta.get("width"), meta.get("height")
    if not isinstance(width, int) or not isinstance(height, int) or width <= 0 or height <= 0:
        return None
    classes = {}
    for c in meta.get("classes") or []:
        if isinstance(c, dict) and isinstance(c.get("id"), int):
            classes[c["id"]] = str(c.get("name"))
    ov = Overlay(width, height, classes=classes)
    for name, val in (masks_meta or {}).items():
        if not isinstance(val, dict) or not isinstance(val.get("sha256"), str):
            continue
        ids = _decode_mask(smedia.blob(reader, val["sha256"]))
        if ids is not None:
            ov.masks[str(name)] = (ids, _int_keys(val.get("class_labels")))
    for name, val in (boxes_meta or {}).items():
        if isinstance(val, dict) and isinstance(val.get("box_data"), list):
            ov.boxes[str(name)] = ([b for b in val["box_data"] if _box_ok(b)], _int_keys(val.get("class_labels")))
    return ov


def _decode_mask(data: bytes | None) -> Any:
    """A mask PNG as an array of class ids (at most MAX_MASK a side, nearest neighbour), or None."""
    if not data:
        return None
    try:
        import numpy as np
        from PIL import Image as PILImage

        img = PILImage.open(io.BytesIO(data))
        img.load()
        if img.mode not in ("L", "P"):
            img = img.convert("L")
        if max(img.size) > MAX_MASK:
            scale = MAX_MASK / max(img.size)
            img = img.resize((max(1, int(img.width * scale)), max(1, int(img.height * scale))),
                             PILImage.Resampling.NEAREST)
        return np.asarray(img)
    except Exception:  # noqa: BLE001 - an unreadable mask is left out
        return None


@dataclass
class OverlayView:
    """What is shown: boxes and masks at all, each named set, each class, and a score threshold."""

    boxes: bool = True
    masks: bool = True
    hidden_sets: set[str] = field(default_factory=set)  # "boxes:name" / "masks:name"
    hidden_classes: set[int] = field(default_factory=set)
    score: str | None = None  # the score the threshold reads (None: the first one the boxes carry)
    threshold: float | None = None  # boxes with that score below it are hidden

    def score_name(self, overlays: list[Overlay]) -> str | None:
        """The score the threshold applies to."""
        names = _score_names(overlays)
        if self.score in names:
            return self.score
        return names[0] if names else None

    def box_shown(self, box: dict[str, Any], score: str | None) -> bool:
        """Whether a box passes the class and score filters."""
        if box["class_id"] in self.hidden_classes:
            return False
        if self.threshold is None or score is None:
            return True
        value = (box.get("scores") or {}).get(score)
        return not isinstance(value, (int, float)) or value >= self.threshold - 1e-12

    def set_on(self, kind: str, name: str) -> bool:
        """Whether a named set is drawn."""
        return (self.boxes if kind == "boxes" else self.masks) and f"{kind}:{name}" not in self.hidden_sets


def _score_names(overlays: list[Overlay]) -> list[str]:
    seen: dict[str, None] = {}
    for ov in overlays:
        for k in ov.score_names():
            seen.setdefault(k, None)
    return list(seen)


Label = tuple[int, int, str, tuple[int, int, int]]  # cell column, cell row, text, background colour


def draw_overlay(overlay: Overlay, view: OverlayView, small: Any) -> tuple[Any, list[Label]]:
    """small (the image at the size it is shown, RGB) with the visible masks washed in and the visible boxes
    outlined; and the box captions as labels to print over it (cell column, cell row = pixel row // 2)."""
    import numpy as np
    from PIL import Image as PILImage
    from PIL import ImageDraw

    w, h = small.size
    if view.masks and overlay.masks:
        px = np.asarray(small, dtype=np.float32).copy()
        lut = np.array([class_color(i) for i in range(256)], dtype=np.float32)
        for name, (ids, _labels) in overlay.masks.items():
            if not view.set_on("masks", name):
                continue
            fitted = np.asarray(PILImage.fromarray(ids).resize((w, h), PILImage.Resampling.NEAREST))
            alpha = np.full(256, MASK_ALPHA, dtype=np.float32)
            alpha[list(view.hidden_classes & set(range(256)))] = 0.0
            a = alpha[fitted][..., None]
            px = px * (1 - a) + lut[fitted] * a
        small = PILImage.fromarray(px.round().astype(np.uint8), "RGB")
    labels: list[Label] = []
    if view.boxes and overlay.boxes:
        small = small.copy()
        draw = ImageDraw.Draw(small)
        sx, sy = w / overlay.width, h / overlay.height
        score = view.score_name([overlay])
        for name, (boxes, set_labels) in overlay.boxes.items():
            if not view.set_on("boxes", name):
                continue
            for b in boxes:
                if not view.box_shown(b, score):
                    continue
                x0, y0, x1, y1 = box_pixels(b, overlay.width, overlay.height)
                left, top = max(0, math.floor(x0 * sx)), max(0, math.floor(y0 * sy))
                right, bottom = min(w - 1, math.ceil(x1 * sx) - 1), min(h - 1, math.ceil(y1 * sy) - 1)
                if right < left or bottom < top:
                    continue
                color = class_color(b["class_id"])
                draw.rectangle((left, top, right, bottom), outline=color, width=1)
                caption = b.get("box_caption")
                text = caption if isinstance(caption, str) and caption else overlay.name(b["class_id"], set_labels)
                labels.append((left, top // 2, safe_text(text, limit=40), color))
    return small, labels


def label_segments(text: str, color: tuple[int, int, int]) -> list[tuple[str, str]]:
    """A caption as (character, style) cells: the box's colour behind, black or white ink; wide characters
    (two cells) become '?' so every character takes one cell."""
    ink = _ink(color)
    style = f"bold {_hex(ink)} on {_hex(color)}"
    return [(ch if cell_len(ch) == 1 else "?", style) for ch in text]


def legend(overlays: list[Overlay], view: OverlayView) -> Text | None:
    """One line: each class present (■ in its colour and its name; □ when switched off), the named sets
    (off ones marked), the score filter; None when no image has an overlay."""
    overlays = [o for o in overlays if o is not None]
    if not overlays:
        return None
    t = Text(no_wrap=False)
    present: dict[int, str] = {}
    for ov in overlays:
        for cid, name in ov.present().items():
            present.setdefault(cid, name)
    for cid in sorted(present):
        off = cid in view.hidden_classes
        t.append("□ " if off else "■ ", style="dim" if off else _hex(class_color(cid)))
        t.append(safe_text(present[cid], limit=30) + (" (off)" if off else ""), style="dim" if off else "")
        t.append("  ")
    for kind in ("boxes", "masks"):
        names = sorted({n for ov in overlays for n in getattr(ov, kind)})
        if not names:
            continue
        t.append(f"│ {kind}: ", style="bold")
        for i, n in enumerate(names):
            on = view.set_on(kind, n)
            t.append(("" if i == 0 else ", ") + safe_text(n, limit=30) + ("" if on else " off"),
                     style="" if on else "dim")
        if kind == "boxes":
            total = shown = 0
            score = view.score_name(overlays)
            for ov in overlays:
                for n, (boxes, _) in ov.boxes.items():
                    total += len(boxes)
                    if view.set_on("boxes", n):
                        shown += sum(view.box_shown(b, score) for b in boxes)
            t.append(f" {shown}/{total}")
        t.append(" ")
    score = view.score_name(overlays)
    if score is not None:
        t.append("│ ", style="bold")
        t.append(safe_text(score, limit=20))
        t.append(" ≥ " + (f"{view.threshold:g}" if view.threshold is not None else "any"),
                 style="bold yellow" if view.threshold is not None else "")
    return t


def score_step(values: list[float]) -> float:
    """How far + and - move the threshold: 0.05 for scores in 0..1, else a twentieth of their range."""
    if not values or (min(values) >= 0 and max(values) <= 1):
        return 0.05
    span = max(values) - min(values)
    return span / 20 if span > 0 else 1.0


def move_threshold(view: OverlayView, overlays: list[Overlay], delta: int) -> None:
    """Raise (delta > 0) or lower the score threshold by one step; below the lowest score it is off."""
    score = view.score_name(overlays)
    if score is None:
        return
    values = [float(v) for ov in overlays for boxes, _ in ov.boxes.values() for b in boxes
              if isinstance(v := (b.get("scores") or {}).get(score), (int, float)) and math.isfinite(v)]
    step = score_step(values)
    lo = 0.0 if not values or min(values) >= 0 else min(values)
    hi = 1.0 if not values or (min(values) >= 0 and max(values) <= 1) else max(values)
    current = lo if view.threshold is None else view.threshold
    new = round(current + delta * step, 9)
    view.threshold = None if new <= lo - 1e-12 or (delta < 0 and new < lo + 1e-12) else min(new, hi)


OVERLAY_BINDINGS = [
    Binding("b", "overlay_boxes", "Boxes", tooltip="boxes on or off"),
    Binding("m", "overlay_masks", "Masks", tooltip="masks on or off"),
    Binding("c", "overlay_pick", "Classes", tooltip="switch each named set of boxes or masks and each class on/off"),
    Binding("plus,equals_sign", "overlay_threshold(1)", "Score", key_display="+/-",
            tooltip="raise the score threshold: boxes scoring below it are hidden"),
    Binding("minus", "overlay_threshold(-1)", "Score-", key_display="-", show=False,
            tooltip="lower the score threshold"),
    Binding("f", "overlay_score", "Score name", show=False, tooltip="which score the threshold filters on"),
]
OVERLAY_ACTIONS = {"overlay_boxes", "overlay_masks", "overlay_pick", "overlay_threshold", "overlay_score"}


class OverlayKeys:
    """The overlay keys for a widget or screen that shows images: it provides overlay_view, shown_overlays()
    and redraw_overlays(); add OVERLAY_BINDINGS to its BINDINGS and call check_overlay_action in check_action."""

    overlay_view: OverlayView

    def shown_overlays(self) -> list[Overlay]:
        """The overlays of the images shown now."""
        raise NotImplementedError

    def redraw_overlays(self) -> None:
        """Draw the shown images again with overlay_view."""
        raise NotImplementedError

    def check_overlay_action(self, action: str) -> bool | None:
        """None for an action that is not an overlay key; False (hidden) when no shown image has what it
        works on."""
        if action not in OVERLAY_ACTIONS:
            return None
        overlays = self.shown_overlays()
        if action == "overlay_boxes":
            return any(o.boxes for o in overlays)
        if action == "overlay_masks":
            return any(o.masks for o in overlays)
        if action in ("overlay_threshold", "overlay_score"):
            names = _score_names(overlays)
            return len(names) > 1 if action == "overlay_score" else bool(names)
        return bool(overlays)

    def action_overlay_boxes(self) -> None:
        """Boxes on or off."""
        self.overlay_view.boxes = not self.overlay_view.boxes
        self.redraw_overlays()

    def action_overlay_masks(self) -> None:
        """Masks on or off."""
        self.overlay_view.masks = not self.overlay_view.masks
        self.redraw_overlays()

    def action_overlay_threshold(self, delta: int) -> None:
        """Move the score threshold."""
        move_threshold(self.overlay_view, self.shown_overlays(), delta)
        self.redraw_overlays()

    def action_overlay_score(self) -> None:
        """The next score name for the threshold."""
        names = _score_names(self.shown_overlays())
        if names:
            current = self.overlay_view.score_name(self.shown_overlays())
            self.overlay_view.score = names[(names.index(current) + 1) % len(names)] if current in names else None
            self.overlay_view.threshold = None
            self.redraw_overlays()

    def action_overlay_pick(self) -> None:
        """A checklist of every named set and class: space switches, enter applies (asked of the screen by a
        PickRequested)."""
        overlays = self.shown_overlays()
        if not overlays:
            return
        view = self.overlay_view
        entries: list[tuple[str, str, Any]] = []  # (label, kind, name or id)
        for kind in ("boxes", "masks"):
            for n in sorted({n for ov in overlays for n in getattr(ov, kind)}):
                entries.append((f"{kind}: {n}", kind, n))
        present: dict[int, str] = {}
        for ov in overlays:
            for cid, name in ov.present().items():
                present.setdefault(cid, name)
        for cid in sorted(present):
            entries.append((f"class {cid}: {present[cid]}", "class", cid))
        on = [label for label, kind, key in entries
              if (kind == "class" and key not in view.hidden_classes)
              or (kind != "class" and f"{kind}:{key}" not in view.hidden_sets)]

        def apply(chosen: list[str] | None) -> None:
            if chosen is None:
                return
            picked = set(chosen)
            for label, kind, key in entries:
                if kind == "class":
                    (view.hidden_classes.discard if label in picked else view.hidden_classes.add)(key)
                else:
                    (view.hidden_sets.discard if label in picked else view.hidden_sets.add)(f"{kind}:{key}")
            self.redraw_overlays()

        self.post_message(PickRequested(  # type: ignore[attr-defined]
            "shown on the images", [e[0] for e in entries], apply, chosen=on, many=True,
            hint=" space switches · enter applies · escape cancels"))
