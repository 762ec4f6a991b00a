"""Questionnaires filed under the right moment: before a session from its window until
it ends, after it, at the end of the course and at follow-ups on the closed course.
The clock is the `now` each service call is given."""

from __future__ import annotations

import html
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest
from alembic import command
from sqlalchemy import func, select, text

from journal.accounts import courses
from journal.bootstrap import alembic_config
from journal.clinical import questionnaires
from journal.clinical.instruments import Catalogue
from journal.core.errors import Forbidden, ValidationError
from journal.db import Database, utcnow
from journal.models import (
    Course,
    CourseStatus,
    DosingSession,
    QuestionnaireAssignment,
    QuestionnaireResponse,
    QuestionnaireSlot,
    SessionStatus,
)
from tests.conftest import Clinic, entry_form, runtime
from tests.test_migrations import empty_database_url  # noqa: F401  (the fixture, by name)
from tests.test_questionnaires import ASSIGNMENT_LINK
from tests.test_reminders import never_quiet, scan_at

HOUR = timedelta(hours=1)
GAD7: dict[str, object] = {f"q{n}": 1 for n in range(1, 8)}
PHQ9: dict[str, object] = {f"q{n}": 0 for n in range(1, 10)}


@dataclass
class Walk:
    """A course of the clinic's patient with two sessions a week apart, far from now."""

    clinic: Clinic
    catalogue: Catalogue
    course: Course
    first: DosingSession
    second: DosingSession

    def due(self, when: datetime) -> list[questionnaires.Due]:
        found = questionnaires.due_for_patient(
            self.clinic.world.as_(self.clinic.patient), self.catalogue, self.course.id, when
        )
        self.clinic.world.commit()
        return found

    def assign(self, instrument: str, cadence: str, when: datetime, **kw: object) -> uuid.UUID:
        row = questionnaires.assign(
            self.clinic.world.as_(self.clinic.clinician),
            self.catalogue,
            self.course.id,
            instrument,
            cadence,
            when,
            **kw,  # type: ignore[arg-type]
        )
        self.clinic.world.commit()
        return row.id

    def answer(self, assignment_id: uuid.UUID, when: datetime) -> str | None:
        """Answer as the patient at `when`: the label it is filed under, or None if refused."""
        world = self.clinic.world
        assignment = world.db.get(QuestionnaireAssignment, assignment_id)
        assert assignment is not None
        answers = GAD7 if assignment.instrument_id == "gad7" else PHQ9
        try:
            questionnaires.submit(
                world.as_(self.clinic.patient), self.catalogue, assignment_id, answers, when
            )
        except Forbidden:
            world.db.rollback()
            return None
        world.commit()
        response = world.db.scalars(
            select(QuestionnaireResponse)
            .where(QuestionnaireResponse.assignment_id == assignment_id)
            .order_by(QuestionnaireResponse.submitted_at.desc())
        ).first()
        assert response is not None
        number = world.db.get(DosingSession, response.session_id) if response.session_id else None
        return questionnaires.slot_label(
            response.slot, number.number if number else None, response.follow_up_month
        )


def _walk(clinic: Clinic) -> Walk:
    world = clinic.world
    course = world.course(clinic.patient, clinic.clinician)
    start = datetime.combine(utcnow().date() + timedelta(days=30), time(10), UTC)
    made = [
        courses.schedule_session(world.as_(clinic.clinician), course.id, scheduled_at=at)
        for at in (start, start + timedelta(days=7))
    ]
    world.commit()
    return Walk(clinic, runtime(world.app).clinical.instruments, course, *made)


def _labels(due: list[questionnaires.Due]) -> list[tuple[str, str | None]]:
    return [(d.instrument.id, d.label) for d in due]


