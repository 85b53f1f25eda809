"""wandb run folders (offline-run-* and synced run-*) into runs: history, summary, config, console, system.

The `.wandb` file is a LevelDB-style log of protobuf records; the records are parsed with the wandb
package's own definitions (wandb.proto.wandb_internal_pb2.Record), the log framing (a 7-byte file header,
32 KiB blocks, records split FULL/FIRST/MIDDLE/LAST, each with a CRC-32) here, checked record by record.
- run: name, project, notes, tags, config (without wandb's own `_wandb` entry), start time;
- history: each record is one step (`_step`, 0 when absent), stamped with its `_timestamp`; nested keys
  joined with '.'; wandb's own `_` keys left out; media references kept as their JSON text;
- summary, config updates, console output (stdout and stderr lines with their times), system metrics
  (stats records, time-keyed), the exit code (state finished, or failed for a non-zero code);
- files/requirements.txt and files/diff.patch attached to the run.
Run id: 'wandb-' and wandb's run id. The run's metadata["wandb"]["records"] counts the records taken from
its .wandb file (updated after they are committed): a second import skips them, a grown file adds only its
new records. Media files under files/media are not imported.
"""

from __future__ import annotations

import json
import re
import struct
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .tensorboard import ImportResult

_HEADER = struct.Struct("<4sHB")
_RECORD = struct.Struct("<IHB")
_BLOCK = 32768
_PLAIN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def run_dirs(root: Path) -> list[Path]:
    """Folders under root (root included) named offline-run-* or run-* that hold a .wandb file."""
    out = []
    for d in sorted({p.parent for p in root.rglob("*.wandb")}):
        if d.name.startswith(("offline-run-", "run-")):
            out.append(d)
    return out


def records(path: Path) -> Iterator[bytes]:
    """The records of a .wandb file, in order. ValueError for a file that is not one, or a damaged record."""
    data = path.read_bytes()
    if len(data) < _HEADER.size:
        raise ValueError("not a wandb transaction log (too short)")
    ident, magic, _version = _HEADER.unpack_from(data)
    if ident != b":W&B" or magic != 0xBEE1:
        raise ValueError("not a wandb transaction log (no :W&B header)")
    pos, pending = _HEADER.size, b""
    while pos + _RECORD.size <= len(data):
        left = _BLOCK - pos % _BLOCK
        if left < _RECORD.size:  # the rest of a block too short for a header is padding
            pos += left
            continue
        crc, length, kind = _RECORD.unpack_from(data, pos)
        if crc == 0 and length == 0 and kind == 0:
            pos += left
            continue
        chunk = data[pos + _RECORD.size:pos + _RECORD.size + length]
        if len(chunk) < length:
            return  # a record still being written: the next import takes it
        if zlib.crc32(chunk, zlib.crc32(bytes([kind]))) & 0xFFFFFFFF != crc:
            raise ValueError(f"a damaged record at byte {pos}")
        pos += _RECORD.size + length
        if kind == 1:
            yield chunk
        elif kind == 2:
            pending = chunk
        elif kind == 3:
            pending += chunk
        elif kind == 4:
            yield pending + chunk
            pending = b""


def _key(item: Any) -> str:
    return ".".join(item.nested_key) if item.nested_key else item.key


def _value(item: Any) -> Any:
    return json.loads(item.value_json) if item.value_json else None


def _ts(stamp: Any) -> float:
    return stamp.seconds + stamp.nanos / 1e9


