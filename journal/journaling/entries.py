"""Journal entries: writing, editing with history, reading, and session linking."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.policy import (
    CourseAccess,
    can_attach_entry,
    can_delete_entry,
    can_edit_entry,
    can_read,
    can_restore_entry,
    course_access,
    readable_entry,
    visibilities_for,
)
from journal.core.errors import ConflictError, Forbidden, NotFound, ValidationError
from journal.core.labels import N_
from journal.core.limits import too_long
from journal.core.rendering import plain_excerpt, stand_in_title
from journal.core.vault import Vault
from journal.core.work import Work
from journal.db import atomic, new_id, utcnow
from journal.journaling import intentions as intentions_service
from journal.journaling import prompt_assignments, search_index
from journal.models import (
    Comment,
    Course,
    DosingSession,
    Draft,
    Entry,
    EntryReview,
    EntryRevision,
    EntryTheme,
    Intention,
    IntentionOutcome,
    Phase,
    PromptAssignment,
    SessionStatus,
    User,
    Visibility,
)

TITLE_MAX = 200
BODY_MAX = 50_000
INTENTIONS_MAX = 10
INTENTION_TOO_LONG = N_(
    "Intention %(number)s is %(length)s characters; the limit is %(limit)s. Nothing was saved yet."
)
INTENTION_MAX = 500
SAME_DAY = timedelta(hours=12)


@dataclass
class EntryInput:
    phase: Phase
    title: str
    body: str
    visibility: Visibility
    session_id: uuid.UUID | None = None
    # Written between sessions (or before the first): tied to no session, whatever the date.
    between_sessions: bool = False
    mood: int | None = None
    intentions: list[str] = field(default_factory=list)
    # The prompt assignment this entry answers (new entries only).
    assignment_id: uuid.UUID | None = None
    # Integration: how intentions of the course went, by intention id.
    outcomes: dict[uuid.UUID, intentions_service.OutcomeInput] = field(default_factory=dict)
    # Preparation: an earlier intention the first intention builds on.
    builds_on: uuid.UUID | None = None


@dataclass(frozen=True)
class EntryView:
    id: uuid.UUID
    course_id: uuid.UUID
    session: DosingSession | None  # None: between sessions
    place: str  # where it sits in the course: "Session 2, 14 Mar" or "Between sessions 1 and 2"
    phase: Phase
    visibility: Visibility
    title: str
    body: str
    mood: int | None
    titled: bool
    author: User
    created_at: datetime
    updated_at: datetime
    version: int
    intentions: list[str]
    can_edit: bool
    can_delete: bool


@dataclass(frozen=True)
class RevisionView:
    entry_version: int
    phase: Phase
    visibility: Visibility
    title: str
    body: str
    mood: int | None
    titled: bool
    written_by: str
    written_at: datetime


# -- which session an entry belongs to ---------------------------------------


def default_session(
    sessions: list[DosingSession], phase: Phase, now: datetime
) -> DosingSession | None:
    """Preparation: the next scheduled session. In-session: one happening today, else
    as integration. Integration: the session held most recently (or under way), marked
    completed or not: a record not yet saved must not send today's words back a week.
    Each falls back to the nearest sensible session so a course with any session
    always has one."""
    live = _live(sessions)
    if not live:
        return None
    if phase == Phase.PREPARATION:
        upcoming = [
            s for s in live if s.status == SessionStatus.SCHEDULED and s.scheduled_at >= now
        ]
        if upcoming:
            return upcoming[0]
        scheduled = [s for s in live if s.status == SessionStatus.SCHEDULED]
        return scheduled[0] if scheduled else live[-1]
    today = [s for s in live if abs(s.scheduled_at - now) <= SAME_DAY]
    if phase == Phase.IN_SESSION and today:
        return today[0]
    return session_in_focus(live, now)


def session_in_focus(
    sessions: list[DosingSession], now: datetime | None = None
) -> DosingSession | None:
    """The session words written now are most likely about: the one held most recently
    (or under way), else the next one."""
    live = _live(sessions)
    held = [s for s in live if was_held(s, now)]
    if held:
        return held[-1]
    return live[0] if live else None


def was_held(session: DosingSession, now: datetime | None = None) -> bool:
    """Under way or over (by the clock), or marked completed."""
    return session.scheduled_at <= (now or utcnow()) or session.status == SessionStatus.COMPLETED


def _live(sessions: list[DosingSession]) -> list[DosingSession]:
    return sorted(
        (s for s in sessions if s.status != SessionStatus.CANCELLED), key=lambda s: s.scheduled_at
    )


def suggested_phase(sessions: list[DosingSession], now: datetime) -> Phase:
    """The phase that fits today, for the "write" button on the timeline."""
    live = [s for s in sessions if s.status != SessionStatus.CANCELLED]
    if any(abs(s.scheduled_at - now) <= SAME_DAY for s in live):
        return Phase.IN_SESSION
    upcoming = [s for s in live if s.status == SessionStatus.SCHEDULED and s.scheduled_at >= now]
    completed = [s for s in live if s.status == SessionStatus.COMPLETED]
    if upcoming and (not completed or upcoming[0].scheduled_at - now <= timedelta(days=3)):
        return Phase.PREPARATION
    return Phase.INTEGRATION if completed else Phase.PREPARATION


def between_label(sessions: list[DosingSession], when: datetime) -> str:
    """Where an entry tied to no session sits among the course's sessions, by date."""
    live = _live(sessions)
    before = [s for s in live if s.scheduled_at <= when]
    after = [s for s in live if s.scheduled_at > when]
    if not live:
        return N_("Before the first session is scheduled")
    if not before:
        return N_("Before session %(number)s", number=after[0].number)
    if not after:
        return N_("After session %(number)s", number=before[-1].number)
    return N_(
        "Between sessions %(first)s and %(next)s",
        first=before[-1].number,
        next=after[0].number,
    )