def test_the_time_walk_files_each_answer_under_the_session_the_rule_says(clinic: Clinic) -> None:
    w = _walk(clinic)
    s1, s2 = w.first.scheduled_at, w.second.scheduled_at
    moments = {
        "73 h before session 1": (s1 - 73 * HOUR, None, None),
        "71 h before session 1": (s1 - 71 * HOUR, "Before session 1", None),
        "1 h before session 1": (s1 - HOUR, "Before session 1", None),
        "5 minutes into session 1": (s1 + timedelta(minutes=5), "Before session 1", None),
        "during session 1": (s1 + 2 * HOUR, "Before session 1", None),
        "the day after session 1": (s1 + 24 * HOUR, None, "After session 1"),
        "1 h before session 2": (s2 - HOUR, "Before session 2", None),
        "after session 2": (s2 + 4 * HOUR, None, "After session 2"),
    }
    for name, (when, before, after) in moments.items():
        # A fresh pair of assignments at each moment, so each answer is the first.
        pre = w.assign("phq9", "before_each_session", when - timedelta(days=60))
        post = w.assign("gad7", "after_each_session", when - timedelta(days=59))
        due = _labels(w.due(when))
        assert due == [(i, label) for i, label in (("phq9", before), ("gad7", after)) if label], (
            name
        )
        assert w.answer(pre, when) == before, name
        assert w.answer(post, when) == after, name
        for row in (pre, post):
            questionnaires.end_assignment(w.clinic.world.as_(clinic.clinician), row, when)
        clinic.world.commit()

    # The clinician's page files each answer in its place, the patient's too.
    for who in (clinic.clinician, clinic.patient):
        page = html.unescape(
            clinic.world.browser(who).text(f"/courses/{w.course.id}/questionnaires")
        )
        for label in ("Before session 1", "After session 1", "Before session 2", "After session 2"):
            assert f"<td>{label}</td>" in page, label


def test_the_end_of_a_session_closes_its_before_window_and_opens_the_after_one(
    clinic: Clinic,
) -> None:
    w = _walk(clinic)
    s1, s2 = w.first.scheduled_at, w.second.scheduled_at
    length = timedelta(hours=runtime(clinic.world.app).settings.session_length_hours)
    pre = w.assign("phq9", "before_each_session", s1 - timedelta(days=10))
    post = w.assign("gad7", "after_each_session", s1 - timedelta(days=9))
    assert _labels(w.due(s1 + length - timedelta(minutes=1))) == [("phq9", "Before session 1")]
    assert _labels(w.due(s1 + length)) == [("gad7", "After session 1")]
    # Open for 72 hours after the session's end, then nothing until session 2's window.
    after = timedelta(hours=runtime(clinic.world.app).settings.questionnaire_after_hours)
    assert _labels(w.due(s1 + length + after - timedelta(minutes=1))) == [
        ("gad7", "After session 1")
    ]
    assert w.due(s1 + length + after) == []
    assert w.answer(post, s1 + length + after) is None
    # Session 1's before moment went unanswered: it stays empty, and session 2's opens.
    assert w.due(s2 - 73 * HOUR) == []
    assert _labels(w.due(s2 - 71 * HOUR)) == [("phq9", "Before session 2")]

    # Marked completed an hour in: it has ended, whatever its planned length.
    courses.update_session(
        w.clinic.world.as_(clinic.clinician),
        w.course.id,
        w.first.id,
        scheduled_at=s1,
        number=1,
        status=SessionStatus.COMPLETED,
    )
    clinic.world.commit()
    assert _labels(w.due(s1 - HOUR)) == [("phq9", "Before session 1")]  # not started yet
    assert _labels(w.due(s1 + HOUR)) == [("gad7", "After session 1")]
    assert w.answer(pre, s1 + HOUR) is None

    # Sessions a day apart: the after window of the first closes as the second starts,
    # and the second's before window opens only once the first has ended.
    courses.update_session(
        w.clinic.world.as_(clinic.clinician),
        w.course.id,
        w.second.id,
        scheduled_at=s1 + 24 * HOUR,
        number=2,
        status=SessionStatus.SCHEDULED,
    )
    clinic.world.commit()
    assert _labels(w.due(s1 - HOUR)) == [("phq9", "Before session 1")]  # not session 2's yet
    assert _labels(w.due(s1 + 20 * HOUR)) == [
        ("phq9", "Before session 2"),
        ("gad7", "After session 1"),
    ]
    assert _labels(w.due(s1 + 24 * HOUR)) == [("phq9", "Before session 2")]


def test_a_cancelled_session_is_skipped(clinic: Clinic) -> None:
    w = _walk(clinic)
    s1, s2 = w.first.scheduled_at, w.second.scheduled_at
    w.assign("phq9", "before_each_session", s1 - timedelta(days=10))
    courses.update_session(
        w.clinic.world.as_(clinic.clinician),
        w.course.id,
        w.first.id,
        scheduled_at=s1,
        number=1,
        status=SessionStatus.CANCELLED,
    )
    clinic.world.commit()
    assert w.due(s1 - HOUR) == []
    assert _labels(w.due(s2 - HOUR)) == [("phq9", "Before session 2")]


