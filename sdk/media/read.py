"""Reading media back (for tracktui.Api): one MediaItem per stored object, loaded on demand."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from tracktui.store import Reader
from tracktui.store import media as smedia

CELL_TYPES = frozenset(("image", "audio", "video", "object3d", "molecule", "html", "plotly", "text", "histogram"))


@dataclass
class MediaItem:
    """A stored media object: run_id, key, step, index (in a gallery), type, metadata; bytes on demand."""

    run_id: str
    key: str
    step: int
    index: int
    type: str
    meta: dict[str, Any]
    sha256: str | None = None
    size: int | None = None
    _dir: Any = field(default=None, repr=False)

    @property
    def caption(self) -> str | None:
        """The caption given when it was logged."""
        return self.meta.get("caption")

    def bytes(self) -> bytes:
        """The stored bytes (PNG/JPEG, WAV, GIF, HTML, UTF-8 text, float32 points or a 3D file)."""
        if self.sha256 is None:
            raise ValueError(f"a {self.type} has no bytes; use rows(), counts/edges or spec")
        with Reader(self._dir) as r:
            data = smedia.blob(r, self.sha256)
        if data is None:
            raise LookupError(f"the bytes of {self.key!r} at step {self.step} are missing from the store")
        return data

    # images
    def pil(self) -> Any:
        """An image as a PIL image."""
        from PIL import Image as PILImage

        img = PILImage.open(io.BytesIO(self.bytes()))
        img.load()
        return img

    def numpy(self) -> Any:
        """An image as an H×W(×C) uint8 array; an Object3D's points as N×C float32; audio samples as stored
        (int16 for arrays logged; a WAV file's own sample type; float32 through soundfile for other formats)."""
        import numpy as np

        fmt = self.meta.get("format")
        if self.type == "object3d" and fmt == "points":
            return np.frombuffer(self.bytes(), dtype="<f4").reshape(-1, self.meta["columns"]).copy()
        if self.type == "object3d" and fmt == "pts.json":
            points = self.scene()["points"]
            return np.asarray(points, dtype=np.float32).reshape(len(points), -1)
        if self.type == "audio":
            from .audio import decode

            return decode(self.bytes(), str(fmt))
        return np.asarray(self.pil())

    # what is drawn on an image (the structures Image(masks=, boxes=, classes=) took)
    @property
    def boxes(self) -> dict[str, dict[str, Any]]:
        """An image's boxes by set name: {"box_data": [...], "class_labels": {id: name}} ({} when none)."""
        out = {}
        for name, val in (self.meta.get("boxes") or {}).items():
            out[name] = {"box_data": [dict(b) for b in val.get("box_data", [])],
                         "class_labels": int_keys(val.get("class_labels") or {})}
        return out

    @property
    def masks(self) -> dict[str, dict[str, Any]]:
        """An image's masks by set name: {"mask_data": H×W uint8 class ids, "class_labels": {id: name}}."""
        import numpy as np
        from PIL import Image as PILImage

        stored = self.meta.get("masks") or {}
        if not stored:
            return {}
        out = {}
        with Reader(self._dir) as r:
            for name, val in stored.items():
                data = smedia.blob(r, val.get("sha256") or "")
                if data is None:
                    raise LookupError(f"the mask {name!r} of {self.key!r} at step {self.step} is missing")
                out[name] = {"mask_data": np.asarray(PILImage.open(io.BytesIO(data))),
                             "class_labels": int_keys(val.get("class_labels") or {})}
        return out

    @property
    def classes(self) -> list[dict[str, Any]] | None:
        """Every class an image names ([{"id", "name"}], as wandb merges them), or a logged Classes' list."""
        found = self.meta.get("classes", self.meta.get("class_set"))
        return None if found is None else [dict(c) for c in found]

    def text(self) -> str:
        """HTML, Text, Molecule and Plotly objects as a string."""
        return self.bytes().decode("utf-8", errors="replace")

    def json(self) -> Any:
        """A Plotly figure's JSON (data and layout) or a .pts.json 3D object, parsed."""
        import json

        return json.loads(self.bytes())

    def scene(self) -> dict[str, Any]:
        """A point cloud Object3D as wandb's scene: {"type", "points", "boxes", "vectors"} (a plain point list or
        an array logged comes with no boxes or vectors)."""
        if self.type != "object3d" or self.meta.get("format") not in ("pts.json", "points"):
            raise ValueError(f"a {self.type} of format {self.meta.get('format')!r} is not a point cloud")
        if self.meta.get("format") == "points":
            return {"type": None, "points": self.numpy().tolist(), "boxes": [], "vectors": []}
        data = self.json()
        if isinstance(data, list):
            return {"type": None, "points": data, "boxes": [], "vectors": []}
        return {"type": data.get("type"), "points": data.get("points", []), "boxes": data.get("boxes", []),
                "vectors": data.get("vectors", [])}

    def figure(self) -> Any:
        """A Plotly item as a plotly Figure (needs plotly)."""
        import plotly.io

        return plotly.io.from_json(self.text())

    # histograms
    @property
    def counts(self) -> list[float]:
        """A histogram's counts."""
        return self.meta["values"]

    @property
    def edges(self) -> list[float]:
        """A histogram's bin edges (one more than counts)."""
        if "bins" in self.meta:
            return self.meta["bins"]
        return uniform_edges(self.meta["lo"], self.meta["hi"], self.meta["num_bins"])

    # tables and plots
    @property
    def columns(self) -> list[str]:
        """A table's (or a plot's data's) column names."""
        return list(self.meta.get("columns", []))

    @property
    def spec(self) -> dict[str, Any]:
        """A plot's spec: its type, which columns it draws, its title."""
        return dict(self.meta.get("spec", {}))

    def rows(
        self,
        offset: int = 0,
        limit: int | None = None,
        where: dict[str, Any] | None = None,
        order_by: str | None = None,
        descending: bool = False,
    ) -> list[list[Any]]:
        """Rows of a table or plot as lists of cells; where={column: value} filters, order_by sorts (in SQL).
        Image cells come back as MediaItems."""
        cols = self.columns
        idx = {c: i for i, c in enumerate(cols)}
        for name in list(where or {}) + ([order_by] if order_by else []):
            if name not in idx:
                raise KeyError(f"no column {name!r} (columns: {cols})")
        with Reader(self._dir) as r:
            rows = smedia.table_rows(
                r,
                self.run_id,
                self.key,
                self.step,
                self.index,
                offset=offset,
                limit=limit,
                where={idx[k]: v for k, v in (where or {}).items()},
                order_by=idx[order_by] if order_by else None,
                descending=descending,
            )
        return [[self._cell(c) for c in row] for row in rows]

    def _cell(self, c: Any) -> Any:
        if isinstance(c, dict) and c.get("_type") in CELL_TYPES and "sha256" in c:
            meta = {k: v for k, v in c.items() if k not in ("_type", "sha256")}
            return MediaItem(self.run_id, self.key, self.step, self.index, c["_type"], meta, c["sha256"], None,
                             self._dir)
        return c

    def dicts(self, **kwargs: Any) -> list[dict[str, Any]]:
        """Rows as dicts of column -> cell (same arguments as rows())."""
        cols = self.columns
        return [dict(zip(cols, row, strict=False)) for row in self.rows(**kwargs)]

    def dataframe(self) -> Any:
        """A table as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.rows(), columns=self.columns)

    def __len__(self) -> int:
        if self.type in ("table", "plot"):
            with Reader(self._dir) as r:
                return smedia.table_count(r, self.run_id, self.key, self.step, self.index)
        return 1


def int_keys(labels: dict[Any, str]) -> dict[Any, str]:
    """Class labels with their integer ids back (JSON keeps them as strings)."""
    return {int(k) if isinstance(k, str) and k.lstrip("-").isdigit() else k: v for k, v in labels.items()}


def uniform_edges(lo: float, hi: float, n: int) -> list[float]:
    """The n + 1 edges np.linspace(lo, hi, n + 1) gives, bit for bit (the same float operations)."""
    step = (hi - lo) / n
    return [i * step + lo for i in range(n)] + [hi]


def items(dir: Any, run_id: str, key: str, step: int | None) -> list[MediaItem]:
    """The stored items of key at step (None: the last step that has any)."""
    with Reader(dir) as r:
        rows = smedia.media_items(r, run_id, key, step)
    return [MediaItem(m.run_id, m.key, m.step, m.index, m.type, m.meta, m.sha256, m.size, dir) for m in rows]
