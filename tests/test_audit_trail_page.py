"""The admin's audit trail: keyset pages, a date range and filters, words for every
action, names of people and courses (never what anyone wrote), and a CSV download
that is itself recorded and safe to open in a spreadsheet."""

from __future__ import annotations

import ast
import csv
import html
import io
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select, update

from bench import audit as audit_bench
from journal.accounts import audit, audit_trail
from journal.accounts.invitations import INVITE, RESET
from journal.config import Settings
from journal.core.catalogues import Words
from journal.export.model import ExportFormat
from journal.models import AuditEvent, CourseStatus, Role, User
from journal.notify.reminders import KINDS
from tests.conftest import Clinic, World, entry_form, runtime

ROOT = Path(__file__).resolve().parent.parent / "journal"
TAG = re.compile(r"<[^>]+>")


def visible(page: str) -> str:
    """The page's text as a person reads it (tags, and so attribute values, left out)."""
    return html.unescape(TAG.sub("", page))


def events(page: str) -> str:
    """The text of the events table alone (the filter's choices left out)."""
    body = re.search(r"<tbody>(.*)</tbody>", page, re.S)
    assert body, "an events table"
    return visible(body.group(1))


# -- every action the code records has words --------------------------------------

# Codes built from a value: every value they can take.
EXPANSIONS: dict[str, list[str]] = {
    "course.{}": [s.value for s in CourseStatus],
    "export.{}": [f.value for f in ExportFormat],
    "user.{}_link": [INVITE, RESET],
    "password.set_by_{}": [INVITE, RESET],
    "reminders.off.{}": list(KINDS),
}


def _skeleton(node: ast.JoinedStr) -> str:
    return "".join(
        str(part.value) if isinstance(part, ast.Constant) else "{}" for part in node.values
    )


def _functions(tree: ast.Module) -> dict[ast.AST, ast.FunctionDef]:
    """Each node's innermost enclosing function."""
    found: dict[ast.AST, ast.FunctionDef] = {}

    def visit(node: ast.AST, func: ast.FunctionDef | None) -> None:
        for child in ast.iter_child_nodes(node):
            if func is not None:
                found[child] = func
            visit(child, child if isinstance(child, ast.FunctionDef) else func)

    visit(tree, None)
    return found


def _params(func: ast.FunctionDef) -> list[ast.arg]:
    return [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]


def _default(func: ast.FunctionDef, name: str) -> ast.expr | None:
    positional = [*func.args.posonlyargs, *func.args.args]
    for arg, default in zip(positional[::-1], func.args.defaults[::-1], strict=False):
        if arg.arg == name:
            return default
    for arg, kw_default in zip(func.args.kwonlyargs, func.args.kw_defaults, strict=True):
        if arg.arg == name:
            return kw_default
    return None


class Recorder:
    """A function that records an event: audit.record itself, or one that passes its
    own parameter on as the action (audit.record_read, a module's _record helper)."""

    def __init__(self, position: int | None, keyword: str, default: ast.expr | None) -> None:
        self.position, self.keyword, self.default = position, keyword, default

    def action(self, call: ast.Call) -> ast.expr | None:
        for kw in call.keywords:
            if kw.arg == self.keyword:
                return kw.value
        if self.position is not None and len(call.args) > self.position:
            return call.args[self.position]
        return self.default


def _name(call: ast.Call) -> str | None:
    f = call.func
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "audit":
        return f.attr
    return f.id if isinstance(f, ast.Name) else None


def _recorder(
    recorders: dict[tuple[Path | None, str], Recorder], path: Path, call: ast.Call
) -> Recorder | None:
    name = _name(call) or ""
    return recorders.get((None, name)) or recorders.get((path, name))


