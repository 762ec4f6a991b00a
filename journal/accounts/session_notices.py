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

from babel.dates import format_datetime
from icalendar import Calendar, Event, vCalAddress
from sqlalchemy import func, select

from journal.accounts.invitations import hours_text
from journal.core.catalogues import Words, reader_words
from journal.core.labels import N_
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
    w = reader_words(settings, patient.language)
    subject, text = _words(w, settings.clinic_name, change, start, was_at, zone, length)
    work.send_mail(
        Mail(
            kind=KIND,
            key=f"{KIND}:{session.id}:{sequence}",
            user_id=patient.id,
            to=patient.email,
            subject=subject,
            body=w(N_("Hello %(name)s,"), name=patient.name)
            + f"\n\n{text}\n\n{settings.base_url}/\n",
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
                    summary=w(N_("Appointment at %(clinic)s"), clinic=settings.clinic_name),
                ),
            ),
        )
    )


def _words(
    w: Words,
    clinic: str,
    change: str,
    start: datetime,
    was_at: datetime | None,
    zone: ZoneInfo,
    length: timedelta,
) -> tuple[str, str]:
    """The subject and the text, in the reader's language (`w`)."""
    when = _when(start, zone, w.language)
    lasting = w(hours_text(int(length.total_seconds() // 3600)))
    if change == CANCELLED:
        return (
            w(N_("Appointment cancelled: %(clinic)s"), clinic=clinic),
            w(
                N_("Your appointment at %(clinic)s on %(when)s is cancelled."),
                clinic=clinic,
                when=when,
            )
            + "\n\n"
            + w(N_("The calendar file attached takes it out of your calendar.")),
        )
    if change == MOVED and was_at is not None:
        return (
            w(N_("Appointment moved: %(clinic)s"), clinic=clinic),
            w(
                N_(
                    "Your appointment at %(clinic)s has moved to %(when)s (%(lasting)s). "
                    "It was on %(was)s."
                ),
                clinic=clinic,
                when=when,
                lasting=lasting,
                was=_when(was_at, zone, w.language),
            )
            + "\n\n"
            + w(N_("The calendar file attached updates your calendar.")),
        )
    return (
        w(N_("Appointment at %(clinic)s"), clinic=clinic),
        w(
            N_("You have an appointment at %(clinic)s on %(when)s (%(lasting)s)."),
            clinic=clinic,
            when=when,
            lasting=lasting,
        )
        + "\n\n"
        + w(N_("The calendar file attached adds it to your calendar.")),
    )


# How an appointment's day and hour read, by language (babel.dates patterns; English
# as it always read); another language reads its own long date and the hour.
WHEN = {"fr": "EEEE d MMMM y 'à' H'\u00a0h\u00a0'mm"}


def _when(moment: datetime, zone: ZoneInfo, language: str = "en") -> str:
    local = moment.astimezone(zone)
    if language == "en":
        day = f"{local:%A} {local.day} {local:%B %Y at %H:%M}"
    else:
        day = format_datetime(local, WHEN.get(language, "EEEE d MMMM y HH:mm"), locale=language)
    return f"{day} ({local.tzname()})"


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
    summary: str | None = None,
) -> str:
    """One appointment as an iCalendar object: a request, or its cancellation
    (`summary`: its title in the reader's language; by default in English)."""
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
    event.add("summary", summary or f"Appointment at {clinic}")
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