def _place(db: Session, entry: Entry, session: DosingSession | None) -> str:
    if session is not None:
        return N_("Session %(number)s", number=session.number)
    sessions = list(
        db.scalars(select(DosingSession).where(DosingSession.course_id == entry.course_id))
    )
    return between_label(sessions, entry.created_at)


# -- validation --------------------------------------------------------------


def _validate(
    db: Session, access: CourseAccess, data: EntryInput, now: datetime
) -> tuple[DosingSession | None, list[str]]:
    errors: dict[str, str] = {}
    title, body = data.title.strip(), data.body
    if not title and not body.strip():
        errors["body"] = N_("Write a few words first (a title is optional).")
    if problem := too_long(title, TITLE_MAX):
        errors["title"] = problem
    if problem := too_long(body, BODY_MAX):
        errors["body"] = problem
    if data.visibility not in visibilities_for(access.user.role):
        errors["visibility"] = N_("Choose one of the listed visibility levels.")
    if data.mood is not None and not 1 <= data.mood <= 10:
        errors["mood"] = N_("Mood is a number from 1 to 10.")
    intentions = [i.strip() for i in data.intentions if i.strip()]
    if intentions and data.phase != Phase.PREPARATION:
        errors["intentions"] = N_("Intentions belong to preparation entries.")
    elif len(intentions) > INTENTIONS_MAX:
        errors["intentions"] = N_("Set at most %(limit)s intentions.", limit=INTENTIONS_MAX)
    elif over := [
        problem
        for n, text in enumerate(intentions, 1)
        if (problem := too_long(text, INTENTION_MAX, INTENTION_TOO_LONG, number=n))
    ]:
        errors["intentions"] = over[0]
    sessions = list(
        db.scalars(select(DosingSession).where(DosingSession.course_id == access.course.id))
    )
    session: DosingSession | None = None
    if data.between_sessions:
        pass  # tied to no session on purpose
    elif data.session_id is None:
        # By date; a course with no session yet (or only cancelled ones) still takes
        # words: they sit between sessions until a clinician attaches them.
        session = default_session(sessions, data.phase, now)
    else:
        session = next((s for s in sessions if s.id == data.session_id), None)
        if session is None:
            errors["session_id"] = N_("Choose a dosing session of this course.")
        elif session.status == SessionStatus.CANCELLED:
            errors["session_id"] = N_("This session was cancelled; choose another.")
    if errors:
        raise ValidationError(errors)
    return session, intentions


