"""The clinicians' daily digest: how much is waiting, in numbers only.

At the hour each clinician chooses (their reminder page, their own time zone;
08:00 in the clinic's until they choose; or never), the worker's scan e-mails the
counts their caseload shows over their active courses: entries new since they last
opened each course, entries not yet reviewed, comments not yet read, safety flags
not yet acknowledged; and the questionnaires their patients have due and not yet
answered, follow-ups after a closed course included. No name, no title, no kind of
flag: the journal says what. A day with nothing waiting sends nothing. The key
(clinician, local day) makes it one a day, whatever the number of scans or workers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from journal.clinical import questionnaires
from journal.core.actor import Actor
from journal.core.errors import ValidationError
from journal.core.labels import N_
from journal.core.mail import Mail
from journal.core.work import Work
from journal.db import utcnow
from journal.models import CareTeamMember, Course, CourseStatus, Role, User
from journal.models.messages import DIGEST_HOUR, Message, ReminderPreferences
from journal.notify import ngettext, reader_words
from journal.review.caseload import caseload

KIND = "digest"
LATE_HOURS = 3  # a worker stopped at the chosen hour still sends it this long after


@dataclass(frozen=True)
class DigestChoice:
    hour: int | None  # local hour, or None: no digest
    timezone: str | None  # None: the clinic's


@dataclass(frozen=True)
class Counts:
    new_entries: int
    unreviewed: int
    unread_comments: int
    open_flags: int
    questionnaires_due: int = 0

    @property
    def anything(self) -> bool:
        return any(
            (
                self.new_entries,
                self.unreviewed,
                self.unread_comments,
                self.open_flags,
                self.questionnaires_due,
            )
        )


def choice(work: Work, user_id: uuid.UUID) -> DigestChoice:
    row = work.db.get(ReminderPreferences, user_id)
    if row is None:
        return DigestChoice(DIGEST_HOUR, None)
    return DigestChoice(row.digest_hour, row.timezone)


def save_choice(work: Work, chosen: DigestChoice) -> None:
    """The signed-in clinician's own digest hour and time zone."""
    if chosen.hour is not None and not 0 <= chosen.hour < 24:
        raise ValidationError({"digest_hour": N_("Choose an hour between 00:00 and 23:00.")})
    row = work.db.get(ReminderPreferences, work.actor.id)
    if row is None:
        row = ReminderPreferences(user_id=work.actor.id)
        work.db.add(row)
    row.digest_hour, row.timezone, row.updated_at = chosen.hour, chosen.timezone, utcnow()


def counts(work: Work, clinician: User, now: datetime) -> Counts:
    """What the clinician's caseload counts, added up over their active courses."""
    rows = caseload(work.acting_as(Actor(clinician)), show="active", now=now)
    return Counts(
        sum(r.new_entries for r in rows),
        sum(r.unreviewed for r in rows),
        sum(r.unread_comments for r in rows),
        sum(r.open_flags for r in rows),
        questionnaires_due(work, clinician, now),
    )


def questionnaires_due(work: Work, clinician: User, now: datetime) -> int:
    """Questionnaire moments open now and not yet answered, over the clinician's active
    courses and the closed ones whose end-of-course or follow-ups may still be open."""
    mine = select(CareTeamMember.course_id).where(CareTeamMember.clinician_id == clinician.id)
    active = work.db.execute(
        select(User, Course.id)
        .join(Course, Course.patient_id == User.id)
        .where(Course.id.in_(mine), Course.status == CourseStatus.ACTIVE)
    ).all()
    team = set(work.db.scalars(mine))
    followed = [
        (patient, course_id)
        for patient, course_id in questionnaires.closed_courses_to_follow(work.db, now)
        if course_id in team
    ]
    catalogue = work.clinical.instruments
    return sum(
        len(questionnaires.due_for_patient(work.acting_as(Actor(p)), catalogue, course_id, now))
        for p, course_id in [*active, *followed]
    )


def scan(work: Work, now: datetime | None = None) -> int:
    """Write the digests due now; returns how many. The caller's unit commits."""
    now = now or utcnow()
    chosen = {
        row.user_id: row
        for row in work.db.scalars(
            select(ReminderPreferences)
            .join(User, User.id == ReminderPreferences.user_id)
            .where(User.role == Role.CLINICIAN)
        )
    }
    written = 0
    clinicians = work.db.scalars(
        select(User).where(User.role == Role.CLINICIAN, User.active.is_(True)).order_by(User.id)
    )
    for clinician in clinicians:
        row = chosen.get(clinician.id)
        hour = row.digest_hour if row is not None else DIGEST_HOUR
        zone = ZoneInfo(row.timezone) if row is not None and row.timezone else work.settings.zone
        local = now.astimezone(zone)
        if hour is None or not hour <= local.hour < hour + LATE_HOURS:
            continue
        key = f"{KIND}:{clinician.id}:{local.date().isoformat()}"
        if _written(work, key):
            continue
        found = counts(work, clinician, now)
        if found.anything:
            written += int(work.send_mail(_mail(work, clinician, key, found)))
    return written


def _written(work: Work, key: str) -> bool:
    return work.db.scalar(select(Message.id).where(Message.key == key)) is not None


def _mail(work: Work, clinician: User, key: str, found: Counts) -> Mail:
    settings = work.settings
    w = reader_words(settings, clinician.language)
    lines = (
        ngettext("%(num)s new entry", "%(num)s new entries", found.new_entries, w),
        ngettext(
            "%(num)s entry not yet reviewed",
            "%(num)s entries not yet reviewed",
            found.unreviewed,
            w,
        ),
        ngettext(
            "%(num)s comment not yet read",
            "%(num)s comments not yet read",
            found.unread_comments,
            w,
        ),
        ngettext(
            "%(num)s flag not yet acknowledged",
            "%(num)s flags not yet acknowledged",
            found.open_flags,
            w,
        ),
        ngettext(
            "%(num)s questionnaire due and not yet answered",
            "%(num)s questionnaires due and not yet answered",
            found.questionnaires_due,
            w,
        ),
    )
    listed = "\n".join(f"- {line}" for line in lines)
    clinic = settings.clinic_name
    return Mail(
        kind=KIND,
        key=key,
        user_id=clinician.id,
        to=clinician.email,
        subject=w(N_("Your day at %(clinic)s: what is waiting"), clinic=clinic),
        body=(
            w(N_("Hello %(name)s,"), name=clinician.name)
            + "\n\n"
            + w(N_("Across your courses at %(clinic)s:"), clinic=clinic)
            + f"\n{listed}\n\n"
            + w(N_("Sign in to see them: %(url)s"), url=f"{settings.base_url}/")
            + "\n\n"
            + w(
                N_("You can change the hour of this message, or stop it: %(url)s"),
                url=f"{settings.base_url}/account/reminders",
            )
            + "\n"
        ),
    )
