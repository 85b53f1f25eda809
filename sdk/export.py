"""Parquet export: runs' history and system metrics as files that pandas, polars and DuckDB read directly.

    tracktui export --project P --format parquet --out DIR
    tracktui.export.export_parquet(out, project=P)          # the same from Python

Layout: DIR/history/<run>.parquet and DIR/system/<run>.parquet, one file per run (a run without system
samples has no system file). Every row carries the run's columns (run_id, run_name, project, state) and
its config flattened to `config.<key>` columns (nested keys joined with '.'), then the data:
- history: _step, _timestamp, one column per metric key. A key whose values are all numbers is float64
  (NaN, +inf and -inf kept as such) or int64 when all are integers; any other key is a string column
  (text as is, other values as JSON). A step where a key was not logged holds null.
- system: _timestamp, one float64 column per key (null where the store holds none).
Read a whole export with `duckdb.read_parquet('DIR/history/*.parquet', union_by_name=True)` or
`pandas.concat(map(pandas.read_parquet, glob('DIR/history/*.parquet')))`.

File names: the run id where it is a plain name ([A-Za-z0-9_-], at most 64), else 'run-' and a hash of it:
never a path built from a user's string. Needs pyarrow (`pip install 'tracktui[parquet]'`).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


@dataclass
class ExportResult:
    """What an export wrote."""

    runs: int
    files: list[Path]
    history_rows: int
    system_rows: int


def file_stem(run_id: str) -> str:
    """A file name for a run: its id when that is a plain name, else a hash of it."""
    if _PLAIN.fullmatch(run_id):
        return run_id
    return "run-" + hashlib.sha256(run_id.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _flatten(d: dict[str, Any], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(_flatten(v, name + "."))
        else:
            out[name] = v
    return out


def _column(pa: Any, values: list[Any]) -> Any:
    """An Arrow array for one column: int64, float64, bool or string (JSON for what is none of them)."""
    from tracktui.store.codec import dumps

    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.array(values, type=pa.bool_())
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        if all(-(2**63) <= v < 2**63 for v in present):
            return pa.array(values, type=pa.int64())
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pa.array([None if v is None else float(v) for v in values], type=pa.float64(),
                        from_pandas=False)
    return pa.array([None if v is None else v if isinstance(v, str) else dumps(v) for v in values],
                    type=pa.string())


def _run_columns(run: Any) -> dict[str, Any]:
    cols: dict[str, Any] = {"run_id": run.id, "run_name": run.name, "project": run.project, "state": run.state}
    cols.update(_flatten(run.config, "config."))
    return cols


def _table(pa: Any, constants: dict[str, Any], data: dict[str, list[Any]], n: int) -> Any:
    names, arrays = [], []
    for name, value in constants.items():
        names.append(name)
        arrays.append(_column(pa, [value] * n))
    for name, values in data.items():
        if name in constants:  # a metric named like a run column: the metric keeps its name with a mark
            name = f"{name}_metric"
        names.append(name)
        arrays.append(_column(pa, values))
    return pa.Table.from_arrays(arrays, names=names)


def export_parquet(out: str | os.PathLike[str], project: str | None = None, runs: list[str] | None = None,
                   store: Any = None) -> ExportResult:
    """Write the history and system metrics of runs (of a project, or the given run ids; all by default)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as e:
        raise RuntimeError("Parquet export needs pyarrow: pip install 'tracktui[parquet]'") from e
    from tracktui.store import Reader

    out = Path(out)
    files: list[Path] = []
    n_hist = n_sys = 0
    with Reader(store) as r:
        records = r.runs(project=project)
        if runs is not None:
            wanted = set(runs)
            records = [rec for rec in records if rec.id in wanted]
        records.sort(key=lambda rec: rec.created_at)
        for rec in records:
            constants = _run_columns(rec)
            stem = file_stem(rec.id)
            keys = r.keys(rec.id)
            rows = list(r.history_rows(rec.id))
            if rows:
                data: dict[str, list[Any]] = {"_step": [row["_step"] for row in rows],
                                              "_timestamp": [row["_timestamp"] for row in rows]}
                for k in keys:
                    if k not in data:
                        data[k] = [row.get(k) for row in rows]
                files.append(_write(pq, _table(pa, constants, data, len(rows)), out / "history", stem))
                n_hist += len(rows)
            system = r.system(rec.id)
            if system:
                times = sorted({ts for series in system.values() for ts, _ in series})
                at = {ts: i for i, ts in enumerate(times)}
                sdata: dict[str, list[Any]] = {"_timestamp": times}
                for k, series in system.items():
                    col: list[Any] = [None] * len(times)
                    for ts, v in series:
                        col[at[ts]] = v
                    sdata[k] = col
                table = _table(pa, constants, sdata, len(times))
                files.append(_write(pq, table, out / "system", stem))
                n_sys += len(times)
    return ExportResult(len(records), files, n_hist, n_sys)


def _write(pq: Any, table: Any, folder: Path, stem: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.parquet"
    tmp = folder / f".{stem}.parquet.tmp"
    pq.write_table(table, tmp)
    os.replace(tmp, path)  # a reader never sees half a file
    return path