def _seal_content(
    vault: Vault,
    entry: Entry | EntryRevision,
    owner: uuid.UUID,
    title: str,
    body: str,
    mood: int | None,
) -> None:
    entry.title = vault.seal_column(entry, "title", owner, title)
    entry.body = vault.seal_column(entry, "body", owner, body)
    entry.mood = None if mood is None else vault.seal_column(entry, "mood", owner, str(mood))
    if isinstance(entry, Entry):  # the card's excerpt, made once here instead of per read
        entry.excerpt = vault.seal_column(entry, "excerpt", owner, plain_excerpt(body))


class Words(NamedTuple):
    title: str  # the first words of the body stand in for a missing title
    body: str
    mood: int | None
    titled: bool  # False: the title is a stand-in; an edit form starts empty


def open_words(vault: Vault, row: Entry | EntryRevision, owner: uuid.UUID) -> Words:
    """What an entry (or an earlier version of it) says: its sealed title, body and mood,
    opened together. Every reader of entries opens them here."""
    title = vault.open_column(row, "title", owner)
    body = vault.open_column(row, "body", owner)
    mood = vault.open_optional(row, "mood", owner)
    titled = bool(title)
    return Words(
        title if titled else stand_in_title(body), body, None if mood is None else int(mood), titled
    )


class CardWords(NamedTuple):
    title: str  # the first words of the body stand in for a missing title
    excerpt: str
    mood: int | None


def open_card(vault: Vault, entry: Entry, owner: uuid.UUID) -> CardWords:
    """What an entry's card shows: its title, excerpt and mood. The body is opened only
    when the title is missing (its first words stand in) or the entry was saved before
    excerpts were sealed with it."""
    title = vault.open_column(entry, "title", owner)
    mood = vault.open_optional(entry, "mood", owner)
    excerpt = vault.open_optional(entry, "excerpt", owner)
    if not title or excerpt is None:
        body = vault.open_column(entry, "body", owner)
        title = title or stand_in_title(body)
        excerpt = plain_excerpt(body) if excerpt is None else excerpt
    return CardWords(title, excerpt, None if mood is None else int(mood))


# -- writing -----------------------------------------------------------------


@atomic
def create_entry(
    work: Work,
    course_id: uuid.UUID,
    data: EntryInput,
    now: datetime | None = None,
) -> Entry:
    now = now or utcnow()
    access = course_access(work.db, work.actor.user, course_id)
    if not access.writable:
        raise Forbidden()
    session, intentions = _validate(work.db, access, data, now)
    assignment = (
        prompt_assignments.check_answer(work.db, access, data.assignment_id, data.phase)
        if data.assignment_id is not None
        else None
    )
    if assignment is not None and data.session_id is None and not data.between_sessions:
        chosen = work.db.get(DosingSession, assignment.session_id)
        if chosen is not None and chosen.status != SessionStatus.CANCELLED:
            session = chosen
    _check_links(work.db, access, data, intentions, None)
    owner = access.course.patient_id
    entry = Entry(
        id=new_id(),
        course_id=course_id,
        session_id=session.id if session else None,
        author_id=work.actor.id,
        phase=data.phase,
        visibility=data.visibility,
        version=1,
        created_at=now,
        updated_at=now,
        updated_by=work.actor.id,
    )
    _seal_content(work.vault, entry, owner, data.title.strip(), data.body, data.mood)
    work.db.add(entry)
    work.db.flush()  # the entry row must exist before its intentions
    _store_intentions(
        work.db, work.vault, entry, owner, intentions, existing=[], builds_on=data.builds_on
    )
    intentions_service.store_outcomes(
        work.db, work.vault, entry, owner, data.outcomes, replace=False
    )
    search_index.index_entry(work.db, work.vault, entry, owner)
    if assignment is not None:
        assignment.answered_entry_id = entry.id
    audit.record(
        work.db,
        "entry.create",
        actor=work.actor,
        object_type="entry",
        object_id=entry.id,
        subject_id=owner,
    )
    return entry


