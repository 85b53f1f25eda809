"""NVIDIA GPUs through NVML: ONE facade through which every NVML call passes, returning a default on error.

Without the library, the driver or a GPU, `start()` returns False and nothing else happens (no GPU keys).
Tests pass a fake module (`Nvml(module=fake)`) to exercise several devices and unsupported fields.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

_TEMPERATURE_GPU = 0  # NVML_TEMPERATURE_GPU
_CLOCK_SM = 1  # NVML_CLOCK_SM
_CLOCK_MEM = 2  # NVML_CLOCK_MEM


def _text(v: Any) -> Any:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else v


class Nvml:
    """The NVML facade: call() never raises; fields a device does not support are remembered and skipped."""

    def __init__(self, module: Any = None):
        self._m = module
        self.ok = False
        self.reason = ""
        self.handles: list[Any] = []  # visible devices, in CUDA_VISIBLE_DEVICES order
        self._unsupported: set[tuple[int, str]] = set()

    def call(self, fn: str, *args: Any, default: Any = None) -> Any:
        """pynvml.fn(*args), or default when it raises (or does not exist)."""
        try:
            return getattr(self._m, fn)(*args)
        except Exception:  # noqa: BLE001 - NVMLError_*, a lost GPU, an old driver: all a default
            return default

    def _field(self, i: int, fn: str, *args: Any) -> Any:
        """A per-device reading; a field that failed once is not asked again."""
        if (i, fn) in self._unsupported:
            return None
        v = self.call(fn, *args)
        if v is None:
            self._unsupported.add((i, fn))
        return v

    def start(self) -> bool:
        """Load and initialise NVML and find the visible devices; False (and a reason) when there are none."""
        if self._m is None:
            try:
                import importlib

                self._m = importlib.import_module("pynvml")
            except Exception as e:  # noqa: BLE001
                self.reason = f"no NVML library ({type(e).__name__})"
                return False
        try:
            self._m.nvmlInit()
        except Exception as e:  # noqa: BLE001
            self.reason = f"NVML unavailable ({type(e).__name__})"
            return False
        self.ok = True
        self.handles = self._visible()
        if not self.handles:
            self.reason = "no visible NVIDIA GPU"
        return bool(self.handles)

    def _visible(self) -> list[Any]:
        count = self.call("nvmlDeviceGetCount", default=0) or 0
        env = os.environ.get("CUDA_VISIBLE_DEVICES")
        if env is None:
            found = (self.call("nvmlDeviceGetHandleByIndex", i) for i in range(count))
            return [h for h in found if h is not None]
        handles = []
        for entry in (e.strip() for e in env.split(",")):
            if not entry:
                break
            if entry.isdigit() or (entry.startswith("-") and entry[1:].isdigit()):
                idx = int(entry)
                h = self.call("nvmlDeviceGetHandleByIndex", idx) if 0 <= idx < count else None
            else:  # GPU-<uuid> (a unique prefix is enough, as in CUDA) or MIG-<uuid>
                h = self.call("nvmlDeviceGetHandleByUUID", entry)
                if h is None:
                    for j in range(count):
                        hj = self.call("nvmlDeviceGetHandleByIndex", j)
                        uuid = "" if hj is None else _text(self.call("nvmlDeviceGetUUID", hj, default=""))
                        uuid = str(uuid)
                        if uuid.startswith(entry):
                            h = hj
                            break
            if h is None:
                break  # CUDA stops at the first invalid entry
            handles.append(h)
        return handles

    def static(self) -> list[dict[str, Any]]:
        """Facts for the run's metadata: name, uuid, total memory, driver and CUDA versions."""
        driver = _text(self.call("nvmlSystemGetDriverVersion"))
        cuda = self.call("nvmlSystemGetCudaDriverVersion_v2") or self.call("nvmlSystemGetCudaDriverVersion")
        cuda_s = f"{cuda // 1000}.{cuda % 1000 // 10}" if isinstance(cuda, int) and cuda > 0 else None
        out = []
        for h in self.handles:
            mem = self.call("nvmlDeviceGetMemoryInfo", h)
            info = {"name": _text(self.call("nvmlDeviceGetName", h)),
                    "uuid": _text(self.call("nvmlDeviceGetUUID", h)),
                    "memory_total": getattr(mem, "total", None), "driver_version": driver,
                    "cuda_version": cuda_s}
            out.append({k: v for k, v in info.items() if v is not None})
        return out

    def sample(self, pids: Iterable[int] = ()) -> list[tuple[str, float]]:
        """One reading of every visible device: (key, value) pairs, unsupported fields left out."""
        out: list[tuple[str, float]] = []
        add = out.append
        pidset = set(pids)
        field = self._field
        for i, h in enumerate(self.handles):
            p = f"gpu.{i}."
            util = field(i, "nvmlDeviceGetUtilizationRates", h)
            if util is not None:
                add((p + "gpu", float(util.gpu)))
                add((p + "memory", float(util.memory)))
            mem = field(i, "nvmlDeviceGetMemoryInfo", h)
            if mem is not None and getattr(mem, "total", 0):
                add((p + "memoryAllocated", 100.0 * mem.used / mem.total))
                add((p + "memoryAllocatedBytes", float(mem.used)))
            temp = field(i, "nvmlDeviceGetTemperature", h, _TEMPERATURE_GPU)
            if temp is not None:
                add((p + "temp", float(temp)))
            power = field(i, "nvmlDeviceGetPowerUsage", h)
            limit = field(i, "nvmlDeviceGetEnforcedPowerLimit", h)
            if power is not None:
                add((p + "powerWatts", power / 1000.0))
            if limit:
                add((p + "enforcedPowerLimitWatts", limit / 1000.0))
                if power is not None:
                    add((p + "powerPercent", 100.0 * power / limit))
            sm = field(i, "nvmlDeviceGetClockInfo", h, _CLOCK_SM)
            if sm is not None:
                add((p + "smClock", float(sm)))
            memclock = self._clock_mem(i, h)
            if memclock is not None:
                add((p + "memoryClock", float(memclock)))
            fan = field(i, "nvmlDeviceGetFanSpeed", h)
            if fan is not None:
                add((p + "fanSpeed", float(fan)))
            if pidset:
                used = self._process_memory(i, h, pidset)
                if used is not None:
                    add((f"gpu.process.{i}.memoryAllocatedBytes", float(used)))
        return out

    def _clock_mem(self, i: int, h: Any) -> Any:
        if (i, "clock_mem") in self._unsupported:
            return None
        v = self.call("nvmlDeviceGetClockInfo", h, _CLOCK_MEM)
        if v is None:
            self._unsupported.add((i, "clock_mem"))
        return v

    def _process_memory(self, i: int, h: Any, pids: set[int]) -> int | None:
        compute = self._field(i, "nvmlDeviceGetComputeRunningProcesses", h)
        graphics = self._field(i, "nvmlDeviceGetGraphicsRunningProcesses", h)
        if compute is None and graphics is None:
            return None
        seen: dict[int, int] = {}
        for p in list(compute or ()) + list(graphics or ()):
            pid = getattr(p, "pid", None)
            if pid in pids:
                used = getattr(p, "usedGpuMemory", 0) or 0
                if used >= 1 << 63:  # NVML_VALUE_NOT_AVAILABLE (e.g. inside some containers)
                    used = 0
                seen[pid] = max(seen.get(pid, 0), int(used))
        return sum(seen.values())

    def shutdown(self) -> None:
        """nvmlShutdown (ignored when it fails)."""
        if self.ok:
            self.call("nvmlShutdown")
            self.ok = False
