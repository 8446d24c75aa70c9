"""Who may import whom (docs/ARCHITECTURE.md): dependencies point inward to archive/."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"archive", "ingest", "search", "retention", "api"}
ALLOWED = {
    "archive": set(),
    "ingest": {"archive"},
    "search": {"archive"},
    "retention": {"archive"},
    "api": {"archive", "ingest", "search", "retention"},
}


def _imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & PACKAGES


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_imports_point_inward(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        foreign = _imported_packages(path) - ALLOWED[package] - {package}
        assert not foreign, f"{path.relative_to(ROOT)} imports {sorted(foreign)}"


def test_architecture_doc_names_every_package() -> None:
    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for package in PACKAGES:
        assert f"{package}/" in doc
