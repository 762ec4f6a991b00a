"""The unit of work: what is kept when a request, a refused operation or a read ends.

A write operation that refuses keeps nothing of itself while its unit commits the
rest; a view that fails after writing keeps nothing; a GET that reads someone
else's journal has written its audit row by the time the answer is back; writes
queued in a reading unit run only when it commits (or ends in an error); and no
service commits on its own: only the unit of work and the boundaries do.
"""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import pytest
from flask import Flask, flash, redirect
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from journal import create_app
from journal.accounts import audit
from journal.config import Settings
from journal.core.actor import Actor
from journal.core.errors import ValidationError
from journal.core.vault import Vault, column_context
from journal.core.work import Work
from journal.crypto import blob_key_id
from journal.db import Base, atomic
from journal.journaling import entries
from journal.journaling.entries import EntryInput
from journal.models import AuditEvent, DataKey, Entry, Intention, Phase, Role, User, Visibility
from journal.web import context
from tests.conftest import Clinic, runtime, work_in
from tests.helpers import Browser
from tests.scene import write

JOURNAL = Path(__file__).resolve().parent.parent / "journal"
# Where a commit belongs: the unit of work, the request's boundary, and the command
# line's own maintenance (set-up, key rotation in batches, restore).
BOUNDARIES = {
    "journal/core/work.py",
    "journal/web/context.py",
    "journal/bootstrap.py",
    "journal/keyrotation.py",
    "journal/maintenance.py",
}


def fictional_entry(title: str) -> EntryInput:
    return EntryInput(
        phase=Phase.PREPARATION,
        title=title,
        body="Words written for a test.",
        visibility=Visibility.CARE_TEAM,
        mood=5,
        intentions=["A fictional intention"],
    )


def count(app: Flask, model: type[Base], *where: ColumnElement[bool]) -> int:
    """Rows as a fresh session sees them, i.e. what was committed."""
    with runtime(app).database.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def reads_of(app: Flask, subject: uuid.UUID) -> list[tuple[str | None, uuid.UUID | None]]:
    """The committed audit events of reads of this person's journal, oldest first."""
    with runtime(app).database.session() as s:
        rows = s.execute(
            select(AuditEvent.object_type, AuditEvent.object_id)
            .where(AuditEvent.action == "read", AuditEvent.subject_id == subject)
            .order_by(AuditEvent.seq)
        )
        return [(kind, object_id) for kind, object_id in rows]


@atomic
def create_then_refuse(work: Work, course_id: uuid.UUID) -> None:
    """A write operation that refuses after it has written (an entry, its intention
    and its audit row)."""
    entries.create_entry(work, course_id, fictional_entry("Fictional refused"))
    raise ValidationError({"title": "Refused after writing, for a test."})


def test_a_refused_operation_keeps_nothing_while_its_unit_keeps_the_rest(clinic: Clinic) -> None:
    app, course_id = clinic.world.app, clinic.course.id
    created = AuditEvent.action == "entry.create", AuditEvent.subject_id == clinic.patient.id
    audited = count(app, AuditEvent, *created)
    with runtime(app).work(write=True) as work:
        patient = work.db.get(User, clinic.patient.id)
        assert patient is not None
        actor = Actor(patient)
        kept = entries.create_entry(
            work.acting_as(actor), course_id, fictional_entry("Fictional kept")
        )
        with pytest.raises(ValidationError):  # refused before writing: a title too long
            entries.create_entry(work.acting_as(actor), course_id, fictional_entry("t" * 201))
        with pytest.raises(ValidationError):  # refused after writing
            create_then_refuse(work.acting_as(actor), course_id)
    assert count(app, Entry, Entry.course_id == course_id) == 1
    assert count(app, Entry, Entry.id == kept.id) == 1
    assert count(app, Intention, Intention.course_id == course_id) == 1
    assert count(app, AuditEvent, *created) == audited + 1


