"""How each intention went, the screening checklist and the consent record, for the
export's document model.

Outcomes are taken only from the integration entries already chosen for the
export (collect.py), so they follow those entries' visibility: a private
entry's reflections reach only the patient's export with private entries.
An outcome is shown with its intention's text only when the preparation
entry that set the intention passes the export's rules too.
The screening is in a clinician's export only (`can_use_clinical_records`), and so
are the course's safety flags with what was done about each. The consent record is in
both (`can_read_consent`): it is the patient's record too.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal.accounts.policy import CourseAccess, can_use_clinical_records
from journal.clinical import consent
from journal.clinical.checklist import Checklist
from journal.clinical.questionnaires import course_flags
from journal.clinical.screenings import screening_view
from journal.core.vault import Vault
from journal.export.model import (
    AnswerChangeRecord,
    ConsentItemRecord,
    ConsentRecord,
    ConsentVersionRecord,
    EntryOutcomeRecord,
    OutcomeRecord,
    SafetyFlagRecord,
    ScreeningItemRecord,
    ScreeningRecheckRecord,
    ScreeningRecord,
)
from journal.models import Entry, Intention, IntentionOutcome


@dataclass
class Outcomes:
    by_entry: dict[uuid.UUID, list[EntryOutcomeRecord]] = field(
        default_factory=lambda: defaultdict(list)
    )
    by_intention: dict[uuid.UUID, list[OutcomeRecord]] = field(
        default_factory=lambda: defaultdict(list)
    )


def collect_outcomes(
    db: Session,
    vault: Vault,
    access: CourseAccess,
    entries: dict[uuid.UUID, tuple[Entry, int | None]],
    shown: Callable[[Entry], bool],
) -> Outcomes:
    """`entries`: the exported entries (id -> entry, session number); `shown`: the
    export's rule for an entry, applied to the entry that set each intention."""
    found = Outcomes()
    if not entries:
        return found
    owner = access.course.patient_id
    rows = db.execute(
        select(IntentionOutcome, Intention, Entry)
        .join(Intention, Intention.id == IntentionOutcome.intention_id)
        .join(Entry, Entry.id == Intention.entry_id)
        .where(IntentionOutcome.entry_id.in_(list(entries)))
        .order_by(IntentionOutcome.created_at, IntentionOutcome.id)
    ).all()
    for outcome, intention, setting in rows:
        if not shown(setting):
            continue
        written_in, number = entries[outcome.entry_id]
        reflection = vault.open_optional(outcome, "reflection", owner) or ""
        found.by_entry[outcome.entry_id].append(
            EntryOutcomeRecord(
                vault.open_column(intention, "text", owner), outcome.status, reflection
            )
        )
        found.by_intention[intention.id].append(
            OutcomeRecord(number, written_in.id, written_in.created_at, outcome.status, reflection)
        )
    return found


def collect_screening(
    db: Session, vault: Vault, access: CourseAccess, checklist: Checklist | None
) -> ScreeningRecord | None:
    if checklist is None or not can_use_clinical_records(access):
        return None
    view = screening_view(db, vault, access, checklist)
    if view is None:
        return None
    data = view.data
    return ScreeningRecord(
        checklist=checklist.title,
        checklist_version=data.checklist_version,
        reviewed_on=data.reviewed_on,
        reviewer=view.reviewer_name,
        needs_clinician_review=view.review.needs_clinician_review,
        items=tuple(
            ScreeningItemRecord(item.text, data.answers.get(item.id), data.notes.get(item.id, ""))
            for item in checklist.items
        ),
        rechecks=tuple(
            ScreeningRecheckRecord(
                checked_at=r.checked_at,
                checked_by=r.checked_by,
                session_number=r.session_number,
                no_change=r.no_change,
                changes=tuple(
                    AnswerChangeRecord(c.item.text, c.before, c.after, c.note) for c in r.changes
                ),
                note=r.note,
            )
            for r in reversed(view.rechecks)
        ),
    )


def collect_flags(db: Session, vault: Vault, access: CourseAccess) -> tuple[SafetyFlagRecord, ...]:
    """The course's safety flags with what was done about each, as the flag list shows
    them (open ones first): for the care team's clinicians only, empty for the patient."""
    if not access.as_clinician:
        return ()
    return tuple(
        SafetyFlagRecord(
            detail=f.detail,
            raised_at=f.raised_at,
            acknowledged_by=f.acknowledged_by,
            acknowledged_at=f.acknowledged_at,
            action=f.acknowledgement.action if f.acknowledgement else None,
            action_label=f.acknowledgement.label if f.acknowledgement else None,
            note=f.acknowledgement.note if f.acknowledgement else "",
        )
        for f in course_flags(db, vault, access)
    )


def collect_consent(db: Session, vault: Vault, access: CourseAccess) -> ConsentRecord | None:
    """The consent record now and each earlier version, for the patient's export and a
    care-team clinician's; None without a record."""
    found = consent.consent_versions(db, vault, access)
    if found is None:
        return None
    current, earlier = found

    def version_record(v: consent.ConsentVersionView) -> ConsentVersionRecord:
        d = v.data
        return ConsentVersionRecord(
            version=v.number,
            document_version=d.document_version,
            consented_on=d.consented_on,
            witness=v.witness,
            items=tuple(ConsentItemRecord(i.text, i.checked) for i in d.items),
            note=d.note,
            saved_by=v.saved_by,
            saved_at=v.saved_at,
            changes=v.changes,
        )

    return ConsentRecord(version_record(current), tuple(version_record(v) for v in earlier))
