"""Packaging: every subpackage ships in the wheel, and the SDK stays free of UI and hardware imports."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
MAPPING = {"sdk": "tracktui", "store": "tracktui/store", "tui": "tracktui/tui", "cli": "tracktui/cli"}


def source_packages() -> set[str]:
    """Every folder with an __init__.py under sdk/, store/, tui/, cli/, as its import path."""
    out = set()
    for top, prefix in MAPPING.items():
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top)
            out.add(".".join([prefix.replace("/", "."), *rel.parts]))
    return out


def test_pyproject_lists_every_subpackage():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert source_packages() <= set(config["tool"]["setuptools"]["packages"])


def test_built_wheel_contains_every_subpackage(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                   check=True, timeout=300, capture_output=True)
    (wheel,) = tmp_path.glob("tracktui-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in source_packages():
        assert package.replace(".", "/") + "/__init__.py" in names, package
    sources = {p for top in MAPPING for p in (ROOT / top).rglob("*") if p.suffix in (".py", ".tcss")}
    for src in sources:
        top = src.relative_to(ROOT).parts[0]
        assert MAPPING[top] + "/" + "/".join(src.relative_to(ROOT / top).parts) in names, src


def test_import_tracktui_loads_no_ui_or_hardware_modules():
    code = ("import sys, tracktui, tracktui.store; "
            "print(' '.join(m for m in ('textual', 'plotext', 'pynvml', 'git', 'numpy', 'psutil', 'rich') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == ""
