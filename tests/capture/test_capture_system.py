"""System and GPU metrics: wandb's keys, a fake NVML with several devices, no GPU, the schedule."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import fake_nvml
import pytest
import tracktui
from capture_helpers import only_run, run_python
from tracktui.capture.gpu import Nvml
from tracktui.capture.system import Sampler
from tracktui.store import Reader

OFF = {"git": False, "requirements": False, "console": "off"}
MACHINE_KEYS = {"cpu", "cpu.percent", "proc.cpu.threads", "proc.memory.rssMB", "proc.memory.percent",
                "memory_percent", "proc.memory.availableMB", "disk./.usagePercent", "disk./.usageGB",
                "disk.in", "disk.out", "network.sent", "network.recv"}


def test_system_metrics_are_stored_with_wandb_names_and_no_gpu_keys_without_nvml(store: Path):
    code = ("import tracktui, time\nrun = tracktui.init(project='s', settings={'system_interval': 0.1})\n"
            "x = [i * i for i in range(2_000_000)]\ntime.sleep(0.5)\nrun.finish()")
    p = run_python(code, store)
    assert p.returncode == 0
    assert p.stderr == b""  # no NVML here: not even a line
    r, rec = only_run(store)
    data = r.system(rec.id)
    assert MACHINE_KEYS <= set(data)
    assert not any(k.startswith("gpu") for k in data)
    assert len(data["cpu"]) >= 3
    rss = [v for _, v in data["proc.memory.rssMB"]]
    assert all(5 < v < 10_000 for v in rss)
    assert all(0 <= v <= 100 for _, v in data["memory_percent"])
    assert "gpus" not in rec.metadata and rec.metadata["gpu_count"] == 0
    assert rec.metadata["gpu_note"].startswith(("NVML unavailable", "no NVML library", "no visible"))


def test_fake_nvml_several_devices_and_unsupported_fields():
    fake = fake_nvml.make(devices=3, unsupported={0: {"nvmlDeviceGetFanSpeed"},
                                                  2: {"nvmlDeviceGetPowerUsage", "nvmlDeviceGetTemperature"}},
                          processes={1: [(os.getpid(), 3 * 2**30), (999_999, 2**30)]})
    nvml = Nvml(module=fake)
    assert nvml.start()
    first = dict(nvml.sample([os.getpid()]))
    assert first["gpu.0.gpu"] == 10 and first["gpu.1.gpu"] == 20 and first["gpu.2.memory"] == 15
    assert first["gpu.1.memoryAllocatedBytes"] == 2 * 2**30
    assert first["gpu.1.memoryAllocated"] == pytest.approx(2.5)
    assert first["gpu.0.temp"] == 40 and first["gpu.0.smClock"] == 1980 and first["gpu.0.memoryClock"] == 2619
    assert first["gpu.1.powerWatts"] == 101 and first["gpu.1.enforcedPowerLimitWatts"] == 400
    assert first["gpu.1.powerPercent"] == pytest.approx(25.25)
    assert "gpu.0.fanSpeed" not in first and first["gpu.1.fanSpeed"] == 31
    assert "gpu.2.powerWatts" not in first and "gpu.2.powerPercent" not in first and "gpu.2.temp" not in first
    assert first["gpu.2.enforcedPowerLimitWatts"] == 400
    assert first["gpu.process.1.memoryAllocatedBytes"] == 3 * 2**30  # only our pid, not 999999
    assert first["gpu.process.0.memoryAllocatedBytes"] == 0
    # an unsupported field is asked once, then skipped
    before = fake.calls.count(("nvmlDeviceGetFanSpeed", 0))
    nvml.sample([os.getpid()])
    assert fake.calls.count(("nvmlDeviceGetFanSpeed", 0)) == before == 1
    facts = nvml.static()
    assert facts[0] == {"name": "Fake GPU 0", "uuid": "GPU-fake-0", "memory_total": 80 * 2**30,
                        "driver_version": "580.65.06", "cuda_version": "13.0"}
    nvml.shutdown()
    assert fake.shutdowns == 1


def test_cuda_visible_devices_selects_and_renumbers(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,0")
    nvml = Nvml(module=fake_nvml.make(devices=3))
    assert nvml.start()
    s = dict(nvml.sample())
    assert s["gpu.0.gpu"] == 30 and s["gpu.1.gpu"] == 10 and "gpu.2.gpu" not in s
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-fake-1,7,0")  # CUDA stops at the first invalid entry
    nvml = Nvml(module=fake_nvml.make(devices=3))
    assert nvml.start()
    assert dict(nvml.sample()) .keys() >= {"gpu.0.gpu"} and "gpu.1.gpu" not in dict(nvml.sample())
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    nvml = Nvml(module=fake_nvml.make(devices=3))
    assert not nvml.start() and nvml.reason == "no visible NVIDIA GPU"


def test_nvml_that_fails_to_initialise_gives_no_gpu_keys():
    nvml = Nvml(module=fake_nvml.make(init_error=True))
    assert not nvml.start()
    assert nvml.sample() == [] and "NVML unavailable" in nvml.reason


def test_fake_gpus_through_init_reach_the_store_and_metadata(store: Path, monkeypatch: pytest.MonkeyPatch):
    fake = fake_nvml.make(devices=2, unsupported={1: {"nvmlDeviceGetFanSpeed"}},
                          processes={0: [(os.getpid(), 2**30)]})
    monkeypatch.setitem(sys.modules, "pynvml", fake)  # the facade imports pynvml: it gets the fake
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    run = tracktui.init(dir=store, settings={**OFF, "system_interval": 0.1})
    time.sleep(0.5)
    run.finish()
    rec = Reader(store).run(run.id)
    data = Reader(store).system(run.id)
    assert {"gpu.0.gpu", "gpu.1.gpu", "gpu.0.fanSpeed", "gpu.process.0.memoryAllocatedBytes"} <= set(data)
    assert "gpu.1.fanSpeed" not in data
    assert data["gpu.process.0.memoryAllocatedBytes"][-1][1] == 2**30
    assert rec.metadata["gpu_count"] == 2 and rec.metadata["gpus"][1]["name"] == "Fake GPU 1"
    assert fake.shutdowns == 1


class SlowSampler(Sampler):
    """A sampler whose readings take 40 ms (a busy machine)."""

    def sample(self) -> list[tuple[str, float]]:
        time.sleep(0.04)
        return [("x", 1.0)]


def test_the_schedule_does_not_drift_with_slow_readings():
    records: list[tuple] = []
    s = SlowSampler("r", records.append, interval=0.1, gpu=False)
    s.start()
    assert s.wait_ready()
    t0 = time.monotonic()
    time.sleep(1.25)
    s.stop()
    elapsed = time.monotonic() - t0
    # planned times 0.1, 0.2, ... : ~12 samples; a sleep-after-work loop would manage ~8-9
    assert len(records) >= int(elapsed / 0.1) - 2, (len(records), elapsed)


def test_sampler_follows_another_process_and_its_children(store: Path, tmp_path: Path):
    import subprocess

    ready = tmp_path / "allocated"
    grandchild = f"x = bytearray(200 * 2**20); open({str(ready)!r}, 'w').close(); import time; time.sleep(60)"
    child = subprocess.Popen([sys.executable, "-c", "import subprocess, sys, time;"
                              f"subprocess.Popen([sys.executable, '-c', {grandchild!r}]); time.sleep(60)"],
                             start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline:  # a busy machine may take a while
            time.sleep(0.05)
        records: list[tuple] = []
        s = Sampler("r", records.append, interval=0.2, pid=child.pid, gpu=False)
        s.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
                dict(r[3]).get("proc.memory.rssMB", 0) > 200 for r in list(records)):
            time.sleep(0.1)
        s.stop()
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    rss = [dict(r[3]).get("proc.memory.rssMB", 0) for r in records]
    assert max(rss) > 200  # the grandchild's 200 MiB are counted


def test_cgroup_memory_limits_v2_v1_and_none(tmp_path: Path):
    from tracktui.capture.system import cgroup_memory

    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "memory.max").write_text("4294967296\n")
    (v2 / "memory.current").write_text("1073741824\n")
    assert cgroup_memory(str(v2)) == (4 * 2**30, 2**30)
    (v2 / "memory.max").write_text("max\n")
    assert cgroup_memory(str(v2)) is None
    v1 = tmp_path / "v1" / "memory"
    v1.mkdir(parents=True)
    (v1 / "memory.limit_in_bytes").write_text(str(2**30))
    (v1 / "memory.usage_in_bytes").write_text(str(2**29))
    assert cgroup_memory(str(tmp_path / "v1")) == (2**30, 2**29)
    (v1 / "memory.limit_in_bytes").write_text(str(2**63 - 4096))  # v1's "no limit"
    assert cgroup_memory(str(tmp_path / "v1")) is None
    assert cgroup_memory(str(tmp_path / "nothing")) is None
