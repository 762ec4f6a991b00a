"""The admin's view of the audit trail: pages, filters, words and the CSV download.

Reading only: events are recorded and chained by journal.accounts.audit. What an
admin sees here is who did what to which record, in words, with the names of
people and courses; never a title or any other text a patient or clinician wrote
(no entry, note or comment is ever loaded here).

Pages are keyset pages on (time, id), newest first, so the thousandth page costs
what the first does: each page starts after the last event of the one before.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from journal.accounts import audit
from journal.accounts.policy import administers, require
from journal.core.catalogues import Words
from journal.core.errors import ValidationError
from journal.core.labels import N_, DayInWords, Phrase
from journal.core.work import Work
from journal.db import write_soon
from journal.models import AuditEvent, Course, User

PAGE_SIZE = 50
CSV_LIMIT = 100_000  # events in one download; more is refused, never cut short
CSV_BATCH = 2_000
DOWNLOAD = "audit.export"

# What each action code means, as a sentence without its subject (the "Who" beside
# it). "{object}" stands for the record acted on, named where the admin may see it.
ACTION_WORDS: dict[str, str] = {
    "read": N_("Opened {object}"),
    "login": N_("Signed in"),
    "login.password": N_("Gave the right password (first step of signing in)"),
    "login.second_factor": N_("Gave a wrong two-factor code"),
    "logout": N_("Signed out"),
    "password.recheck": N_("Was asked for their password again"),
    "password.reset_request": N_("Asked for a password reset link"),
    "password.set_by_invite": N_("Chose a password from an invitation"),
    "password.set_by_reset": N_("Chose a new password from a reset link"),
    "user.create": N_("Made the account of {object}"),
    "user.invite": N_("Invited {object}"),
    "user.invite_link": N_("Sent a new invitation to {object}"),
    "user.reset_link": N_("Sent a password reset link to {object}"),
    "user.activate": N_("Reactivated the account of {object}"),
    "user.deactivate": N_("Deactivated the account of {object}"),
    "user.password_change": N_("Changed their password"),
    "patient.refer": N_("Referred a patient to {object}"),
    "patient.erase": N_("Erased a patient and everything they wrote"),
    "two_factor.enable": N_("Turned on two-factor sign-in"),
    "two_factor.recovery_code": N_("Signed in with a recovery code"),
    "two_factor.remove": N_("Removed the two-factor sign-in of {object}"),
    "course.create": N_("Set up {object}"),
    "course.active": N_("Reopened {object}"),
    "course.closed": N_("Closed {object}"),
    "care_team.propose": N_("Proposed {object} for a care team"),
    "care_team.add": N_("Agreed to add {object} to a care team"),
    "care_team.decline": N_("Declined {object} for a care team"),
    "care_team.remove": N_("Removed {object} from a care team"),
    "session.create": N_("Scheduled {object}"),
    "session.update": N_("Changed {object}"),
    "session.review": N_("Marked {object} as read"),
    "entry.create": N_("Wrote {object}"),
    "entry.update": N_("Changed {object}"),
    "entry.delete": N_("Deleted {object} (its writer)"),
    "entry.restore": N_("Restored {object} (its writer)"),
    "entry.attach": N_("Linked {object} to a dosing session"),
    "entry.review": N_("Marked {object} as read"),
    "comment.create": N_("Commented on {object}"),
    "theme.tag": N_("Tagged a theme on {object}"),
    "theme.untag": N_("Removed a theme from {object}"),
    "note.create": N_("Wrote {object}"),
    "note.update": N_("Changed {object}"),
    "note.export": N_("Disclosed {object} in an export"),
    "questionnaire.assign": N_("Assigned {object}"),
    "questionnaire.submit": N_("Answered {object}"),
    "questionnaire.end": N_("Stopped {object}"),
    "flag.acknowledge": N_("Acknowledged {object}"),
    "flag.support": N_("Asked for support (raised {object})"),
    "safety_plan.create": N_("Wrote {object}"),
    "safety_plan.update": N_("Changed {object}"),
    "screening.create": N_("Recorded {object}"),
    "screening.update": N_("Changed {object}"),
    "screening.recheck": N_("Re-checked {object}"),
    "consent.create": N_("Recorded {object}"),
    "consent.update": N_("Amended {object}"),
    "session_record.create": N_("Wrote {object}"),
    "session_record.update": N_("Changed {object}"),
    "export.pdf": N_("Exported {object} as PDF"),
    "export.html": N_("Exported {object} as HTML"),
    "export.md": N_("Exported {object} as Markdown"),
    "export.json": N_("Exported {object} as JSON"),
    "prompt.save": N_("Saved {object} in the clinic's library"),
    "prompt.assign": N_("Assigned {object}"),
    "prompt.unassign": N_("Withdrew {object}"),
    "mail.retry": N_("Queued {object} to be sent again"),
    "reminders.off.preparation": N_("Turned off preparation reminders for {object}"),
    "reminders.off.capture": N_("Turned off quick-capture reminders for {object}"),
    "reminders.off.integration": N_("Turned off integration reminders for {object}"),
    "reminders.off.questionnaire": N_("Turned off questionnaire reminders for {object}"),
    "restore": N_("Restored the database from a backup"),
    "backup": N_("Made a backup"),
    "keys.rotate_master": N_("Rotated the master key"),
    "keys.rotate_data": N_("Rotated the patients' data keys"),
    "keys.retire_backups": N_("Retired old backup keys"),
    DOWNLOAD: N_("Downloaded audit events as CSV"),
}
# Codes made of a fixed start and a value known only when recorded (an e-mail's kind).
FAMILY_WORDS: dict[str, str] = {
    "mail.": N_("Sent {object}"),
}
# The record an event names, by its object type: (unnamed, named with "%(name)s").
NAME = "%(name)s"  # the name alone: a person's, or the course's words
OBJECT_WORDS: dict[str, tuple[str, str]] = {
    "user": (N_("an account"), NAME),
    "care_team": (N_("a clinician"), NAME),
    "account.patient_data": (N_("their own data"), N_("their own data")),
    "course": (N_("a course"), NAME),
    "course.clinician": (N_("a course summary"), N_("the care team's summary of %(name)s")),
    "course.patient": (N_("a course summary"), N_("the patient's summary of %(name)s")),
    "entry": (N_("an entry"), N_("an entry")),
    "session": (N_("a dosing session's entries"), N_("a dosing session's entries")),
    "staff_session": (N_("a dosing session's clinician-only entries"), ""),
    "search": (N_("entries in search results"), ""),
    "staff_search": (N_("clinician-only entries in search results"), ""),
    "theme": (N_("a theme's entries"), ""),
    "staff_comment": (N_("an entry (a clinician-only comment)"), ""),
    "note": (N_("psychotherapy notes"), ""),
    "questionnaire": (N_("a questionnaire"), ""),
    "intentions": (N_("intentions and their outcomes"), ""),
    "session_record": (N_("a dosing-session record"), ""),
    "screening": (N_("a screening"), ""),
    "safety_plan": (N_("a safety plan"), ""),
    "consent": (N_("a consent record"), ""),
    "dosing_session": (N_("a dosing session"), ""),
    "flag": (N_("a safety flag"), ""),
    "prompt": (N_("a prompt"), ""),
    "prompt_assignment": (N_("a prompt assignment"), ""),
    "message": (N_("an e-mail"), ""),
}
PERSON_OBJECTS = frozenset({"user", "care_team"})  # object_id is a person's account
COURSE_OBJECTS = frozenset({"course", "course.clinician", "course.patient"})  # a course
OUTCOME_WORDS = {
    "failure": N_("failed"),
    "refused": N_("refused"),
    "cli": N_("from the command line"),
}
ROLE_WORDS = {"admin": N_("admin"), "clinician": N_("clinician"), "patient": N_("patient")}


def action_words(code: str) -> str | None:
    """The sentence for an action code, or None when the code has no words yet."""
    if code in ACTION_WORDS:
        return ACTION_WORDS[code]
    for start, words in FAMILY_WORDS.items():
        if code.startswith(start):
            return words
    return None


# For the action filter, where no event is at hand: the usual record of each area.
AREA_NOUNS = {
    "read": N_("a record"),
    "user": N_("a person"),
    "two_factor": N_("a person"),
    "reminders": N_("a person"),
    "patient": N_("a clinician"),
    "care_team": N_("a clinician"),
    "course": N_("a course"),
    "session": N_("a dosing session"),
    "entry": N_("an entry"),
    "comment": N_("an entry"),
    "theme": N_("an entry"),
    "note": N_("psychotherapy notes"),
    "questionnaire": N_("a questionnaire"),
    "flag": N_("a safety flag"),
    "safety_plan": N_("a safety plan"),
    "screening": N_("a screening"),
    "consent": N_("a consent record"),
    "session_record": N_("a dosing-session record"),
    "export": N_("a course summary"),
    "prompt": N_("a prompt"),
    "mail": N_("an e-mail"),
}


def action_choices(words: Words) -> list[tuple[str, str]]:
    """Every action with words, for the filter: (code, a sentence of its own naming
    the usual record of its area), in the language of `words` and in its order."""
    choices = [
        (
            code,
            words(action).replace(
                "{object}", words(AREA_NOUNS.get(code.split(".")[0], N_("a record")))
            ),
        )
        for code, action in ACTION_WORDS.items()
    ]
    return sorted(choices, key=lambda pair: pair[1].lower())


@dataclass(frozen=True)
class Filters:
    person: uuid.UUID | None = None  # who acted
    patient: uuid.UUID | None = None  # whose record (the event's subject)
    action: str | None = None
    since: date | None = None  # first day, in the clinic's time zone
    until: date | None = None  # last day, included

    def check(self) -> Filters:
        for name, day in (("since", self.since), ("until", self.until)):
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                raise ValidationError({name: N_("Choose a day between 1970 and 9998.")})
        if self.since and self.until and self.since > self.until:
            raise ValidationError({"until": N_("The last day comes before the first day.")})
        return self


FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)  # days that convert in any zone


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: an event's time and id (the order is time, then id)."""

    at: datetime
    id: uuid.UUID

    def token(self) -> str:
        micros = (self.at - _EPOCH) // timedelta(microseconds=1)
        return f"{micros}.{self.id.hex}"

    @classmethod
    def parse(cls, raw: str | None) -> Cursor | None:
        if not raw:
            return None
        micros, _, hexid = raw.partition(".")
        try:
            return cls(_EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(hex=hexid))
        except (ValueError, OverflowError):
            return None

    @classmethod
    def of(cls, event: AuditEvent) -> Cursor:
        return cls(event.at, event.id)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class TrailRow:
    event: AuditEvent
    who: str
    who_email: str | None
    role: str | None
    object_email: str | None  # when the record acted on is a person's account
    concerning: str | None  # the patient whose record it is (or an e-mail's recipient)
    concerning_email: str | None
    outcome: str | None  # words for anything but "ok"
    what: str | None = None  # the record acted on ("{object}"), for the page to translate


