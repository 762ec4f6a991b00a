"""The outside security review's findings, each reproduced as it was found.

The tests that replay a finding (from outside: HTTP, a real server's log, the
database and backup files) carry `@pytest.mark.security_review(finding=N)` where
they live; `make test-review` runs just them. This test keeps the list whole:
every finding of the review has at least one.
"""

from __future__ import annotations

import ast
from pathlib import Path

FINDINGS = {
    1: "an admin can read all clinical content (two escalation routes)",
    2: "password re-checks neither throttled nor audited",
    3: "any clinician can attach themselves to any patient",
    4: "erasure does not reach backups",
    5: "search words travel in URLs",
    6: "rate limits weak by default and lock people out",
    7: "two-factor: other sessions kept, removal without a code, unkeyed recovery codes",
    8: "metadata in clear: a flag's kind, erasure reasons",
    9: "writes without limits",
    10: "headers: gunicorn's own error pages, the exported HTML's policy",
}


def marked_findings() -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for path in sorted(Path(__file__).parent.rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and ast.unparse(decorator.func) == "pytest.mark.security_review"
                ):
                    (keyword,) = decorator.keywords
                    number = ast.literal_eval(keyword.value)
                    found.setdefault(number, []).append(f"{path.name}::{node.name}")
    return found


def test_every_finding_of_the_review_is_reproduced_by_a_test() -> None:
    found = marked_findings()
    assert set(found) == set(FINDINGS), sorted(set(FINDINGS) ^ set(found))
