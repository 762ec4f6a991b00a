"""Reminders: before a session, soon after it, in the days after, and for a questionnaire;
never in quiet hours, never once the entry exists, never after "no more of these"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from journal.core.mail import outbox_messages
from journal.db import after_commit
from journal.models import DosingSession, Message, ReminderPreferences, User
from journal.notify import reminders
from tests.conftest import Clinic, entry_form, runtime
from tests.helpers import Browser, plain_text
from tests.test_questionnaires import _assign


def never_quiet(clinic: Clinic, **changes: object) -> None:
    with runtime(clinic.world.app).database.session(write=True) as s:
        row = s.get(ReminderPreferences, clinic.patient.id) or ReminderPreferences(
            user_id=clinic.patient.id
        )
        row.quiet_from, row.quiet_until = 0, 0
        for name, value in changes.items():
            setattr(row, name, value)
        s.add(row)
        s.commit()


def scan_at(clinic: Clinic, when: datetime) -> list[str]:
    """The kinds of reminder a scan at `when` writes to the clinic's patient."""
    rt = runtime(clinic.world.app)
    with rt.work(write=True) as work:
        before = set(work.db.scalars(select(Message.id)))
        reminders.scan(work, now=when)
        work.db.flush()
        new = [
            m
            for m in work.db.scalars(select(Message))
            if m.id not in before and m.to_user_id == clinic.patient.id
        ]
    return sorted(m.kind.removeprefix("reminder_") for m in new)


def session_at(clinic: Clinic, session: DosingSession) -> datetime:
    with runtime(clinic.world.app).database.session() as s:
        found = s.get(DosingSession, session.id)
        assert found is not None
        return found.scheduled_at


def patient_messages(clinic: Clinic) -> list[EmailMessage]:
    instance = runtime(clinic.world.app).settings.instance_path
    return [m for m in outbox_messages(instance) if m["To"] == clinic.patient.email]


def test_a_day_before_a_session_the_patient_is_reminded_to_prepare_unless_done(
    clinic: Clinic,
) -> None:
    never_quiet(clinic)
    start = session_at(clinic, clinic.upcoming)
    assert scan_at(clinic, start - timedelta(hours=30)) == []  # too early
    assert scan_at(clinic, start - timedelta(hours=12)) == ["preparation"]
    assert scan_at(clinic, start - timedelta(hours=11)) == []  # once
    (sent,) = patient_messages(clinic)
    body = plain_text(sent)
    assert "dosing session" in body and f"session {clinic.upcoming.number}" in body
    assert sent["List-Unsubscribe"] and "One-Click" in sent["List-Unsubscribe-Post"]


def test_a_preparation_already_written_means_no_reminder(clinic: Clinic) -> None:
    never_quiet(clinic)
    patient = clinic.world.browser(clinic.patient)
    form = entry_form(clinic.upcoming, title="Ready", body="Ready")
    form["phase"] = "preparation"
    r = patient.post(f"/courses/{clinic.course.id}/entries/new", form)
    assert r.status_code == 302
    start = session_at(clinic, clinic.upcoming)
    assert scan_at(clinic, start - timedelta(hours=12)) == []


def test_after_a_session_capture_then_integration_days(clinic: Clinic) -> None:
    never_quiet(clinic)
    start = session_at(clinic, clinic.past)
    assert scan_at(clinic, start + timedelta(hours=1)) == []
    assert scan_at(clinic, start + timedelta(hours=4)) == ["capture"]
    days = runtime(clinic.world.app).settings.reminder_days
    sent = []
    for day in range(1, 9):
        sent += [
            day for kind in scan_at(clinic, start + timedelta(days=day)) if kind == "integration"
        ]
    assert sent == list(days)


def test_an_in_session_entry_already_written_means_no_capture_reminder(clinic: Clinic) -> None:
    never_quiet(clinic)
    form = entry_form(clinic.past, title="Colours", body="Colours")
    form["phase"] = "in_session"
    r = clinic.world.browser(clinic.patient).post(f"/courses/{clinic.course.id}/entries/new", form)
    assert r.status_code == 302
    assert scan_at(clinic, session_at(clinic, clinic.past) + timedelta(hours=4)) == []


def test_no_reminder_in_quiet_hours_in_the_patients_own_time_across_a_clock_change(
    clinic: Clinic,
) -> None:
    paris = ZoneInfo("Europe/Paris")
    prefs = reminders.Preferences(quiet_from=21, quiet_until=8, timezone="Europe/Paris")
    # The night before the spring change 06:30 UTC is 07:30 in Paris; the morning
    # after it, 08:30: quiet, then not.
    assert prefs.quiet_at(datetime(2026, 3, 28, 6, 30, tzinfo=UTC).astimezone(paris))
    assert not prefs.quiet_at(datetime(2026, 3, 29, 6, 30, tzinfo=UTC).astimezone(paris))
    assert prefs.quiet_at(datetime(2026, 3, 29, 19, 30, tzinfo=UTC).astimezone(paris))
    # Through the scan: quiet at 03:00 local, sent at the first scan after 08:00.
    never_quiet(clinic, quiet_from=21, quiet_until=8, timezone="Europe/Paris")
    start = session_at(clinic, clinic.past)
    day_one = (start + timedelta(days=1)).astimezone(paris).replace(hour=3, minute=0)
    assert scan_at(clinic, day_one.astimezone(UTC)) == []
    assert "integration" in scan_at(clinic, day_one.replace(hour=9).astimezone(UTC))


