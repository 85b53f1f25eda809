"""A fake pynvml for machines without a GPU: several devices, some fields unsupported (raising)."""

from __future__ import annotations

import types
from typing import Any


class NVMLError(Exception):
    """pynvml.NVMLError."""


class NVMLError_NotSupported(NVMLError):  # noqa: N801 - pynvml's name
    """pynvml.NVMLError_NotSupported."""


def make(devices: int = 3, unsupported: dict[int, set[str]] | None = None,
         processes: dict[int, list[tuple[int, int]]] | None = None,
         init_error: bool = False) -> types.ModuleType:
    """A module object with pynvml's functions; unsupported maps a device index to functions that raise."""
    unsupported = unsupported or {}
    processes = processes or {}
    m = types.ModuleType("pynvml")
    m.NVMLError = NVMLError
    m.NVMLError_NotSupported = NVMLError_NotSupported
    m.calls = []  # type: ignore[attr-defined]
    m.shutdowns = 0  # type: ignore[attr-defined]

    class Handle:
        def __init__(self, i: int):
            self.i = i

    handles = [Handle(i) for i in range(devices)]

    def dev(fn_name: str, fn: Any) -> Any:
        def wrapped(h: Handle, *args: Any) -> Any:
            m.calls.append((fn_name, h.i))  # type: ignore[attr-defined]
            if fn_name in unsupported.get(h.i, set()):
                raise NVMLError_NotSupported("Not Supported")
            return fn(h, *args)
        return wrapped

    def nvmlInit() -> None:
        if init_error:
            raise NVMLError("NVML Shared Library Not Found")

    def nvmlShutdown() -> None:
        m.shutdowns += 1  # type: ignore[attr-defined]

    def nvmlDeviceGetHandleByIndex(i: int) -> Handle:
        if not 0 <= i < devices:
            raise NVMLError("Invalid Argument")
        return handles[i]

    def nvmlDeviceGetHandleByUUID(uuid: str) -> Handle:
        for h in handles:
            if f"GPU-fake-{h.i}" == uuid:
                return h
        raise NVMLError("Not Found")

    ns = types.SimpleNamespace
    funcs = {
        "nvmlDeviceGetName": lambda h: f"Fake GPU {h.i}".encode(),
        "nvmlDeviceGetUUID": lambda h: f"GPU-fake-{h.i}",
        "nvmlDeviceGetUtilizationRates": lambda h: ns(gpu=10 * (h.i + 1), memory=5 * (h.i + 1)),
        "nvmlDeviceGetMemoryInfo": lambda h: ns(total=80 * 2**30, used=(h.i + 1) * 2**30, free=0),
        "nvmlDeviceGetTemperature": lambda h, sensor: 40 + h.i,
        "nvmlDeviceGetPowerUsage": lambda h: 100_000 + 1000 * h.i,
        "nvmlDeviceGetEnforcedPowerLimit": lambda h: 400_000,
        "nvmlDeviceGetClockInfo": lambda h, clock: 1980 if clock == 1 else 2619,
        "nvmlDeviceGetFanSpeed": lambda h: 30 + h.i,
        "nvmlDeviceGetComputeRunningProcesses": lambda h: [ns(pid=p, usedGpuMemory=b)
                                                           for p, b in processes.get(h.i, [])],
        "nvmlDeviceGetGraphicsRunningProcesses": lambda h: [],
    }
    for name, fn in funcs.items():
        setattr(m, name, dev(name, fn))
    m.nvmlInit = nvmlInit
    m.nvmlShutdown = nvmlShutdown
    m.nvmlDeviceGetCount = lambda: devices
    m.nvmlDeviceGetHandleByIndex = nvmlDeviceGetHandleByIndex
    m.nvmlDeviceGetHandleByUUID = nvmlDeviceGetHandleByUUID
    m.nvmlSystemGetDriverVersion = lambda: "580.65.06"
    m.nvmlSystemGetCudaDriverVersion = lambda: 13000
    return m