def test_follow_ups_come_due_after_the_course_is_closed_and_not_before(clinic: Clinic) -> None:
    w = _walk(clinic)
    s1 = w.first.scheduled_at
    # The same questionnaire with three timings; twice with one timing is refused.
    end = w.assign("gad7", "end_of_course", s1 - timedelta(days=10))
    follow = w.assign("gad7", "follow_up", s1 - timedelta(days=10), follow_up_months="6, 1,3")
    once = w.assign("phq9", "once", s1 - timedelta(days=10))
    with pytest.raises(ValidationError) as refused:
        w.assign("gad7", "follow_up", s1, follow_up_months="2")
    assert "already assigned" in refused.value.errors["instrument_id"]
    clinic.world.db.rollback()
    # While the course is open: neither the end of course nor a follow-up, at any time.
    for when in (s1 - HOUR, s1 + 24 * HOUR, s1 + timedelta(days=40), s1 + timedelta(days=200)):
        assert _labels(w.due(when)) in ([("phq9", None)], []), when
        assert w.answer(end, when) is None and w.answer(follow, when) is None

    courses.set_course_status(clinic.world.as_(clinic.clinician), w.course.id, CourseStatus.CLOSED)
    clinic.world.commit()
    clinic.world.db.refresh(w.course)
    assert w.course.ended_on is not None
    closed = datetime.combine(w.course.ended_on, time(0), UTC)

    assert _labels(w.due(closed + HOUR)) == [("gad7", "End of course")]
    assert w.answer(once, closed + HOUR) is None  # a closed course takes nothing else
    assert w.answer(end, closed + HOUR) == "End of course"
    assert w.answer(end, closed + 2 * HOUR) is None  # filed once
    assert w.due(closed + timedelta(days=20)) == []
    for n in (1, 3, 6):
        opens = datetime.combine(questionnaires._add_months(w.course.ended_on, n), time(0), UTC)
        assert w.due(opens - timedelta(minutes=1)) == [], n
        assert w.answer(follow, opens - timedelta(minutes=1)) is None, n
        assert _labels(w.due(opens + HOUR)) == [("gad7", f"{n}-month follow-up")], n
        assert w.answer(follow, opens + 2 * HOUR) == f"{n}-month follow-up", n
        assert w.due(opens + 3 * HOUR) == [], n
    last = datetime.combine(questionnaires._add_months(w.course.ended_on, 6), time(0), UTC)
    assert w.due(last + timedelta(days=31)) == []

    stored = clinic.world.db.execute(
        select(QuestionnaireResponse.slot, QuestionnaireResponse.follow_up_month)
        .where(QuestionnaireResponse.course_id == w.course.id)
        .order_by(QuestionnaireResponse.submitted_at)
    ).all()
    assert [tuple(r) for r in stored] == [
        (QuestionnaireSlot.END_OF_COURSE, None),
        (QuestionnaireSlot.FOLLOW_UP, 1),
        (QuestionnaireSlot.FOLLOW_UP, 3),
        (QuestionnaireSlot.FOLLOW_UP, 6),
    ]