def _check_links(
    db: Session,
    access: CourseAccess,
    data: EntryInput,
    intentions: list[str],
    entry_id: uuid.UUID | None,
) -> None:
    """Outcomes and "builds on" may only point at intentions the writer can read."""
    intentions_service.check_outcomes(db, access, data.phase, data.outcomes)
    if data.builds_on is not None:
        if not intentions:
            raise ValidationError({"builds_on": N_("Write the intention that builds on it.")})
        intentions_service.check_builds_on(db, access, data.builds_on, entry_id)


def _store_intentions(
    db: Session,
    vault: Vault,
    entry: Entry,
    owner: uuid.UUID,
    texts: list[str],
    existing: list[Intention],
    builds_on: uuid.UUID | None = None,
) -> None:
    """Update intentions in place by position so their ids stay stable. The first
    intention carries the link to the earlier one it builds on."""
    for position, text in enumerate(texts):
        if position < len(existing):
            row = existing[position]
            row.version += 1
        else:
            row = Intention(
                id=new_id(),
                entry_id=entry.id,
                course_id=entry.course_id,
                position=position,
                version=1,
            )
            db.add(row)
        row.text = vault.seal_column(row, "text", owner, text)
        if position == 0:
            row.builds_on_id = builds_on
    stale = [i.id for i in existing[len(texts) :]]
    if stale:
        db.execute(delete(Intention).where(Intention.id.in_(stale)))


def intentions_of(db: Session, entry_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Intention]]:
    found: dict[uuid.UUID, list[Intention]] = {i: [] for i in entry_ids}
    if entry_ids:
        for row in db.scalars(
            select(Intention).where(Intention.entry_id.in_(entry_ids)).order_by(Intention.position)
        ):
            found[row.entry_id].append(row)
    return found


@atomic
def edit_entry(
    work: Work,
    entry_id: uuid.UUID,
    data: EntryInput,
    expected_version: int,
    now: datetime | None = None,
) -> Entry:
    """Save a new version; the previous one is kept, encrypted, in the history."""
    now = now or utcnow()
    entry, access = readable_entry(work.db, work.actor.user, entry_id)
    if not can_edit_entry(access, entry):
        raise Forbidden()
    if entry.version != expected_version:
        raise ConflictError()
    session, intentions = _validate(work.db, access, data, now)
    _check_links(work.db, access, data, intentions, entry.id)
    owner = access.course.patient_id
    old = open_words(work.vault, entry, owner)
    old_title, old_body, old_mood = (old.title if old.titled else ""), old.body, old.mood
    revision = EntryRevision(
        id=new_id(),
        entry_id=entry.id,
        entry_version=entry.version,
        phase=entry.phase,
        visibility=entry.visibility,
        written_by=entry.updated_by,
        written_at=entry.updated_at,
        version=1,
    )
    _seal_content(work.vault, revision, owner, old_title, old_body, old_mood)
    work.db.add(revision)
    entry.version += 1
    entry.phase, entry.visibility = data.phase, data.visibility
    entry.session_id = session.id if session else None
    entry.updated_at, entry.updated_by = now, work.actor.id
    _seal_content(work.vault, entry, owner, data.title.strip(), data.body, data.mood)
    touched = search_index.entries_with_outcomes_on(work.db, entry.id)
    _store_intentions(
        work.db,
        work.vault,
        entry,
        owner,
        intentions,
        intentions_of(work.db, [entry.id])[entry.id],
        builds_on=data.builds_on,
    )
    intentions_service.store_outcomes(
        work.db, work.vault, entry, owner, data.outcomes, replace=True
    )
    search_index.index_entry(work.db, work.vault, entry, owner, also=touched)
    audit.record(
        work.db,
        "entry.update",
        actor=work.actor,
        object_type="entry",
        object_id=entry.id,
        subject_id=owner,
    )
    return entry


