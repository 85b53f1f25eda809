"""What the app shows of cluster jobs: the runs filter's job and host fields, the Overview's job and ranks,
and the System tab's block per node (samples written through the real Writer under several hosts)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import tracktui
from rich.console import Console
from textual.app import App, ComposeResult
from tracktui.store import RunRecord
from tracktui.store.procinfo import hostname
from tracktui.store.writer import Writer
from tracktui.tui.live import Live
from tracktui.tui.query import parse
from tracktui.tui.widgets.overview import info_rows
from tracktui.tui.widgets.system_panel import SystemPanel

JOB_MD = {"job": {"scheduler": "slurm", "id": "4242", "cluster": "alps", "partition": "a100", "restart_count": 1,
                  "nodelist": "gpu[01-02]", "hosts": ["gpu01", "gpu02"]},
          "ranks": {"launcher": "torchrun", "rank": 0, "local_rank": 0, "world_size": 8, "local_world_size": 4}}


def _run(rid: str, host: str | None, md: dict[str, Any]) -> RunRecord:
    return RunRecord(id=rid, project="p", name=rid, state="finished", created_at=1.0, updated_at=2.0, host=host,
                     metadata=md)


def test_filter_by_job_and_by_any_host_of_the_job() -> None:
    job_run, lone, bare = _run("j", "gpu01", JOB_MD), _run("l", "laptop", {}), _run("b", None, {})
    runs = [job_run, lone, bare]

    def ids(q: str) -> list[str]:
        query = parse(q)
        return [r.id for r in runs if query(r)]

    assert ids("job=4242") == ["j"]
    assert ids("job!=4242") == ["l", "b"]
    assert ids("host=gpu02") == ["j"]  # a node of the job that is not the run's own host
    assert ids("host=laptop") == ["l"]
    assert ids("host~^gpu0[12]$") == ["j"]
    assert ids("host!=gpu02") == ["l", "b"]


def _plain(v: Any) -> str:
    console = Console(width=200, record=True)
    console.print(v)
    return console.export_text().strip()


def test_overview_shows_job_nodes_and_ranks() -> None:
    rows = {k: _plain(v) for k, v in info_rows(_run("j", "gpu01", JOB_MD), now=3.0)}
    assert rows["host"] == "gpu01"
    assert rows["job"] == "slurm 4242 on alps, partition a100, restart 1"
    assert rows["nodes"] == "gpu[01-02]"
    assert rows["ranks"] == "rank 0 of world size 8, 4 per node (torchrun)"
    assert "job" not in dict(info_rows(_run("l", "laptop", {})))


class PanelApp(App[None]):
    def __init__(self, root: Path, run_id: str):
        super().__init__()
        self.root, self.run_id = root, run_id

    def compose(self) -> ComposeResult:
        yield SystemPanel(Live(self, self.root, interval=0.2), self.run_id)


async def test_system_tab_has_a_block_per_node(tmp_path: Path) -> None:
    root = tmp_path / "store"
    run = tracktui.init(dir=root, project="p", settings={"capture": False})
    w = Writer.for_root(root)
    t0 = time.time()
    for i in range(5):
        w.put(("system", run.id, t0 + i, [("cpu.percent", 10.0 + i), ("memory_percent", 20.0)], hostname()))
        w.put(("system", run.id, t0 + i, [("cpu.percent", 60.0 + i), ("memory_percent", 30.0),
                                          ("gpu.0.gpu", 99.0), ("gpu.1.gpu", 98.0)], "node-b"))
    run.finish()
    assert w.flush(10)
    app = PanelApp(root, run.id)
    async with app.run_test(size=(120, 60)) as pilot:
        top = app.query_one(SystemPanel)
        end = time.monotonic() + 20
        while not (len(app.query(SystemPanel)) == 2 and all(p.polls for p in app.query(SystemPanel))):
            assert time.monotonic() < end, "the node panel did not appear"
            await pilot.pause(0.05)
        node = [p for p in app.query(SystemPanel) if p is not top][0]
        assert node.host == "node-b" and top.host is None
        assert top.hosts == [hostname(), "node-b"]
        assert top.store.latest("cpu.percent") == 14.0 and not top.gpu_blocks
        assert node.store.latest("cpu.percent") == 64.0 and sorted(node.gpu_blocks) == [0, 1]
        await pilot.pause(0.3)
        status = str(node.query_one("#sys-status").render())
        assert status.startswith("node node-b")
        assert str(top.query_one("#sys-status").render()).startswith(f"node {hostname()}")


async def test_compare_system_tab_has_a_block_per_node(seeded: Path) -> None:
    """Each run's own host overlaid under the plain keys; each further node of a multi-node run in a block of its
    own, holding every compared run that sampled that host."""
    from tracktui.tui.app import make_app
    from tracktui.tui.chart_data import node_key
    from tracktui.tui.widgets.compare_charts import CompareCharts

    from .conftest import FIXED, NOW
    from .test_compare import _compare

    w = Writer.for_root(seeded)
    for rid, nodes in (("run3", ["node-b", "node-c"]), ("run2", ["node-b"])):
        t0 = FIXED + 60 * int(rid[-1])
        for n in range(5):
            w.put(("system", rid, t0 + n, [("cpu.percent", 10.0 + n)]))  # the run's own host (host-1)
            for j, node in enumerate(nodes):
                w.put(("system", rid, t0 + n, [("cpu.percent", 50.0 + 10 * j + n), ("gpu.0.gpu", 90.0)], node))
    assert w.flush(10)
    app = make_app(store_dir=seeded, poll_interval=None, fixed_now=NOW)
    async with app.run_test(size=(120, 60)) as pilot:
        screen = await _compare(pilot, ("down", "space", "up", "c"))
        await pilot.press("4")
        system = screen.query_one("#compare-system", CompareCharts)
        end = time.monotonic() + 10
        while not system.loaded:
            assert time.monotonic() < end, "the System tab did not load"
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        b, c = node_key("node-b", "cpu.percent"), node_key("node-c", "cpu.percent")
        assert set(system.charts) == {"cpu.percent", b, c, node_key("node-b", "gpu.0.gpu"),
                                      node_key("node-c", "gpu.0.gpu")}
        assert set(system.charts["cpu.percent"].series) == {"run3", "run2"}
        assert set(system.charts[b].series) == {"run3", "run2"} and set(system.charts[c].series) == {"run3"}
        assert system.charts[c].series["run3"].y == [60.0, 61.0, 62.0, 63.0, 64.0]
        assert system.charts["cpu.percent"].series["run2"].y == [10.0, 11.0, 12.0, 13.0, 14.0]
        headings = [str(s.render()).strip("─ ") for s in system.query(".section")]
        assert headings == ["metrics", "node node-b", "node node-c"]  # own hosts first, then a block per node
