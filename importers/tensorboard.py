"""TensorBoard event files into runs: scalars, histograms, images and text, wall times kept.

Every directory under the given one that holds `events.out.tfevents.*` files is one run: id 'tb-' and a
hash of the directory's absolute path, name its path relative to the import root (the root's own name for
the root), project as given (default 'tensorboard'). Events are read with the tensorboard package's own
loader (which turns TF1 summaries into tensors); each step's values become one history record at that
step, stamped with the event's wall time:
- scalars: numbers (NaN and infinities kept);
- histograms: tracktui.Histogram from TensorBoard's buckets;
- images: tracktui.Image from the encoded PNG (several images of one event: a gallery);
- text: strings.
The run's metadata["tensorboard"]["files"] counts the events taken from each file (updated after they are
committed): a second import skips them, a grown file adds only its new events.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EVENTS = "events.out.tfevents."


@dataclass
class ImportResult:
    """What one import did."""

    runs: int = 0
    events: int = 0
    values: int = 0
    errors: list[str] = field(default_factory=list)


def event_dirs(root: Path) -> list[Path]:
    """Directories under root (root included) holding event files, sorted."""
    found = set()
    for d, _, files in os.walk(root):
        if any(f.startswith(EVENTS) or f".{EVENTS}" in f for f in files):
            found.add(Path(d))
    return sorted(found)


def run_id_for(d: Path) -> str:
    return "tb-" + hashlib.sha256(str(d.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:20]


def _decode(plugin: str, tensor: Any, key: str) -> Any:
    """A TensorBoard value as what tracktui logs: a number, a string, a Histogram, an Image or a gallery."""
    import tracktui
    from tensorboard.util import tensor_util

    arr = tensor_util.make_ndarray(tensor)
    if plugin == "scalars":
        return float(arr.reshape(-1)[0])
    if plugin == "histograms":
        if arr.ndim != 2 or arr.shape[0] == 0:
            raise ValueError("an empty histogram")
        edges = [float(x) for x in arr[:, 0]] + [float(arr[-1, 1])]
        counts = [float(x) for x in arr[:, 2]]
        if any(b <= a for a, b in zip(edges, edges[1:], strict=False)):  # one value: give it a width
            lo = edges[0]
            edges = [lo + i * 1e-9 * max(1.0, abs(lo)) for i in range(len(edges))]
        return tracktui.Histogram(np_histogram=(counts, edges))
    if plugin == "images":
        blobs = [bytes(b) for b in arr.reshape(-1)[2:]]
        images = [tracktui.Image(b) for b in blobs]
        if not images:
            raise ValueError("no image in the event")
        return images[0] if len(images) == 1 else images
    if plugin == "text":
        texts = [b.decode("utf-8", "replace") if isinstance(b, bytes) else str(b) for b in arr.reshape(-1)]
        return "\n".join(texts)
    if arr.size == 1 and arr.dtype.kind in "fiub":
        return float(arr.reshape(-1)[0])
    raise ValueError(f"values of the {plugin or 'unknown'!r} plugin are not imported")


def _read_file(path: Path, skip: int) -> tuple[list[tuple[int, float, list[tuple[str, str, Any]]]], int]:
    """The events of one file after the first `skip`: (step, wall_time, [(tag, plugin, tensor)]), and how many
    events the file holds in all. Raises ValueError for a file with no readable record."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    out = []
    n = 0
    plugins: dict[str, str] = {}
    for event in EventFileLoader(str(path)).Load():
        n += 1
        for v in event.summary.value:  # plugin names come with a tag's first value: remember them
            if v.metadata.plugin_data.plugin_name:
                plugins[v.tag] = v.metadata.plugin_data.plugin_name
        if n <= skip or event.WhichOneof("what") != "summary":
            continue
        vals = [(v.tag, plugins.get(v.tag, ""), v.tensor) for v in event.summary.value if v.HasField("tensor")]
        if vals:
            out.append((int(event.step), float(event.wall_time), vals))
    if n == 0 and path.stat().st_size > 0:
        raise ValueError("not a TensorBoard event file (no readable record)")
    if n < skip:  # fewer events than taken before: the file was written anew, take all of it
        return _read_file(path, 0)
    return out, n


