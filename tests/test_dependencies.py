"""Dependencies point one way (docs/ARCHITECTURE.md): each package may import only the
packages below it, so that, for example, the marketplace never learns of authentication
and authentication never learns of vision (vision registers its signals instead)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Lowest first: a package may import itself and those before it, never those after.
LAYERS = ("foundation", "marketplace_core", "authentication", "disputes", "vision", "trust",
          "console")


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def upward_imports(package: str) -> list[str]:
    above = set(LAYERS[LAYERS.index(package) + 1:])
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        found += [f"{path.relative_to(ROOT)} imports {name}"
                  for name in sorted(imported_packages(path) & above)]
    return found


@pytest.mark.parametrize("package", LAYERS[:-1])
def test_no_package_imports_one_above_it(package):
    assert upward_imports(package) == []


def test_the_domain_never_imports_flask_admin():
    offenders = [f"{path.relative_to(ROOT)}"
                 for package in LAYERS[:-1] for path in sorted((ROOT / package).rglob("*.py"))
                 if "flask_admin" in imported_packages(path)]
    assert offenders == []


def test_the_check_sees_an_upward_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom vision.matching import verify\n"
                      "def f():\n    from console import create_app\n")
    assert imported_packages(sample) == {"os", "vision", "console"}
