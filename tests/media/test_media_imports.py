"""Import costs and packaging: media stays lazy, auto-histograms work without importing a media class."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_import_tracktui_loads_no_media_libraries() -> None:
    code = (
        "import sys, tracktui; tracktui.Image; tracktui.plot; "
        "print(sorted(m for m in ('numpy', 'PIL', 'torch', 'pandas') if m in sys.modules))"
    )
    assert (
        _python(
            "import sys, tracktui; print(sorted(m for m in ('numpy', 'PIL', 'tracktui.media') "
            "if m in sys.modules))"
        )
        == "[]"
    )
    assert _python(code) == "[]"  # even the media classes load numpy and Pillow only when used


def test_auto_histogram_without_touching_media(tmp_path: Path) -> None:
    code = f"""
import tracktui
run = tracktui.init(project="p", dir={str(tmp_path)!r})
run.log({{"weights": [0.5, 1.5, 1.5, 2.5], "loss": 1.0, "names": ["a", "b"], "empty": []}})
run.finish()
api = tracktui.Api({str(tmp_path)!r}).run(run.id)
row = api.history()[0]
print(api.media_keys()[0]["type"], sum(api.histogram("weights")[0]), row["loss"], row["names"], row["empty"])
"""
    assert _python(code) == "histogram 4 1.0 ['a', 'b'] []"


def test_every_sdk_subpackage_is_packaged() -> None:
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = set(conf["tool"]["setuptools"]["packages"])
    dirs = {"sdk": "tracktui", "store": "tracktui.store", "tui": "tracktui.tui"}
    for top, name in dirs.items():
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top).parts
            assert ".".join((name, *rel)) in packages
