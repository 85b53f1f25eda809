"""The layers' import rules, read from the sources with `ast` (every import: top level, inside functions,
under TYPE_CHECKING, `importlib.import_module("...")` with a constant name), so that a lazy import cannot
hide a dependency the way it hides from a `sys.modules` check:

    store/ (tracktui.store)       imports nothing of tracktui outside tracktui.store
    sdk/   (tracktui, the SDK)    imports nothing of the app (tracktui.tui) or the command line (tracktui.cli)
    tui/widgets                   imports no screen (tui/screens): a widget posts a message, the screen acts
    tui/   (the app)              imports nothing of the SDK's capture (tracktui.capture: the system sampler,
                                  console tee, `tracktui run` wrapper) or of the command line

Module names come from pyproject's [tool.setuptools.package-dir], so a new package directory is covered
when it is added there. What the entry points load at run time is checked in tests/test_cli.py.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Rule:
    name: str
    importer: str  # the rule applies to modules equal to or under this name
    forbidden: tuple[str, ...]  # ... which must not import these (or anything under them)
    allowed: tuple[str, ...] = ()  # ... unless it is also under one of these


RULES = (
    Rule("store imports nothing of the SDK or the app", "tracktui.store", ("tracktui",), ("tracktui.store",)),
    Rule("the SDK imports nothing of the app or the command line", "tracktui", ("tracktui.tui", "tracktui.cli")),
    Rule("no widget imports a screen", "tracktui.tui.widgets", ("tracktui.tui.screens",)),
    Rule("the app imports none of the SDK's capture or the command line", "tracktui.tui",
         ("tracktui.capture", "tracktui.cli")),
)
# The SDK rule's importer "tracktui" covers every module; these layers have their own rules instead.
NOT_SDK = ("tracktui.store", "tracktui.tui", "tracktui.cli")

# Violations allowed for now, each with its reason; remove a line when its import is gone (a test below says
# which). Empty: every rule holds everywhere.
KNOWN: dict[tuple[str, str], str] = {}


def package_dirs(root: Path = ROOT) -> dict[str, str]:
    """pyproject's package-dir: {"sdk": "tracktui", "store": "tracktui.store", ...} (directory -> package)."""
    config = tomllib.loads((root / "pyproject.toml").read_text())
    return {d.rstrip("/"): pkg for pkg, d in config["tool"]["setuptools"]["package-dir"].items()}


