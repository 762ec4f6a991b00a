"""Imports run one way: web -> domain packages -> core -> models -> crypto."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "journal"

# Bottom to top: each domain package may import those before it, never one after it.
DOMAIN = ("core", "accounts", "clinical", "review", "journaling", "export", "notify")
DOMAIN_MODULES = tuple(f"journal.{name}" for name in DOMAIN)

# package -> prefixes its modules must never import
FORBIDDEN = {
    "crypto": (
        "flask",
        "sqlalchemy",
        "journal.models",
        *DOMAIN_MODULES,
        "journal.web",
        "journal.db",
        "journal.config",
    ),
    "models": ("flask", *DOMAIN_MODULES, "journal.web", "journal.crypto"),
    # Domain packages know nothing of the web, nor of the packages above them.
    **{
        name: ("flask", "werkzeug", "journal.web", *DOMAIN_MODULES[i + 1 :])
        for i, name in enumerate(DOMAIN)
    },
    "web": ("journal.crypto", "journal.db"),
}
# The core may name a domain type for the type checker (the unit of work holds the
# clinic's content), never import a domain package when it runs.
TYPE_ONLY_ALLOWED = {"core": DOMAIN_MODULES[1:]}


def _type_only(tree: ast.Module) -> set[ast.AST]:
    """Nodes under `if TYPE_CHECKING:`: names for the type checker, not imports that run."""
    found: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for child in node.body:
                found.update(ast.walk(child))
    return found


def imports_of(path: Path, *, running: bool = False) -> list[str]:
    """Every module a file imports; with `running`, not those only the type checker reads."""
    tree = ast.parse(path.read_text())
    skip = _type_only(tree) if running else set()
    names: list[str] = []
    for node in ast.walk(tree):
        if node in skip:
            continue
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layer_imports_point_one_way(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no modules found in journal/{package}"
    allowed = TYPE_ONLY_ALLOWED.get(package, ())

    def forbidden(name: str, prefixes: tuple[str, ...]) -> bool:
        return any(name == p or name.startswith(p + ".") for p in prefixes)

    bad = [
        f"{f.relative_to(ROOT.parent)} imports {name}"
        for f in files
        for name in imports_of(f)
        if forbidden(name, FORBIDDEN[package])
        and not (forbidden(name, allowed) and name not in imports_of(f, running=True))
    ]
    assert bad == []


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\nfrom journal.web import context\nimport flask\n"
        "if TYPE_CHECKING:\n    from journal.clinical.content import ClinicalContent\n"
    )
    assert imports_of(sample) == ["typing", "journal.web", "flask", "journal.clinical.content"]
    assert imports_of(sample, running=True) == ["typing", "journal.web", "flask"]


ROLE_CHECK = re.compile(r"(?<!User)\.role\s*(==|!=|in\b|not in\b)")
# policy.py names every role check; security.py's `roles` decorator takes a list of them.
ROLE_CHECKS_ALLOWED = {"journal/accounts/policy.py", "journal/web/security.py"}


def role_checks(source: str) -> list[int]:
    """Lines comparing a person's role (`User.role == ...` in a query selects, not checks)."""
    return [n for n, line in enumerate(source.splitlines(), 1) if ROLE_CHECK.search(line)]


def test_role_checks_live_in_policy() -> None:
    found = [
        f"{f.relative_to(ROOT.parent)}:{line}"
        for f in sorted(ROOT.rglob("*.py"))
        if str(f.relative_to(ROOT.parent)) not in ROLE_CHECKS_ALLOWED
        for line in role_checks(f.read_text())
    ]
    assert found == []


def test_the_role_check_finder_sees_one() -> None:
    sample = "if actor.role != Role.ADMIN:\n    x = 1\nq = select(User).where(User.role == r)\n"
    assert role_checks(sample) == [1]
    assert role_checks("if user.role in STAFF:\n") == [1]
