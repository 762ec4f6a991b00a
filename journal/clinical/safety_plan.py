"""The safety plan: what the patient does, step by step, when a crisis may be coming.

It follows the Stanley-Brown structure (Stanley and Brown, 2012): warning signs;
things the patient can do on their own; people and places that take their mind off
things; people they can ask for help; professionals and services to contact in a
crisis (the page shows the clinic's crisis lines beside it); making the
surroundings safe; and reasons for living. The patient and the care team's
clinicians write it together (`policy.can_edit_safety_plan`); nobody else learns
that it exists.

One plan per course, kept as one encrypted JSON value under the patient's journal
key. Every save keeps the version it replaces (`safety_plan_versions`: who saved
it and when), so nothing is lost, and a form opened at an older version is refused
(`ConflictError`) rather than overwriting a colleague's or the patient's words.
Saving is audited by kind only; reading is audited like any other read.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.accounts import names_of
from journal.accounts.policy import (
    CourseAccess,
    can_edit_safety_plan,
    can_read_safety_plan,
    course_access,
    keeps_a_journal,
)
from journal.clinical.amendments import Facts, changes
from journal.clinical.kept_versions import save_keeping_versions
from journal.core.errors import Forbidden, NotFound, ValidationError
from journal.core.labels import N_
from journal.core.vault import Vault
from journal.core.work import Work
from journal.db import atomic, new_id, utcnow
from journal.models import Course, SafetyPlan, SafetyPlanVersion

AUDIT_TYPE = "safety_plan"
SECTION_MAX = 2000  # characters in one section: room for a real plan, not a document


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    hint: str


# The order is the plan's: each step is for when the one before has not helped.
SECTIONS: tuple[Section, ...] = (
    Section(
        "warning_signs",
        N_("1. Warning signs"),
        N_(
            "Thoughts, images, moods, situations or behaviours that tell me a crisis may be coming."
        ),
    ),
    Section(
        "coping",
        N_("2. Things I can do on my own"),
        N_(
            "What helps me take my mind off my problems without contacting anyone: a way to "
            "relax, something active, music."
        ),
    ),
    Section(
        "distraction",
        N_("3. People and places that take my mind off things"),
        N_("People I can be with, and places I can go, that help me feel better."),
    ),
    Section(
        "helpers",
        N_("4. People I can ask for help"),
        N_("Names and phone numbers of people I can tell how I am feeling."),
    ),
    Section(
        "professionals",
        N_("5. Professionals and services I can contact in a crisis"),
        N_(
            "My clinicians and other services, with their numbers. The clinic's crisis lines "
            "are shown beside this step."
        ),
    ),
    Section(
        "environment",
        N_("6. Making my surroundings safe"),
        N_(
            "What I will do, with my care team's help, to keep things I could use to hurt "
            "myself out of reach."
        ),
    ),
    Section(
        "reasons",
        N_("7. The one thing most important to me"),
        N_("My reasons for living, and what is worth staying for."),
    ),
)
SECTION_KEYS = tuple(s.key for s in SECTIONS)


@dataclass(frozen=True)
class PlanText:
    """Each section's text, by key (every key present, empty when not written)."""

    sections: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.sections.get(key, "")

    @property
    def empty(self) -> bool:
        return not any(self.sections.values())

    def to_json(self) -> str:
        return json.dumps({"sections": self.sections}, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str) -> PlanText:
        stored = json.loads(raw).get("sections", {})
        return cls({k: str(stored.get(k, "")) for k in SECTION_KEYS})


def check_plan(raw: Mapping[str, str]) -> PlanText:
    """The plan's text, tidied; every section over the limit named, or an empty plan
    refused. Nothing is written when this raises."""
    sections: dict[str, str] = {}
    errors: dict[str, str] = {}
    for section in SECTIONS:
        text = (raw.get(section.key) or "").replace("\r\n", "\n").replace("\r", "\n").strip()
        if len(text) > SECTION_MAX:
            errors[section.key] = N_(
                "This step is %(length)s characters long; the limit is %(limit)s. "
                "Shorten it and save again: your text is kept below.",
                length=len(text),
                limit=SECTION_MAX,
            )
        sections[section.key] = text
    if not errors and not any(sections.values()):
        errors["plan"] = N_("Write at least one step of the plan before saving.")
    if errors:
        raise ValidationError(errors)
    return PlanText(sections)


# -- reading ----------------------------------------------------------------------


@dataclass(frozen=True)
class PlanVersion:
    """One version of the plan, current or earlier, with who saved it and when."""

    number: int
    text: PlanText
    saved_by: str
    saved_at: datetime
    changes: tuple[str, ...] = ()  # from the version before, in words; with the history


def plan_facts(text: PlanText) -> Facts:
    """The plan in words, step by step (`amendments.changes` diffs two of them)."""
    return Facts(tuple((section.title, text[section.key]) for section in SECTIONS))


@dataclass(frozen=True)
class PlanPage:
    access: CourseAccess
    patient_name: str
    current: PlanVersion | None
    editable: bool
    earlier: tuple[PlanVersion, ...] = ()  # newest first; only on the history page