def attachable_course(work: Work, entry_id: uuid.UUID) -> uuid.UUID:
    """The course of an entry the actor may link to a session (NotFound when they may not
    read it, Forbidden when it is not theirs to link)."""
    entry, access = readable_entry(work.db, work.actor.user, entry_id)
    if not can_attach_entry(access, entry):
        raise Forbidden()
    return entry.course_id


@atomic
def attach_entry(work: Work, entry_id: uuid.UUID, session_id: uuid.UUID) -> Entry:
    """Link an entry written between sessions to a session of its course.

    Its words and version stay as they are (the sealed values are bound to the
    version, not the session), so an edit the author has open still saves.
    """
    entry, access = readable_entry(work.db, work.actor.user, entry_id)
    if not can_attach_entry(access, entry):
        raise Forbidden()
    session = work.db.get(DosingSession, session_id)
    if session is None or session.course_id != entry.course_id:
        raise ValidationError({"session_id": N_("Choose a dosing session of this course.")})
    if session.status == SessionStatus.CANCELLED:
        raise ValidationError({"session_id": N_("This session was cancelled; choose another.")})
    entry.session_id = session.id
    audit.record(
        work.db,
        "entry.attach",
        actor=work.actor,
        object_type="entry",
        object_id=entry.id,
        subject_id=access.course.patient_id,
    )
    return entry


# -- deleting ----------------------------------------------------------------


@atomic
def delete_entry(
    work: Work, entry_id: uuid.UUID, keep_days: int, now: datetime | None = None
) -> Entry:
    """The writer deletes their entry: from now on it is a tombstone (its date, phase
    and who deleted it) for those who could read it. Its words are kept, sealed and
    read by no one, `keep_days` (the writer may restore it), then erased."""
    now = now or utcnow()
    entry, access = readable_entry(work.db, work.actor.user, entry_id)
    if not can_delete_entry(access, entry):
        raise Forbidden()
    entry.deleted_at = now
    search_index.drop_entry(work.db, work.vault, entry, access.course.patient_id)
    work.db.execute(delete(Draft).where(Draft.entry_id == entry.id))
    audit.record(
        work.db,
        "entry.delete",
        actor=work.actor,
        object_type="entry",
        object_id=entry.id,
        subject_id=access.course.patient_id,
    )
    if keep_days == 0:
        _erase_words(work, entry, access.course.patient_id, now)
    return entry


@atomic
def restore_entry(work: Work, entry_id: uuid.UUID) -> Entry:
    entry = work.db.get(Entry, entry_id)
    if entry is None:
        raise NotFound()
    access = course_access(work.db, work.actor.user, entry.course_id)
    if not can_restore_entry(access, entry):
        raise NotFound()  # someone else's tombstone, or words already erased
    entry.deleted_at = None
    search_index.index_entry(work.db, work.vault, entry, access.course.patient_id)
    audit.record(
        work.db,
        "entry.restore",
        actor=work.actor,
        object_type="entry",
        object_id=entry.id,
        subject_id=access.course.patient_id,
    )
    return entry


def purge_deleted(work: Work, keep_days: int, now: datetime | None = None) -> int:
    """Erase the words of entries deleted more than `keep_days` ago (the worker's scan).
    Returns how many."""
    now = now or utcnow()
    due = list(
        work.db.execute(
            select(Entry, Course.patient_id)
            .join(Course, Course.id == Entry.course_id)
            .where(
                Entry.deleted_at.is_not(None),
                Entry.deleted_at <= now - timedelta(days=keep_days),
                Entry.erased_at.is_(None),
            )
        ).all()
    )
    for entry, owner in due:
        _erase_words(work, entry, owner, now)
    return len(due)