def test_two_answers_sent_at_once_are_filed_once(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = _walk(clinic)
    s1 = w.first.scheduled_at
    pre = w.assign("phq9", "before_each_session", s1 - timedelta(days=10))
    when = s1 - HOUR
    stale = w.due(when)  # what a second request read before the first one committed
    assert w.answer(pre, when) == "Before session 1"
    monkeypatch.setattr(questionnaires, "due_for_patient", lambda *_a, **_k: stale)
    assert w.answer(pre, when + timedelta(seconds=1)) is None  # the database refuses it
    monkeypatch.undo()
    count = select(func.count()).where(QuestionnaireResponse.assignment_id == pre)
    assert clinic.world.db.scalar(count) == 1


def test_a_closed_course_takes_its_follow_up_through_the_pages_and_nothing_else(
    clinic: Clinic,
) -> None:
    """On today's clock: closed today, the end-of-course questionnaire is open now."""
    w = _walk(clinic)
    w.assign("gad7", "end_of_course", utcnow() - HOUR)
    courses.set_course_status(clinic.world.as_(clinic.clinician), w.course.id, CourseStatus.CLOSED)
    clinic.world.commit()
    patient = clinic.world.browser(clinic.patient)
    timeline = html.unescape(patient.text(f"/courses/{w.course.id}"))
    assert "(end of course)" in timeline
    (assignment,) = ASSIGNMENT_LINK.findall(timeline)
    form = patient.text(f"/questionnaires/{assignment}/answer")
    assert "End of course" in form
    r = patient.post(
        f"/questionnaires/{assignment}/answer",
        {k: str(v) for k, v in GAD7.items()},
        follow_redirects=True,
    )
    assert r.status_code == 200 and "7 of 21" in r.get_data(as_text=True)
    assert patient.get(f"/questionnaires/{assignment}/answer").status_code == 404  # filed once
    assert "Nothing to fill in right now." in patient.text(f"/courses/{w.course.id}/questionnaires")
    page = html.unescape(
        clinic.world.browser(clinic.clinician).text(f"/courses/{w.course.id}/questionnaires")
    )
    assert "<td>End of course</td>" in page and "(end of course): " in page
    # Anything else written on the closed course is still refused.
    r = patient.post(f"/courses/{w.course.id}/entries/new", entry_form())
    assert r.status_code == 302  # back, with "This course is closed", and nothing written
    assert not clinic.world.db.scalar(
        text("SELECT count(*) FROM entries WHERE course_id = :id"),
        {"id": w.course.id.hex if runtime(clinic.world.app).database.is_sqlite else w.course.id},
    )


def test_a_follow_up_is_reminded_once_on_the_closed_course(clinic: Clinic) -> None:
    w = _walk(clinic)
    never_quiet(clinic)
    w.assign("gad7", "follow_up", utcnow() - HOUR, follow_up_months="1")
    assert "questionnaire" not in scan_at(clinic, utcnow() + timedelta(days=31))  # still open
    courses.set_course_status(clinic.world.as_(clinic.clinician), w.course.id, CourseStatus.CLOSED)
    clinic.world.commit()
    assert w.course.ended_on is not None
    opens = datetime.combine(questionnaires._add_months(w.course.ended_on, 1), time(0), UTC)
    assert "questionnaire" not in scan_at(clinic, opens - HOUR)
    assert "questionnaire" in scan_at(clinic, opens + HOUR)
    assert "questionnaire" not in scan_at(clinic, opens + 2 * HOUR)


def test_the_assign_form_offers_every_timing_and_refuses_bad_months(clinic: Clinic) -> None:
    clinician = clinic.world.browser(clinic.clinician)
    url = f"/courses/{clinic.course.id}/questionnaires"
    page = html.unescape(clinician.text(url))
    for words in (
        "Before every dosing session",
        "After every dosing session",
        "At the end of the course",
        "Follow-ups after the course ends",
        "from 72 hours before it until it ends",
    ):
        assert words in page, words
    assert re.search(r'name="follow_up_months"[^>]*value="1, 3, 6"', page)
    for months in ("", "0, 3", "1, 30", "three", "1.5", "1\u00b2", "1," * 30):
        r = clinician.post(
            url, {"instrument_id": "phq9", "cadence": "follow_up", "follow_up_months": months}
        )
        assert r.status_code == 400, months
        assert "Give whole months from 1 to 24" in html.unescape(r.get_data(as_text=True))
    # Months count only for follow-ups: another timing ignores a bad value.
    r = clinician.post(
        url, {"instrument_id": "phq9", "cadence": "end_of_course", "follow_up_months": "x"}
    )
    assert r.status_code == 302
    r = clinician.post(
        url, {"instrument_id": "phq9", "cadence": "follow_up", "follow_up_months": "3 6 1 3"}
    )
    assert r.status_code == 302
    page = html.unescape(clinician.text(url))
    assert "Follow-ups after the course ends (1, 3, 6 months)" in page
    assert "At the end of the course" in page


def _migrate(database: Database, revision: str, *, down: bool = False) -> None:
    """As `flask init` migrates: on SQLite with foreign keys off while tables are copied."""
    with database.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        if database.is_sqlite:
            raw.execute("PRAGMA foreign_keys=OFF")
        with conn.begin():
            cfg = alembic_config(database.url)
            cfg.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(cfg, revision)
        if database.is_sqlite:
            raw.execute("PRAGMA foreign_keys=ON")


def test_the_migration_keeps_every_session_and_files_none_anew(
    request: pytest.FixtureRequest,
) -> None:
    url: str = request.getfixturevalue("empty_database_url")
    database = Database(url)
    _migrate(database, "0016")
    ids = {k: uuid.uuid4() for k in ("p", "c", "course", "s1", "s2", "a", "b", "r1", "r2", "r3")}
    value = {k: v.hex if database.is_sqlite else v for k, v in ids.items()}
    now = utcnow().replace(tzinfo=None)
    rows = [
        "INSERT INTO users (id, email, name, role, password_hash, must_change_password, active,"
        " created_at, two_factor_enabled) VALUES (:p, 'p@clinic.example', 'P (test)',"
        " 'patient', 'x', false, true, :now, false), (:c, 'c@clinic.example', 'C (test)',"
        " 'clinician', 'x', false, true, :now, false)",
        "INSERT INTO courses (id, patient_id, status, started_on, version, created_at)"
        " VALUES (:course, :p, 'active', :today, 1, :now)",
        "INSERT INTO dosing_sessions (id, course_id, number, scheduled_at, status, created_at,"
        " updated_at) VALUES (:s1, :course, 1, :now, 'completed', :now, :now),"
        " (:s2, :course, 2, :now, 'scheduled', :now, :now)",
        "INSERT INTO questionnaire_assignments (id, course_id, instrument_id, cadence,"
        " assigned_by, assigned_at) VALUES (:a, :course, 'phq9', 'before_each_session', :c,"
        " :now), (:b, :course, 'gad7', 'once', :c, :now)",
        # Two answers filed under session 2 (the second sent at the same instant), one once.
        "INSERT INTO questionnaire_responses (id, course_id, assignment_id, instrument_id,"
        " session_id, result, submitted_by, submitted_at, version) VALUES"
        " (:r1, :course, :a, 'phq9', :s2, :blob, :p, :now, 1),"
        " (:r2, :course, :a, 'phq9', :s2, :blob, :p, :later, 1),"
        " (:r3, :course, :b, 'gad7', NULL, :blob, :p, :now, 1)",
    ]
    with database.session(write=True) as db:
        for sql in rows:
            db.execute(
                text(sql),
                {
                    **value,
                    "now": now,
                    "later": now + timedelta(seconds=1),
                    "today": now.date(),
                    "blob": b"sealed",
                },
            )
        db.commit()
    _migrate(database, "0017")
    with database.session() as db:
        found = {
            r.id: (r.session_id, r.slot, r.slot_key)
            for r in db.scalars(select(QuestionnaireResponse))
        }
    assert found == {
        ids["r1"]: (ids["s2"], QuestionnaireSlot.BEFORE_SESSION, f"before:{ids['s2']}"),
        ids["r2"]: (ids["s2"], QuestionnaireSlot.BEFORE_SESSION, f"legacy:{ids['r2']}"),
        ids["r3"]: (None, QuestionnaireSlot.ONCE, "once"),
    }
    _migrate(database, "0016", down=True)
    _migrate(database, "0017")
    with database.session() as db:
        assert len(db.scalars(select(QuestionnaireResponse)).all()) == 3
    database.dispose()


def test_every_export_says_where_each_answer_is_filed(clinic: Clinic) -> None:
    from tests.export_helpers import export, validate

    w = _walk(clinic)
    s1 = w.first.scheduled_at
    length = timedelta(hours=runtime(clinic.world.app).settings.session_length_hours)
    pre = w.assign("phq9", "before_each_session", s1 - timedelta(days=10))
    post = w.assign("gad7", "after_each_session", s1 - timedelta(days=9))
    assert w.answer(pre, s1 - HOUR) == "Before session 1"
    assert w.answer(post, s1 + length + HOUR) == "After session 1"
    clinician = clinic.world.browser(clinic.clinician)
    data = json.loads(export(clinician, w.course.id, "json").data)
    validate(data)
    filed = {
        q["instrument_id"]: [s["filed_under"] for s in q["scores"]] for q in data["questionnaires"]
    }
    assert filed == {"phq9": ["Before session 1"], "gad7": ["After session 1"]}
    md = export(clinician, w.course.id, "md").get_data(as_text=True)
    assert "| Date | Score | Band | For |" in md and "| After session 1 |" in md
    page = export(clinician, w.course.id, "html").get_data(as_text=True)
    assert "<td>After session 1</td>" in page and "<td>Before session 1</td>" in page