def test_a_due_questionnaire_is_reminded_once(clinic: Clinic) -> None:
    never_quiet(clinic)
    _assign(clinic)
    now = datetime.now(UTC)
    assert "questionnaire" in scan_at(clinic, now)
    assert "questionnaire" not in scan_at(clinic, now + timedelta(minutes=5))


def test_one_click_turns_a_kind_off_and_a_forged_link_does_nothing(clinic: Clinic) -> None:
    never_quiet(clinic)
    start = session_at(clinic, clinic.upcoming)
    scan_at(clinic, start - timedelta(hours=12))
    (sent,) = patient_messages(clinic)
    link = sent["List-Unsubscribe"].strip("<>")
    path = urlsplit(link).path
    forged = path[:-4] + ("0000" if not path.endswith("0000") else "1111")
    assert Browser(clinic.world.app).client.post(forged).status_code == 404
    # Opening the link (a person, or a mail scanner) asks; it changes nothing.
    page = Browser(clinic.world.app).client.get(path)
    assert page.status_code == 200 and "Stop these reminders?" in page.get_data(as_text=True)
    with runtime(clinic.world.app).database.session() as s:
        kept = s.get(ReminderPreferences, clinic.patient.id)
        assert kept is not None and kept.preparation is True
    # The mail program's one-click POST: no cookie, no form token.
    assert Browser(clinic.world.app).client.post(path).status_code == 200
    with runtime(clinic.world.app).database.session() as s:
        row = s.get(ReminderPreferences, clinic.patient.id)
        assert row is not None and row.preparation is False and row.capture is True
    assert scan_at(clinic, start - timedelta(hours=12)) == []


def test_the_patient_chooses_reminders_and_quiet_hours_on_their_page(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    page = patient.text("/account/reminders")
    assert "Quiet hours" in page
    r = patient.post(
        "/account/reminders",
        {
            "preparation": "y",
            "integration": "y",
            "quiet_from": "22",
            "quiet_until": "7",
            "timezone": "America/Montreal",
        },
    )
    assert r.status_code == 302
    with runtime(clinic.world.app).database.session() as s:
        row = s.get(ReminderPreferences, clinic.patient.id)
        assert row is not None
        assert (row.preparation, row.capture, row.integration, row.questionnaire) == (
            True,
            False,
            True,
            False,
        )
        assert (row.quiet_from, row.quiet_until, row.timezone) == (22, 7, "America/Montreal")
    r = patient.post("/account/reminders", {"quiet_from": "25", "quiet_until": "7"})
    assert r.status_code == 200  # refused, the form says why
    assert clinic.world.browser(clinic.admin).get("/account/reminders").status_code == 403
    assert "Daily digest" in clinic.world.browser(clinic.clinician).text("/account/reminders")


def test_no_reminder_holds_a_word_the_patient_wrote(clinic: Clinic) -> None:
    never_quiet(clinic)
    secret = "Fictional words only the patient wrote"
    form = entry_form(clinic.past, title=secret, body=secret)
    clinic.world.browser(clinic.patient).post(f"/courses/{clinic.course.id}/entries/new", form)
    start = session_at(clinic, clinic.past)
    for hours in (4, 24, 72, 168):
        scan_at(clinic, start + timedelta(hours=hours))
    sent = patient_messages(clinic)
    assert sent
    with runtime(clinic.world.app).database.session() as s:
        other_names = [u.name for u in s.scalars(select(User)) if u.id != clinic.patient.id]
    for message in sent:
        text = plain_text(message) + str(message["Subject"])
        assert secret not in text
        assert not [n for n in other_names if n in text]


def test_the_admin_counts_reminders_but_never_lists_them(clinic: Clinic) -> None:
    never_quiet(clinic)
    scan_at(clinic, session_at(clinic, clinic.past) + timedelta(hours=4))
    page = clinic.world.browser(clinic.admin).text("/admin/messages")
    assert "Sent: 1" in page
    assert clinic.patient.email not in page and "capture" not in page


def test_a_unit_hands_over_thousands_of_messages_and_runs_every_hook_despite_one_failing(
    clinic: Clinic,
) -> None:
    """A scan writes one message per patient in one unit: each is handed to the queue
    after the commit, however many there are, and one failed hand-over stops none."""
    ran: list[int] = []

    def hook(n: int) -> Callable[[], None]:
        def run() -> None:
            ran.append(n)
            if n == 3:
                raise OSError("fictional queue failure")

        return run

    work = runtime(clinic.world.app).work(write=True)
    for n in range(3000):
        after_commit(work.db, hook(n))
    with pytest.raises(OSError):
        work.commit()
    work.close()
    assert ran == list(range(3000))