def recorded_actions() -> Iterator[tuple[str, str]]:
    """(where, code or "f:" and an f-string's skeleton) for every event the code records."""
    sources = {p: p.read_text() for p in sorted(ROOT.rglob("*.py"))}
    # Only a module that names "record" can record (or pass an action on to it).
    modules = {p: ast.parse(text) for p, text in sources.items() if "record" in text}
    scopes = {p: _functions(tree) for p, tree in modules.items()}
    consts = {p: _constants(tree) for p, tree in modules.items()}
    calls = {p: [n for n in ast.walk(t) if isinstance(n, ast.Call)] for p, t in modules.items()}
    recorders: dict[tuple[Path | None, str], Recorder] = {
        (None, "record"): Recorder(1, "action", None)
    }
    # Functions that pass a parameter on as the action record too; find them all.
    grew = True
    while grew:
        grew = False
        for path, found in calls.items():
            for call in found:
                rec = _recorder(recorders, path, call)
                expr = rec.action(call) if rec else None
                if not isinstance(expr, ast.Name):
                    continue
                func = _owner(scopes[path], call, expr.id)
                if func is None or expr.id not in [a.arg for a in _params(func)]:
                    continue
                public = path.name == "audit.py"  # audit.record_read, called everywhere
                key = (None if public else path, func.name)
                if key not in recorders:
                    params = [a.arg for a in _params(func)]
                    keyword_only = expr.id in [a.arg for a in func.args.kwonlyargs]
                    position = None if keyword_only else params.index(expr.id)
                    recorders[key] = Recorder(position, expr.id, _default(func, expr.id))
                    grew = True
    for path, found in calls.items():
        for call in found:
            rec = _recorder(recorders, path, call)
            if rec is not None:
                where = f"{path.relative_to(ROOT.parent)}:{call.lineno}"
                yield from _codes(where, rec.action(call), call, scopes[path], consts[path])


def _owner(
    scopes: dict[ast.AST, ast.FunctionDef], node: ast.AST, name: str
) -> ast.FunctionDef | None:
    """The innermost function around `node` that has `name` as a parameter or assigns it."""
    func = scopes.get(node)
    while func is not None:
        if name in [a.arg for a in _params(func)] or _assigned(func, name):
            return func
        func = scopes.get(func)
    return None


def _assigned(func: ast.FunctionDef, name: str) -> list[ast.expr]:
    return [
        node.value
        for node in ast.walk(func)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    ]


def _constants(tree: ast.Module) -> dict[str, ast.expr]:
    """A module's top-level names given a value (DOWNLOAD = "audit.export")."""
    return {
        t.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }


def _codes(
    where: str,
    expr: ast.expr | None,
    at: ast.AST,
    scopes: dict[ast.AST, ast.FunctionDef],
    consts: dict[str, ast.expr],
) -> Iterator[tuple[str, str]]:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        yield where, expr.value
    elif isinstance(expr, ast.IfExp):
        yield from _codes(where, expr.body, at, scopes, consts)
        yield from _codes(where, expr.orelse, at, scopes, consts)
    elif isinstance(expr, ast.JoinedStr):
        yield where, "f:" + _skeleton(expr)
    elif isinstance(expr, ast.Name):
        func = _owner(scopes, at, expr.id)
        if func is None and expr.id in consts:
            yield from _codes(where, consts[expr.id], at, scopes, consts)
        elif func is None:
            yield where, f"?:{expr.id}"
        elif expr.id in [a.arg for a in _params(func)]:
            return  # passed on by a function that records: its callers are read instead
        else:
            for value in _assigned(func, expr.id):
                yield from _codes(where, value, at, scopes, consts)
    else:
        yield where, f"?:{ast.unparse(expr) if expr is not None else 'nothing'}"


def test_every_action_the_code_records_has_words() -> None:
    found = list(recorded_actions())
    codes = {code for _, code in found}
    # The scan sees the ways in: plain codes, variables, helpers, f-strings, the default.
    assert {"entry.create", "user.deactivate", "care_team.add", "read", "restore"} <= codes
    assert {"f:mail.{}", "f:course.{}", "f:reminders.off.{}"} <= codes
    missing = []
    for where, code in found:
        if code.startswith("?:"):
            missing.append(f"{where}: the action {code[2:]} cannot be read; give it words")
        elif code.startswith("f:"):
            skeleton = code[2:]
            if skeleton in EXPANSIONS:
                values = [skeleton.replace("{}", v) for v in EXPANSIONS[skeleton]]
                missing += [f"{where}: {v}" for v in values if v not in audit_trail.ACTION_WORDS]
            elif not any(skeleton.startswith(p) for p in audit_trail.FAMILY_WORDS):
                missing.append(f"{where}: {skeleton} (add it to EXPANSIONS or FAMILY_WORDS)")
        elif code not in audit_trail.ACTION_WORDS:
            missing.append(f"{where}: {code}")
    assert not missing, "actions without words:\n" + "\n".join(missing)


def test_a_code_without_words_still_shows_and_is_reported() -> None:
    assert audit_trail.action_words("made.up") is None
    assert audit_trail.action_words("mail.invite") == "Sent {object}"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_each_action_in_the_filter_reads_differently(language: str) -> None:
    labels = [label for _, label in audit_trail.action_choices(Words(language))]
    assert len(labels) == len(set(labels)) == len(audit_trail.ACTION_WORDS)
    assert "{" not in "".join(labels)


# -- the page ------------------------------------------------------------------------


