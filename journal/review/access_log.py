"""The patient's own access log: who opened or changed their journal, and when.

Read from the audit trail. Psychotherapy-note events are left out: notes are
kept apart from the record, and even their existence is not shown. So are
events on what the patient may not read (clinician-only entries and comments,
themes found only on clinician-only entries).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, or_, select

from journal.accounts.audit import STAFF_SEARCH
from journal.accounts.care_team import AUDIT_TYPE as CARE_TEAM
from journal.accounts.policy import keeps_a_journal, readable_entries_anywhere
from journal.core.errors import NotFound
from journal.core.work import Work
from journal.models import AuditEvent, Course, Entry, EntryTheme, User
from journal.review.comments import STAFF_AUDIT_TYPE
from journal.review.notes import AUDIT_TYPE as NOTE_TYPE
from journal.review.review import STAFF_SESSION

HIDDEN_TYPES = (NOTE_TYPE, STAFF_AUDIT_TYPE, STAFF_SEARCH, STAFF_SESSION)

LIMIT = 100
ACTIONS = {
    "read": "opened",
    "entry.create": "wrote",
    "entry.update": "changed",
    "entry.attach": "linked a dosing session to",
    "entry.review": "marked as read",
    "session.review": "marked as read the entries of",
    "comment.create": "commented on",
    "theme.tag": "tagged a theme on",
    "theme.untag": "removed a theme from",
    "session_record.create": "wrote",
    "session_record.update": "changed",
    "screening.create": "recorded",
    "screening.update": "updated",
    "screening.recheck": "re-checked",
    "consent.create": "recorded",
    "consent.update": "amended",
    "safety_plan.create": "wrote",
    "safety_plan.update": "changed",
    "export.pdf": "exported (PDF)",
    "export.html": "exported (HTML)",
    "export.md": "exported (Markdown)",
    "export.json": "exported (JSON)",
    "care_team.propose": "proposed a new clinician for",
    "care_team.add": "added a clinician to",
    "care_team.decline": "declined a proposed clinician for",
    "care_team.remove": "removed a clinician from",
}
OBJECTS = {
    "entry": "an entry",
    "course": "the timeline",
    "session": "a dosing session",
    "search": "entries (in search results)",
    "theme": "a theme's entries",
    "course.clinician": "a summary of your course",
    "questionnaire": "your questionnaire answers",
    "intentions": "your intentions and how they went",
    "session_record": "the clinical record of a dosing session",
    "screening": "your screening before the course",
    "safety_plan": "your safety plan",
    "consent": "your consent record",
    CARE_TEAM: "your care team",
}


@dataclass(frozen=True)
class AccessRow:
    at: datetime
    who: str
    role: str
    action: str
    what: str
    entry_id: uuid.UUID | None


def access_log(work: Work, *, before: datetime | None = None) -> list[AccessRow]:
    """Events by other people on the patient's record, newest first."""
    if not keeps_a_journal(work.actor.user):
        raise NotFound()
    readable = exists().where(  # a deleted entry's past stays in the log
        Entry.id == AuditEvent.object_id,
        Course.id == Entry.course_id,
        readable_entries_anywhere(work.actor.user, deleted_too=True),
    )
    theme_readable = exists().where(  # a theme shows only with an entry the patient reads
        EntryTheme.theme_id == AuditEvent.object_id,
        Entry.id == EntryTheme.entry_id,
        Course.id == Entry.course_id,
        readable_entries_anywhere(work.actor.user),
    )
    stmt = (
        select(AuditEvent, User.name)
        .join(User, User.id == AuditEvent.actor_id)
        .where(
            AuditEvent.subject_id == work.actor.id,
            AuditEvent.actor_id != work.actor.id,
            AuditEvent.action.in_(list(ACTIONS)),
            or_(AuditEvent.object_type.is_(None), AuditEvent.object_type.not_in(HIDDEN_TYPES)),
            or_(AuditEvent.object_type.is_distinct_from("entry"), readable),
            or_(AuditEvent.object_type.is_distinct_from("theme"), theme_readable),
        )
    )
    if before is not None:
        stmt = stmt.where(AuditEvent.at < before)
    rows = work.db.execute(
        stmt.order_by(AuditEvent.at.desc(), AuditEvent.seq.desc()).limit(LIMIT)
    ).all()
    # A care-team event names the clinician it concerns.
    concerned = {e.object_id for e, _ in rows if e.object_type == CARE_TEAM and e.object_id}
    names: dict[uuid.UUID, str] = {
        row.id: row.name
        for row in work.db.execute(select(User.id, User.name).where(User.id.in_(concerned)))
    }
    # An entry deleted since is named, not linked: it opens for no one.
    on_entries = {e.object_id for e, _ in rows if e.object_type == "entry" and e.object_id}
    deleted = set(
        work.db.scalars(
            select(Entry.id).where(Entry.id.in_(on_entries), Entry.deleted_at.is_not(None))
        )
    )
    return [
        AccessRow(
            at=event.at,
            who=name,
            role=event.actor_role or "",
            action=ACTIONS[event.action],
            what=_what(event, names),
            entry_id=event.object_id
            if event.object_type == "entry" and event.object_id not in deleted
            else None,
        )
        for event, name in rows
    ]


def _what(event: AuditEvent, names: dict[uuid.UUID, str]) -> str:
    what = OBJECTS.get(event.object_type or "", "your journal")
    if event.object_type == CARE_TEAM and event.object_id in names:
        return f"{what} ({names[event.object_id]})"
    return what
