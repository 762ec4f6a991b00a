"""What a clinician did about a safety flag, and the flag a patient raises by asking
for support from quick capture.

A flag is acknowledged with one of a short list of actions and, if the clinician
likes, a few words (required for "no action needed": the reason). Both are sealed
together with the patient's key in `safety_flags.acknowledgement`; who and when
stay in clear beside them, as before.

"I need support" raises a flag whose words say only that: nothing the patient
wrote goes into it. Its `source` says it came from quick capture.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from journal.accounts import audit
from journal.accounts.policy import can_quick_capture, course_access
from journal.core.errors import Forbidden, NotFound, ValidationError
from journal.core.labels import N_
from journal.core.vault import Vault
from journal.core.work import Work
from journal.db import atomic, new_id, utcnow
from journal.models import SafetyFlag

# What was done, in the words the flag list and the exports show.
ACTIONS: dict[str, str] = {
    "called_patient": N_("Called the patient"),
    "scheduled_visit": N_("Scheduled a visit"),
    "emergency_services": N_("Contacted emergency services"),
    "no_action": N_("No action needed"),
}
NO_ACTION = "no_action"
NOTE_MAX = 1000

QUICK_CAPTURE = "quick_capture"  # `origin` in the source of a flag raised from quick capture
SUPPORT_DETAIL = N_("The patient asked for support from quick capture")


@dataclass(frozen=True)
class Acknowledgement:
    action: str  # a key of ACTIONS
    note: str  # "" when none was written

    @property
    def label(self) -> str:
        return ACTIONS[self.action]


def check_acknowledgement(action: str, note: str) -> Acknowledgement:
    """A known action, and a reason for "no action needed"; ValidationError otherwise."""
    errors: dict[str, str] = {}
    note = note.strip()
    if action not in ACTIONS:
        errors["action"] = N_("Choose what was done.")
    elif action == NO_ACTION and not note:
        errors["note"] = N_("Say why no action is needed.")
    if len(note) > NOTE_MAX:
        errors["note"] = N_("Keep the note under %(limit)s characters.", limit=str(NOTE_MAX))
    if errors:
        raise ValidationError(errors)
    return Acknowledgement(action, note)


def seal_acknowledgement(
    vault: Vault, flag: SafetyFlag, owner: uuid.UUID, ack: Acknowledgement
) -> None:
    flag.acknowledgement = vault.seal_column(
        flag, "acknowledgement", owner, json.dumps({"action": ack.action, "note": ack.note})
    )


def open_acknowledgement(
    vault: Vault, flag: SafetyFlag, owner: uuid.UUID
) -> Acknowledgement | None:
    """None for an open flag, or one acknowledged before notes were kept."""
    raw = vault.open_optional(flag, "acknowledgement", owner)
    if raw is None:
        return None
    data = json.loads(raw)
    return Acknowledgement(str(data["action"]), str(data.get("note") or ""))


def source_origin(source: dict[str, object]) -> str:
    """Where a flag came from: "questionnaire" unless its sealed source says otherwise."""
    return str(source.get("origin") or "questionnaire")


def flag_course(work: Work, flag_id: uuid.UUID) -> uuid.UUID:
    """The course of a flag, for a care-team clinician of it; NotFound for anyone else."""
    flag = work.db.get(SafetyFlag, flag_id)
    if flag is None or not course_access(work.db, work.actor.user, flag.course_id).as_clinician:
        raise NotFound()
    return flag.course_id


@atomic
def ask_for_support(work: Work, course_id: uuid.UUID, now: datetime | None = None) -> SafetyFlag:
    """The patient's "I need support": a safety flag for the care team at once.

    A second tap while the first flag is still open raises no second one: the care
    team already has it at the top of their list."""
    access = course_access(work.db, work.actor.user, course_id)
    if not access.as_patient or not can_quick_capture(access):
        raise Forbidden()
    owner = access.course.patient_id
    open_flags = work.db.scalars(
        select(SafetyFlag).where(
            SafetyFlag.course_id == course_id, SafetyFlag.acknowledged_at.is_(None)
        )
    )
    for flag in open_flags:
        if flag.source is None:
            continue
        source = json.loads(work.vault.open_column(flag, "source", owner))
        if source_origin(source) == QUICK_CAPTURE:
            return flag
    now = now or utcnow()
    flag = SafetyFlag(id=new_id(), course_id=course_id, version=1)
    flag.detail = work.vault.seal_column(flag, "detail", owner, SUPPORT_DETAIL)
    flag.source = work.vault.seal_column(
        flag,
        "source",
        owner,
        json.dumps(
            {
                "origin": QUICK_CAPTURE,
                "response_id": None,
                "instrument_id": None,
                "rule_id": None,
                "raised_at": now.isoformat(),
            }
        ),
    )
    work.db.add(flag)
    work.db.flush()
    audit.record(
        work.db,
        "flag.support",
        actor=work.actor,
        object_type="flag",
        object_id=flag.id,
        subject_id=owner,
    )
    return flag