def _erase_words(work: Work, entry: Entry, owner: uuid.UUID, now: datetime) -> None:
    """Everything written in or about the entry goes; the tombstone's row stays, its
    sealed columns holding nothing (sealed, so key rotation treats it like any row)."""
    db = work.db
    touched = search_index.entries_with_outcomes_on(db, entry.id)
    for table in (EntryRevision, Intention, IntentionOutcome, Comment, EntryReview, EntryTheme):
        db.execute(delete(table).where(table.entry_id == entry.id))
    db.execute(
        update(PromptAssignment)
        .where(PromptAssignment.answered_entry_id == entry.id)
        .values(answered_entry_id=None)
    )
    _seal_content(work.vault, entry, owner, "", "", None)
    entry.erased_at = now
    search_index.drop_entry(db, work.vault, entry, owner, also=touched)


# -- reading -----------------------------------------------------------------


def _view(work: Work, entry: Entry, access: CourseAccess) -> EntryView:
    """Decrypt an entry the actor may read; audit the read of someone else's words."""
    owner = access.course.patient_id
    session = work.db.get(DosingSession, entry.session_id) if entry.session_id else None
    author = work.db.get(User, entry.author_id)
    assert author is not None
    work.vault.preload([owner])
    intentions = intentions_of(work.db, [entry.id])[entry.id]
    view = EntryView(
        id=entry.id,
        course_id=entry.course_id,
        session=session,
        place=_place(work.db, entry, session),
        phase=entry.phase,
        visibility=entry.visibility,
        **open_words(work.vault, entry, owner)._asdict(),
        author=author,
        created_at=entry.created_at,
        updated_at=entry.updated_at,
        version=entry.version,
        intentions=[work.vault.open_column(i, "text", owner) for i in intentions],
        can_edit=can_edit_entry(access, entry),
        can_delete=can_delete_entry(access, entry),
    )
    if entry.author_id != work.actor.id:
        audit.record_read(work, object_type="entry", object_id=entry.id, subject_id=owner)
    return view


def read_entry(work: Work, entry_id: uuid.UUID) -> EntryView:
    entry, access = readable_entry(work.db, work.actor.user, entry_id)
    return _view(work, entry, access)


def open_entry(work: Work, entry_id: uuid.UUID) -> tuple[EntryView, CourseAccess, Entry]:
    """read_entry, plus the access and the stored row for the entry page's other parts.

    Handing them on saves loading them again: the session's identity map holds
    rows only while something refers to them.
    """
    entry, access = readable_entry(work.db, work.actor.user, entry_id)
    return _view(work, entry, access), access, entry


def entry_history(work: Work, entry_id: uuid.UUID) -> tuple[EntryView, list[RevisionView]]:
    """The current version and every earlier one, newest first."""
    entry, access = readable_entry(work.db, work.actor.user, entry_id)
    current = _view(work, entry, access)
    owner = access.course.patient_id
    rows = work.db.execute(
        select(EntryRevision, User.name)
        .join(User, User.id == EntryRevision.written_by)
        .where(EntryRevision.entry_id == entry_id)
        .order_by(EntryRevision.entry_version.desc())
    ).all()
    # A version written as private stays private even if a later one is shared.
    readable = [r for r in rows if can_read(access, r[0].visibility, entry.author_id)]
    revisions = [
        RevisionView(
            entry_version=rev.entry_version,
            phase=rev.phase,
            visibility=rev.visibility,
            **open_words(work.vault, rev, owner)._asdict(),
            written_by=name,
            written_at=rev.written_at,
        )
        for rev, name in readable
    ]
    return current, revisions


def deletable_entry(work: Work, entry_id: uuid.UUID) -> EntryView:
    """The entry for the page that asks before deleting it."""
    entry, access = readable_entry(work.db, work.actor.user, entry_id)
    if not can_delete_entry(access, entry):
        raise Forbidden()
    return _view(work, entry, access)


def editable_entry(work: Work, entry_id: uuid.UUID) -> EntryView:
    """The entry for its edit form; only its author may edit, on an open course."""
    entry, access = readable_entry(work.db, work.actor.user, entry_id)
    if not can_edit_entry(access, entry):
        raise Forbidden()
    return _view(work, entry, access)
