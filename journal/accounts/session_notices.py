"""Appointment notices: a dosing session booked, moved or cancelled, told to the patient.

The message and its calendar file (.ics, RFC 5545 through `icalendar`; iTIP methods of
RFC 5546) carry only the date, the time, the length and the clinic's name: the words
are "an appointment at <clinic>", never what kind, so a shared inbox or calendar tells
nobody else what the appointment is for. A booking is METHOD:REQUEST; a move sends the
same UID again with a higher SEQUENCE, which calendar programs read as "this event
changed"; a cancellation is METHOD:CANCEL with the same UID.

These are not reminders: a patient cannot turn them off, as they cannot miss that an
appointment moved. They are written by the session service through `Work.send_mail`,
so an edit that fails or is rolled back tells nobody. Each has its key (session,
sequence), so it is sent once.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress
from sqlalchemy import func, select

from journal.core.mail import Attachment, Mail
from journal.core.work import Work
from journal.models import DosingSession, Message, SessionStatus, User
from journal.models.messages import ReminderPreferences

KIND = "session_notice"
BOOKED, MOVED, CANCELLED = "booked", "moved", "cancelled"
PRODID = "-//Journal//Appointments//EN"  # no clinical word, not even the product's name


def after_schedule(work: Work, patient_id: uuid.UUID, session: DosingSession) -> None:
    if session.status == SessionStatus.SCHEDULED and session.scheduled_at > work.now():
        _tell(work, patient_id, session, BOOKED, None)


def after_update(
    work: Work,
    patient_id: uuid.UUID,
    session: DosingSession,
    was_at: datetime,
    was: SessionStatus,
) -> None:
    """What changed for the patient's calendar: a move, a cancellation, a session
    booked again; a renumbering or a session marked done changes nothing there."""
    now = work.now()
    if session.status == SessionStatus.CANCELLED:
        if was == SessionStatus.SCHEDULED and was_at > now:
            _tell(work, patient_id, session, CANCELLED, was_at)
        return
    if session.status != SessionStatus.SCHEDULED or session.scheduled_at <= now:
        return
    if was != SessionStatus.SCHEDULED:
        _tell(work, patient_id, session, BOOKED, None)
    elif session.scheduled_at != was_at:
        _tell(work, patient_id, session, MOVED, was_at)


def _tell(
    work: Work,
    patient_id: uuid.UUID,
    session: DosingSession,
    change: str,
    was_at: datetime | None,
) -> None:
    patient = work.db.get(User, patient_id)
    if patient is None or not patient.active:
        return
    work.db.flush()  # the session row is written (and, on PostgreSQL, locked) first
    # Counted after the session's row is locked: two edits of one session get two numbers.
    sequence = (
        work.db.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.key.like(f"{KIND}:{session.id}:%"))
        )
        or 0
    )
    settings = work.settings
    prefs = work.db.get(ReminderPreferences, patient.id)
    zone = ZoneInfo(prefs.timezone) if prefs and prefs.timezone else settings.zone
    length = timedelta(hours=settings.session_length_hours)
    start = session.scheduled_at if change != CANCELLED or was_at is None else was_at
    subject, text = _words(settings.clinic_name, change, start, was_at, zone, length)
    work.send_mail(
        Mail(
            kind=KIND,
            key=f"{KIND}:{session.id}:{sequence}",
            user_id=patient.id,
            to=patient.email,
            subject=subject,
            body=f"Hello {patient.name},\n\n{text}\n\n{settings.base_url}/\n",
            attachment=Attachment(
                "appointment.ics",
                f"text/calendar; method={'CANCEL' if change == CANCELLED else 'REQUEST'}",
                calendar(
                    uid=f"{session.id}@{urlsplit(settings.base_url).hostname or 'localhost'}",
                    sequence=sequence,
                    start=start,
                    length=length,
                    clinic=settings.clinic_name,
                    organizer=parseaddr(settings.mail_from)[1] or "journal@localhost",
                    attendee=patient.email,
                    cancelled=change == CANCELLED,
                    stamp=work.now(),
                ),
            ),
        )
    )


def _words(
    clinic: str,
    change: str,
    start: datetime,
    was_at: datetime | None,
    zone: ZoneInfo,
    length: timedelta,
) -> tuple[str, str]:
    when = _when(start, zone)
    hours = length.total_seconds() / 3600
    lasting = f"{hours:g} hour{'s' if hours != 1 else ''}"
    if change == CANCELLED:
        return (
            f"Appointment cancelled: {clinic}",
            f"Your appointment at {clinic} on {when} is cancelled.\n\n"
            "The calendar file attached takes it out of your calendar.",
        )
    if change == MOVED and was_at is not None:
        return (
            f"Appointment moved: {clinic}",
            f"Your appointment at {clinic} has moved to {when} ({lasting}). "
            f"It was on {_when(was_at, zone)}.\n\n"
            "The calendar file attached updates your calendar.",
        )
    return (
        f"Appointment at {clinic}",
        f"You have an appointment at {clinic} on {when} ({lasting}).\n\n"
        "The calendar file attached adds it to your calendar.",
    )


def _when(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B %Y at %H:%M} ({local.tzname()})"


def calendar(
    *,
    uid: str,
    sequence: int,
    start: datetime,
    length: timedelta,
    clinic: str,
    organizer: str,
    attendee: str,
    cancelled: bool,
    stamp: datetime,
) -> str:
    """One appointment as an iCalendar object: a request, or its cancellation."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("duration", length)
    event.add("summary", f"Appointment at {clinic}")
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    who = vCalAddress(f"mailto:{organizer}")
    who.params["cn"] = clinic
    event.add("organizer", who)
    guest = vCalAddress(f"mailto:{attendee}")
    guest.params["role"] = "REQ-PARTICIPANT"
    event.add("attendee", guest)
    cal.add_component(event)
    made: bytes = cal.to_ical()
    return made.decode()
