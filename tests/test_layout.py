"""The package boundaries of docs/architecture.md hold: who may import whom, and module size."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: What each package may import of geoplan (besides itself).
ALLOWED = {
    "geo": set(),
    "layers": {"geo"},
    "maps": {"geo", "layers"},
    "analysis": {"geo", "layers", "maps"},
}
MAX_LINES = 400


def _modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def _imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "geoplan" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_packages_import_only_what_the_architecture_allows(package):
    wrong = {
        str(path.relative_to(REPO)): sorted(imported - ALLOWED[package] - {package})
        for path in _modules(package)
        if (imported := _imported_packages(path)) - ALLOWED[package] - {package}
    }
    assert wrong == {}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_no_module_is_over_400_lines(package):
    long = {
        str(path.relative_to(REPO)): n
        for path in _modules(package)
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
