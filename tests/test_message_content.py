"""Every kind of message the journal sends, made the way people make it, then read as
it left: no entry's words or title, no score, no flag's kind, no indication, in any
message to a clinician; and nothing of another patient in any message at all."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from journal.models import Message
from journal.notify import alerts, reminders
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
    found |= {"invite", "reset", alerts.KIND}  # named by constants
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
        for body in mails_to(app, person.email):
            leaks = [what for word, what in clinical.items() if word in body]
            assert not leaks, (person.email, leaks)
            assert clinic.patient.name not in body
    for body in mails_to(app, "contact@clinic.example"):
        assert not [w for w in clinical if w in body]
    for body in mails_to(app, clinic.patient.email):
        assert not [w for w in other_patient if w in body]
        assert secret_title not in body  # not even the patient's own words
