"""The clinicians' daily digest: counts only, at the hour they choose in their own time
zone (across a clock change), at most one a local day, never when they chose none."""

from __future__ import annotations

from datetime import UTC, datetime, time

from sqlalchemy import select

from journal.accounts import courses
from journal.clinical import questionnaires
from journal.models import CourseStatus, Message, ReminderPreferences
from journal.notify import digest
from tests.conftest import Clinic, entry_form, runtime
from tests.helpers import mails_to


def scan(clinic: Clinic, when: datetime) -> list[str]:
    """The addresses a digest scan at `when` writes to."""
    rt = runtime(clinic.world.app)
    with rt.work(write=True) as work:
        before = set(work.db.scalars(select(Message.id)))
        digest.scan(work, now=when)
        work.db.flush()
        return sorted(
            m.to_address
            for m in work.db.scalars(select(Message).where(Message.kind == digest.KIND))
            if m.id not in before
        )


def test_the_digest_comes_at_the_chosen_local_hour_once_a_day_with_counts_only(
    clinic: Clinic,
) -> None:
    title, body = "Fictional title for the digest", "Fictional words for the digest"
    patient = clinic.world.browser(clinic.patient)
    r = patient.post(
        f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past, title=title, body=body)
    )
    assert r.status_code == 302
    page = clinic.world.browser(clinic.clinician)
    assert "Daily digest" in page.text("/account/reminders")
    r = page.post("/account/reminders", {"digest_hour": "7", "timezone": "America/Toronto"})
    assert r.status_code == 302
    me = clinic.clinician.email
    # 8 March 2026: Toronto moves from UTC-5 to UTC-4. 07:10 local is 12:10 UTC the day
    # before and 11:10 UTC that day.
    assert scan(clinic, datetime(2026, 3, 7, 11, 50, tzinfo=UTC)) == []  # 06:50 local
    assert scan(clinic, datetime(2026, 3, 7, 12, 10, tzinfo=UTC)) == [me]
    assert scan(clinic, datetime(2026, 3, 7, 13, 10, tzinfo=UTC)) == []  # once a day
    assert scan(clinic, datetime(2026, 3, 8, 10, 50, tzinfo=UTC)) == []  # 06:50 local
    assert scan(clinic, datetime(2026, 3, 8, 11, 10, tzinfo=UTC)) == [me]
    (first, _second) = mails_to(clinic.world.app, me)
    assert "- 1 new entry" in first and "- 1 entry not yet reviewed" in first
    assert "- 0 comments not yet read" in first and "- 0 flags not yet acknowledged" in first
    assert title not in first and body not in first and clinic.patient.name not in first
    # The other clinician chose nothing (08:00, the clinic's zone) and nothing waits for
    # them: no digest.
    assert clinic.other_clinician.email not in scan(clinic, datetime(2026, 3, 9, 8, 5, tzinfo=UTC))


def test_a_clinician_can_choose_no_digest_and_patients_keep_their_page(clinic: Clinic) -> None:
    form = entry_form(clinic.past, title="Fictional", body="Fictional")
    clinic.world.browser(clinic.patient).post(f"/courses/{clinic.course.id}/entries/new", form)
    page = clinic.world.browser(clinic.clinician)
    assert page.post("/account/reminders", {"digest_hour": "none"}).status_code == 302
    with runtime(clinic.world.app).database.session() as s:
        row = s.get(ReminderPreferences, clinic.clinician.id)
        assert row is not None and row.digest_hour is None
    for hour in range(24):
        assert clinic.clinician.email not in scan(clinic, datetime(2026, 3, 9, hour, tzinfo=UTC))
    assert page.post("/account/reminders", {"digest_hour": "24"}).status_code == 200  # refused
    assert "Quiet hours" in clinic.world.browser(clinic.patient).text("/account/reminders")
    assert clinic.world.browser(clinic.admin).get("/account/reminders").status_code == 403


def test_the_digest_counts_questionnaires_due_follow_ups_of_closed_courses_included(
    clinic: Clinic,
) -> None:
    w = clinic.world
    catalogue = runtime(w.app).clinical.instruments
    questionnaires.assign(w.as_(clinic.clinician), catalogue, clinic.course.id, "phq9", "once")
    questionnaires.assign(
        w.as_(clinic.clinician),
        catalogue,
        clinic.course.id,
        "gad7",
        "follow_up",
        follow_up_months="1",
    )
    w.commit()
    now = datetime.now(UTC)
    with runtime(w.app).work(write=False) as work:
        assert digest.counts(work, clinic.clinician, now).questionnaires_due == 1  # once
        assert digest.counts(work, clinic.other_clinician, now).questionnaires_due == 0
    courses.set_course_status(w.as_(clinic.clinician), clinic.course.id, CourseStatus.CLOSED)
    w.commit()
    w.db.refresh(clinic.course)
    assert clinic.course.ended_on is not None
    month = questionnaires._add_months(clinic.course.ended_on, 1)
    later = datetime.combine(month, time(1), UTC)
    with runtime(w.app).work(write=False) as work:
        found = digest.counts(work, clinic.clinician, later)
        assert found.questionnaires_due == 1 and found.anything  # the 1-month follow-up
        mail = digest._mail(work, clinic.clinician, "k", found)
    assert "- 1 questionnaire due and not yet answered" in mail.body
    assert "GAD" not in mail.body and "follow-up" not in mail.body
