"""Every kind of message the journal sends, made the way people make it, then read as
it left: no entry's words or title, no score, no flag's kind, no indication, in any
message to a clinician; and nothing of another patient in any message at all."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from flask import Flask
from markupsafe import escape
from sqlalchemy import select

from journal.accounts import session_notices
from journal.core.mail import outbox_messages
from journal.models import DosingSession, Message
from journal.notify import alerts, digest, reminders
from tests.conftest import Clinic, entry_form, runtime
from tests.helpers import Browser, mails_to
from tests.scene import build_scene, marker
from tests.test_questionnaires import _assign
from tests.test_reminders import never_quiet, session_at

JOURNAL = Path(__file__).resolve().parent.parent / "journal"


def kinds_in_the_code() -> set[str]:
    """The `kind=` of every message the code composes (reminders per kind)."""
    found: set[str] = set()
    for path in JOURNAL.rglob("*.py"):
        text = path.read_text()
        found |= set(re.findall(r'kind="([a-z_]+)"', text))
        if 'kind=f"reminder_{kind}"' in text:
            found |= {f"reminder_{k}" for k in reminders.KINDS}
    found |= {"invite", "reset", alerts.KIND, session_notices.KIND, digest.KIND}  # constants
    return found


def test_no_message_carries_clinical_words_or_anyone_elses(clinic: Clinic) -> None:
    app = clinic.world.app
    rt = runtime(app)
    rt.settings = rt.settings.with_changes(safety_contact="contact@clinic.example")
    scene = build_scene(clinic)  # marked entries, notes, records on both courses
    never_quiet(clinic)
    secret_title = marker("title")
    form = entry_form(clinic.past, title=secret_title, body=marker("body"))
    clinic.world.browser(clinic.patient).post(f"/courses/{clinic.course.id}/entries/new", form)
    # Every kind: an invitation, a reset, a care-team proposal, failed sign-ins, a safety
    # alert (with its reminder and escalation) and each reminder.
    admin = clinic.world.browser(clinic.admin)
    admin.post(
        "/admin/users/new",
        {"name": "Newcomer (fictional)", "email": "newcomer@clinic.example", "role": "patient"},
    )
    Browser(app).post("/reset", {"email": clinic.patient.email})
    admin.post(f"/admin/courses/{clinic.course.id}", {"email": clinic.other_clinician.email})
    for _ in range(7):
        Browser(app).login(clinic.clinician.email, "not the password at all")
    # The scene's PHQ-9, answered with item 9 above zero, has raised a safety flag.
    _assign(clinic, "gad7")  # due: a questionnaire reminder
    fresh = clinic.world.session(clinic.course, clinic.clinician, 20)  # nothing written yet
    with rt.work(write=True) as work:
        alerts.scan(work)
    with rt.work(write=True) as work:
        alerts.scan(work, now=work.now() + timedelta(hours=5))
    start = session_at(clinic, fresh)
    past = session_at(clinic, clinic.past)
    for when in (start - timedelta(hours=12), past + timedelta(hours=4), past + timedelta(days=1)):
        with rt.work(write=True) as work:
            reminders.scan(work, now=when)
    # An appointment booked, moved and cancelled on the clinician's pages, and the
    # clinician's daily digest (the scene's entries are waiting for them).
    clinician = clinic.world.browser(clinic.clinician)
    booked = (datetime.now(UTC) + timedelta(days=12)).strftime("%Y-%m-%dT%H:%M")
    moved = (datetime.now(UTC) + timedelta(days=13)).strftime("%Y-%m-%dT%H:%M")
    sessions = f"/courses/{clinic.course.id}/sessions"
    r = clinician.post(f"{sessions}/new", {"scheduled_at": booked, "status": "scheduled"})
    assert r.status_code == 302
    newest = clinic.world.db.scalars(
        select(DosingSession)
        .where(DosingSession.course_id == clinic.course.id)
        .order_by(DosingSession.created_at.desc())
    ).first()
    assert newest is not None
    for when, status in ((moved, "scheduled"), (moved, "cancelled")):
        form = {"scheduled_at": when, "number": str(newest.number), "status": status}
        assert clinician.post(f"{sessions}/{newest.id}/edit", form).status_code == 302
    with rt.work(write=True) as work:
        for hour in range(24):  # whatever hour the digest is set to
            digest.scan(work, now=datetime(2026, 3, 9, hour, 30, tzinfo=UTC))

    with rt.database.session() as s:
        sent = {m.kind for m in s.scalars(select(Message))}
    assert kinds_in_the_code() <= sent, kinds_in_the_code() - sent

    clinical = {
        **scene.forbidden_markers(None),  # every marked entry, note, record, indication
        secret_title: "an entry title",
        "PHQ": "a questionnaire",
        "item 9": "a flag's kind",
        "Mild": "a band",
        "depression": "what was measured",
    }
    other_patient = {clinic.other_patient.name: "another patient", clinic.other_patient.email: "x"}
    staff = [clinic.clinician, clinic.other_clinician, clinic.admin]
    for person in staff:
        for body in everything_to(app, person.email):
            leaks = [what for word, what in clinical.items() if word in body]
            assert not leaks, (person.email, leaks)
            assert clinic.patient.name not in body
    for body in everything_to(app, "contact@clinic.example"):
        assert not [w for w in clinical if w in body]
    for body in everything_to(app, clinic.patient.email):
        assert not [w for w in other_patient if w in body]
        assert secret_title not in body  # not even the patient's own words
    # An appointment notice says a time and the clinic, in every part, and no more: not
    # even to the patient what kind of appointment it is.
    notices = [
        m
        for m in outbox_messages(rt.settings.instance_path)
        if m["To"] == clinic.patient.email and m["Subject"].startswith("Appointment")
    ]
    assert len(notices) == 3
    for message in notices:
        words = "\n".join(parts_of(message)).casefold()
        assert "text/calendar" in {p.get_content_type() for p in message.iter_attachments()}
        unsaid = [w for w in (*clinical, *UNSAID) if w != clinic.patient.name]  # theirs
        assert not [w for w in unsaid if w.casefold() in words], words
    (sent_digest,) = mails_to(app, clinic.clinician.email)[-1:]
    assert "not yet reviewed" in sent_digest
    # Every message: a plain-text and an HTML part saying the same, with the clinic's
    # name; a one-click "no more of these" on the reminders and on nothing else.
    reminder_subjects = {subject for subject, _ in reminders.WORDS.values()}
    everything = outbox_messages(rt.settings.instance_path)
    for message in everything:
        plain, html = message.get_body(("plain",)), message.get_body(("html",))
        assert plain is not None and html is not None, message["Subject"]
        first_line = str(plain.get_content()).splitlines()[0]
        assert escape(first_line) in str(html.get_content())
        clinic_name = rt.settings.clinic_name
        assert clinic_name in str(plain.get_content()) and clinic_name in str(html.get_content())
        is_reminder = message["Subject"] in reminder_subjects
        assert ("List-Unsubscribe" in message) == is_reminder, message["Subject"]
    assert any(m["Subject"] in reminder_subjects for m in everything)


# What an appointment notice never says (the clinic's own name aside).
UNSAID = ("ketamine", "dosing", "dose", "session", "therapy", "treatment", "indication")


def parts_of(message: EmailMessage) -> list[str]:
    """The subject, every text part (plain and HTML) and every attachment, as read."""
    found = [str(message["Subject"])]
    for part in message.walk():
        if part.is_multipart():
            continue
        raw = part.get_payload(decode=True)
        assert isinstance(raw, bytes)
        found.append(raw.decode(part.get_content_charset() or "utf-8"))
    return found


def everything_to(app: Flask, address: str) -> list[str]:
    instance = runtime(app).settings.instance_path
    return ["\n".join(parts_of(m)) for m in outbox_messages(instance) if m["To"] == address]
