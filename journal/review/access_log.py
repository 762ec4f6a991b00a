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
from journal.core.labels import N_
from journal.core.work import Work
from journal.models import AuditEvent, Course, Entry, EntryTheme, User
from journal.review.comments import STAFF_AUDIT_TYPE
from journal.review.notes import AUDIT_TYPE as NOTE_TYPE
from journal.review.review import STAFF_SESSION

HIDDEN_TYPES = (NOTE_TYPE, STAFF_AUDIT_TYPE, STAFF_SEARCH, STAFF_SESSION)

LIMIT = 100
ACTIONS = {
    "read": N_("opened"),
    "entry.create": N_("wrote"),
    "entry.update": N_("changed"),
    "entry.attach": N_("linked a dosing session to"),
    "entry.review": N_("marked as read"),
    "session.review": N_("marked as read the entries of"),
    "comment.create": N_("commented on"),
    "theme.tag": N_("tagged a theme on"),
    "theme.untag": N_("removed a theme from"),
    "session_record.create": N_("wrote"),
    "session_record.update": N_("changed"),
    "screening.create": N_("recorded"),
    "screening.update": N_("updated"),
    "screening.recheck": N_("re-checked"),
    "consent.create": N_("recorded"),
    "consent.update": N_("amended"),
    "safety_plan.create": N_("wrote"),
    "safety_plan.update": N_("changed"),
    "export.pdf": N_("exported (PDF)"),
    "export.html": N_("exported (HTML)"),
    "export.md": N_("exported (Markdown)"),
    "export.json": N_("exported (JSON)"),
    "care_team.propose": N_("proposed a new clinician for"),
    "care_team.add": N_("added a clinician to"),
    "care_team.decline": N_("declined a proposed clinician for"),
    "care_team.remove": N_("removed a clinician from"),
}
OBJECTS = {
    "entry": N_("an entry"),
    "course": N_("the timeline"),
    "session": N_("a dosing session"),
    "search": N_("entries (in search results)"),
    "theme": N_("a theme's entries"),
    "course.clinician": N_("a summary of your course"),
    "questionnaire": N_("your questionnaire answers"),
    "intentions": N_("your intentions and how they went"),
    "session_record": N_("the clinical record of a dosing session"),
    "screening": N_("your screening before the course"),
    "safety_plan": N_("your safety plan"),
    "consent": N_("your consent record"),
    CARE_TEAM: N_("your care team"),
}


@dataclass(frozen=True)
class AccessRow:
    at: datetime
    who: str
    role: str
    action: str  # marked words (`N_`), as is `what`: the page translates them
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
    what = OBJECTS.get(event.object_type or "", N_("your journal"))
    if event.object_type == CARE_TEAM and event.object_id in names:
        return N_("your care team (%(name)s)", name=names[event.object_id])
    return what