@dataclass(frozen=True)
class TrailPage:
    rows: list[TrailRow]
    older: Cursor | None  # the next page back in time, if there is one
    newer: Cursor | None  # the page before, if this is not the newest


def page(
    work: Work,
    filters: Filters,
    *,
    older_than: Cursor | None = None,
    newer_than: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> TrailPage:
    """One page of events, newest first: the newest ones, or those just older than
    `older_than`, or just newer than `newer_than` (going back a page)."""
    require(administers(work.actor.user))
    filters.check()
    stmt = select(AuditEvent).where(*_conditions(filters, work.settings.zone))
    if newer_than is not None:
        stmt = stmt.where(_after(newer_than)).order_by(AuditEvent.at, AuditEvent.id)
    else:
        if older_than is not None:
            stmt = stmt.where(_before(older_than))
        stmt = stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    found = list(work.db.scalars(stmt.limit(size + 1)))
    more = len(found) > size
    events = found[:size]
    older: Cursor | None
    newer: Cursor | None
    if newer_than is not None:
        events.reverse()
        older = Cursor.of(events[-1]) if events else newer_than
        newer = Cursor.of(events[0]) if more and events else None
    else:
        older = Cursor.of(events[-1]) if more else None
        newer = Cursor.of(events[0]) if older_than is not None and events else None
    return TrailPage(_rows(work, events), older, newer)


def _conditions(filters: Filters, zone: ZoneInfo) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if filters.person:
        found.append(AuditEvent.actor_id == filters.person)
    if filters.patient:
        found.append(AuditEvent.subject_id == filters.patient)
    if filters.action:
        found.append(AuditEvent.action == filters.action)
    if filters.since:
        found.append(AuditEvent.at >= _start_of(filters.since, zone))
    if filters.until:
        found.append(AuditEvent.at < _start_of(filters.until + timedelta(days=1), zone))
    return found


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _before(cursor: Cursor) -> ColumnElement[bool]:
    # Written out rather than as a row value, so that both databases use the time index.
    return and_(
        AuditEvent.at <= cursor.at,
        or_(AuditEvent.at < cursor.at, AuditEvent.id < cursor.id),
    )


def _after(cursor: Cursor) -> ColumnElement[bool]:
    return and_(
        AuditEvent.at >= cursor.at,
        or_(AuditEvent.at > cursor.at, AuditEvent.id > cursor.id),
    )


@dataclass(frozen=True)
class _Names:
    people: dict[uuid.UUID, User]
    courses: dict[uuid.UUID, str]


def _names(work: Work, events: Sequence[AuditEvent]) -> _Names:
    """People and courses the events name, in two queries whatever the page's length."""
    people_ids: set[uuid.UUID] = set()
    course_ids: set[uuid.UUID] = set()
    for e in events:
        people_ids.update(i for i in (e.actor_id, e.subject_id) if i)
        if e.object_id and e.object_type in PERSON_OBJECTS:
            people_ids.add(e.object_id)
        elif e.object_id and e.object_type in COURSE_OBJECTS:
            course_ids.add(e.object_id)
    courses: dict[uuid.UUID, str] = {}
    if course_ids:
        for course_id, started_on, patient_name in work.db.execute(
            select(Course.id, Course.started_on, User.name)
            .join(User, User.id == Course.patient_id)
            .where(Course.id.in_(course_ids))
        ):
            courses[course_id] = course_label(patient_name, started_on)
    people: dict[uuid.UUID, User] = {}
    if people_ids:
        people = {u.id: u for u in work.db.scalars(select(User).where(User.id.in_(people_ids)))}
    return _Names(people, courses)


def course_label(patient_name: str, started_on: date) -> str:
    return N_(
        "the course of %(name)s from %(day)s",
        name=patient_name,
        day=DayInWords(started_on, short=True),
    )


def _object(event: AuditEvent, names: _Names) -> tuple[str, str | None]:
    """The record acted on, in words, and the e-mail address of a person named."""
    unnamed, named = OBJECT_WORDS.get(event.object_type or "", (N_("a record"), ""))
    if event.object_type in PERSON_OBJECTS and event.object_id:
        person = names.people.get(event.object_id)
        if person is None:
            return Phrase(N_("an erased account"), {}), None  # the person is gone; the id stays
        return person.name, person.email
    if event.object_type in COURSE_OBJECTS and event.object_id in names.courses:
        course = names.courses[event.object_id]
        return (course if named == NAME else Phrase(named, {"name": course})), None
    return Phrase(unnamed, {}), None


def _named(event: AuditEvent, names: _Names) -> tuple[str | None, str | None]:
    """The record the action's words name for "{object}" (a `Phrase` to translate, or
    a person's name as written) and that person's e-mail address; None when the
    words name no record (`said_sentence` puts the two together)."""
    words = action_words(event.action)
    if words is None or "{object}" not in words:
        return None, None
    return _object(event, names)


def _rows(work: Work, events: Sequence[AuditEvent]) -> list[TrailRow]:
    names = _names(work, events)
    return [_row(e, names) for e in events]


def _row(event: AuditEvent, names: _Names) -> TrailRow:
    actor = names.people.get(event.actor_id) if event.actor_id else None
    email: str | None
    if actor is not None:
        who, email = actor.name, actor.email
    elif event.actor_id:
        who, email = Phrase(N_("An erased account"), {}), None
    elif event.outcome == "failure":
        who, email = Phrase(N_("Someone not signed in"), {}), None
    else:
        who, email = Phrase(N_("The journal itself"), {}), None
    subject = names.people.get(event.subject_id) if event.subject_id else None
    concerning: str | None
    concerning_email: str | None
    if subject is not None:
        concerning, concerning_email = subject.name, subject.email
    else:
        concerning = Phrase(N_("An erased patient"), {}) if event.subject_id else None
        concerning_email = None
    what, object_email = _named(event, names)
    outcome = None if event.outcome == "ok" else OUTCOME_WORDS.get(event.outcome, event.outcome)
    return TrailRow(
        event=event,
        who=who,
        who_email=email,
        role=ROLE_WORDS.get(event.actor_role or ""),
        object_email=object_email,
        concerning=concerning,
        concerning_email=concerning_email,
        outcome=outcome,
        what=what,
    )


# -- the CSV download ---------------------------------------------------------------

CSV_HEADER = (
    N_("time (UTC)"),
    N_("who"),
    N_("who's email"),
    N_("role"),
    N_("what happened"),
    N_("action code"),
    N_("object type"),
    N_("object id"),
    N_("object's email"),
    N_("concerning"),
    N_("concerning email"),
    N_("patient id"),
    N_("outcome"),
    N_("address"),
    N_("sequence"),
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula gets a
    leading apostrophe (names are typed by people; an address may start with "-")."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class TooManyEvents(ValidationError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            {
                "since": N_(
                    "More than %(limit)s events match. Choose fewer days or a filter.", limit=limit
                )
            }
        )


