"""Imports run one way: web -> services -> models -> crypto."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "journal"

# package -> prefixes its modules must never import
FORBIDDEN = {
    "crypto": (
        "flask",
        "sqlalchemy",
        "journal.models",
        "journal.services",
        "journal.web",
        "journal.db",
        "journal.config",
    ),
    "models": ("flask", "journal.services", "journal.web", "journal.crypto"),
    "services": ("flask", "werkzeug", "journal.web"),
    "web": ("journal.crypto", "journal.db"),
}


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layer_imports_point_one_way(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no modules found in journal/{package}"
    bad = [
        f"{f.relative_to(ROOT.parent)} imports {name}"
        for f in files
        for name in imports_of(f)
        if any(name == p or name.startswith(p + ".") for p in FORBIDDEN[package])
    ]
    assert bad == []


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("from journal.web import context\nimport flask\n")
    assert imports_of(sample) == ["journal.web", "flask"]
