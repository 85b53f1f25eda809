"""`tracktui import tensorboard DIR`: event files written by tensorboardX's SummaryWriter inside the test."""

from __future__ import annotations

import glob
import math

import pytest
from tracktui.cli.main import main
from tracktui.importers.tensorboard import run_id_for
from tracktui.store.reader import Reader

np = pytest.importorskip("numpy", reason="numpy is not installed (the media extra has it)")
pytest.importorskip("tensorboard", reason="the tensorboard package is not installed (the integrations extra has it)")
tbx = pytest.importorskip("tensorboardX", reason="tensorboardX is not installed (the integrations extra has it)")


def _events(path) -> dict[tuple[str, int], float]:  # type: ignore[no-untyped-def]
    """(tag, step) -> wall time, read back from the event files with tensorboard's loader."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    out = {}
    for f in glob.glob(f"{path}/events.out.tfevents.*"):
        for e in EventFileLoader(f).Load():
            for v in e.summary.value:
                out[(v.tag, e.step)] = e.wall_time
    return out


def _write(d, steps: range, with_media: bool, suffix: str = "") -> None:  # type: ignore[no-untyped-def]
    w = tbx.SummaryWriter(str(d), filename_suffix=suffix)
    for s in steps:
        w.add_scalar("train/loss", [math.nan, math.inf, -math.inf][s] if s < 3 else 1.0 / (s + 1), s)
        w.add_scalar("val/acc", s / 10, s)
        if with_media and s == 1:
            w.add_histogram("weights", np.arange(100, dtype=np.float64), s)
            w.add_image("sample", np.full((3, 4, 6), 200, dtype=np.uint8), s)
            w.add_text("notes", "learning rate *halved*", s)
    w.close()


def _counts(store) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    r = Reader(store)
    runs = r.runs()
    hist = sum(len(v) for run in runs for v in r.history(run.id).values())
    media = sum(len(r._all("SELECT 1 FROM media WHERE run_id = ?", (run.id,))) for run in runs)
    return len(runs), hist, media


def test_tensorboard_round_trip_idempotent_and_incremental(tmp_path, store_dir, capsys):  # type: ignore[no-untyped-def]
    logs = tmp_path / "runs"
    _write(logs / "exp1", range(5), with_media=True)
    _write(logs / "sweep" / "exp2", range(3), with_media=False)
    (logs / "broken").mkdir()
    (logs / "broken" / "events.out.tfevents.123.host").write_bytes(b"not an event file" * 10)

    assert main(["--dir", str(store_dir), "import", "tensorboard", str(logs), "--project", "tb"]) == 1
    io = capsys.readouterr()
    assert "2 runs" in io.out and "1 could not be read" in io.out
    errors = [line for line in io.err.splitlines() if "cannot read" in line]
    assert len(errors) == 1 and "broken" in errors[0]  # one line for the unreadable file, the rest imported
    assert "[3/3] sweep/exp2" in io.err  # the progress line

    r = Reader(store_dir)
    runs = {run.name: run for run in r.runs()}
    assert set(runs) == {"exp1", "sweep/exp2"} and {run.project for run in runs.values()} == {"tb"}
    exp1 = runs["exp1"]
    assert exp1.id == run_id_for(logs / "exp1") and exp1.state == "finished" and exp1.last_step == 4
    hist = r.history(exp1.id)
    loss = [v for _, v in hist["train/loss"]]
    assert math.isnan(loss[0]) and loss[1:3] == [math.inf, -math.inf]
    assert loss[3:] == [float(np.float32(1 / (s + 1))) for s in (3, 4)]  # float32 in the event file
    assert hist["val/acc"] == [(s, pytest.approx(s / 10)) for s in range(5)]
    assert hist["notes/text_summary"] == [(1, "learning rate *halved*")]
    assert hist["weights"][0][1]["_type"] == "histogram" and hist["sample"][0][1]["_type"] == "image"
    media = r._all("SELECT key, step, type FROM media WHERE run_id = ? ORDER BY key", (exp1.id,))
    assert media == [("sample", 1, "image"), ("weights", 1, "histogram")]

    # wall times kept: each step's time is its events' wall time
    walls = _events(logs / "exp1")
    for row in r.history_rows(exp1.id):
        assert row["_timestamp"] == min(t for (tag, s), t in walls.items() if s == row["_step"])
    assert exp1.created_at == min(walls.values())

    before = _counts(store_dir)
    assert main(["--dir", str(store_dir), "import", "tensorboard", str(logs), "--project", "tb"]) == 1
    assert "0 new events" in capsys.readouterr().out
    assert _counts(store_dir) == before  # a second import adds nothing

    # the directory grows: a new event file in exp2 (a resumed writer); only its events come in
    _write(logs / "sweep" / "exp2", range(3, 6), with_media=False, suffix=".resumed")
    assert main(["--dir", str(store_dir), "import", "tensorboard", str(logs), "--project", "tb"]) == 1
    assert "6 new events" in capsys.readouterr().out
    runs_, hist_n, media_n = _counts(store_dir)
    assert (runs_, hist_n, media_n) == (before[0], before[1] + 6, before[2])
    exp2 = Reader(store_dir).run(run_id_for(logs / "sweep" / "exp2"))
    assert exp2 is not None and exp2.last_step == 5
    assert [s for s, _ in Reader(store_dir).history(exp2.id)["val/acc"]] == list(range(6))


def test_an_event_file_that_grows_adds_only_its_new_events(tmp_path, store_dir, capsys):  # type: ignore[no-untyped-def]
    """A live writer appends records to its file: the second import takes only those (TFRecord files
    concatenate, so appending a second writer's records is what a live file looks like, deterministically)."""
    logs, more = tmp_path / "live", tmp_path / "more"
    for d, steps in ((logs, range(10)), (more, range(10, 15))):
        w = tbx.SummaryWriter(str(d))
        for s in steps:
            w.add_scalar("loss", 1.0 / (s + 1), s)
        w.close()
    (live_file,) = logs.iterdir()
    assert main(["--dir", str(store_dir), "import", "tensorboard", str(logs)]) == 0
    assert "10 new events" in capsys.readouterr().out
    with open(live_file, "ab") as f:
        f.write(next(more.iterdir()).read_bytes())
    assert main(["--dir", str(store_dir), "import", "tensorboard", str(logs)]) == 0
    assert "5 new events" in capsys.readouterr().out
    r = Reader(store_dir)
    (run,) = r.runs()
    assert run.project == "tensorboard" and run.name == "live"
    assert [s for s, _ in r.history(run.id)["loss"]] == list(range(15))
    rollup = r._all("SELECT sum(h.n) FROM history_rollup h JOIN metrics m ON m.id = h.metric_id WHERE m.run_id = ?",
                    (run.id,))
    assert rollup == [(15,)]  # the writer's rollup counted each point once


def test_import_of_a_missing_directory_is_one_line(tmp_path, store_dir, capsys):  # type: ignore[no-untyped-def]
    assert main(["--dir", str(store_dir), "import", "tensorboard", str(tmp_path / "nope")]) == 2
    assert "not a directory" in capsys.readouterr().err
