"""The engines are a leaf: nothing under models/ imports the service or its deployments.

Parsed with ``ast`` rather than imported, so an import under ``TYPE_CHECKING`` or inside a
function counts too: engines take plain options, never the settings object.
"""

from __future__ import annotations

import ast
from pathlib import Path

MODELS = Path(__file__).resolve().parents[3] / "models"
FORBIDDEN = ("serve_app", "deployments")


def imported_modules(source: str) -> set[str]:
    """Every absolute module name a piece of source imports, wherever the import sits."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def reaches_above(module: str) -> bool:
    return module.split(".")[0] in FORBIDDEN


def test_type_checking_and_function_level_imports_are_seen() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from serve_app.settings import ServiceSettings\n"
        "def build():\n    import deployments.app\n"
    )
    assert {m for m in imported_modules(source) if reaches_above(m)} == {
        "serve_app.settings",
        "deployments.app",
    }


def test_no_module_under_models_imports_serve_app_or_deployments() -> None:
    files = sorted(MODELS.rglob("*.py"))
    assert files, f"no modules found under {MODELS}"
    offenders = {
        str(path.relative_to(MODELS.parent)): sorted(
            m for m in imported_modules(path.read_text(encoding="utf-8")) if reaches_above(m)
        )
        for path in files
    }
    assert {path: names for path, names in offenders.items() if names} == {}
