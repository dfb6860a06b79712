"""The import layers (DESIGN.md) hold for imports inside functions too.

``make lint`` checks the layers with import-linter, which reads every import statement. This test
keeps the module free of imports hidden inside functions: they were how upward imports dodged
the import circle, and an import the layers allow belongs at the top of the module.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [
    ROOT / "custreg_admin",
    ROOT / "plugins" / "registry_ytj" / "custreg_registry_ytj",
    ROOT / "plugins" / "registry_bizweb" / "custreg_registry_bizweb",
]
OWN = ("custreg_admin", "custreg_registry_ytj", "custreg_registry_bizweb")


def _is_own(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return bool(node.level) or (node.module or "").startswith(OWN)
    return any(alias.name.startswith(OWN) for alias in node.names)


def _imports_in_functions(tree: ast.AST) -> list[int]:
    found = []
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom) and _is_own(node):
                    found.append(node.lineno)
    return sorted(set(found))


def test_no_module_imports_its_own_package_inside_a_function():
    hidden = []
    for package in PACKAGES:
        for path in sorted(package.rglob("*.py")):
            if "migrations" in path.parts:
                continue  # Alembic scripts are loaded by Alembic, not imported
            for line in _imports_in_functions(ast.parse(path.read_text(encoding="utf-8"))):
                hidden.append(f"{path.relative_to(ROOT)}:{line}")
    assert hidden == []


def test_the_probe_finds_an_import_inside_a_function():
    tree = ast.parse("def f():\n    from .services import kpi\n")
    assert _imports_in_functions(tree) == [2]