def test_the_page_shows_words_and_names_and_never_what_was_written(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    patient.post(f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past))
    admin = clinic.world.browser(clinic.admin)
    admin.post(f"/admin/users/{clinic.other_clinician.id}/deactivate")
    whole = admin.text("/admin/audit")
    page = events(whole)
    assert "Wrote an entry" in page and clinic.patient.name in page
    assert f"Deactivated the account of {clinic.other_clinician.name}" in page
    assert clinic.other_clinician.email in page
    assert f"Set up the course of {clinic.patient.name} from" in page
    # No raw codes as text, no title or body of anything written.
    assert "entry.create" not in visible(whole) and "user.deactivate" not in visible(whole)
    assert "A fictional entry" not in page
    assert "Fictional indication" not in page


def _events(world: World, actor: User, action: str, n: int) -> list[uuid.UUID]:
    ids = []
    for _ in range(n):
        audit.record(world.db, action, user=actor, object_type="user", object_id=actor.id)
        ids.append(world.db.scalars(select(AuditEvent.id).order_by(AuditEvent.seq.desc())).first())
    world.commit()
    return [i for i in ids if i]


def _all_newest_first(world: World) -> list[uuid.UUID]:
    rows = world.db.execute(
        select(AuditEvent.id).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )
    return [r.id for r in rows]


@contextmanager
def offsets(app: Flask) -> Iterator[list[object]]:
    """The OFFSET of every statement run inside the block (SQLite always sends one)."""
    seen: list[object] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if "OFFSET" in statement.upper():
            seen.append(parameters[-1] if isinstance(parameters, tuple) else "named")

    engine = runtime(app).database.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_keyset_pages_walk_every_event_once_even_at_one_instant(world: World) -> None:
    admin = world.user(Role.ADMIN)
    clinician = world.user(Role.CLINICIAN)
    same = _events(world, clinician, "login", 70)
    _events(world, clinician, "logout", 40)
    instant = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    world.db.execute(update(AuditEvent).where(AuditEvent.id.in_(same)).values(at=instant))
    world.commit()
    everything = _all_newest_first(world)
    work = world.as_(admin)
    seen: list[uuid.UUID] = []
    cursor = None
    pages = []
    with offsets(world.app) as skipped:
        while True:
            trail = audit_trail.page(work, audit_trail.Filters(), older_than=cursor, size=25)
            pages.append(trail)
            seen += [r.event.id for r in trail.rows]
            if trail.older is None:
                break
            cursor = trail.older
    assert seen == everything
    assert not [n for n in skipped if n], "keyset pages skip no rows with OFFSET"
    # Back a page from the third: the second page again, and a way further back.
    back = audit_trail.page(work, audit_trail.Filters(), newer_than=pages[2].newer, size=25)
    assert [r.event.id for r in back.rows] == [r.event.id for r in pages[1].rows]
    assert back.newer is not None and back.older is not None
    first = audit_trail.page(work, audit_trail.Filters(), newer_than=pages[1].newer, size=25)
    assert [r.event.id for r in first.rows] == [r.event.id for r in pages[0].rows]
    assert first.newer is None


def test_the_page_links_to_older_and_newer_events_keeping_the_filters(world: World) -> None:
    admin = world.user(Role.ADMIN)
    clinician = world.user(Role.CLINICIAN)
    _events(world, clinician, "logout", audit_trail.PAGE_SIZE + 5)
    b = world.browser(admin)
    first = b.text(f"/admin/audit?action=logout&person={clinician.id}")
    assert first.count('data-label="When"') == audit_trail.PAGE_SIZE
    older = re.search(r'href="(/admin/audit\?older=[^"]+)"', first)
    assert older, "a link to older events"
    link = html.unescape(older.group(1))
    assert "action=logout" in link and f"person={clinician.id}" in link
    second = b.text(link)
    assert second.count('data-label="When"') == 5
    assert "Newer events" in second and "Older events" not in second


