"""Reminders for patients, written by the worker's periodic scan.

- preparation: within `reminder_prep_hours` before a scheduled dosing session,
  unless the patient has written a preparation entry for it;
- quick capture: from `reminder_capture_hours` after a session's start until a
  day after it, unless the patient has written an in-session entry for it;
- integration: on each of `reminder_integration_days` after a session (the
  patient's own calendar days), with how many prompts the clinician left for it;
- a questionnaire that comes due (also, for the end of course and the follow-ups,
  on a closed course).

Each is on unless the patient turns it off (their reminder page, or the link in
every reminder), and none is sent in their quiet hours: the next scan after them
sends it, while it is still due. A message says that something is waiting and
links to the journal; it names no entry, no score and no other person. Its key
(kind, session or questionnaire, day) makes it one of a kind.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlalchemy import select
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.policy import keeps_a_journal
from journal.clinical import questionnaires
from journal.core.actor import Actor
from journal.core.errors import ValidationError
from journal.core.labels import N_
from journal.core.mail import Mail
from journal.core.work import Work
from journal.db import utcnow
from journal.models import (
    Course,
    CourseStatus,
    DosingSession,
    Entry,
    Phase,
    PromptAssignment,
    SessionStatus,
    User,
)
from journal.models.messages import ReminderPreferences
from journal.notify import ngettext, reader_words

KINDS = ("preparation", "capture", "integration", "questionnaire")


@dataclass(frozen=True)
class Preferences:
    preparation: bool = True
    capture: bool = True
    integration: bool = True
    questionnaire: bool = True
    quiet_from: int = 21
    quiet_until: int = 8
    timezone: str | None = None

    def wants(self, kind: str) -> bool:
        return bool(getattr(self, kind))

    def zone(self, clinic_zone: ZoneInfo) -> ZoneInfo:
        return ZoneInfo(self.timezone) if self.timezone else clinic_zone

    def quiet_at(self, local: datetime) -> bool:
        start, end, hour = self.quiet_from, self.quiet_until, local.hour
        if start == end:
            return False
        return start <= hour or hour < end if start > end else start <= hour < end


def preferences(work: Work, user_id: uuid.UUID) -> Preferences:
    row = work.db.get(ReminderPreferences, user_id)
    if row is None:
        return Preferences()
    return Preferences(
        row.preparation,
        row.capture,
        row.integration,
        row.questionnaire,
        row.quiet_from,
        row.quiet_until,
        row.timezone,
    )


def scan(work: Work, now: datetime | None = None) -> int:
    """Write the reminders due now; returns how many. The caller's unit commits."""
    now = now or utcnow()
    written = 0
    patients = work.db.execute(
        select(User, Course.id)
        .join(Course, Course.patient_id == User.id)
        .where(Course.status == CourseStatus.ACTIVE, User.active.is_(True))
    ).all()
    for patient, course_id in patients:
        prefs = preferences(work, patient.id)
        zone = prefs.zone(work.settings.zone)
        if prefs.quiet_at(now.astimezone(zone)):
            continue
        for mail in _due(work, patient, course_id, prefs, zone, now):
            written += int(work.send_mail(mail))
    return written + _after_course(work, now)


def _due(
    work: Work,
    patient: User,
    course_id: uuid.UUID,
    prefs: Preferences,
    zone: ZoneInfo,
    now: datetime,
) -> list[Mail]:
    settings = work.settings
    found: list[Mail] = []
    sessions = list(
        work.db.scalars(
            select(DosingSession).where(
                DosingSession.course_id == course_id,
                DosingSession.status != SessionStatus.CANCELLED,
                DosingSession.scheduled_at > now - timedelta(days=max(settings.reminder_days) + 1),
                DosingSession.scheduled_at <= now + timedelta(hours=settings.reminder_prep_hours),
            )
        )
    )
    written = _written_phases(work, patient.id, [s.id for s in sessions])
    for session in sessions:
        start = session.scheduled_at
        if (
            prefs.preparation
            and session.status == SessionStatus.SCHEDULED
            and now < start <= now + timedelta(hours=settings.reminder_prep_hours)
            and (session.id, Phase.PREPARATION) not in written
        ):
            found.append(_mail(work, patient, "preparation", f"{session.id}", session, zone))
        capture_from = start + timedelta(hours=settings.reminder_capture_hours)
        if (
            prefs.capture
            and capture_from <= now < start + timedelta(hours=24)
            and (session.id, Phase.IN_SESSION) not in written
        ):
            found.append(_mail(work, patient, "capture", f"{session.id}", session, zone))
        days_after = (now.astimezone(zone).date() - start.astimezone(zone).date()).days
        if prefs.integration and days_after in settings.reminder_days:
            prompts = _prompts_for(work, session.id)
            key = f"{session.id}:{days_after}"
            found.append(_mail(work, patient, "integration", key, session, zone, prompts))
    if prefs.questionnaire:
        found += _questionnaire_mails(work, patient, course_id, zone, now)
    return found


def _questionnaire_mails(
    work: Work, patient: User, course_id: uuid.UUID, zone: ZoneInfo, now: datetime
) -> list[Mail]:
    """One reminder per questionnaire moment that opens (questionnaires.due_for_patient).
    A "before" moment keeps the key it had when it was the only per-session one."""
    found = []
    for due in questionnaires.due_for_patient(
        work.acting_as(Actor(patient)), work.clinical.instruments, course_id, now
    ):
        key = f"{due.assignment_id}:{due.key.removeprefix('before:')}"
        found.append(_mail(work, patient, "questionnaire", key, None, zone))
    return found


