"""Psychotherapy notes: a clinician's own process notes about a session.

Kept apart from the journal: their own table, sealed with the patient's
"notes" data key (never the journal key), reachable only through this module,
which only care-team clinicians pass. No timeline, search, count or patient
export reads this table; a clinician's export reads it (`session_notes`) only
when the clinician includes the notes with a recorded reason. Reads and writes
are audited, but the patient's access log leaves these events out, so not even
a note's existence shows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.policy import CourseAccess, can_use_notes, course_access
from journal.core.errors import ConflictError, Forbidden, NotFound, ValidationError
from journal.core.labels import N_
from journal.core.limits import too_long
from journal.core.vault import Vault
from journal.core.work import Work
from journal.db import atomic, new_id, utcnow
from journal.models import DosingSession, KeyScope, PsychotherapyNote, User

NOTE_MAX = 20_000
AUDIT_TYPE = "note"  # left out of the patient's access log


@dataclass(frozen=True)
class NoteView:
    id: uuid.UUID
    session: DosingSession
    author_name: str
    body: str
    created_at: datetime
    updated_at: datetime
    version: int
    can_edit: bool


@dataclass(frozen=True)
class SessionNote:
    """A note as an export shows it."""

    id: uuid.UUID
    session_id: uuid.UUID
    author_name: str
    body: str
    created_at: datetime
    updated_at: datetime


def _access(work: Work, course_id: uuid.UUID) -> CourseAccess:
    access = course_access(work.db, work.actor.user, course_id)
    if not can_use_notes(access):
        raise NotFound()
    return access


def _check(body: str) -> str:
    body = body.strip()
    if not body:
        raise ValidationError({"body": N_("Write the note.")})
    if problem := too_long(body, NOTE_MAX):
        raise ValidationError({"body": problem})
    return body


@atomic
def add_note(
    work: Work,
    course_id: uuid.UUID,
    session_id: uuid.UUID,
    body: str,
    now: datetime | None = None,
) -> PsychotherapyNote:
    access = _access(work, course_id)
    session = work.db.get(DosingSession, session_id)
    if session is None or session.course_id != course_id:
        raise NotFound()
    if not access.writable:
        raise Forbidden()
    text = _check(body)
    now = now or utcnow()
    note = PsychotherapyNote(
        id=new_id(),
        course_id=course_id,
        session_id=session_id,
        author_id=work.actor.id,
        version=1,
        created_at=now,
        updated_at=now,
    )
    owner = access.course.patient_id
    note.body = work.vault.for_scope(KeyScope.NOTES).seal_column(note, "body", owner, text)
    work.db.add(note)
    audit.record(
        work.db,
        "note.create",
        actor=work.actor,
        object_type=AUDIT_TYPE,
        object_id=note.id,
        subject_id=owner,
    )
    return note


@atomic
def edit_note(
    work: Work,
    note_id: uuid.UUID,
    body: str,
    expected_version: int,
    now: datetime | None = None,
) -> PsychotherapyNote:
    """Only the note's author edits it; stale edits are refused."""
    note = work.db.get(PsychotherapyNote, note_id)
    if note is None:
        raise NotFound()
    access = _access(work, note.course_id)
    if note.author_id != work.actor.id or not access.writable:
        raise Forbidden()
    if note.version != expected_version:
        raise ConflictError()
    text = _check(body)
    owner = access.course.patient_id
    note.version += 1
    note.updated_at = now or utcnow()
    note.body = work.vault.for_scope(KeyScope.NOTES).seal_column(note, "body", owner, text)
    audit.record(
        work.db,
        "note.update",
        actor=work.actor,
        object_type=AUDIT_TYPE,
        object_id=note.id,
        subject_id=owner,
    )
    return note


def course_notes(work: Work, course_id: uuid.UUID) -> tuple[CourseAccess, list[NoteView]]:
    """Every note on the course, by session then time; the read is audited."""
    access = _access(work, course_id)
    owner = access.course.patient_id
    notes_vault = work.vault.for_scope(KeyScope.NOTES)
    rows = work.db.execute(
        select(PsychotherapyNote, DosingSession, User.name)
        .join(DosingSession, DosingSession.id == PsychotherapyNote.session_id)
        .join(User, User.id == PsychotherapyNote.author_id)
        .where(PsychotherapyNote.course_id == course_id)
        .order_by(DosingSession.scheduled_at, PsychotherapyNote.created_at)
    ).all()
    notes_vault.preload([owner])
    views = [
        NoteView(
            id=note.id,
            session=session,
            author_name=name,
            body=notes_vault.open_column(note, "body", owner),
            created_at=note.created_at,
            updated_at=note.updated_at,
            version=note.version,
            can_edit=note.author_id == work.actor.id and access.writable,
        )
        for note, session, name in rows
    ]
    if views:
        audit.record_read(work, object_type=AUDIT_TYPE, object_id=course_id, subject_id=owner)
    return access, views


def note_for_edit(work: Work, note_id: uuid.UUID) -> NoteView:
    note = work.db.get(PsychotherapyNote, note_id)
    if note is None:
        raise NotFound()
    access = _access(work, note.course_id)
    if note.author_id != work.actor.id or not access.writable:
        raise Forbidden()
    session = work.db.get(DosingSession, note.session_id)
    assert session is not None
    return NoteView(
        id=note.id,
        session=session,
        author_name=work.actor.user.name,
        body=work.vault.for_scope(KeyScope.NOTES).open_column(
            note, "body", access.course.patient_id
        ),
        created_at=note.created_at,
        updated_at=note.updated_at,
        version=note.version,
        can_edit=True,
    )


def session_notes(
    db: Session, vault: Vault, access: CourseAccess, session_ids: list[uuid.UUID]
) -> list[SessionNote]:
    """The notes of these sessions of the course, oldest first, in one query: for a
    clinician's export that includes them (the caller records the disclosure)."""
    if not can_use_notes(access):
        raise NotFound()
    if not session_ids:
        return []
    owner = access.course.patient_id
    notes_vault = vault.for_scope(KeyScope.NOTES)
    notes_vault.preload([owner])
    rows = db.execute(
        select(PsychotherapyNote, User.name)
        .join(User, User.id == PsychotherapyNote.author_id)
        .where(
            PsychotherapyNote.course_id == access.course.id,
            PsychotherapyNote.session_id.in_(session_ids),
        )
        .order_by(PsychotherapyNote.created_at, PsychotherapyNote.id)
    ).all()
    return [
        SessionNote(
            id=note.id,
            session_id=note.session_id,
            author_name=name,
            body=notes_vault.open_column(note, "body", owner),
            created_at=note.created_at,
            updated_at=note.updated_at,
        )
        for note, name in rows
    ]
