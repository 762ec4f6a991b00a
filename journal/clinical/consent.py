"""The consent record of a course: consent to treatment, as the clinic takes it.

One record per course: the version of the consent document the patient read, the
date, the care-team clinician who witnessed it, the checkboxes the clinic defines
(`journal/checklists/consent.toml`, or the clinic's own file: the setting
`consent_items_file`) and a note. A care-team clinician enters it
(`policy.can_record_consent`); the patient reads their own record
(`policy.can_read_consent`); nobody else learns that it exists. No signature is
taken: the record says who witnessed it.

Kept as one encrypted JSON value under the patient's journal key. Each item is
kept with its words as they were, so a later change to the clinic's list leaves
what was agreed as it was. Every amendment keeps the version it replaces
(`consent_versions`, who saved it and when), and a form opened at an older version
is refused (`ConflictError`), as for the safety plan. Saving is audited by kind
only; reading is audited like any other read.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.accounts import names_of
from journal.accounts.courses import care_team
from journal.accounts.policy import (
    CourseAccess,
    can_read_consent,
    can_record_consent,
    course_access,
)
from journal.clinical.amendments import Facts, changes, term
from journal.clinical.checklist import ItemFile
from journal.clinical.kept_versions import save_keeping_versions
from journal.core.errors import Forbidden, NotFound, ValidationError
from journal.core.labels import N_, DayInWords
from journal.core.limits import too_long
from journal.core.vault import Vault
from journal.core.work import Work
from journal.db import atomic, new_id, utcnow
from journal.models import Consent, ConsentVersion

AUDIT_TYPE = "consent"
DOCUMENT_MAX = 100  # "Consent to KAP, version 3 (2026-09)"
NOTE_MAX = 2000
# A checkbox of the consent record, in what a version changed.
TICKED = term(N_("ticked"))
NOT_TICKED = term(N_("not ticked"))


@dataclass(frozen=True)
class ConsentInput:
    """As the form posts it; `checked`: the ids of the items ticked."""

    document_version: str
    consented_on: str
    witness_id: str
    checked: Collection[str]
    note: str = ""


@dataclass(frozen=True)
class ConsentItem:
    id: str
    text: str  # the words as they were when the record was saved
    checked: bool


@dataclass(frozen=True)
class ConsentData:
    document_version: str
    consented_on: date
    witness_id: uuid.UUID
    items: tuple[ConsentItem, ...]
    note: str
    items_version: str  # the version of the clinic's list, "" if it names none

    def to_json(self) -> str:
        return json.dumps(
            {
                "document_version": self.document_version,
                "consented_on": self.consented_on.isoformat(),
                "witness_id": str(self.witness_id),
                "items": [{"id": i.id, "text": i.text, "checked": i.checked} for i in self.items],
                "note": self.note,
                "items_version": self.items_version,
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> ConsentData:
        raw: dict[str, Any] = json.loads(text)
        return cls(
            document_version=str(raw["document_version"]),
            consented_on=date.fromisoformat(raw["consented_on"]),
            witness_id=uuid.UUID(raw["witness_id"]),
            items=tuple(
                ConsentItem(str(i["id"]), str(i["text"]), bool(i["checked"]))
                for i in raw.get("items", [])
            ),
            note=str(raw.get("note", "")),
            items_version=str(raw.get("items_version", "")),
        )


def check_consent(
    items: ItemFile, raw: ConsentInput, today: date, team: Collection[uuid.UUID]
) -> ConsentData:
    """The document's version, a plausible date, a witness from the care team, items of
    the clinic's list and a note within its limit; or `ValidationError` naming each field."""
    errors: dict[str, str] = {}
    document = raw.document_version.strip()
    if not document:
        errors["document_version"] = N_("Please give the version of the consent document.")
    elif problem := too_long(document, DOCUMENT_MAX):
        errors["document_version"] = problem
    consented_on = None
    try:
        consented_on = date.fromisoformat(raw.consented_on.strip())
    except ValueError:
        errors["consented_on"] = N_("Please give the date of the consent.")
    if consented_on is not None and not date(2000, 1, 1) <= consented_on <= today + timedelta(1):
        errors["consented_on"] = N_("Please give the date of the consent, not a date to come.")
    witness = None
    try:
        witness = uuid.UUID(raw.witness_id.strip())
    except ValueError:
        witness = None
    if witness is None or witness not in team:
        errors["witness_id"] = N_("Please choose the witness from the care team.")
    known = {i.id for i in items.items}
    if set(raw.checked) - known:
        errors["checked"] = N_("Please tick only items of the list.")
    note = raw.note.replace("\r\n", "\n").replace("\r", "\n").strip()
    if problem := too_long(note, NOTE_MAX):
        errors["note"] = problem
    if errors:
        raise ValidationError(errors)
    assert consented_on is not None and witness is not None
    ticked = set(raw.checked)
    return ConsentData(
        document_version=document,
        consented_on=consented_on,
        witness_id=witness,
        items=tuple(ConsentItem(i.id, i.text, i.id in ticked) for i in items.items),
        note=note,
        items_version=items.version,
    )


# -- reading ----------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentVersionView:
    """One version of the record, current or earlier, with who saved it and when."""

    number: int
    data: ConsentData
    witness: str  # the witness's name
    saved_by: str
    saved_at: datetime
    changes: tuple[str, ...] = ()  # from the version before, in words

    @property
    def facts(self) -> Facts:
        """The record in words (`amendments.changes` diffs two of them)."""
        d = self.data
        return Facts(
            (
                (N_("Consent document"), d.document_version),
                (N_("Date"), DayInWords(d.consented_on)),
                (N_("Witnessed by"), self.witness),
                *((i.text, TICKED if i.checked else NOT_TICKED) for i in d.items),
                (N_("Note"), d.note),
            )
        )