def import_wandb(root: str | Any, project: str | None = None, store: Any = None,
                 progress: Callable[[str], None] | None = None) -> ImportResult:
    """Import every wandb run folder under root (see the module's docstring)."""
    try:
        from wandb.proto import wandb_internal_pb2 as pb
    except ImportError as e:
        raise RuntimeError("importing wandb runs needs the wandb package: pip install wandb") from e
    from tracktui import values
    from tracktui.store import Reader
    from tracktui.store.codec import dumps
    from tracktui.store.records import FileRecord, History, LogLine, System
    from tracktui.store.writer import Writer

    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a directory")
    res = ImportResult()
    dirs = run_dirs(root)
    w = Writer.for_store(store)
    for i, d in enumerate(dirs, 1):
        (log_file,) = sorted(d.glob("*.wandb"))[-1:]
        try:
            recs = list(records(log_file))
        except (OSError, ValueError) as e:
            msg = f"{log_file}: {type(e).__name__}: {e}"
            res.errors.append(msg)
            print(f"tracktui: import: cannot read {msg}", file=sys.stderr)
            continue
        run_info: dict[str, Any] = {}
        config: dict[str, Any] = {}
        summary: dict[str, Any] = {}
        parsed = []
        for raw in recs:
            r = pb.Record()
            try:
                r.ParseFromString(raw)
            except Exception:  # noqa: BLE001 - a record this wandb does not know: skip it
                parsed.append(None)
                continue
            parsed.append(r)
            if r.WhichOneof("record_type") == "run":
                run_info = {"id": r.run.run_id, "name": r.run.display_name, "project": r.run.project,
                            "notes": r.run.notes, "tags": list(r.run.tags), "start": _ts(r.run.start_time)}
        wid = run_info.get("id") or d.name.rsplit("-", 1)[-1]
        rid = "wandb-" + (wid if _PLAIN.fullmatch(wid) else f"{zlib.crc32(wid.encode()):08x}")
        with Reader(store) as rd:
            old = rd.run(rid) if rd.exists else None
        old = old if old is not None and old.id == rid else None
        meta = dict(old.metadata) if old else {}
        wb = dict(meta.get("wandb") or {})
        skip = int(wb.get("records", 0)) if wb.get("file") == log_file.name else 0
        if skip > len(parsed):
            skip = 0  # the file was written anew
        config = dict(old.config) if old else {}
        summary = dict(old.summary) if old else {}
        last_step = old.last_step if old and old.last_step is not None else -1
        exit_code = old.exit_code if old else None
        first_ts = old.created_at if old else run_info.get("start")
        last_ts = old.finished_at if old else None
        out_buf: dict[str, tuple[float, str]] = {}
        new_steps = 0
        max_step = last_step
        for r in parsed[skip:]:
            if r is None:
                continue
            kind = r.WhichOneof("record_type")
            res.events += 1
            if kind == "run":
                for item in r.run.config.update:
                    if item.key != "_wandb":
                        config[item.key] = _value(item)
            elif kind == "config":
                for item in r.config.update:
                    if item.key != "_wandb":
                        config[item.key] = _value(item)
                for item in r.config.remove:
                    config.pop(item.key, None)
            elif kind == "history":
                row = {_key(item): _value(item) for item in r.history.item}
                step = int(row.get("_step") or 0)
                ts = float(row.get("_timestamp") or time.time())
                items = []
                for k, v in row.items():
                    if k.startswith("_"):
                        continue
                    if not isinstance(v, (int, float, str, bool)) and v is not None:
                        v = json.dumps(v)  # media and other objects: their reference as text
                    items.append((k, *values.encode(k, v)))
                if items:
                    w.put(History(rid, step, ts, items, step <= last_step))
                    res.values += len(items)
                    new_steps += 1
                    max_step = max(max_step, step)
                first_ts = ts if first_ts is None else min(first_ts, ts)
                last_ts = ts if last_ts is None else max(last_ts, ts)
            elif kind == "summary":
                for item in r.summary.update:
                    k = _key(item)
                    if not k.startswith("_"):
                        summary[k] = _value(item)
                for item in r.summary.remove:
                    summary.pop(_key(item), None)
            elif kind == "output_raw":
                stream = "stderr" if r.output_raw.output_type == pb.OutputRawRecord.STDERR else "stdout"
                ts0, text = out_buf.get(stream, (_ts(r.output_raw.timestamp), ""))
                text += r.output_raw.line
                *lines, rest = text.split("\n")
                for line in lines:
                    w.put(LogLine(rid, ts0, stream, line.rstrip("\r")))
                out_buf[stream] = (_ts(r.output_raw.timestamp), rest)
                if not rest:
                    del out_buf[stream]
            elif kind == "stats":
                ts = _ts(r.stats.timestamp)
                samples = []
                for item in r.stats.item:
                    v = _value(item)
                    if isinstance(v, (int, float)) and not isinstance(v, bool):
                        samples.append((item.key, float(v)))
                if samples:
                    w.put(System(rid, ts, samples))
            elif kind == "exit":
                exit_code = r.exit.exit_code
        for stream, (ts0, rest) in out_buf.items():  # a last line without its newline
            w.put(LogLine(rid, ts0, stream, rest))
        for name in ("requirements.txt", "diff.patch"):
            f = d / "files" / name
            if f.is_file():
                w.put(FileRecord(rid, name, f.read_bytes()))
        w.flush()
        wb.update(file=log_file.name, records=len(parsed), dir=str(d.resolve()))
        meta["wandb"] = wb
        fields: dict[str, Any] = {
            "id": rid, "project": old.project if old else (project or run_info.get("project") or "wandb"),
            "name": run_info.get("name") or wid, "notes": run_info.get("notes") or None,
            "tags": dumps(run_info.get("tags") or []), "config": dumps(config), "summary": dumps(summary),
            "metadata": dumps(meta), "state": "failed" if exit_code else "finished", "exit_code": exit_code,
            "created_at": first_ts if first_ts is not None else time.time(),
        }
        if last_ts is not None:
            fields.update(finished_at=last_ts, heartbeat_at=last_ts)
        if max_step >= 0:
            fields["last_step"] = max_step
        w.save_run(fields)
        res.runs += 1
        if progress is not None:
            progress(f"[{i}/{len(dirs)}] {fields['name']}: {new_steps} new steps")
    w.flush()
    return res