def download(work: Work, filters: Filters, words: Words | None = None) -> str:
    """The filtered events as CSV, newest first. The download is itself recorded.
    The header and the words of each event are in the language of `words` (the
    admin's page); codes, ids, names and addresses as recorded. Without it, English."""
    say = words or Words("en")
    require(administers(work.actor.user))
    filters.check()
    conditions = _conditions(filters, work.settings.zone)
    matching = work.db.scalar(
        select(func.count()).select_from(
            select(AuditEvent.id).where(*conditions).limit(CSV_LIMIT + 1).subquery()
        )
    )
    if (matching or 0) > CSV_LIMIT:
        raise TooManyEvents(CSV_LIMIT)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([say(column) for column in CSV_HEADER])
    for batch in _batches(work, conditions):
        writer.writerows(_csv_rows(_rows(work, batch), say))
    _record_download(work, filters)
    return out.getvalue()


def _batches(work: Work, conditions: list[ColumnElement[bool]]) -> Iterable[list[AuditEvent]]:
    cursor: Cursor | None = None
    while True:
        stmt = select(AuditEvent).where(*conditions)
        if cursor is not None:
            stmt = stmt.where(_before(cursor))
        batch = list(
            work.db.scalars(
                stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(CSV_BATCH)
            )
        )
        if batch:
            yield batch
        if len(batch) < CSV_BATCH:
            return
        cursor = Cursor.of(batch[-1])
        for event in batch:  # written out: let them go, so memory stays flat
            work.db.expunge(event)


