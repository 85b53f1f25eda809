"""Parquet export: read back with DuckDB and pandas, every value compared, NaN and infinities included."""

from __future__ import annotations

import glob
import math
import time

import pytest
import tracktui
from tracktui.cli.main import main
from tracktui.export import file_stem
from tracktui.store.reader import Reader
from tracktui.store.writer import Writer

pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed (pip install 'tracktui[parquet]')")
duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed (the test extra has it)")
pd = pytest.importorskip("pandas", reason="pandas is not installed (the test extra has it)")

SPECIAL = [math.nan, math.inf, -math.inf, -0.0, 1e308, 5e-324]


def _same(a, b) -> bool:  # type: ignore[no-untyped-def]
    """Equal values of the same type; NaN equals NaN; -0.0 is not 0.0; None only equals None."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float):
        return isinstance(b, float) and (math.isnan(a) and math.isnan(b) or a == b and
                                         math.copysign(1, a) == math.copysign(1, b))
    return type(a) is type(b) and a == b


@pytest.fixture
def runs(store_dir):  # type: ignore[no-untyped-def]
    a = tracktui.init(dir=store_dir, project="llm", name="first", config={"lr": 0.1, "model": {"depth": 4},
                      "opt": "adam", "layers": [1, 2]}, settings={"capture": False})
    for i in range(40):
        row = {"loss": SPECIAL[(i // 3) % len(SPECIAL)] if i % 3 == 0 else 1.0 / (i + 1), "epoch": i // 10}
        if i % 2:
            row["note"] = f"step {i} \u00e9"
        if i == 7:
            row["mixed"] = 3
        if i == 9:
            row["mixed"] = "three"
        a.log(row)
    a.finish()
    b = tracktui.init(dir=store_dir, project="llm", id="../../evil id", name="second", config={"lr": 0.01},
                      settings={"capture": False})
    b.log({"loss": math.inf, "acc": 0.5})
    b.log({"acc": math.nan})
    b.finish()
    w = Writer.for_root(store_dir)
    t0 = time.time()
    for k in range(5):
        w.put(("system", a.id, t0 + k, [("cpu", 10.0 * k), ("gpu.0.temp", None if k == 2 else 50.0 + k)]))
    w.flush()
    c = tracktui.init(dir=store_dir, project="other", name="third", settings={"capture": False})
    c.log({"x": 1})
    c.finish()
    return a, b


def test_parquet_round_trip_with_duckdb_and_pandas(store_dir, runs, tmp_path, capsys):  # type: ignore[no-untyped-def]
    a, b = runs
    out = tmp_path / "out"
    assert main(["--dir", str(store_dir), "export", "--project", "llm", "--format", "parquet", "--out", str(out)]) == 0
    assert "2 runs" in capsys.readouterr().out
    files = sorted(p.name for p in (out / "history").iterdir())
    assert files == sorted([f"{a.id}.parquet", f"{file_stem(b.id)}.parquet"]) and "/" not in file_stem(b.id)
    assert [p.name for p in (out / "system").iterdir()] == [f"{a.id}.parquet"]

    reader = Reader(store_dir)
    con = duckdb.connect()
    for run in (a, b):
        expected = list(reader.history_rows(run.id))
        keys = reader.keys(run.id)
        path = out / "history" / f"{file_stem(run.id)}.parquet"
        got = con.execute(f"SELECT * FROM read_parquet('{path}') ORDER BY _step").fetchall()
        cols = [d[0] for d in con.description]
        assert len(got) == len(expected) and set(keys) <= set(cols)
        for exp, row in zip(expected, got, strict=True):
            row = dict(zip(cols, row, strict=True))
            assert row["run_id"] == run.id and row["project"] == "llm" and row["_step"] == exp["_step"]
            assert row["_timestamp"] == exp["_timestamp"]
            for k in keys:
                v = exp.get(k)
                if k == "mixed" and v is not None:  # a key of numbers and text is a text column
                    v = v if isinstance(v, str) else str(v)
                assert _same(v, row[k]), (run.id, exp["_step"], k, v, row[k])
    row = con.execute(f"SELECT \"config.lr\", \"config.model.depth\", \"config.opt\", \"config.layers\" FROM "
                      f"read_parquet('{out}/history/{a.id}.parquet') LIMIT 1").fetchone()
    assert row == (0.1, 4, "adam", "[1, 2]")

    # every infinity and NaN, through pandas too
    df = pd.concat(pd.read_parquet(p) for p in glob.glob(f"{out}/history/*.parquet"))
    losses = df[df.run_id == a.id].sort_values("_step")["loss"].tolist()
    exp = [r.get("loss") for r in reader.history_rows(a.id)]
    assert all(_same(x, y) for x, y in zip(exp, losses, strict=True)) and len(losses) == len(exp)
    assert sum(math.isnan(x) for x in losses) == sum(isinstance(x, float) and math.isnan(x) for x in exp) > 0
    assert math.inf in losses and -math.inf in losses
    assert df["run_name"].nunique() == 2 and df[df.run_id == b.id]["config.lr"].tolist() == [0.01, 0.01]

    # the whole export as one dataset, columns unified by name
    n = con.execute(f"SELECT count(*) FROM read_parquet('{out}/history/*.parquet', union_by_name=true)").fetchone()
    assert n == (42,)

    sysrows = con.execute(f"SELECT _timestamp, cpu, \"gpu.0.temp\" FROM read_parquet('{out}/system/{a.id}.parquet') "
                          "ORDER BY _timestamp").fetchall()
    expected_sys = reader.system(a.id)
    assert [(ts, v) for ts, v, _ in sysrows] == expected_sys["cpu"]
    assert [(ts, v) for ts, _, v in sysrows] == expected_sys["gpu.0.temp"] and sysrows[2][2] is None


def test_parquet_export_of_one_run_and_errors(store_dir, runs, tmp_path, capsys):  # type: ignore[no-untyped-def]
    a, _ = runs
    out = tmp_path / "one"
    assert main(["--dir", str(store_dir), "export", "first", "--format", "parquet", "--out", str(out)]) == 0
    assert [p.name for p in (out / "history").iterdir()] == [f"{a.id}.parquet"]
    assert main(["--dir", str(store_dir), "export", "--format", "parquet"]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["--dir", str(store_dir), "export"]) == 2
    assert main(["--dir", str(store_dir), "export", "nope", "--format", "parquet", "--out", str(out)]) == 1