def _access(work: Work, course_id: uuid.UUID) -> CourseAccess:
    access = course_access(work.db, work.actor.user, course_id)  # NotFound for others
    if not can_read_safety_plan(access):
        raise NotFound()
    return access


def _plan_of(db: Session, course_id: uuid.UUID) -> SafetyPlan | None:
    return db.scalar(select(SafetyPlan).where(SafetyPlan.course_id == course_id))


def plan_page(work: Work, course_id: uuid.UUID, *, with_history: bool = False) -> PlanPage:
    """The course's plan as it is now (and, for the history page, every earlier
    version); an opened plan is audited as read."""
    access = _access(work, course_id)
    owner = access.course.patient_id
    patient = names_of(work.db, {owner}).get(owner, "")
    editable = can_edit_safety_plan(access)
    row = _plan_of(work.db, course_id)
    if row is None:
        return PlanPage(access, patient, None, editable)
    current, earlier = _versions(work.db, work.vault, row, owner, with_history=with_history)
    audit.record_read(work, object_type=AUDIT_TYPE, object_id=row.id, subject_id=owner)
    return PlanPage(access, patient, current, editable, earlier)


def plan_versions(
    db: Session, vault: Vault, access: CourseAccess
) -> tuple[PlanVersion, tuple[PlanVersion, ...]] | None:
    """The plan now and every earlier version (newest first), for an export that its
    reader may see; None without a plan. The export is audited as a whole."""
    if not can_read_safety_plan(access):
        return None
    row = _plan_of(db, access.course.id)
    if row is None:
        return None
    return _versions(db, vault, row, access.course.patient_id, with_history=True)


def _versions(
    db: Session, vault: Vault, row: SafetyPlan, owner: uuid.UUID, *, with_history: bool
) -> tuple[PlanVersion, tuple[PlanVersion, ...]]:
    kept: list[SafetyPlanVersion] = []
    if with_history:
        kept = list(
            db.scalars(
                select(SafetyPlanVersion)
                .where(SafetyPlanVersion.plan_id == row.id)
                .order_by(SafetyPlanVersion.plan_version.desc())
            )
        )
    names = names_of(db, {row.updated_by, *(k.saved_by for k in kept)})
    current = PlanVersion(
        row.version,
        PlanText.from_json(vault.open_column(row, "content", owner)),
        names.get(row.updated_by, ""),
        row.updated_at,
    )
    earlier = tuple(
        PlanVersion(
            k.plan_version,
            PlanText.from_json(vault.open_column(k, "content", owner)),
            names.get(k.saved_by, ""),
            k.saved_at,
        )
        for k in kept
    )
    if earlier:  # what each version changed from the one before it
        older = (*earlier[1:], None)
        earlier = tuple(
            v if before is None else _changed(before, v)
            for v, before in zip(earlier, older, strict=True)
        )
        current = _changed(earlier[0], current)
    return current, earlier


def _changed(before: PlanVersion, version: PlanVersion) -> PlanVersion:
    return replace(version, changes=changes(plan_facts(before.text), plan_facts(version.text)))


def courses_with_a_plan(work: Work) -> list[Course]:
    """The signed-in patient's courses that have a safety plan, newest first (for the
    Get-help page); nobody else's, and nothing for anyone but a patient."""
    if not keeps_a_journal(work.actor.user):
        return []
    stmt = (
        select(Course)
        .join(SafetyPlan, SafetyPlan.course_id == Course.id)
        .where(Course.patient_id == work.actor.id)
        .order_by(Course.started_on.desc())
    )
    return list(work.db.scalars(stmt))


# -- writing ----------------------------------------------------------------------


@atomic
def save_plan(
    work: Work,
    course_id: uuid.UUID,
    raw: Mapping[str, str],
    *,
    expected_version: int | None,
    now: datetime | None = None,
) -> SafetyPlan:
    """Write the plan, or a new version of it (`expected_version`: the one the form
    showed; None for a first plan). The version it replaces is kept. A plan saved by
    someone else since the form was opened is not overwritten: `ConflictError`."""
    access = _access(work, course_id)
    if not can_edit_safety_plan(access):
        raise Forbidden()
    text = check_plan(raw)
    now = now or utcnow()
    owner = access.course.patient_id
    row, created = save_keeping_versions(
        work,
        owner,
        _plan_of(work.db, course_id),
        create=lambda: SafetyPlan(
            id=new_id(),
            course_id=course_id,
            version=1,
            created_at=now,
            updated_by=work.actor.id,
            updated_at=now,
        ),
        keep=lambda row: SafetyPlanVersion(
            id=new_id(),
            plan_id=row.id,
            course_id=course_id,
            plan_version=row.version,
            saved_by=row.updated_by,
            saved_at=row.updated_at,
            version=1,
        ),
        expected_version=expected_version,
        content=text.to_json(),
        now=now,
    )
    action = "safety_plan.create" if created else "safety_plan.update"
    audit.record(
        work.db,
        action,
        actor=work.actor,
        object_type=AUDIT_TYPE,
        object_id=row.id,
        subject_id=owner,
    )
    return row