def said(words: Words, text: str) -> str:
    """The trail's words in a language: what the domain marked (a `Phrase`, and the
    words and days inside one) translated; a name as written."""
    return words(text) if isinstance(text, Phrase) else str(text)


def said_sentence(words: Words, row: TrailRow) -> str:
    """What happened, in a language, with the record it names."""
    action = action_words(row.event.action)
    if action is None:
        return words(N_("Did “%(action)s”", action=row.event.action))
    sentence = words(action)
    return sentence if row.what is None else sentence.replace("{object}", said(words, row.what))


def _csv_rows(rows: Iterable[TrailRow], words: Words) -> Iterable[list[str]]:
    for r in rows:
        e = r.event
        yield [
            safe_cell(v)
            for v in (
                e.at.astimezone(UTC).isoformat(timespec="seconds"),
                said(words, r.who),
                r.who_email,
                e.actor_role,
                said_sentence(words, r),
                e.action,
                e.object_type,
                e.object_id,
                r.object_email,
                None if r.concerning is None else said(words, r.concerning),
                r.concerning_email,
                e.subject_id,
                e.outcome,
                e.address,
                e.seq,
            )
        ]


def _record_download(work: Work, filters: Filters) -> None:
    """Which filters, by ids only: the audit trail never holds names or text."""

    def write(db: Session) -> None:
        audit.record(
            db,
            DOWNLOAD,
            actor=work.actor,
            object_type="user" if filters.person else None,
            object_id=filters.person,
            subject_id=filters.patient,
        )

    write_soon(work.db, write)
