"""Test modules import builders, never each other: a `test_*.py` module imported elsewhere
has its tests collected again there, and ties one module's tests to another's helpers.
Shared builders live in tests/builders/, shared fixtures in conftest.py files."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def module_name(path: Path, root: Path) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts)


def imported_modules(path: Path, root: Path) -> set[str]:
    """Every module an import statement of `path` may name, relative imports resolved: for
    `from a.b import c` both `a.b` and `a.b.c` (c may be a module)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path, root).split(".")[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def imported_test_modules(path: Path, root: Path = ROOT) -> list[str]:
    """The `test_*.py` modules of the tree under `root` that `path` imports."""
    return sorted(name for name in imported_modules(path, root) - {module_name(path, root)}
                  if name.rpartition(".")[2].startswith("test_")
                  and root.joinpath(*name.split(".")).with_suffix(".py").is_file())


def test_no_module_imports_a_test_module():
    offenders = [f"{path.relative_to(ROOT)} imports {name}"
                 for path in sorted((ROOT / "tests").rglob("*.py"))
                 for name in imported_test_modules(path)]
    assert offenders == []


def test_the_check_sees_absolute_relative_and_nested_imports(tmp_path):
    package = tmp_path / "tests" / "area"
    package.mkdir(parents=True)
    for name in ("test_a.py", "test_b.py", "test_c.py", "test_d.py"):
        (package / name).write_text("")
    sample = package / "support.py"
    sample.write_text("import os\nfrom tests.area.test_a import helper\n"
                      "from .test_b import other\nfrom tests.builders import API\n"
                      "def f():\n    from tests.area import test_c\n")
    assert imported_test_modules(sample, tmp_path) == [
        "tests.area.test_a", "tests.area.test_b", "tests.area.test_c"]
