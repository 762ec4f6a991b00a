"""Erasing a patient: every row of theirs and their data key, in one transaction.

Without the data key, any copy of their ciphertext left elsewhere (an old
backup, a disk block) can no longer be read through this journal's keys: a
backup holds data keys wrapped with backup keys, and the patient's is deleted
too (journal/maintenance.py, docs/security.md).

The erasure's record keeps its reason sealed with the erasing admin's key of
the `admin` scope (the patient's keys are gone); admins read it back with
`erasure_records`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, delete, select
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.policy import administers, keeps_a_journal, require
from journal.core.errors import NotFound, ValidationError
from journal.core.labels import N_
from journal.core.vault import Vault
from journal.core.work import Work
from journal.crypto.backup_keys import FILE_NAME as BACKUP_KEYS_FILE
from journal.crypto.backup_keys import forget_owners
from journal.crypto.folder import append_line
from journal.db import after_commit, atomic, checkpoint, new_id
from journal.models import (
    CareTeamMember,
    CareTeamProposal,
    ClinicalVersion,
    Comment,
    CommentRead,
    Consent,
    ConsentVersion,
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
    KeyScope,
    LoginSession,
    Message,
    NoteDisclosure,
    PasswordLink,
    PromptAssignment,
    PsychotherapyNote,
    QuestionnaireAssignment,
    QuestionnaireResponse,
    RecoveryCode,
    Referral,
    ReminderPreferences,
    SafetyFlag,
    SafetyPlan,
    SafetyPlanVersion,
    Screening,
    ScreeningRecheck,
    SearchShard,
    SessionRecord,
    Theme,
    TotpCredential,
    User,
)

REASON_MAX = 200

log = logging.getLogger(__name__)


LEDGER_NAME = "erasures.log"
# Ids per query when looking for listed patients in the database.
_LEDGER_CHUNK = 500


def ledger_path(master_key_path: Path) -> Path:
    """In the key folder, beside the keys: apart from the database, so that putting an
    older database back does not roll it back, and on storage every app server mounts
    when there are several, so that each sees every server's erasures."""
    return master_key_path.parent / LEDGER_NAME


def record_erasure(path: Path, patient_id: uuid.UUID) -> None:
    """Append the patient's id, under the key folder's lock (appends from several
    servers over a shared mount cannot overwrite each other), on disk at return."""
    append_line(path, str(patient_id))


def read_ledger(path: Path) -> list[uuid.UUID]:
    """Every id in the ledger, read afresh (another server may have appended)."""
    if not path.exists():
        return []
    return [uuid.UUID(line) for line in path.read_text().split() if line]


def catch_up_ledger(db: Session, ledger: Path) -> list[uuid.UUID]:
    """Append every erasure the database records and the ledger lacks (an erasure
    committed while the key folder could not be written to, e.g. its share was away:
    the request failed after the commit). Run at every start and by `init`."""
    listed = set(read_ledger(ledger))
    missing = [p for p in erased_patients(db) if p not in listed]
    for patient_id in missing:
        record_erasure(ledger, patient_id)
    return missing


def returned_patients(db: Session, ledger: Path) -> list[uuid.UUID]:
    """Patients the ledger lists as erased who have an account or a data key in the
    database again: it was put back from a copy made before their erasure by other
    means than `restore` (pg_restore of a dump, a disk snapshot, point-in-time
    recovery). The app refuses to start on such a database; `init` erases them again."""
    wanted = list(dict.fromkeys(read_ledger(ledger)))
    found: set[uuid.UUID] = set()
    for start in range(0, len(wanted), _LEDGER_CHUNK):
        chunk = wanted[start : start + _LEDGER_CHUNK]
        found.update(db.scalars(select(User.id).where(User.id.in_(chunk))))
        found.update(db.scalars(select(DataKey.owner_id).where(DataKey.owner_id.in_(chunk))))
    return [p for p in wanted if p in found]