def test_a_view_that_fails_after_writing_keeps_nothing(settings: Settings, clinic: Clinic) -> None:
    app, course_id = clinic.world.app, clinic.course.id

    def write_entry() -> Response:
        entries.create_entry(context.work(), course_id, fictional_entry("Fictional"))
        return redirect("/")

    def write_then_fail() -> Response:
        write_entry()
        raise RuntimeError("forced failure after a write, for a test")

    own = create_app(settings)  # the shared app takes no new routes once it has served
    try:
        own.add_url_rule("/test-only/write", "test_only_write", write_entry, methods=["POST"])
        own.add_url_rule(
            "/test-only/write-then-fail", "test_only_fail", write_then_fail, methods=["POST"]
        )
        b = Browser(own)
        b.sign_in_as(clinic.patient.id)
        assert b.post("/test-only/write-then-fail").status_code == 500
        assert count(app, Entry, Entry.course_id == course_id) == 0
        assert count(app, Intention, Intention.course_id == course_id) == 0
        assert count(app, AuditEvent, AuditEvent.action == "entry.create") == 0
        # The control: the same write, answered, is kept.
        assert b.post("/test-only/write").status_code == 302
        assert count(app, Entry, Entry.course_id == course_id) == 1
        assert count(app, AuditEvent, AuditEvent.action == "entry.create") == 1
    finally:
        runtime(own).database.dispose()


A_VALUE = "lee@clinic.example"  # a fictional statement value the log must not show


def test_a_commit_that_fails_answers_the_error_page_and_keeps_nothing(
    settings: Settings,
    clinic: Clinic,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The commit after the view fails: the answer is the error page, not the view's;
    the session cookie keeps its old state (no "saved" flash for what was not kept);
    the log names the error's type, never the statement's values."""
    app, course_id = clinic.world.app, clinic.course.id

    def write_and_flash() -> str:
        entries.create_entry(context.work(), course_id, fictional_entry("Fictional"))
        flash("Saved (fictional).")
        return "fictional view answer"

    real_commit, failures = Work.commit, []

    def failing_commit(work: Work) -> None:
        """The request's own commit fails; later ones (the error page's) work."""
        if not failures:
            failures.append(work)
            raise OperationalError("UPDATE users SET email=?", (A_VALUE,), Exception())
        real_commit(work)

    own = create_app(settings)
    own.config["PROPAGATE_EXCEPTIONS"] = False  # as in production
    try:
        own.add_url_rule("/test-only/write", "test_only_write", write_and_flash, methods=["POST"])
        b = Browser(own)
        b.sign_in_as(clinic.patient.id)
        b.token()
        monkeypatch.setattr(Work, "commit", failing_commit)
        r = b.post("/test-only/write")
        monkeypatch.undo()
        assert r.status_code == 500 and len(failures) == 1
        assert "fictional view answer" not in r.get_data(as_text=True)
        assert "Set-Cookie" not in r.headers
        assert r.headers["Content-Security-Policy"]  # the error page still has its headers
        assert count(app, Entry, Entry.course_id == course_id) == 0
        assert "unhandled OperationalError" in caplog.text
        assert A_VALUE not in caplog.text
        after = b.get("/", follow_redirects=True)
        assert after.status_code == 200
        assert "Saved (fictional)." not in after.get_data(as_text=True)
    finally:
        runtime(own).database.dispose()


def test_a_read_of_another_persons_journal_is_audited_before_the_answer(clinic: Clinic) -> None:
    app, patient = clinic.world.app, clinic.patient
    written = write(clinic.world, patient, clinic.course, Visibility.CARE_TEAM, label="uow")
    clinician = clinic.world.browser(clinic.clinician)
    before = reads_of(app, patient.id)
    clinician.text(f"/courses/{clinic.course.id}")
    assert reads_of(app, patient.id) == [*before, ("course", clinic.course.id)]
    clinician.text(f"/entries/{written.id}")
    assert reads_of(app, patient.id) == [
        *before,
        ("course", clinic.course.id),
        ("entry", written.id),
    ]


def queue_a_read(db: Session, clinic: Clinic) -> None:
    reader = db.get(User, clinic.clinician.id)
    assert reader is not None
    audit.record_read(
        work_in(runtime(clinic.world.app), db, Actor(reader)),
        object_type="course",
        object_id=clinic.course.id,
        subject_id=clinic.patient.id,
    )


def test_a_reading_unit_writes_what_its_reads_queued_when_it_commits(clinic: Clinic) -> None:
    app, patient = clinic.world.app, clinic.patient
    before = reads_of(app, patient.id)
    with runtime(app).work(write=False) as work:
        queue_a_read(work.db, clinic)
        # Queued, not run: not even the unit's own session holds the event.
        in_unit = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "read")
        assert work.db.scalar(in_unit) == len(before)
        assert reads_of(app, patient.id) == before
        work.commit()
        assert reads_of(app, patient.id) == [*before, ("course", clinic.course.id)]
    assert reads_of(app, patient.id) == [*before, ("course", clinic.course.id)]  # once only


def test_a_reading_unit_that_fails_still_writes_its_audit_rows(clinic: Clinic) -> None:
    app, patient = clinic.world.app, clinic.patient
    before = reads_of(app, patient.id)
    with pytest.raises(RuntimeError), runtime(app).work(write=False) as work:
        queue_a_read(work.db, clinic)
        raise RuntimeError("forced failure after a read, for a test")
    assert reads_of(app, patient.id) == [*before, ("course", clinic.course.id)]


# -- only the unit of work commits ----------------------------------------------------------


def commit_calls(source: str) -> list[int]:
    """Lines of every `<something>.commit(...)` call."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
    ]


