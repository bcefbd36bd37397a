"""The shape of ``formserver/``: no import cycle at module level, and the command line imported by nobody.

The imports are read with ``ast``, not run: a module-level import is one executed when the module is
loaded (at the top, or in a module-level ``if``/``try``/``with`` or class body), not one inside a
function, nor one under ``if TYPE_CHECKING:``. Importing ``a.b.c`` also runs the packages ``a`` and
``a.b``, so those are edges too, except the importer's own packages (already loading when it runs) unless
it names them itself (``from . import helper`` where ``helper`` is defined in ``__init__``).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import formserver

PACKAGE = Path(formserver.__file__).resolve().parent


def modules_of(package: Path) -> dict[str, Path]:
    """Every module of the package by dotted name (a package's ``__init__.py`` under the package's name)."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Attribute):  # typing.TYPE_CHECKING
        return test.attr == "TYPE_CHECKING"
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"


def module_level_imports(body: list[ast.stmt]):
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from module_level_imports(node.orelse)
        else:
            for block in ("body", "orelse", "finalbody", "handlers", "cases"):
                statements = getattr(node, block, None)
                if isinstance(statements, list):
                    yield from module_level_imports(statements)


def all_imports(tree: ast.Module):
    return (node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom)))


def imported_names(name: str, is_package: bool, node: ast.Import | ast.ImportFrom, modules) -> set[str]:
    """The modules of the package an import statement names (a ``from`` import's submodules, else the module)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    if node.level:
        package = (name if is_package else name.rpartition(".")[0]).split(".")
        base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
    else:
        base = node.module
    return {f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names}


def _packages_of(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:end]) for end in range(1, len(parts))}


def import_graph(package: Path, *, imports=None) -> dict[str, set[str]]:
    """Module → the modules of the package that loading it loads first."""
    modules = modules_of(package)
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        statements = imports(tree) if imports else module_level_imports(tree.body)
        edges = set()
        for node in statements:
            for target in imported_names(name, path.name == "__init__.py", node, modules):
                if target in modules:
                    edges |= {target} | {p for p in _packages_of(target) - _packages_of(name) if p in modules}
        graph[name] = edges - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path ``[a, b, …, a]``, or None."""
    state: dict[str, str] = {}  # "open" while on the path, "done" once every way out of it was tried
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "open"
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_no_module_level_import_cycle_in_formserver():
    cycle = find_cycle(import_graph(PACKAGE))
    assert cycle is None, "import cycle: " + " → ".join(cycle)


def test_nothing_outside_the_command_line_imports_it():
    importers = sorted(
        name
        for name, targets in import_graph(PACKAGE, imports=all_imports).items()
        if not (name == "formserver.cli" or name.startswith("formserver.cli."))
        and any(target == "formserver.cli" or target.startswith("formserver.cli.") for target in targets)
    )
    assert importers == []


def test_the_cycle_finder_sees_a_package_imported_back_and_ignores_function_level_imports(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("from . import a\nHELPER = 1\n")
    (package / "a.py").write_text("from . import HELPER\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "b.py").write_text("def late():\n    from ..c import x\n")
    (package / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .sub import b\n")
    graph = import_graph(package)
    assert find_cycle(graph) == ["pkg", "pkg.a", "pkg"]
    assert graph["pkg.sub.b"] == set() and graph["pkg.c"] == set()
    (package / "__init__.py").write_text("HELPER = 1\n")
    assert find_cycle(import_graph(package)) is None


def test_the_command_line_answers_help_without_loading_the_server_or_the_database():
    """``formserver --help`` and a command's usage load argparse and the settings, not what a command uses."""
    heavy = ("flask", "sqlalchemy", "alembic", "pyxform", "openpyxl", "granian", "lxml", "formserver.models")
    script = (
        "import contextlib, io, sys\n"
        "from formserver.cli import build_parser\n"
        "for argv in (['--help'], ['export', '--help'], ['form', 'add', '--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "        build_parser().parse_args(argv)\n"
        "loaded = {m if m in HEAVY else m.split('.')[0] for m in sys.modules}\n"
        "print(sorted(loaded & set(HEAVY)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {heavy!r}\n" + script], capture_output=True, text=True, check=True
    )
    assert result.stdout == "[]\n"