def erase_again(db: Session, ledger: Path) -> list[uuid.UUID]:
    """Erase again every patient of `returned_patients` (their rows and data keys;
    their backup keys were deleted by the erasure). Does not commit."""
    returned = returned_patients(db, ledger)
    for patient_id in returned:
        remove_patient_rows(db, patient_id)
    db.flush()
    return returned


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
    restored backup erases them again), their backup key is deleted from the key
    folder (so no backup taken before opens for them), and SQLite's write-ahead log
    is folded into the database file, whose freed pages secure_delete has
    overwritten."""
    require(administers(work.actor.user))
    patient = work.db.get(User, patient_id)
    if patient is None or not keeps_a_journal(patient):
        raise NotFound()
    errors = {}
    if confirm_email.strip().lower() != patient.email:
        errors["confirm_email"] = N_("Type the patient's email exactly to confirm.")
    if not reason.strip() or len(reason) > REASON_MAX:
        errors["reason"] = N_(
            "Give a short administrative reason (1 to %(limit)s characters).", limit=REASON_MAX
        )
    if errors:
        raise ValidationError(errors)
    remove_patient_rows(work.db, patient_id)
    record = Erasure(id=new_id(), patient_id=patient_id, erased_by=work.actor.id, version=1)
    record.reason = work.vault.for_scope(KeyScope.ADMIN).seal_column(
        record, "reason", work.actor.id, reason.strip()
    )
    work.db.add(record)
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
    # Their backup key, beside the ledger: no earlier backup opens for them any more.
    backup_keys = ledger.with_name(BACKUP_KEYS_FILE)
    after_commit(work.db, lambda: _forget_backup_key(backup_keys, patient_id))
    after_commit(work.db, lambda: _fold_the_log(engine))


def _fold_the_log(engine: Engine | Connection) -> None:
    # A long reader can keep the erased pages in SQLite's log past the busy timeout;
    # the next checkpoint folds them, but the operator should know.
    if not checkpoint(engine):
        log.warning("erasure: SQLite's write-ahead log was busy; it will be folded later")


def _forget_backup_key(path: Path, patient_id: uuid.UUID) -> None:
    forget_owners(path, [patient_id])


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
    db.execute(delete(ClinicalVersion).where(ClinicalVersion.course_id.in_(courses)))
    db.execute(delete(SessionRecord).where(SessionRecord.course_id.in_(courses)))
    db.execute(delete(ScreeningRecheck).where(ScreeningRecheck.course_id.in_(courses)))
    db.execute(delete(Screening).where(Screening.course_id.in_(courses)))
    db.execute(delete(ConsentVersion).where(ConsentVersion.course_id.in_(courses)))
    db.execute(delete(Consent).where(Consent.course_id.in_(courses)))
    db.execute(delete(SafetyPlanVersion).where(SafetyPlanVersion.course_id.in_(courses)))
    db.execute(delete(SafetyPlan).where(SafetyPlan.course_id.in_(courses)))
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
    db.execute(delete(SearchShard).where(SearchShard.course_id.in_(courses)))
    db.execute(delete(DosingSession).where(DosingSession.course_id.in_(courses)))
    db.execute(delete(CareTeamProposal).where(CareTeamProposal.course_id.in_(courses)))
    db.execute(delete(CareTeamMember).where(CareTeamMember.course_id.in_(courses)))
    db.execute(delete(Course).where(Course.patient_id == patient_id))
    db.execute(delete(LoginSession).where(LoginSession.user_id == patient_id))
    db.execute(delete(PasswordLink).where(PasswordLink.user_id == patient_id))
    db.execute(delete(Message).where(Message.to_user_id == patient_id))
    db.execute(delete(ReminderPreferences).where(ReminderPreferences.user_id == patient_id))
    db.execute(delete(Referral).where(Referral.patient_id == patient_id))
    db.execute(delete(TotpCredential).where(TotpCredential.user_id == patient_id))
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == patient_id))
    db.execute(delete(DataKey).where(DataKey.owner_id == patient_id))
    db.execute(delete(User).where(User.id == patient_id))


def erased_patients(db: Session) -> list[uuid.UUID]:
    return list(db.scalars(select(Erasure.patient_id)))


@dataclass(frozen=True)
class ErasureRecord:
    patient_id: uuid.UUID
    erased_by: str | None  # the admin's name
    erased_at: datetime
    reason: str


def erasure_records(work: Work) -> list[ErasureRecord]:
    """Every erasure, newest first, with its reason opened: for admins only."""
    require(administers(work.actor.user))
    vault = work.vault.for_scope(KeyScope.ADMIN)
    rows = work.db.execute(
        select(Erasure, User.name)
        .outerjoin(User, User.id == Erasure.erased_by)
        .order_by(Erasure.erased_at.desc())
    ).all()
    vault.preload({e.erased_by for e, _ in rows})
    return [
        ErasureRecord(
            e.patient_id,
            name,
            e.erased_at,
            # A reason from before 0013 that `flask init` has not sealed yet.
            e.legacy_reason
            if e.reason is None and e.legacy_reason is not None
            else vault.open_column(e, "reason", e.erased_by),
        )
        for e, name in rows
    ]


def seal_clear_reasons(db: Session, vault: Vault) -> int:
    """Seal every erasure reason stored in clear by a version before 0013 with the
    erasing admin's key, and empty the clear column. Run by `flask init` after
    migrating; a second run finds nothing to do. Returns how many it sealed."""
    vault = vault.for_scope(KeyScope.ADMIN)
    rows = db.scalars(select(Erasure).where(Erasure.legacy_reason.is_not(None))).all()
    for row in rows:
        if row.reason is None and row.legacy_reason is not None:
            row.reason = vault.seal_column(row, "reason", row.erased_by, row.legacy_reason)
        row.legacy_reason = None
    db.flush()
    return len(rows)
