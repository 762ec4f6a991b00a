"""The audit trail is a hash chain: any edit, insertion or deletion is detected
(checklist 34), from the admin page and from the command line."""

from __future__ import annotations

import uuid

from flask import Flask
from sqlalchemy import delete, select, update

from journal.accounts import audit
from journal.models import AuditEvent
from tests.conftest import Clinic, committing, entry_form, runtime


def _verify(app: Flask) -> audit.ChainReport:
    with runtime(app).database.session() as db:
        return audit.verify_chain(db)


def _activity(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    r = patient.post(f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past))
    clinician = clinic.world.browser(clinic.clinician)
    clinician.get(r.location)  # a read of someone else's words: audited
    patient.logout()


def _events(app: Flask) -> list[AuditEvent]:
    with runtime(app).database.session() as db:
        return list(db.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def test_activity_leaves_an_intact_chain(clinic: Clinic) -> None:
    _activity(clinic)
    events = _events(clinic.world.app)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert {"entry.create", "read", "login", "logout"} <= {e.action for e in events}
    report = _verify(clinic.world.app)
    assert report.intact and report.events == len(events)


def _tamper(app: Flask, statement: object) -> None:
    with committing(runtime(app)) as db:
        db.execute(statement)  # type: ignore[call-overload]
        db.commit()


def test_an_edited_event_is_detected(clinic: Clinic) -> None:
    _activity(clinic)
    target = _events(clinic.world.app)[3]
    _tamper(
        clinic.world.app,
        update(AuditEvent).where(AuditEvent.id == target.id).values(actor_id=uuid.uuid4()),
    )
    report = _verify(clinic.world.app)
    assert not report.intact and f"event {target.seq} was changed" in report.problem


def test_a_deleted_event_is_detected(clinic: Clinic) -> None:
    _activity(clinic)
    target = _events(clinic.world.app)[2]
    _tamper(clinic.world.app, delete(AuditEvent).where(AuditEvent.id == target.id))
    report = _verify(clinic.world.app)
    assert not report.intact and "missing" in report.problem


def test_the_last_event_deleted_is_detected(clinic: Clinic) -> None:
    _activity(clinic)
    last = _events(clinic.world.app)[-1]
    _tamper(clinic.world.app, delete(AuditEvent).where(AuditEvent.id == last.id))
    assert not _verify(clinic.world.app).intact


def test_a_forged_event_is_detected(clinic: Clinic) -> None:
    _activity(clinic)
    first = _events(clinic.world.app)[0]
    _tamper(
        clinic.world.app,
        update(AuditEvent).where(AuditEvent.id == first.id).values(action="read", mac="0" * 64),
    )
    assert not _verify(clinic.world.app).intact


def test_admin_page_and_cli_report_the_chain(clinic: Clinic) -> None:
    _activity(clinic)
    admin = clinic.world.browser(clinic.admin)
    page = admin.text("/admin/audit")
    assert "entry.create" in page and "A fictional entry" not in page  # no content
    assert "The audit trail is intact" in admin.text("/admin/audit/verify")
    runner = clinic.world.app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "intact" in ok.output

    target = _events(clinic.world.app)[1]
    _tamper(
        clinic.world.app,
        update(AuditEvent).where(AuditEvent.id == target.id).values(outcome="failure"),
    )
    assert "tampered with" in admin.text("/admin/audit/verify")
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1 and "BROKEN" in broken.output


def test_only_admins_open_the_audit_pages(clinic: Clinic) -> None:
    for person in (clinic.patient, clinic.clinician):
        b = clinic.world.browser(person)
        assert b.get("/admin/audit").status_code == 403
        assert b.get("/admin/audit/verify").status_code == 403