@dataclass(frozen=True)
class TeamMember:
    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class ConsentPage:
    access: CourseAccess
    patient_name: str
    current: ConsentVersionView | None
    earlier: tuple[ConsentVersionView, ...]  # newest first
    editable: bool
    team: tuple[TeamMember, ...]  # whom the form offers as witness


def _access(work: Work, course_id: uuid.UUID) -> CourseAccess:
    access = course_access(work.db, work.actor.user, course_id)  # NotFound for others
    if not can_read_consent(access):
        raise NotFound()
    return access


def is_recorded(db: Session, access: CourseAccess) -> bool:
    """Whether the course has a consent record, for the course page's mark (no content
    is opened)."""
    return can_read_consent(access) and _row(db, access.course.id) is not None


def _row(db: Session, course_id: uuid.UUID) -> Consent | None:
    return db.scalar(select(Consent).where(Consent.course_id == course_id))


def _versions(
    db: Session, vault: Vault, row: Consent, owner: uuid.UUID
) -> tuple[ConsentVersionView, tuple[ConsentVersionView, ...]]:
    kept = list(
        db.scalars(
            select(ConsentVersion)
            .where(ConsentVersion.consent_id == row.id)
            .order_by(ConsentVersion.consent_version.desc())
        )
    )
    now = ConsentData.from_json(vault.open_column(row, "content", owner))
    before = [(k, ConsentData.from_json(vault.open_column(k, "content", owner))) for k in kept]
    names = names_of(
        db,
        {row.updated_by, now.witness_id}
        | {k.saved_by for k, _ in before}
        | {d.witness_id for _, d in before},
    )
    current = ConsentVersionView(
        row.version,
        now,
        names.get(now.witness_id, ""),
        names.get(row.updated_by, ""),
        row.updated_at,
    )
    earlier = tuple(
        ConsentVersionView(
            k.consent_version, d, names.get(d.witness_id, ""), names.get(k.saved_by, ""), k.saved_at
        )
        for k, d in before
    )
    if earlier:  # what each version changed from the one before it
        older = (*earlier[1:], None)
        earlier = tuple(
            v if prior is None else replace(v, changes=changes(prior.facts, v.facts))
            for v, prior in zip(earlier, older, strict=True)
        )
        current = replace(current, changes=changes(earlier[0].facts, current.facts))
    return current, earlier


def consent_page(work: Work, course_id: uuid.UUID) -> ConsentPage:
    """The course's consent record and its earlier versions; opening it is audited."""
    access = _access(work, course_id)
    owner = access.course.patient_id
    editable = can_record_consent(access)
    team = (
        tuple(TeamMember(u.id, u.name) for u in care_team(work.db, course_id)) if editable else ()
    )
    patient = names_of(work.db, {owner}).get(owner, "")
    row = _row(work.db, course_id)
    if row is None:
        return ConsentPage(access, patient, None, (), editable, team)
    current, earlier = _versions(work.db, work.vault, row, owner)
    audit.record_read(work, object_type=AUDIT_TYPE, object_id=row.id, subject_id=owner)
    return ConsentPage(access, patient, current, earlier, editable, team)


def consent_versions(
    db: Session, vault: Vault, access: CourseAccess
) -> tuple[ConsentVersionView, tuple[ConsentVersionView, ...]] | None:
    """The record now and every earlier version (newest first), for an export its reader
    may see (the patient's own, a care-team clinician's); None without a record."""
    if not can_read_consent(access):
        return None
    row = _row(db, access.course.id)
    if row is None:
        return None
    return _versions(db, vault, row, access.course.patient_id)


# -- writing ----------------------------------------------------------------------


@atomic
def save_consent(
    work: Work,
    course_id: uuid.UUID,
    items: ItemFile,
    raw: ConsentInput,
    *,
    expected_version: int | None,
    now: datetime | None = None,
) -> Consent:
    """Enter the consent record, or amend it (`expected_version`: the version the form
    showed; None for a first record). The version it replaces is kept. A record saved by
    someone else since the form was opened is not overwritten: `ConflictError`."""
    access = _access(work, course_id)
    if not can_record_consent(access):
        raise Forbidden()
    now = now or utcnow()
    team = {u.id for u in care_team(work.db, course_id)}
    data = check_consent(items, raw, now.date(), team)
    owner = access.course.patient_id
    row, created = save_keeping_versions(
        work,
        owner,
        _row(work.db, course_id),
        create=lambda: Consent(
            id=new_id(),
            course_id=course_id,
            version=1,
            created_at=now,
            updated_by=work.actor.id,
            updated_at=now,
        ),
        keep=lambda row: ConsentVersion(
            id=new_id(),
            consent_id=row.id,
            course_id=course_id,
            consent_version=row.version,
            saved_by=row.updated_by,
            saved_at=row.updated_at,
            version=1,
        ),
        expected_version=expected_version,
        content=data.to_json(),
        now=now,
    )
    action = "consent.create" if created else "consent.update"
    audit.record(
        work.db,
        action,
        actor=work.actor,
        object_type=AUDIT_TYPE,
        object_id=row.id,
        subject_id=owner,
    )
    return row
