"""tracktui.Api: read runs back from scripts and notebooks (wandb.Api's names, a local store)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

from tracktui.store import Reader, RunRecord

from .run_summary import SummaryDict


class ApiRun:
    """A stored run: id, name, project, state, config, summary, created_at ... and its history."""

    def __init__(self, reader_dir: Any, record: RunRecord):
        self._dir = reader_dir
        self._record = record
        for k, v in record.to_dict().items():
            setattr(self, k, v)
        self.summary = SummaryDict(self.summary or {})  # summary["a"]["b"] reads the flat key "a.b" too

    def __repr__(self) -> str:
        return f"<ApiRun {self.name} ({self.id}) {self.state}>"

    @property
    def path(self) -> str:
        """project/id."""
        return f"{self.project}/{self.id}"

    def keys(self) -> list[str]:
        """The logged metric keys."""
        with Reader(self._dir) as r:
            return r.keys(self.id)

    def scan_history(self, keys: Sequence[str] | None = None, page_size: int = 1000) -> Iterator[dict[str, Any]]:
        """Every step as a dict (_step, _timestamp and the keys logged at it), streamed page by page."""
        with Reader(self._dir) as r:
            yield from r.history_rows(self.id, keys, page=page_size)

    def history(self, keys: Sequence[str] | None = None, samples: int | None = None,
                pandas: bool = False) -> Any:
        """Steps as a list of dicts; samples keeps that many evenly spaced rows; pandas=True gives a DataFrame
        (when pandas is installed)."""
        rows = list(self.scan_history(keys))
        if samples is not None and 0 < samples < len(rows):
            stride = (len(rows) - 1) / max(1, samples - 1)
            rows = [rows[round(i * stride)] for i in range(samples)]
        if pandas:
            import pandas as pd

            return pd.DataFrame(rows)
        return rows

    def system(self, keys: Sequence[str] | None = None,
               host: str | None = None) -> dict[str, list[tuple[float, float | None]]]:
        """System metric samples (ts, value) per key, of one host: by default the run's own; a job on
        several nodes has one set per node (see system_hosts)."""
        with Reader(self._dir) as r:
            return r.system(self.id, keys, host=host)

    def system_hosts(self) -> list[str]:
        """The hosts that recorded system metrics into the run, the run's own host first."""
        with Reader(self._dir) as r:
            return r.system_hosts(self.id)

    def logs(self) -> list[tuple[int, float, str, str]]:
        """Console lines (seq, ts, stream, line)."""
        with Reader(self._dir) as r:
            return r.logs(self.id, limit=10**9)

    def alerts(self) -> list[dict[str, Any]]:
        """The run's alerts (and events such as mark_preempting), oldest first: ts, level, title, text."""
        from tracktui.store import codec

        with Reader(self._dir) as r:
            rows = r.alerts(self.id, limit=10**9)
        return [{"ts": ts, **codec.parse_alert(line)} for _, ts, line in rows]

    def files(self) -> list[str]:
        """Names of the files attached to the run."""
        with Reader(self._dir) as r:
            return [name for name, _, _ in r.files(self.id)]

    def file(self, name: str) -> bytes | None:
        """The bytes of one attached file."""
        with Reader(self._dir) as r:
            return r.file_bytes(self.id, name)

    def logged_artifacts(self) -> list[Any]:
        """The artifact versions this run logged (tracktui.Artifact), in the order it logged them."""
        from tracktui.store import artifacts as sart

        from .artifacts import read_versions

        return read_versions(self._dir, lambda r: sart.logged_by_run(r, self.id))

    def used_artifacts(self) -> list[Any]:
        """The artifact versions this run used, in the order it used them."""
        from tracktui.store import artifacts as sart

        from .artifacts import read_versions

        return read_versions(self._dir, lambda r: sart.used_by_run(r, self.id))

    # ------------------------------------------------------------ media (see tracktui.media.read)

    def media_keys(self) -> list[dict[str, Any]]:
        """Keys that hold media: key, type, steps (how many), first_step, last_step."""
        from tracktui.store import media as smedia

        with Reader(self._dir) as r:
            return [vars(k) for k in smedia.media_keys(r, self.id)]

    def media_steps(self, key: str) -> list[int]:
        """The steps at which key holds media."""
        from tracktui.store import media as smedia

        with Reader(self._dir) as r:
            return smedia.media_steps(r, self.id, key)

    def media(self, key: str, step: int | None = None) -> list[Any]:
        """The MediaItems of key at step (a gallery has several; None: the last step)."""
        from .media.read import items

        return items(self._dir, self.id, key, step)

    def _one(self, key: str, step: int | None, index: int = 0) -> Any:
        found = self.media(key, step)
        if len(found) <= index:
            at = "the last step" if step is None else f"step {step}"
            where = f"{at} (index {index})" if index else at
            raise LookupError(f"run {self.id} has no media {key!r} at {where}")
        return found[index]

    def image(self, key: str, step: int | None = None, index: int = 0, format: str = "pil") -> Any:
        """An image as a PIL image, format="numpy" for an array, "bytes" for the stored PNG/JPEG, or "item" for
        its MediaItem (with .masks, .boxes and .classes)."""
        item = self._one(key, step, index)
        if format == "item":
            return item
        return {"pil": item.pil, "numpy": item.numpy, "bytes": item.bytes}[format]()

    def table(self, key: str, step: int | None = None, pandas: bool = False) -> Any:
        """A table as a list of dicts (pandas=True: a DataFrame); image cells are MediaItems."""
        item = self._one(key, step)
        return item.dataframe() if pandas else item.dicts()

    def histogram(self, key: str, step: int | None = None) -> tuple[list[float], list[float]]:
        """A histogram as (counts, edges)."""
        item = self._one(key, step)
        return item.counts, item.edges

    def plot(self, key: str, step: int | None = None) -> dict[str, Any]:
        """A plot as {"spec": ..., "data": [row dicts]}."""
        item = self._one(key, step)
        return {"spec": item.spec, "data": item.dicts()}