def test_filters_by_day_person_patient_and_action(clinic: Clinic) -> None:
    world, admin = clinic.world, clinic.admin
    world.db.execute(update(AuditEvent).values(at=datetime(2026, 1, 10, 12, tzinfo=UTC)))
    audit.record(world.db, "logout", user=clinic.clinician, subject_id=clinic.patient.id)
    world.db.execute(
        update(AuditEvent)
        .where(AuditEvent.action == "logout")
        .values(at=datetime(2026, 2, 2, 23, 59, tzinfo=UTC))
    )
    world.commit()
    work = world.as_(admin)

    def codes(**filters: object) -> set[str]:
        trail = audit_trail.page(work, audit_trail.Filters(**filters), size=500)  # type: ignore[arg-type]
        return {r.event.action for r in trail.rows}

    day = datetime(2026, 2, 2).date()
    assert codes(since=day, until=day) == {"logout"}
    assert codes(until=day - timedelta(days=1)) and "logout" not in codes(
        until=day - timedelta(days=1)
    )
    assert codes(since=day + timedelta(days=1)) == set()
    assert codes(person=clinic.clinician.id) >= {"logout", "course.create"}
    assert codes(person=clinic.other_clinician.id) & {"logout"} == set()
    assert codes(patient=clinic.patient.id) >= {"logout", "session.create"}
    assert codes(patient=clinic.other_patient.id) & {"logout"} == set()
    assert codes(action="logout") == {"logout"}
    with pytest.raises(audit_trail.ValidationError):
        audit_trail.page(work, audit_trail.Filters(since=day, until=day - timedelta(days=1)))
    # Through the page: the same filters from the address, a wrong one said in words.
    b = world.browser(admin)
    page = events(b.text("/admin/audit?since=2026-02-02&until=2026-02-02"))
    assert "Signed out" in page and "Opened the course" not in page
    wrong = visible(b.text("/admin/audit?since=2026-02-03&until=2026-02-02"))
    assert "The last day comes before the first day." in wrong
    assert b.get("/admin/audit?since=not-a-day&older=nonsense").status_code == 200
    far = b.get("/admin/audit.csv?until=9999-12-31&newer=99999999999999999999.x")
    assert far.status_code == 200 and "between 1970 and 9998" in visible(far.get_data(as_text=True))


# -- the CSV download ------------------------------------------------------------------


def _csv(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body)))


def test_the_csv_holds_the_filtered_events_safely_and_is_itself_recorded(
    clinic: Clinic,
) -> None:
    world = clinic.world
    schemer = world.user(Role.CLINICIAN, name='=HYPERLINK("http://x.example","y") (test)')
    patient = world.browser(clinic.patient)
    patient.post(f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past))
    audit.record(world.db, "login", user=schemer, address="-1+1")
    world.commit()
    b = world.browser(clinic.admin)
    r = b.get(f"/admin/audit.csv?person={schemer.id}&action=login")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.headers["Content-Disposition"].startswith('attachment; filename="audit-events-')
    rows = _csv(r.get_data(as_text=True))
    assert [row["action code"] for row in rows] == ["login"]
    assert rows[0]["who"] == "'" + schemer.name  # a formula shows as text
    assert rows[0]["address"] == "'-1+1"
    assert rows[0]["what happened"] == "Signed in"
    # Everything, newest first; words and names, never what was written.
    every = b.get("/admin/audit.csv").get_data(as_text=True)
    assert "A fictional entry" not in every and "Fictional indication" not in every
    assert "Wrote an entry" in every and clinic.patient.email in every
    with runtime(world.app).database.session() as s:
        downloads = list(
            s.scalars(select(AuditEvent).where(AuditEvent.action == audit_trail.DOWNLOAD))
        )
    assert len(downloads) == 2 and downloads[0].actor_id == clinic.admin.id
    assert {d.object_id for d in downloads} == {schemer.id, None}
    assert "Downloaded audit events as CSV" in events(b.text("/admin/audit"))


def test_cells_that_would_start_a_formula_are_escaped() -> None:
    for risky in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert audit_trail.safe_cell(risky) == "'" + risky
    assert audit_trail.safe_cell("Rowan (test)") == "Rowan (test)"
    assert audit_trail.safe_cell(None) == ""


def test_a_download_of_too_many_events_is_refused_not_cut(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_trail, "CSV_LIMIT", 3)
    b = clinic.world.browser(clinic.admin)
    r = b.get("/admin/audit.csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    page = r.get_data(as_text=True)
    assert "More than 3 events match." in visible(page)
    assert "Set up the course of" in events(page)  # the events stay in sight
    with runtime(clinic.world.app).database.session() as s:
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == audit_trail.DOWNLOAD)) is None


def test_only_admins_download_the_trail(clinic: Clinic) -> None:
    for person in (clinic.patient, clinic.clinician):
        assert clinic.world.browser(person).get("/admin/audit.csv").status_code == 403


def test_the_benchmark_still_runs_at_a_tiny_size(app: Flask, settings: Settings) -> None:
    """bench/audit.py keeps working (its figures are read, never asserted)."""
    made = audit_bench.build(settings, 3_000)
    made["events"] = 3_000
    figures = audit_bench.measure(runtime(app), made, runs=1)
    assert len(figures) == 10 and all(seconds > 0 for seconds in figures.values())
