"""tracktui.Object3D and box3d: point clouds (arrays, or wandb's lidar/beta scenes with boxes and vectors) and
3D files (.obj, .gltf, .glb, .babylon, .stl, .ply, .pts.json)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tracktui.store.media import MAX_MEDIA_BYTES, too_big

from .base import is_path, to_numpy
from .content import FileMedia, file_name, jsonable, read_stream, source_bytes, with_caption

SUPPORTED_TYPES = ("obj", "gltf", "glb", "babylon", "stl", "ply", "pts.json")
SUPPORTED_POINT_CLOUD_TYPES = ("lidar/beta",)
_SHAPES = "N×3 (x y z), N×4 (x y z category) or N×6 (x y z r g b)"


class Object3D(FileMedia):
    """A 3D object: a point cloud as a numpy array N×3, N×4 or N×6 (stored as float32); a scene dict
    {"type": "lidar/beta", "points": ..., "boxes": [...], "vectors": [...]} (stored as its JSON, boxes and
    vectors kept); or a 3D file: a path, an open file, or a stream with file_type=. Equal to another Object3D
    of the same bytes (as wandb)."""

    _type = "object3d"
    SUPPORTED_TYPES = SUPPORTED_TYPES
    SUPPORTED_POINT_CLOUD_TYPES = SUPPORTED_POINT_CLOUD_TYPES

    def __init__(self, data_or_path: Any, caption: str | None = None, **kwargs: Any):
        file_type = kwargs.pop("file_type", None)
        if kwargs:
            raise TypeError(f"tracktui.Object3D got unexpected arguments {sorted(kwargs)}")
        x = data_or_path
        x = file_name(x) or x  # an open file: read from its path, the type from its name (as wandb)
        meta: dict[str, Any]
        if is_path(x):
            fmt = _file_format(str(x))
            data, _ = source_bytes(x, "Object3D")
            meta = {"format": fmt}
        elif hasattr(x, "read"):
            if file_type is None:
                raise ValueError("tracktui.Object3D: a stream needs file_type= (one of "
                                 f"{', '.join(SUPPORTED_TYPES)})")
            fmt = str(file_type).lower().lstrip(".")
            if fmt not in SUPPORTED_TYPES:
                raise ValueError(f"tracktui.Object3D: file_type must be one of {', '.join(SUPPORTED_TYPES)}, "
                                 f"got {file_type!r}")
            data, meta = read_stream(x, "Object3D"), {"format": fmt}
        elif isinstance(x, dict):
            data, meta = _scene(x)
        elif hasattr(x, "shape"):
            self._raw = _points(x)
            meta = {"format": "points", "point_count": int(self._raw.shape[0]), "columns": int(self._raw.shape[1])}
            data = None
        else:
            raise ValueError(f"tracktui.Object3D takes a numpy array ({_SHAPES}), a dict (a lidar/beta scene) or "
                             f"a 3D file, not {type(x).__name__}; for a list of points use np.array(points)")
        if data is not None:
            if "point_count" not in meta:
                count = _point_count(meta["format"], data)
                if count is not None:
                    meta["point_count"] = count
            self._data = data
        self._meta = with_caption(meta, caption)

    @classmethod
    def from_file(cls, data_or_path: Any, file_type: str | None = None) -> Object3D:
        """A 3D file: a path (the type from its name) or a stream (file_type required)."""
        return cls(data_or_path, file_type=file_type)

    @classmethod
    def from_numpy(cls, data: Any) -> Object3D:
        """A point cloud from a numpy array N×3, N×4 or N×6."""
        if not hasattr(data, "shape"):
            raise ValueError(f"tracktui.Object3D.from_numpy takes a numpy array, not {type(data).__name__}")
        return cls(data)

    @classmethod
    def from_point_cloud(cls, points: Any, boxes: Any, vectors: Any = None,
                         point_cloud_type: str = "lidar/beta") -> Object3D:
        """A scene: points (N×3/4/6), 3D boxes ({"corners": 8 points, "color": (r, g, b), "label", "score"},
        see box3d) and vectors ({"start": xyz, "end": xyz})."""
        if point_cloud_type not in SUPPORTED_POINT_CLOUD_TYPES:
            raise ValueError(f"tracktui.Object3D: point_cloud_type must be one of "
                             f"{', '.join(SUPPORTED_POINT_CLOUD_TYPES)}, got {point_cloud_type!r}")
        return cls({"type": point_cloud_type, "points": points, "boxes": boxes,
                    "vectors": [] if vectors is None else vectors})


def _file_format(path: str) -> str:
    name = path.lower()
    fmt = next((f for f in SUPPORTED_TYPES if name.endswith("." + f)), None)
    if fmt is None:
        raise ValueError(f"tracktui.Object3D: a file must be one of {', '.join(SUPPORTED_TYPES)}, "
                         f"got {Path(path).name!r}")
    return fmt


def _points(x: Any) -> Any:
    import numpy as np

    a = to_numpy(x)
    if a.ndim != 2 or a.shape[1] not in (3, 4, 6):
        raise ValueError(f"tracktui.Object3D: points must be {_SHAPES}, got shape {a.shape}")
    if a.dtype.kind not in "biuf":
        raise TypeError(f"tracktui.Object3D: points must be numbers, got dtype {a.dtype}")
    if a.shape[0] * a.shape[1] * 4 > MAX_MEDIA_BYTES:
        raise ValueError(too_big("the points as float32", a.shape[0] * a.shape[1] * 4))
    return np.array(a, dtype=np.float32)


def _scene(d: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """The JSON bytes and metadata of a lidar/beta scene dict."""
    kind = d.get("type")
    if kind not in SUPPORTED_POINT_CLOUD_TYPES:
        raise ValueError(f"tracktui.Object3D: a scene's type must be one of {', '.join(SUPPORTED_POINT_CLOUD_TYPES)}"
                         f", got {kind!r}")
    points = jsonable(d.get("points", []), "the scene's points")
    if points:
        _points(points)  # the same shapes as an array
    boxes = jsonable(d.get("boxes", []), "the scene's boxes")
    vectors = jsonable(d.get("vectors", []), "the scene's vectors")
    for what, items, needs in (("box", boxes, ("corners",)), ("vector", vectors, ("start", "end"))):
        if not isinstance(items, list):
            raise ValueError(f"tracktui.Object3D: the scene's {what}es must be a list")
        for i, item in enumerate(items):
            if not isinstance(item, dict) or any(k not in item for k in needs):
                raise ValueError(f"tracktui.Object3D: {what} {i} must be a dict with {', '.join(needs)}")
    scene = {"type": kind, "points": points, "boxes": boxes, "vectors": vectors}
    try:
        data = json.dumps(scene, allow_nan=False).encode("utf-8")
    except ValueError as e:
        raise ValueError(f"tracktui.Object3D: the scene holds NaN or Inf ({e})") from e
    if len(data) > MAX_MEDIA_BYTES:
        raise ValueError(too_big("the scene as JSON", len(data)))
    return data, {"format": "pts.json", "type": kind, "point_count": len(points), "box_count": len(boxes),
                  "vector_count": len(vectors)}


def _point_count(fmt: str, data: bytes) -> int | None:
    try:
        if fmt == "obj":
            return sum(1 for line in data.splitlines() if line.startswith(b"v "))
        if fmt == "pts.json":
            scene = json.loads(data)
            return len(scene["points"] if isinstance(scene, dict) else scene)
        if fmt == "ply":
            m = re.search(rb"element vertex (\d+)", data[:4096])
            return int(m.group(1)) if m else None
    except (ValueError, TypeError, KeyError):
        return None
    return None


def box3d(*, center: Any, size: Any, orientation: Any, color: Any, label: str | None = None,
          score: float | None = None) -> dict[str, Any]:
    """A 3D box for Object3D.from_point_cloud: its 8 corners from a center, a size (x, y, z) and an orientation
    quaternion (r, x, y, z) that turns global axes into the box's, as wandb.box3d computes them."""
    import itertools

    import numpy as np

    c, s, q = (np.asarray(v, dtype=np.float64) for v in (center, size, orientation))
    if c.shape != (3,) or s.shape != (3,) or q.shape != (4,):
        raise ValueError("tracktui.box3d: center and size need 3 numbers, orientation 4 (a quaternion r, x, y, z)")
    q = np.abs(q)
    if q.max() == 0:
        raise ValueError("tracktui.box3d: the orientation quaternion is zero")
    q = q / q.max()
    r, i, j, k = q / np.linalg.norm(q)
    rot = np.array([
        [1 - 2 * (j * j + k * k), 2 * (i * j + k * r), 2 * (i * k - j * r)],
        [2 * (i * j - k * r), 1 - 2 * (i * i + k * k), 2 * (j * k + i * r)],
        [2 * (i * k + j * r), 2 * (j * k - i * r), 1 - 2 * (i * i + j * j)],
    ])
    unit = np.array(list(itertools.product((-1, 1), (-1, 1), (-1, 1))), dtype=np.float64)
    corners = c + (0.5 * s * unit) @ rot
    return {"corners": [list(map(float, p)) for p in corners], "color": color, "label": label, "score": score}
