"""Appointment notices: booked, moved and cancelled sessions reach the patient with a
calendar file, in words that say nothing of what the appointment is for; an edit
refused or rolled back sends nothing."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import select

from journal.accounts import courses, session_notices
from journal.core.actor import Actor
from journal.core.errors import ValidationError
from journal.core.mail import outbox_messages, render
from journal.core.work import Work
from journal.models import DosingSession, Message, SessionStatus, User
from tests.conftest import Clinic, runtime

# The clinic's own name (here the default, "KAP journal") is the one thing said.
CLINICAL = ("ketamine", "dosing", "dose", "session", "psychotherapy", "therapy", "treatment")


def notices(clinic: Clinic) -> list[EmailMessage]:
    instance = runtime(clinic.world.app).settings.instance_path
    return [
        m
        for m in outbox_messages(instance)
        if m["To"] == clinic.patient.email and m["Subject"].startswith("Appointment")
    ]


def calendar_of(message: EmailMessage) -> tuple[str, Calendar]:
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    raw = part.get_payload(decode=True)
    assert isinstance(raw, bytes)
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # RFC 5545 lines
    return str(part.get_param("method")), Calendar.from_ical(raw)


def text_and_html(message: EmailMessage) -> tuple[str, str]:
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    return str(plain.get_content()), str(html.get_content())


class Stop(Exception):
    pass


def as_clinician(clinic: Clinic, change: Callable[[Work], object], *, keep: bool = True) -> None:
    """One unit of work, as a request: committed (and its messages sent), or rolled back."""
    rt = runtime(clinic.world.app)
    with contextlib.suppress(Stop), rt.work(write=True) as work:
        clinician = work.db.get(User, clinic.clinician.id)
        assert clinician is not None
        change(work.acting_as(Actor(clinician)))
        if not keep:
            raise Stop


def move(session_id: uuid.UUID, when: datetime, status: SessionStatus, number: int = 1) -> Any:
    return lambda work: courses.update_session(
        work,
        work.db.get(DosingSession, session_id).course_id,
        session_id,
        scheduled_at=when,
        number=number,
        status=status,
    )


def test_booked_moved_and_cancelled_with_one_uid_and_a_rising_sequence(clinic: Clinic) -> None:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    made: list[DosingSession] = []
    as_clinician(
        clinic,
        lambda work: made.append(
            courses.schedule_session(work, clinic.course.id, scheduled_at=start, number=4)
        ),
    )
    moved_to = start + timedelta(days=1, hours=2)
    as_clinician(clinic, move(made[0].id, moved_to, SessionStatus.SCHEDULED, 4))
    as_clinician(clinic, move(made[0].id, moved_to, SessionStatus.CANCELLED, 4))
    booked, moved, cancelled = notices(clinic)
    assert [m["Subject"] for m in (booked, moved, cancelled)] == [
        "Appointment at KAP journal",
        "Appointment moved: KAP journal",
        "Appointment cancelled: KAP journal",
    ]
    events = []
    for message, method in ((booked, "REQUEST"), (moved, "REQUEST"), (cancelled, "CANCEL")):
        found, cal = calendar_of(message)
        assert found == method and cal["METHOD"] == method
        (event,) = cal.walk("VEVENT")
        events.append(event)
    assert len({str(e["UID"]) for e in events}) == 1
    assert [int(e["SEQUENCE"]) for e in events] == [0, 1, 2]
    assert [e.decoded("DTSTART") for e in events] == [start, moved_to, moved_to]
    assert all(e.decoded("DURATION") == timedelta(hours=3) for e in events)
    assert str(events[2]["STATUS"]) == "CANCELLED"
    plain, html = text_and_html(moved)
    assert "has moved to" in plain and "has moved to" in html
    # Whoever sees the message or the calendar learns a time and the clinic, no more.
    for message in (booked, moved, cancelled):
        ics = calendar_of(message)[1].to_ical().decode()
        words = " ".join([*text_and_html(message), message["Subject"], ics]).casefold()
        assert not [w for w in CLINICAL if w in words], words
        assert "List-Unsubscribe" not in message  # not a reminder: not turned off
    with runtime(clinic.world.app).database.session() as s:
        rows = list(s.scalars(select(Message).where(Message.kind == session_notices.KIND)))
    sent = [r for r in rows if r.status == "sent"]
    assert len(sent) == 3 and all(r.attachment is None and r.body is None for r in sent)


def test_a_renumbering_or_a_past_session_tells_nobody_and_a_rolled_back_move_sends_nothing(
    clinic: Clinic,
) -> None:
    upcoming = clinic.upcoming
    at = upcoming.scheduled_at
    as_clinician(clinic, move(upcoming.id, at, SessionStatus.SCHEDULED, upcoming.number + 5))
    as_clinician(
        clinic,
        lambda work: courses.schedule_session(
            work, clinic.course.id, scheduled_at=at - timedelta(days=20)
        ),
    )
    assert notices(clinic) == []
    # The move is written in the unit, then the unit fails: nothing is kept or sent.
    as_clinician(
        clinic, move(upcoming.id, at + timedelta(days=1), SessionStatus.SCHEDULED), keep=False
    )
    with pytest.raises(ValidationError):  # refused: nothing written either
        as_clinician(clinic, move(upcoming.id, at + timedelta(days=1), SessionStatus.SCHEDULED, 99))
    assert notices(clinic) == []
    with runtime(clinic.world.app).database.session() as s:
        kept = s.get(DosingSession, upcoming.id)
        assert kept is not None and kept.scheduled_at == at
        keys = s.scalars(select(Message.key).where(Message.to_user_id == clinic.patient.id))
        assert not [k for k in keys if k.startswith(f"{session_notices.KIND}:{upcoming.id}:1")]
    as_clinician(clinic, move(upcoming.id, at + timedelta(days=1), SessionStatus.SCHEDULED))
    (moved,) = notices(clinic)
    assert calendar_of(moved)[0] == "REQUEST"


def test_a_calendar_file_folds_long_lines_and_escapes_text() -> None:
    clinic = "Clinic, with; a very long name\\ that goes on " + "and on " * 10
    ics = session_notices.calendar(
        uid="fictional-uid@clinic.example",
        sequence=3,
        start=datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # the night Europe's clocks change
        length=timedelta(hours=3),
        clinic=clinic,
        organizer="journal@clinic.example",
        attendee="patient@clinic.example",
        cancelled=False,
        stamp=datetime(2026, 3, 1, tzinfo=UTC),
    )
    lines = ics.split("\r\n")
    assert all(len(line.encode()) <= 75 for line in lines)
    assert "DTSTART:20260329T003000Z" in lines and "SEQUENCE:3" in lines
    assert "Clinic\\, with\\; a very long name\\\\ that" in "".join(
        line[1:] if line.startswith(" ") else line for line in lines
    )
    (event,) = Calendar.from_ical(ics).walk("VEVENT")
    assert str(event["SUMMARY"]) == f"Appointment at {clinic}"


def test_both_parts_come_from_one_template_and_the_html_is_escaped() -> None:
    text, html = render(
        "Fictional <Clinic> & Co",
        "A subject",
        "Hello <b>Zed</b> (fictional),\n\nSign in: https://journal.example/x?a=1&b=2\n",
    )
    assert "Hello <b>Zed</b>" in text and "Fictional <Clinic> & Co" in text
    assert "<b>Zed" not in html and "Hello &lt;b&gt;Zed&lt;/b&gt;" in html
    assert 'href="https://journal.example/x?a=1&amp;b=2"' in html
    assert "Fictional &lt;Clinic&gt; &amp; Co" in html
    assert "<script" not in html and "<img" not in html
