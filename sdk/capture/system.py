"""The system-metrics sampler: a thread that stores wandb's key names on a fixed schedule.

psutil (and NVML) are imported on the sampler thread, never on the caller's. The schedule is kept from the
planned times (no drift); a late sample skips the missed slots instead of bunching up.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from tracktui.store.records import System

from .gpu import Nvml

DEFAULT_INTERVAL = 2.0  # seconds: short enough for a live panel, cheap enough to be invisible
MB = 1024 * 1024
GB = 1024 ** 3

Put = Callable[[tuple[Any, ...]], None]


def cgroup_memory(root: str = "/sys/fs/cgroup") -> tuple[int, int] | None:
    """(limit, usage) in bytes of this cgroup (v2, then v1) when a memory limit is set, else None."""
    for limit_path, usage_path in ((f"{root}/memory.max", f"{root}/memory.current"),
                                   (f"{root}/memory/memory.limit_in_bytes",
                                    f"{root}/memory/memory.usage_in_bytes")):
        try:
            with open(limit_path) as f:
                raw = f.read().strip()
            if raw == "max":
                return None
            limit = int(raw)
            with open(usage_path) as f:
                usage = int(f.read().strip())
        except (OSError, ValueError):
            continue
        if limit <= 0 or limit >= 1 << 60:
            return None
        return limit, usage
    return None


class Sampler:
    """Samples the target process (and its children), the machine and the GPUs every interval seconds."""

    def __init__(self, run_id: str, put: Put, interval: float = DEFAULT_INTERVAL, pid: int | None = None,
                 gpu: bool = True, nvml: Nvml | None = None, disk_paths: Sequence[str] = ("/",),
                 on_gpu_facts: Callable[[list[dict[str, Any]]], None] | None = None, host: str | None = None):
        from tracktui.store.procinfo import hostname

        self.run_id = run_id
        self.host = hostname() if host is None else host  # the node the samples are stored under
        self._put = put
        self.interval = max(0.05, float(interval))
        self.pid = pid or os.getpid()
        self.gpu = gpu
        self.nvml = nvml
        self.disk_paths = list(disk_paths)
        self.on_gpu_facts = on_gpu_facts
        self.samples = 0
        self.gpu_reason = ""
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tracktui-system", daemon=True)
        self._procs: dict[int, Any] = {}

    def start(self) -> None:
        """Start the thread (returns at once)."""
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop after the sample in progress."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """Wait until the sampler has set itself up (tests, the benchmark)."""
        return self._ready.wait(timeout)

    # ------------------------------------------------------------ the thread

    def _loop(self) -> None:
        try:
            self._setup()
        except Exception:  # noqa: BLE001
            self._ready.set()
            return
        self._ready.set()
        next_t = time.monotonic() + self.interval
        while not self._stop.wait(max(0.0, next_t - time.monotonic())):
            try:
                items = self.sample()
                if items:
                    self._put(System(self.run_id, time.time(), items, self.host))
                self.samples += 1
            except Exception:  # noqa: BLE001 - a failed reading is a missing point, never a crash
                pass
            next_t += self.interval
            now = time.monotonic()
            if next_t < now:  # we were late (a suspended laptop, a busy machine): skip the missed slots
                next_t += self.interval * ((now - next_t) // self.interval + 1)
        if self.nvml is not None:
            self.nvml.shutdown()

    def _setup(self) -> None:
        import psutil

        self._psutil = psutil
        self._ncpu = psutil.cpu_count() or 1
        self._total = psutil.virtual_memory().total
        try:
            self._root = psutil.Process(self.pid)
            self._root.cpu_percent(None)
        except psutil.Error:
            self._root = None
        psutil.cpu_percent(None)
        self._disk0 = self._disk_io()
        self._net0 = self._net_io()
        if self.gpu:
            nvml = self.nvml or Nvml()
            if nvml.start():
                self.nvml = nvml
                if self.on_gpu_facts is not None:
                    self.on_gpu_facts(nvml.static())
            else:
                self.gpu_reason = nvml.reason
                nvml.shutdown()
                self.nvml = None
                if self.on_gpu_facts is not None:
                    self.on_gpu_facts([])

    def _disk_io(self) -> Any:
        try:
            return self._psutil.disk_io_counters()
        except Exception:  # noqa: BLE001
            return None

    def _net_io(self) -> Any:
        try:
            return self._psutil.net_io_counters()
        except Exception:  # noqa: BLE001
            return None

    def _tree(self) -> list[Any]:
        """The target and its living descendants, as cached psutil.Process objects (for cpu_percent)."""
        root = self._root
        if root is None:
            return []
        psutil = self._psutil
        try:
            kids = root.children(recursive=True)
        except psutil.Error:
            return []
        procs = {self.pid: root}
        cache = self._procs
        for k in kids:
            p = cache.get(k.pid)
            if p is None:
                p = k
                try:
                    p.cpu_percent(None)
                except psutil.Error:
                    continue
            procs[k.pid] = p
        self._procs = {pid: p for pid, p in procs.items() if pid != self.pid}
        return list(procs.values())

    def sample(self) -> list[tuple[str, float]]:
        """One reading: (key, value) pairs."""
        psutil = self._psutil
        out: list[tuple[str, float]] = []
        add = out.append
        cpu = threads = rss = 0.0
        alive = False
        tree = self._tree()
        for p in tree:
            try:
                with p.oneshot():
                    cpu += p.cpu_percent(None)
                    threads += p.num_threads()
                    rss += p.memory_info().rss
                alive = True
            except psutil.Error:
                continue
        if alive:
            add(("cpu", cpu / self._ncpu))
            add(("proc.cpu.threads", threads))
            add(("proc.memory.rssMB", rss / MB))
            add(("proc.memory.percent", 100.0 * rss / self._total))
        add(("cpu.percent", psutil.cpu_percent(None)))
        vm = psutil.virtual_memory()
        percent = 100.0 * (vm.total - vm.available) / vm.total
        available = vm.available
        cg = cgroup_memory()
        if cg is not None and cg[0] < vm.total:
            percent = 100.0 * cg[1] / cg[0]
            available = min(available, max(0, cg[0] - cg[1]))
        add(("memory_percent", percent))
        add(("proc.memory.availableMB", available / MB))
        for path in self.disk_paths:
            try:
                du = psutil.disk_usage(path)
            except Exception:  # noqa: BLE001
                continue
            add((f"disk.{path}.usagePercent", du.percent))
            add((f"disk.{path}.usageGB", du.used / GB))
        d = self._disk_io()
        if d is not None and self._disk0 is not None:
            add(("disk.in", (d.read_bytes - self._disk0.read_bytes) / MB))
            add(("disk.out", (d.write_bytes - self._disk0.write_bytes) / MB))
        n = self._net_io()
        if n is not None and self._net0 is not None:
            add(("network.sent", float(n.bytes_sent - self._net0.bytes_sent)))
            add(("network.recv", float(n.bytes_recv - self._net0.bytes_recv)))
        if self.nvml is not None:
            pids = [p.pid for p in tree] if tree else [self.pid]
            out.extend(self.nvml.sample(pids))
        return out