class Api:
    """Read runs from a store (default root as for init)."""

    def __init__(self, dir: str | os.PathLike[str] | None = None):
        self.dir = dir

    def runs(self, project: str | None = None, state: str | None = None,
             tags: Sequence[str] | None = None) -> list[ApiRun]:
        """Runs, newest first, optionally of one project, in one state, carrying all given tags."""
        if project and "/" in project:
            project = project.rsplit("/", 1)[1]
        with Reader(self.dir) as r:
            out = [ApiRun(self.dir, rec) for rec in r.runs(project=project)]
        if state:
            out = [x for x in out if x.state == state]
        if tags:
            out = [x for x in out if set(tags) <= set(x.tags)]
        return out

    def run(self, path: str) -> ApiRun:
        """A run by id, id prefix or name; "project/id" is accepted too. Raises ValueError if none."""
        ref = path.rsplit("/", 1)[-1]
        with Reader(self.dir) as r:
            rec = r.run(ref)
        if rec is None:
            raise ValueError(f"no run {path!r} in {r.store}")
        return ApiRun(self.dir, rec)

    def artifact(self, name: str, type: str | None = None) -> Any:
        """A stored artifact version: "name:v1", "name:alias", "name" (latest) or "project/name:v1".

        Without a project, the one project that holds that name (ValueError if none or several)."""
        from .artifacts import read_artifact

        return read_artifact(self.dir, name, type)

    def artifacts(self, type_name: str | None = None, name: str | None = None,
                  project: str | None = None) -> list[Any]:
        """Stored artifact versions, by project and name, newest version first; optionally of one type,
        name ("project/name" works too) or project."""
        from tracktui.store import artifacts as sart

        from .artifacts import read_versions

        if name and "/" in name:
            project, name = name.rsplit("/", 1)[-2:]
            project = project.rsplit("/", 1)[-1]
        return read_versions(self.dir, lambda r: sart.versions(r, project=project, name=name, type=type_name))

    def projects(self) -> list[str]:
        """Projects that have runs."""
        with Reader(self.dir) as r:
            return r.projects()