def _after_course(work: Work, now: datetime) -> int:
    """The end-of-course questionnaire and follow-ups come due on closed courses."""
    written = 0
    for patient, course_id in questionnaires.closed_courses_to_follow(work.db, now):
        prefs = preferences(work, patient.id)
        zone = prefs.zone(work.settings.zone)
        if not prefs.questionnaire or prefs.quiet_at(now.astimezone(zone)):
            continue
        for mail in _questionnaire_mails(work, patient, course_id, zone, now):
            written += int(work.send_mail(mail))
    return written


def _written_phases(
    work: Work, patient_id: uuid.UUID, session_ids: list[uuid.UUID]
) -> set[tuple[uuid.UUID, Phase]]:
    if not session_ids:
        return set()
    rows = work.db.execute(
        select(Entry.session_id, Entry.phase).where(
            Entry.session_id.in_(session_ids), Entry.author_id == patient_id
        )
    )
    return {(session_id, phase) for session_id, phase in rows if session_id is not None}


def _prompts_for(work: Work, session_id: uuid.UUID) -> int:
    return len(
        list(
            work.db.scalars(
                select(PromptAssignment.id).where(
                    PromptAssignment.session_id == session_id,
                    PromptAssignment.answered_entry_id.is_(None),
                )
            )
        )
    )


WORDS = {
    "preparation": (
        N_("Your dosing session is coming up"),
        N_(
            "Your dosing session %(number)s is on %(when)s. A few minutes of preparation "
            "helps: what you hope for, what you are unsure of, an intention or two."
        ),
    ),
    "capture": (
        N_("A moment for what came up today"),
        N_(
            "After your dosing session %(number)s: if you can, write down a few words, "
            "images or feelings while they are fresh; it can be very short."
        ),
    ),
    "integration": (
        N_("A few minutes for your journal"),
        N_(
            "It has been a little while since dosing session %(number)s. Writing about "
            "what has stayed with you helps the integration."
        ),
    ),
    "questionnaire": (
        N_("A questionnaire is waiting for you"),
        N_("Your care team asked you to fill in a short questionnaire. It takes a few minutes."),
    ),
}
# How a session's day and hour read in a reminder, by language (babel.dates patterns);
# another language reads its own long date and the hour.
WHEN = {
    "en": "EEEE dd MMMM 'at' HH:mm",
    "fr": "EEEE d MMMM 'à' H'\u00a0h\u00a0'mm",
}


def _mail(
    work: Work,
    patient: User,
    kind: str,
    key: str,
    session: DosingSession | None,
    zone: ZoneInfo,
    prompts: int = 0,
) -> Mail:
    settings = work.settings
    w = reader_words(settings, patient.language)
    subject, text = WORDS[kind]
    when = ""
    if session:
        pattern = WHEN.get(w.language, "EEEE d MMMM HH:mm")
        when = format_datetime(session.scheduled_at.astimezone(zone), pattern, locale=w.language)
    body = w(text, number=str(session.number) if session else "", when=when)
    if prompts:
        body += " " + ngettext(
            "Your clinician left you %(num)s prompt to write about.",
            "Your clinician left you %(num)s prompts to write about.",
            prompts,
            w,
        )
    return Mail(
        kind=f"reminder_{kind}",
        key=f"reminder:{kind}:{key}",
        user_id=patient.id,
        to=patient.email,
        subject=w(subject),
        body=(
            w(N_("Hello %(name)s,"), name=patient.name)
            + f"\n\n{body}\n\n{settings.base_url}/\n\n"
            + w(
                N_("You can change or turn off these reminders: %(url)s"),
                url=f"{settings.base_url}/account/reminders",
            )
            + "\n"
        ),
    )


def unsubscribe_token(secret: str, user_id: uuid.UUID, kind: str) -> str:
    """The one-click "no more of these" link's secret: which person, which kind."""
    payload = f"{user_id}.{kind}"
    mac = hmac.new(secret.encode(), f"unsubscribe:{payload}".encode(), hashlib.sha256)
    return f"{payload}.{mac.hexdigest()[:32]}"


def read_unsubscribe_token(secret: str, token: str) -> tuple[uuid.UUID, str] | None:
    try:
        raw_id, kind, _mac = token.split(".")
        user_id = uuid.UUID(raw_id)
    except ValueError:
        return None
    if kind not in KINDS or not hmac.compare_digest(
        token, unsubscribe_token(secret, user_id, kind)
    ):
        return None
    return user_id, kind


def save_preferences(work: Work, prefs: Preferences) -> None:
    """The signed-in person's own reminder choices."""
    if not 0 <= prefs.quiet_from < 24 or not 0 <= prefs.quiet_until < 24:
        raise ValidationError({"quiet_from": N_("Choose hours between 00:00 and 23:00.")})
    row = work.db.get(ReminderPreferences, work.actor.id)
    if row is None:
        row = ReminderPreferences(user_id=work.actor.id)
        work.db.add(row)
    for kind in KINDS:
        setattr(row, kind, prefs.wants(kind))
    row.quiet_from, row.quiet_until, row.timezone = (
        prefs.quiet_from,
        prefs.quiet_until,
        prefs.timezone,
    )
    row.updated_at = utcnow()


def receives_reminders(db: Session, user_id: uuid.UUID) -> bool:
    user = db.get(User, user_id)
    return user is not None and keeps_a_journal(user)


def turn_off(work: Work, user_id: uuid.UUID, kind: str) -> None:
    """The one-click link: no more reminders of this kind (audited, as the person's act)."""
    audit.record(work.db, f"reminders.off.{kind}", object_type="user", object_id=user_id)
    row = work.db.get(ReminderPreferences, user_id)
    if row is None:
        row = ReminderPreferences(user_id=user_id)
        work.db.add(row)
    setattr(row, kind, False)
    row.updated_at = utcnow()