def test_no_service_commits_but_the_unit_of_work() -> None:
    files = {str(f.relative_to(JOURNAL.parent)): f for f in sorted(JOURNAL.rglob("*.py"))}
    assert files.keys() >= BOUNDARIES and len(files) > 100
    # The checker sees the unit's own commits.
    assert commit_calls(files["journal/core/work.py"].read_text())
    found = [
        f"{name}:{line}"
        for name, f in files.items()
        if name not in BOUNDARIES
        for line in commit_calls(f.read_text())
    ]
    assert found == []


def test_the_checker_finds_a_commit() -> None:
    sample = "def save(db):\n    db.add(row)\n    db.commit()\n    self.db.commit()\n"
    assert commit_calls(sample) == [3, 4]
    assert commit_calls("later = db.commit\ncommit()\ndb.committed()\n") == []


@atomic
def _seal_then_refuse(db: Session, vault: Vault, owner: uuid.UUID) -> None:
    vault.seal(column_context("entries", "title", uuid.uuid4(), owner, 1), "Fictional refused")
    raise ValidationError({"title": "refused after sealing"})


def test_a_data_key_made_by_a_refused_operation_is_never_used(clinic: Clinic) -> None:
    """The first seal for a person makes their data key; if the operation that made it
    is refused, the key's row is rolled back and the vault must forget the key too,
    or what the unit seals next for that person could never be opened again."""
    newcomer = clinic.world.user(Role.PATIENT)  # no data key yet
    rt = runtime(clinic.world.app)
    with rt.work(write=True) as work:
        with pytest.raises(ValidationError):
            _seal_then_refuse(work.db, work.vault, newcomer.id)
        where = column_context("entries", "title", uuid.uuid4(), newcomer.id, 1)
        kept = work.vault.seal(where, "Fictional kept")
    with rt.work(write=False) as work:
        assert work.db.get(DataKey, blob_key_id(kept)) is not None
        assert work.vault.open(kept, where) == "Fictional kept"
        keys = work.db.scalars(select(DataKey).where(DataKey.owner_id == newcomer.id)).all()
        assert len(keys) == 1