def import_tensorboard(root: str | os.PathLike[str], project: str = "tensorboard", store: Any = None,
                       progress: Callable[[str], None] | None = None) -> ImportResult:
    """Import every event-file directory under root into the store (see the module's docstring)."""
    try:
        import tensorboard  # noqa: F401
    except ImportError as e:
        raise RuntimeError("importing TensorBoard logs needs the tensorboard package: pip install tensorboard") from e
    from tracktui import values
    from tracktui.media import _items
    from tracktui.store import Reader
    from tracktui.store.codec import MEDIA, dumps
    from tracktui.store.records import History, Media
    from tracktui.store.writer import Writer

    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a directory")
    res = ImportResult()
    dirs = event_dirs(root)
    w = Writer.for_store(store)
    for i, d in enumerate(dirs, 1):
        rid = run_id_for(d)
        name = root.resolve().name if d == root else str(d.relative_to(root))
        with Reader(store) as r:
            old = r.run(rid) if r.exists else None
        old = old if old is not None and old.id == rid else None
        meta = dict(old.metadata) if old else {}
        tb = dict(meta.get("tensorboard") or {})
        counts = dict(tb.get("files") or {})
        last_step = old.last_step if old and old.last_step is not None else -1
        steps: dict[int, tuple[float, dict[str, Any]]] = {}
        files = [p for p in d.iterdir() if p.is_file() and (p.name.startswith(EVENTS) or f".{EVENTS}" in p.name)]
        for f in sorted(files):
            try:
                events, total = _read_file(f, int(counts.get(f.name, 0)))
            except Exception as e:  # noqa: BLE001 - one line per unreadable file, never fatal
                msg = f"{f}: {type(e).__name__}: {e}"
                res.errors.append(msg)
                print(f"tracktui: import: cannot read {msg}", file=sys.stderr)
                continue
            counts[f.name] = total
            for step, wall, vals in events:
                res.events += 1
                ts, data = steps.get(step, (wall, {}))
                for tag, plugin, tensor in vals:
                    try:
                        data[tag] = _decode(plugin, tensor, tag)
                    except Exception as e:  # noqa: BLE001
                        msg = f"{f}: {tag!r} at step {step}: {type(e).__name__}: {e}"
                        if len(res.errors) < 1000:
                            res.errors.append(msg)
                        print(f"tracktui: import: skipped {msg}", file=sys.stderr)
                steps[step] = (min(ts, wall), data)
        summary = dict(old.summary) if old else {}
        first_ts = old.created_at if old else None
        last_ts = old.finished_at if old else None
        for step in sorted(steps):
            ts, data = steps[step]
            items = []
            for key, v in data.items():
                if isinstance(v, (float, str)):
                    items.append((key, *values.encode(key, v)))
                    summary[key] = v
                else:
                    media_items, ref = _items(v)
                    w.put(Media(rid, key, step, media_items))
                    items.append((key, None, MEDIA, dumps(ref)))
                    summary[key] = ref
            if items:
                w.put(History(rid, step, ts, items, step <= last_step))
                res.values += len(items)
            first_ts = ts if first_ts is None else min(first_ts, ts)
            last_ts = ts if last_ts is None else max(last_ts, ts)
        w.flush()
        if not counts:  # nothing of this directory could be read: no run for it
            continue
        tb["files"] = counts
        tb["dir"] = str(d.resolve())
        meta["tensorboard"] = tb
        fields: dict[str, Any] = {"id": rid, "project": old.project if old else project, "name": name,
                                  "state": "finished", "metadata": dumps(meta), "summary": dumps(summary)}
        if first_ts is not None:
            fields.update(created_at=first_ts, finished_at=last_ts, heartbeat_at=last_ts)
        elif old is None:
            import time

            fields.update(created_at=time.time())
        if steps:
            fields["last_step"] = max(last_step, max(steps))
        w.save_run(fields)
        res.runs += 1
        if progress is not None:
            progress(f"[{i}/{len(dirs)}] {name}: {sum(1 for _ in steps)} new steps")
    w.flush()
    return res
