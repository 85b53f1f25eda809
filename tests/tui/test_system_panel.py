"""SystemPanel over seeded stores: a fake two-GPU "system" stream written through the real Writer,
fixed timestamps, capture switched off (the samples are ours, not this machine's)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
import tracktui
from textual.app import App, ComposeResult
from tracktui.store import codec
from tracktui.store.writer import Writer
from tracktui.tui.live import Live
from tracktui.tui.widgets.system_cells import Gauge, GpuBlock, SysChart
from tracktui.tui.widgets.system_panel import SystemPanel
from tracktui.tui.widgets.system_series import SeriesStore, thin, time_ticks

T0 = 1_700_000_000.0  # the run's creation time; samples follow every 2 s
GiB = 1024**3
HOSTILE_NAME = "[/]\x1b]52;c;eA==\x07[bold]NVIDIA H100\x1b[2J"


def gpu_sample(i: int, n: int) -> list[tuple[str, float]]:
    """GPU i at sample n: GPU 1 reports no power and no per-process memory (N/A fields)."""
    p = f"gpu.{i}."
    used = (20 + n + 10 * i) * GiB
    items = [(p + "gpu", 50.0 + n + i), (p + "memory", 30.0 + n),
             (p + "memoryAllocated", 100.0 * used / (80 * GiB)), (p + "memoryAllocatedBytes", float(used)),
             (p + "temp", 40.0 + n + 5 * i)]
    if i == 0:
        items += [(p + "powerWatts", 200.0 + 10 * n), (p + "enforcedPowerLimitWatts", 700.0),
                  (p + "powerPercent", 100.0 * (200.0 + 10 * n) / 700.0),
                  (f"gpu.process.{i}.memoryAllocatedBytes", float(12 * GiB + n * GiB // 2))]
    return items


def host_sample(n: int, disks: tuple[str, ...] = ("/",)) -> list[tuple[str, float]]:
    """CPU, memory, disk and network at sample n (counters cumulative since the start, as captured)."""
    return [("cpu", 60.0 + n), ("proc.cpu.threads", 12.0), ("proc.memory.rssMB", 2048.0 + 64 * n),
            ("proc.memory.percent", 6.25 + 0.2 * n), ("cpu.percent", 40.0 + 2 * n),
            ("memory_percent", 55.0 + n), ("proc.memory.availableMB", 16000.0 - 64 * n),
            ("disk.in", 5.0 * n), ("disk.out", 12.0 * n), ("network.sent", 1.5e6 * n),
            ("network.recv", 4.0e6 * n)] + [kv for j, d in enumerate(disks) for kv in (
                (f"disk.{d}.usagePercent", 71.0 - 50 * j), (f"disk.{d}.usageGB", 330.0 + 100 * j))]


def write_samples(root: Path, run_id: str, start: int, stop: int, gpus: int,
                  disks: tuple[str, ...] = ("/",)) -> None:
    """Samples start..stop-1 at T0 + 2 s each, through the real Writer."""
    w = Writer.for_root(root)
    for n in range(start, stop):
        items = host_sample(n, disks) + [kv for i in range(gpus) for kv in gpu_sample(i, n)]
        w.put(("system", run_id, T0 + 2.0 * (n + 1), items))
    assert w.flush(10)


def seed(root: Path, gpus: int = 2, gpu_name: str = "NVIDIA H100 80GB HBM3", samples: int = 30,
         disks: tuple[str, ...] = ("/",), gpu_note: str = "no NVML library (ModuleNotFoundError)") -> str:
    """One finished run with `samples` system samples, `gpus` fake GPUs and their facts in the metadata."""
    run = tracktui.init(dir=root, project="sys", id=f"sys{gpus}", name="gpu-run",
                        settings={"capture": False})
    run_id = run.id
    md: dict[str, Any] = {"host": "host-1"}
    if gpus:
        md.update({"gpu": gpu_name, "gpu_count": gpus,
                   "gpus": [{"name": gpu_name if i == 0 else "NVIDIA H100", "memory_total": 80 * GiB}
                            for i in range(gpus)]})
    else:
        md.update({"gpu_count": 0, "gpu_note": gpu_note})
    w = Writer.for_root(root)
    w.put(("run", run_id, {"metadata": codec.dumps(md)}))
    write_samples(root, run_id, 0, samples, gpus, disks)
    run.finish()
    conn = sqlite3.connect(root / "tracktui.db")
    conn.execute("UPDATE runs SET created_at=?, updated_at=?, heartbeat_at=?, finished_at=? WHERE id=?",
                 (T0, T0 + 600, T0 + 600, T0 + 600, run_id))
    conn.commit()
    conn.close()
    return run_id


class PanelApp(App[None]):
    """The smallest host of a SystemPanel."""

    def __init__(self, root: Path, run_id: str, interval: float | None = None):
        super().__init__()
        self.root, self.run_id, self.interval = root, run_id, interval

    def compose(self) -> ComposeResult:
        yield SystemPanel(Live(self, self.root, interval=self.interval), self.run_id)


async def wait_for(pilot: Any, cond: Any, timeout: float = 5.0) -> None:
    """Let the app run until cond() holds."""
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.05)


def gauge(app: App[None], name: str) -> Gauge:
    return app.query_one(f"#gauge-{name}", Gauge)


def gauge_text(app: App[None], name: str) -> str | None:
    """The text of a gauge, or None while it is not mounted."""
    found = app.query(f"#gauge-{name}")
    return found.first(Gauge).text if found else None


@pytest.fixture
def gpu_store(tmp_path: Path) -> tuple[Path, str]:
    root = tmp_path / "store"
    return root, seed(root)


async def test_panels_gauges_and_na(gpu_store: tuple[Path, str]) -> None:
    root, run_id = gpu_store
    app = PanelApp(root, run_id)
    async with app.run_test(size=(100, 40)) as pilot:
        panel = app.query_one(SystemPanel)
        await wait_for(pilot, lambda: panel.polls >= 1)
        await pilot.pause()
        assert sorted(panel.gpu_blocks) == [0, 1]
        assert {"cpu", "memory", "disk", "network"} <= set(panel.cells)
        # last sample n=29: host and GPU gauges show the current values
        assert gauge(app, "cpu-process").text == "89.0 %"
        assert gauge(app, "cpu-machine").text == "98.0 %" and gauge(app, "cpu-machine").fraction == 0.98
        assert gauge(app, "mem-process").text == "3.8 GiB"
        assert gauge(app, "disk-usage-0").text == "71 % 330 GB"
        assert gauge(app, "gpu0-util").text == "79.0 %" and gauge(app, "gpu0-util").fraction == 0.79
        assert gauge(app, "gpu0-temp").text == "69 °C"
        assert gauge(app, "gpu0-power").text == "490 W / 700"
        assert gauge(app, "gpu0-own").text == "26.5 GiB"
        assert gauge(app, "gpu0-own").fraction == pytest.approx(26.5 / 80)
        assert gauge(app, "gpu0-own").has_class("-highlight")
        # GPU 1 has no power and no per-process memory: N/A, never 0
        assert gauge(app, "gpu1-power").text == "N/A" and gauge(app, "gpu1-power").fraction is None
        assert gauge(app, "gpu1-own").text == "N/A"
        assert gauge(app, "gpu1-temp").text == "74 °C"
        # the charts drew every sample (30 per line) and the power chart of GPU 1 has nothing to draw
        assert app.query_one("#sys-chart-cpu", SysChart).drawn_points == 60
        assert app.query_one("#sys-chart-gpu1-power", SysChart).drawn_points == 0
        blocks = list(app.query(GpuBlock))
        assert str(blocks[0].border_title) == "GPU 0 · NVIDIA H100 80GB HBM3 · 80.0 GiB"
        # usable at 80x24: the panel scrolls to its last GPU block
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert panel.max_scroll_y > 0
        panel.scroll_end(animate=False)
        await pilot.pause()
        assert blocks[1].region.intersection(panel.region).area > 0


async def test_no_gpu_metrics_no_gpu_panels(tmp_path: Path) -> None:
    root = tmp_path / "store"
    run_id = seed(root, gpus=0)
    app = PanelApp(root, run_id)
    async with app.run_test(size=(100, 40)) as pilot:
        panel = app.query_one(SystemPanel)
        await wait_for(pilot, lambda: panel.polls >= 1)
        await pilot.pause()
        assert not panel.gpu_blocks and not list(app.query(GpuBlock))
        assert not app.query_one("#sys-gpus").display
        assert gauge(app, "cpu-process").text == "89.0 %"
        status = str(app.query_one("#sys-status").render())
        assert "no GPU metrics (no NVML library" in status


async def test_empty_run_says_so(tmp_path: Path) -> None:
    root = tmp_path / "store"
    run_id = seed(root, gpus=0, samples=0)
    app = PanelApp(root, run_id)
    async with app.run_test(size=(100, 40)) as pilot:
        panel = app.query_one(SystemPanel)
        await wait_for(pilot, lambda: panel.polls >= 1)
        assert app.query_one("#sys-empty").display and not app.query_one("#sys-body").display
        assert not panel.cells and str(app.query_one("#sys-status").render()) == "0 samples held"


async def test_live_update_reads_only_new_samples(tmp_path: Path) -> None:
    root = tmp_path / "store"
    run_id = seed(root, gpus=1, samples=5)
    app = PanelApp(root, run_id, interval=0.1)
    async with app.run_test(size=(100, 40)) as pilot:
        panel = app.query_one(SystemPanel)
        await wait_for(pilot, lambda: gauge_text(app, "gpu0-temp") == "44 °C")
        assert len(panel.store.points["cpu"]) == 5
        assert gauge_text(app, "disk-usage-1") is None
        # three more samples; a second GPU and a second disk appear
        write_samples(root, run_id, 5, 8, gpus=2, disks=("/", "/data"))
        await wait_for(pilot, lambda: gauge_text(app, "gpu0-temp") == "47 °C")
        await wait_for(pilot, lambda: 1 in panel.gpu_blocks)
        await pilot.pause()
        assert len(panel.store.points["cpu"]) == 8  # appended, not re-read: no duplicates
        assert [t for t, _ in panel.store.points["cpu"]] == [T0 + 2.0 * (n + 1) for n in range(8)]
        await wait_for(pilot, lambda: gauge_text(app, "gpu1-temp") == "52 °C")
        await wait_for(pilot, lambda: gauge_text(app, "disk-usage-1") == "21 % 430 GB")
        assert gauge(app, "disk-usage-0").text == "71 % 330 GB"
        assert app.query_one("#sys-chart-cpu", SysChart).drawn_points == 16


async def test_disk_usage_na_until_a_path_is_sampled(tmp_path: Path) -> None:
    root = tmp_path / "store"
    run_id = seed(root, gpus=0, samples=3, disks=())
    app = PanelApp(root, run_id, interval=0.1)
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, lambda: gauge_text(app, "disk-usage-none") == "N/A")
        assert gauge(app, "disk-in").text.startswith("10.0 MiB")  # I/O is there, usage is not
        write_samples(root, run_id, 3, 4, gpus=0, disks=("/[b]x\x1b[2J",))
        await wait_for(pilot, lambda: gauge_text(app, "disk-usage-0") == "71 % 330 GB")
        await pilot.pause()
        assert gauge_text(app, "disk-usage-none") is None
        assert gauge(app, "disk-usage-0").spec.label == "/[b]x\N{REPLACEMENT CHARACTER}"


async def test_hostile_gpu_name_shown_safely(tmp_path: Path) -> None:
    root = tmp_path / "store"
    run_id = seed(root, gpus=1, gpu_name=HOSTILE_NAME)
    app = PanelApp(root, run_id)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one(SystemPanel)
        await wait_for(pilot, lambda: panel.polls >= 1)
        await pilot.pause()
        title = str(app.query_one(GpuBlock).border_title)
        assert "[/]" in title and "[bold]NVIDIA H100" in title  # shown literally, not parsed as markup
        assert "\x1b" not in title and "\x07" not in title and "\N{REPLACEMENT CHARACTER}" in title
        svg = app.export_screenshot()
        assert "[/]" in svg and "\x1b" not in svg and "\x07" not in svg


async def test_hostile_gpu_note_shown_safely(tmp_path: Path) -> None:
    root = tmp_path / "store"
    run_id = seed(root, gpus=0, gpu_note="[@click=app.quit]x[/]\x9d0;TITLE\x9c\x1b[2J")
    app = PanelApp(root, run_id)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one(SystemPanel)
        await wait_for(pilot, lambda: panel.polls >= 1)
        await pilot.pause()
        status = str(app.query_one("#sys-status").render())
        assert "[@click=app.quit]x[/]" in status
        assert not any(c in status for c in "\x1b\x9d\x9c")
        await pilot.click("#sys-status")
        assert app.is_running


async def test_paused_app_defers_the_poll(gpu_store: tuple[Path, str]) -> None:
    root, run_id = gpu_store
    app = PanelApp(root, run_id)
    async with app.run_test(size=(100, 40)) as pilot:
        panel = app.query_one(SystemPanel)
        panel.feed.live.pause()  # the first read, started at mount, may still be in flight: let it end
        await wait_for(pilot, lambda: not panel.feed.busy)
        await pilot.pause(0.2)
        assert panel.polls <= 1
        before = panel.feed.live.reads["system"]
        panel.feed.poll_now()  # a read asked for while paused waits
        await pilot.pause(0.2)
        assert panel.feed.live.reads["system"] == before and panel.feed.sleeping
        panel.feed.live.resume()
        await wait_for(pilot, lambda: panel.polls >= 1 and panel.feed.live.reads["system"] > before)
        await pilot.press("tab")  # focus the panel: G and g scroll it
        await pilot.press("G")
        await pilot.pause()
        assert panel.scroll_y == panel.max_scroll_y > 0
        await pilot.press("g")
        await pilot.pause()
        assert panel.scroll_y == 0


async def test_run_screen_system_tab(gpu_store: tuple[Path, str]) -> None:
    from tracktui.tui.app import make_app
    from tracktui.tui.screens.run import RunScreen
    from tracktui.tui.screens.runs import RunsScreen

    root, run_id = gpu_store
    app = make_app(store_dir=root, poll_interval=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.loaded)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen))
        await pilot.press("2")
        panel = app.screen.query_one(SystemPanel)
        await wait_for(pilot, lambda: panel.polls >= 1 and len(panel.gpu_blocks) == 2)
        await pilot.pause()
        assert panel.run_id == run_id and panel.has_focus and panel.region.area > 0
        assert panel.query_one("#gauge-gpu0-own", Gauge).text == "26.5 GiB"


def test_series_store_caps_and_cursor() -> None:
    s = SeriesStore(cap=100)
    assert s.add("k", [(float(t), float(t)) for t in range(1, 151)])
    assert not s.add("k", [(150.0, 1.0), (3.0, 1.0)])  # nothing newer than the cursor
    assert len(s.points["k"]) <= 100 and s.points["k"][-1] == (150.0, 150.0) and s.last_ts["k"] == 150.0
    assert s.latest("k") == 150.0 and s.latest("missing") is None
    s.add("n", [(1.0, None)])
    assert s.latest("n") is None  # a missing reading is N/A, not 0
    pts = [(float(t), 0.0) for t in range(1000)]
    pts[500] = (500.0, 99.0)
    thinned = thin(pts, 100)
    assert len(thinned) <= 120 and (500.0, 99.0) in thinned  # a spike survives downsampling
    assert thinned[0] == (0.0, 0.0) and thinned[-1] == (999.0, 0.0)  # and the newest sample: the cursor


def test_time_ticks_are_relative_and_round() -> None:
    assert time_ticks(0, 58, 4) == ([0.0, 15.0, 30.0, 45.0], ["0s", "15s", "30s", "45s"])
    ticks, labels = time_ticks(0, 3 * 3600, 4)
    assert labels == ["0m", "1h", "2h", "3h"] or labels[-1] == "3h"


def test_snapshot_two_gpus(gpu_store: tuple[Path, str], snap_compare: Any) -> None:
    root, run_id = gpu_store

    async def loaded(pilot: Any) -> None:
        panel = pilot.app.query_one(SystemPanel)
        await wait_for(pilot, lambda: panel.polls >= 1)
        await pilot.pause(0.2)
        await pilot.pause()

    assert snap_compare(PanelApp(root, run_id), terminal_size=(100, 40), run_before=loaded)