def module_name(path: Path, root: Path, dirs: dict[str, str]) -> tuple[str, bool]:
    """(the dotted module name of a source file, whether it is a package's __init__)."""
    rel = path.relative_to(root).with_suffix("").parts
    best = max((d for d in dirs if tuple(d.split("/")) == rel[: len(d.split("/"))]), key=len)
    parts = [*dirs[best].split("."), *rel[len(best.split("/")):]]
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute name of a relative import `from <level dots><target> import ...` made in module."""
    if level == 0:
        return target or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    if level - 1 > len(package) - 1:
        raise ValueError(f"relative import beyond the top package in {module}")
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, *([target] if target else [])])


def imports(source: str, module: str, is_package: bool, modules: set[str]) -> Iterator[tuple[str, int]]:
    """Every module the source imports, with its line: `from X import n` imports X.n where that is one of
    modules (the tree's own modules), else X."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = resolve(module, is_package, node.level, node.module)
            for alias in node.names:
                yield (f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base), node.lineno
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if name in ("import_module", "__import__") and not node.args[0].value.startswith("."):
                yield node.args[0].value, node.lineno


def under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(root: Path = ROOT) -> list[tuple[str, str, str, int, str]]:
    """(importer, imported, file, line, rule) for every import that breaks a rule, over the package dirs."""
    dirs = package_dirs(root)
    found = []
    files = sorted({p for d in dirs for p in (root / d).rglob("*.py")})
    assert files, f"no sources found under {sorted(dirs)}"
    names = {path: module_name(path, root, dirs) for path in files}
    modules = {module for module, _ in names.values()}
    for path in files:
        module, is_package = names[path]
        for target, line in sorted(set(imports(path.read_text(), module, is_package, modules))):
            for rule in RULES:
                if not under(module, rule.importer):
                    continue
                if rule.importer == "tracktui" and any(under(module, p) for p in NOT_SDK):
                    continue
                if any(under(target, f) for f in rule.forbidden) and not any(under(target, a) for a in rule.allowed):
                    found.append((module, target, str(path.relative_to(root)), line, rule.name))
    return found


def test_layers_keep_their_import_rules():
    new = [v for v in violations() if (v[0], v[1]) not in KNOWN]
    assert not new, "\n".join(f"{file}:{line}: {module} imports {target} ({rule})"
                              for module, target, file, line, rule in new)


def test_known_violations_are_still_there():
    """A known case that is fixed must leave KNOWN, so that it cannot come back unseen."""
    seen = {(v[0], v[1]) for v in violations()}
    gone = [k for k in KNOWN if k not in seen]
    assert not gone, f"fixed, remove from KNOWN in {Path(__file__).name}: {gone}"


def test_module_names_follow_package_dir():
    dirs = package_dirs()
    assert module_name(ROOT / "sdk" / "capture" / "wrapper.py", ROOT, dirs) == ("tracktui.capture.wrapper", False)
    assert module_name(ROOT / "sdk" / "media" / "__init__.py", ROOT, dirs) == ("tracktui.media", True)
    assert module_name(ROOT / "store" / "reader.py", ROOT, dirs) == ("tracktui.store.reader", False)
    assert module_name(ROOT / "tui" / "widgets" / "footer.py", ROOT, dirs) == ("tracktui.tui.widgets.footer", False)
    assert module_name(ROOT / "cli" / "main.py", ROOT, dirs) == ("tracktui.cli.main", False)


def test_relative_imports_resolve_like_python():
    assert resolve("tracktui.tui.widgets.log_tail", False, 1, "footer") == "tracktui.tui.widgets.footer"
    assert resolve("tracktui.tui.widgets.log_tail", False, 2, "screens.run") == "tracktui.tui.screens.run"
    assert resolve("tracktui.tui.widgets", True, 1, "footer") == "tracktui.tui.widgets.footer"
    assert resolve("tracktui.tui.widgets", True, 2, None) == "tracktui.tui"
    assert resolve("tracktui.store.reader", False, 2, None) == "tracktui"
    assert resolve("tracktui.capture", True, 2, "lifecycle") == "tracktui.lifecycle"


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_violating_source_is_caught(tmp_path):
    """The checker on a synthetic tree with the same pyproject: every kind of violation is reported, with
    relative, lazy, TYPE_CHECKING and import_module forms; allowed imports are not."""
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    for d in package_dirs():
        _write(tmp_path, f"{d}/__init__.py", "")
    for rel in ("sdk/lifecycle.py", "store/codec.py", "store/writer.py", "tui/format.py", "tui/widgets/footer.py",
                "tui/screens/run.py", "tui/app.py", "sdk/capture/__init__.py", "sdk/capture/wrapper.py"):
        _write(tmp_path, rel, "")
    _write(tmp_path, "store/bad.py", "from .. import lifecycle\nfrom . import codec\nimport tracktui.store.writer\n")
    _write(tmp_path, "store/lazy.py", "def f():\n    from tracktui.tui.format import number\n")
    _write(tmp_path, "sdk/bad.py", "import importlib\nimportlib.import_module('tracktui.tui.app')\n"
                                   "from tracktui.store import Reader\nfrom .capture import wrapper\n")
    _write(tmp_path, "sdk/capture/bad.py", "from ..cli.main import main\n")
    _write(tmp_path, "tui/widgets/bad.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                           "    from ..screens.run import RunScreen\nfrom ..format import number\n"
                                           "from . import footer\n")
    _write(tmp_path, "tui/screens/bad.py", "from tracktui import capture\nimport tracktui.media\n"
                                           "def f():\n    from tracktui.capture.wrapper import main\n"
                                           "from ..widgets import footer\n")
    _write(tmp_path, "cli/main.py", "from tracktui.capture import wrapper\nimport tracktui.tui.app\n")
    found = {(m, t, r) for m, t, _, _, r in violations(tmp_path)}
    assert found == {
        ("tracktui.store.bad", "tracktui.lifecycle", RULES[0].name),
        ("tracktui.store.lazy", "tracktui.tui.format", RULES[0].name),
        ("tracktui.bad", "tracktui.tui.app", RULES[1].name),
        ("tracktui.capture.bad", "tracktui.cli.main", RULES[1].name),
        ("tracktui.tui.widgets.bad", "tracktui.tui.screens.run", RULES[2].name),
        ("tracktui.tui.screens.bad", "tracktui.capture", RULES[3].name),
        ("tracktui.tui.screens.bad", "tracktui.capture.wrapper", RULES[3].name),
    }, found
