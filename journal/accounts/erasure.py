"""Erasing a patient: every row of theirs and their data key, in one transaction.

Without the data key, any copy of their ciphertext left elsewhere (an old
backup, a disk block) can no longer be read through this journal's keys,
except from a backup that still holds the wrapped key: see docs/security.md.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.policy import administers, keeps_a_journal, require
from journal.core.errors import NotFound, ValidationError
from journal.core.work import Work
from journal.db import after_commit, atomic, checkpoint, new_id
from journal.models import (
    CareTeamMember,
    Comment,
    CommentRead,
    Course,
    CourseVisit,
    DataKey,
    DosingSession,
    Draft,
    Entry,
    EntryReview,
    EntryRevision,
    EntryTheme,
    Erasure,
    Intention,
    IntentionOutcome,
    LoginSession,
    NoteDisclosure,
    PromptAssignment,
    PsychotherapyNote,
    QuestionnaireAssignment,
    QuestionnaireResponse,
    RecoveryCode,
    SafetyFlag,
    Screening,
    SessionRecord,
    Theme,
    TotpCredential,
    User,
)

REASON_MAX = 200


LEDGER_NAME = "erasures.log"


def ledger_path(master_key_path: Path) -> Path:
    """Beside the keys, so a backup of the keys carries it, apart from the database."""
    return master_key_path.parent / LEDGER_NAME


def record_erasure(path: Path, patient_id: uuid.UUID) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as fh:
        fh.write(f"{patient_id}\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_ledger(path: Path) -> list[uuid.UUID]:
    if not path.exists():
        return []
    return [uuid.UUID(line) for line in path.read_text().split() if line]


@atomic
def erase_patient(
    work: Work,
    patient_id: uuid.UUID,
    *,
    reason: str,
    confirm_email: str,
    ledger: Path,
) -> None:
    """Delete a patient's account, courses, entries, history and keys for good.

    Once the unit of work commits, the patient goes into the erasure ledger (so a
    restored backup erases them again) and SQLite's write-ahead log is folded into
    the database file, whose freed pages secure_delete has overwritten."""
    require(administers(work.actor.user))
    patient = work.db.get(User, patient_id)
    if patient is None or not keeps_a_journal(patient):
        raise NotFound()
    errors = {}
    if confirm_email.strip().lower() != patient.email:
        errors["confirm_email"] = "Type the patient's email exactly to confirm."
    if not reason.strip() or len(reason) > REASON_MAX:
        errors["reason"] = f"Give a short administrative reason (1 to {REASON_MAX} characters)."
    if errors:
        raise ValidationError(errors)
    remove_patient_rows(work.db, patient_id)
    work.db.add(
        Erasure(id=new_id(), patient_id=patient_id, erased_by=work.actor.id, reason=reason.strip())
    )
    audit.record(
        work.db,
        "patient.erase",
        actor=work.actor,
        object_type="user",
        object_id=patient_id,
        subject_id=patient_id,
    )
    engine = work.db.get_bind()
    after_commit(work.db, lambda: record_erasure(ledger, patient_id))
    after_commit(work.db, lambda: checkpoint(engine))


def remove_patient_rows(db: Session, patient_id: uuid.UUID) -> None:
    """Every row that holds or points to the patient's data, children first."""
    courses = select(Course.id).where(Course.patient_id == patient_id)
    entries = select(Entry.id).where(Entry.course_id.in_(courses))
    comments = select(Comment.id).where(Comment.course_id.in_(courses))
    db.execute(delete(CommentRead).where(CommentRead.comment_id.in_(comments)))
    db.execute(delete(CommentRead).where(CommentRead.user_id == patient_id))
    db.execute(delete(Comment).where(Comment.course_id.in_(courses)))
    db.execute(delete(EntryReview).where(EntryReview.course_id.in_(courses)))
    db.execute(delete(EntryTheme).where(EntryTheme.entry_id.in_(entries)))
    db.execute(delete(Theme).where(Theme.course_id.in_(courses)))
    db.execute(delete(PsychotherapyNote).where(PsychotherapyNote.course_id.in_(courses)))
    db.execute(delete(SessionRecord).where(SessionRecord.course_id.in_(courses)))
    db.execute(delete(Screening).where(Screening.course_id.in_(courses)))
    db.execute(delete(NoteDisclosure).where(NoteDisclosure.course_id.in_(courses)))
    db.execute(delete(CourseVisit).where(CourseVisit.course_id.in_(courses)))
    db.execute(delete(CourseVisit).where(CourseVisit.user_id == patient_id))
    db.execute(delete(SafetyFlag).where(SafetyFlag.course_id.in_(courses)))
    db.execute(delete(QuestionnaireResponse).where(QuestionnaireResponse.course_id.in_(courses)))
    db.execute(
        delete(QuestionnaireAssignment).where(QuestionnaireAssignment.course_id.in_(courses))
    )
    db.execute(delete(Draft).where(Draft.course_id.in_(courses)))
    db.execute(delete(Draft).where(Draft.user_id == patient_id))
    db.execute(delete(PromptAssignment).where(PromptAssignment.course_id.in_(courses)))
    db.execute(delete(IntentionOutcome).where(IntentionOutcome.course_id.in_(courses)))
    db.execute(delete(Intention).where(Intention.course_id.in_(courses)))
    db.execute(delete(EntryRevision).where(EntryRevision.entry_id.in_(entries)))
    db.execute(delete(Entry).where(Entry.course_id.in_(courses)))
    db.execute(delete(DosingSession).where(DosingSession.course_id.in_(courses)))
    db.execute(delete(CareTeamMember).where(CareTeamMember.course_id.in_(courses)))
    db.execute(delete(Course).where(Course.patient_id == patient_id))
    db.execute(delete(LoginSession).where(LoginSession.user_id == patient_id))
    db.execute(delete(TotpCredential).where(TotpCredential.user_id == patient_id))
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == patient_id))
    db.execute(delete(DataKey).where(DataKey.owner_id == patient_id))
    db.execute(delete(User).where(User.id == patient_id))


def erased_patients(db: Session) -> list[uuid.UUID]:
    return list(db.scalars(select(Erasure.patient_id)))
