"""The screening review of a course: one per course, recorded by a care-team clinician.

The checklist itself and the "needs clinician review" rule are in
`clinical/screening.py`; this module stores a course's answers, notes and
review date as one encrypted JSON value under the patient's journal key,
with the reviewer (the clinician who saved it last) in clear. It records the
review; it never decides eligibility.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.policy import CourseAccess, can_use_clinical_records, course_access
from journal.clinical.checklist import Checklist, ScreeningReview, check_answers, review
from journal.core.errors import ConflictError, Forbidden, NotFound, ValidationError
from journal.core.vault import Vault
from journal.core.work import Work
from journal.db import atomic, new_id, utcnow
from journal.models import Screening, User

AUDIT_TYPE = "screening"
NOTE_MAX = 1000


def answer_field(item_id: str) -> str:
    return f"answer_{item_id}"


def note_field(item_id: str) -> str:
    return f"note_{item_id}"


@dataclass(frozen=True)
class ScreeningInput:
    """As a form posts it: item id -> "yes", "no" or "unknown"; item id -> note."""

    answers: Mapping[str, str]
    notes: Mapping[str, str]
    reviewed_on: str


@dataclass(frozen=True)
class ScreeningData:
    answers: dict[str, str]
    notes: dict[str, str]
    reviewed_on: date
    checklist_version: str

    def to_json(self) -> str:
        return json.dumps(
            {
                "answers": self.answers,
                "notes": self.notes,
                "reviewed_on": self.reviewed_on.isoformat(),
                "checklist_version": self.checklist_version,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> ScreeningData:
        raw: dict[str, Any] = json.loads(text)
        return cls(
            answers=dict(raw["answers"]),
            notes=dict(raw.get("notes", {})),
            reviewed_on=date.fromisoformat(raw["reviewed_on"]),
            checklist_version=raw.get("checklist_version", ""),
        )


@dataclass(frozen=True)
class ScreeningView:
    data: ScreeningData
    review: ScreeningReview
    reviewer_name: str
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class ScreeningPage:
    access: CourseAccess
    screening: ScreeningView | None


def check_screening(checklist: Checklist, raw: ScreeningInput, today: date) -> ScreeningData:
    """Every item answered, notes short enough, a plausible date; or `ValidationError`."""
    errors: dict[str, str] = {}
    try:
        answers = check_answers(checklist, {k: v for k, v in raw.answers.items() if v})
    except ValidationError as exc:
        errors.update({answer_field(k): v for k, v in exc.errors.items()})
        answers = {}
    notes = {}
    for item in checklist.items:
        note = raw.notes.get(item.id, "").strip()
        if len(note) > NOTE_MAX:
            errors[note_field(item.id)] = f"Please use at most {NOTE_MAX:,} characters."
        elif note:
            notes[item.id] = note
    reviewed_on = None
    try:
        reviewed_on = date.fromisoformat(raw.reviewed_on.strip())
    except ValueError:
        errors["reviewed_on"] = "Please give the date of the review."
    if reviewed_on is not None and not date(2000, 1, 1) <= reviewed_on <= today + timedelta(1):
        errors["reviewed_on"] = "Please give the date of the review, not a date to come."
    if errors:
        raise ValidationError(errors)
    assert reviewed_on is not None
    return ScreeningData(
        answers={k: v.value for k, v in answers.items()},
        notes=notes,
        reviewed_on=reviewed_on,
        checklist_version=checklist.version,
    )


def _access(work: Work, course_id: uuid.UUID) -> CourseAccess:
    access = course_access(work.db, work.actor.user, course_id)
    if not can_use_clinical_records(access):
        raise NotFound()
    return access


def _row(db: Session, course_id: uuid.UUID) -> Screening | None:
    return db.scalar(select(Screening).where(Screening.course_id == course_id))


def _view(
    db: Session, vault: Vault, access: CourseAccess, checklist: Checklist, row: Screening
) -> ScreeningView:
    data = ScreeningData.from_json(vault.open_column(row, "content", access.course.patient_id))
    reviewer = db.get(User, row.reviewer_id)
    return ScreeningView(
        data=data,
        review=review(checklist, data.answers),
        reviewer_name=reviewer.name if reviewer else "",
        version=row.version,
        updated_at=row.updated_at,
    )


def screening_page(work: Work, course_id: uuid.UUID, checklist: Checklist) -> ScreeningPage:
    """The course's screening, if recorded; opening it is audited."""
    access = _access(work, course_id)
    row = _row(work.db, course_id)
    if row is None:
        return ScreeningPage(access, None)
    view = _view(work.db, work.vault, access, checklist, row)
    owner = access.course.patient_id
    audit.record_read(work, object_type=AUDIT_TYPE, object_id=row.id, subject_id=owner)
    return ScreeningPage(access, view)


def screening_review(
    db: Session, vault: Vault, access: CourseAccess, checklist: Checklist
) -> ScreeningReview | None:
    """For the clinician's timeline: what the course's screening shows, or None if none yet."""
    if not can_use_clinical_records(access):
        return None
    row = _row(db, access.course.id)
    if row is None:
        return None
    data = ScreeningData.from_json(vault.open_column(row, "content", access.course.patient_id))
    return review(checklist, data.answers)


@atomic
def save_screening(
    work: Work,
    course_id: uuid.UUID,
    checklist: Checklist,
    raw: ScreeningInput,
    *,
    expected_version: int | None,
    now: datetime | None = None,
) -> Screening:
    """Record the screening, or update it; the saving clinician becomes the reviewer."""
    access = _access(work, course_id)
    if not access.writable:
        raise Forbidden()
    now = now or utcnow()
    data = check_screening(checklist, raw, now.date())
    owner = access.course.patient_id
    row = _row(work.db, course_id)
    if row is None:
        if expected_version is not None:
            raise ConflictError()
        row = Screening(
            id=new_id(),
            course_id=course_id,
            version=1,
            reviewer_id=work.actor.id,
            created_at=now,
            updated_at=now,
        )
        action = "screening.create"
        work.db.add(row)
    else:
        if expected_version != row.version:
            raise ConflictError()
        row.version += 1
        row.reviewer_id = work.actor.id
        row.updated_at = now
        action = "screening.update"
    row.content = work.vault.seal_column(row, "content", owner, data.to_json())
    audit.record(
        work.db,
        action,
        actor=work.actor,
        object_type=AUDIT_TYPE,
        object_id=row.id,
        subject_id=owner,
    )
    return row
