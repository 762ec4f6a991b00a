"""Autosaved drafts of the entry form, encrypted, readable only by their writer.

The browser never keeps the text (local storage would leave plaintext on the
device); it sends the form to the server every few seconds while the writer
types. A draft is restored when the writer opens the same form again, and
removed when the entry is saved or the writer discards it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from journal.accounts.policy import CourseAccess, can_edit_entry, can_read_entry, course_access
from journal.core.errors import Forbidden, NotFound, ValidationError
from journal.core.labels import N_
from journal.core.limits import text_length
from journal.core.work import Work
from journal.db import atomic, new_id, utcnow
from journal.models import Draft, Entry

FIELDS = ("phase", "session_id", "title", "body", "intentions", "mood", "visibility")
TEXT_FIELDS = ("title", "body", "intentions")
# A draft keeps text over the entry's limits, so words pasted past a limit are not lost
# while the writer shortens them; its own limit is what one request can carry.
DRAFT_TEXT_MAX = 500_000
SHORT_MAX = 64  # choices: phase, session id, mood, visibility


@dataclass(frozen=True)
class SavedDraft:
    fields: dict[str, str]
    updated_at: datetime


def _slot(course_id: uuid.UUID, entry_id: uuid.UUID | None) -> str:
    return f"edit:{entry_id}" if entry_id else f"new:{course_id}"


def _target(
    work: Work, course_id: uuid.UUID | None, entry_id: uuid.UUID | None
) -> tuple[CourseAccess, uuid.UUID | None]:
    """The course (and entry) a draft belongs to, if the actor may write there."""
    if entry_id is not None:
        entry = work.db.get(Entry, entry_id)
        if entry is None:
            raise NotFound()
        access = course_access(work.db, work.actor.user, entry.course_id)
        if not can_read_entry(access, entry):
            raise NotFound()
        if not can_edit_entry(access, entry):
            raise Forbidden()
        return access, entry.id
    assert course_id is not None
    access = course_access(work.db, work.actor.user, course_id)
    if not access.writable:
        raise Forbidden()
    return access, None


def _clean(fields: dict[str, str]) -> dict[str, str]:
    kept = {k: fields.get(k, "") for k in FIELDS}
    for name, value in kept.items():
        if name in TEXT_FIELDS:
            length = text_length(value)
            if length > DRAFT_TEXT_MAX:
                raise ValidationError(
                    {
                        name: N_(
                            "this text is %(length)s characters; a draft keeps at most "
                            "%(limit)s. Your text is still in the form.",
                            length=length,
                            limit=DRAFT_TEXT_MAX,
                        )
                    }
                )
        elif len(value) > SHORT_MAX:
            raise ValidationError({name: N_("Choose from the form's lists.")})
    return kept


@atomic
def save_draft(
    work: Work,
    fields: dict[str, str],
    *,
    course_id: uuid.UUID | None = None,
    entry_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> datetime:
    access, entry = _target(work, course_id, entry_id)
    kept = _clean(fields)
    slot = _slot(access.course.id, entry)
    now = now or utcnow()
    draft = work.db.scalar(select(Draft).where(Draft.user_id == work.actor.id, Draft.slot == slot))
    if draft is None:
        draft = Draft(
            id=new_id(),
            user_id=work.actor.id,
            course_id=access.course.id,
            entry_id=entry,
            slot=slot,
            version=1,
        )
        work.db.add(draft)
    else:
        draft.version += 1  # a new ciphertext for every save; an old one put back fails
    draft.updated_at = now
    draft.content = work.vault.seal_column(
        draft, "content", access.course.patient_id, json.dumps(kept, ensure_ascii=False)
    )
    return now


def load_draft(
    work: Work,
    *,
    course_id: uuid.UUID | None = None,
    entry_id: uuid.UUID | None = None,
) -> SavedDraft | None:
    access, entry = _target(work, course_id, entry_id)
    draft = work.db.scalar(
        select(Draft).where(
            Draft.user_id == work.actor.id, Draft.slot == _slot(access.course.id, entry)
        )
    )
    if draft is None:
        return None
    raw = json.loads(work.vault.open_column(draft, "content", access.course.patient_id))
    fields = {k: str(raw.get(k, "")) for k in FIELDS}
    return SavedDraft(fields, draft.updated_at)


@atomic
def discard_draft(
    work: Work,
    *,
    course_id: uuid.UUID | None = None,
    entry_id: uuid.UUID | None = None,
) -> None:
    """Forget the writer's draft for this form (after saving, or on request)."""
    access, entry = _target(work, course_id, entry_id)
    work.db.execute(
        delete(Draft).where(
            Draft.user_id == work.actor.id, Draft.slot == _slot(access.course.id, entry)
        )
    )
