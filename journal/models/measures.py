"""Questionnaires assigned on a course, the answers given, and safety flags.

Answers, scores and bands are encrypted (one JSON blob per response). A
safety flag's row says in clear only that its course has a flag and whether a
clinician acknowledged it, so the caseload can count open flags without keys;
what raised it (which response, questionnaire and rule, and when) is encrypted.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from journal.db import Base, UTCDateTime, UUIDPrimaryKey, utcnow
from journal.models._types import enum_column
from journal.models.enums import Cadence, QuestionnaireSlot
from journal.models.sealed import sealed


class QuestionnaireAssignment(UUIDPrimaryKey, Base):
    __tablename__ = "questionnaire_assignments"

    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    instrument_id: Mapped[str] = mapped_column(String(40))
    cadence: Mapped[Cadence] = mapped_column(enum_column(Cadence))
    assigned_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Follow-ups only: the months after the course's end, as "1,3,6".
    follow_up_months: Mapped[str | None] = mapped_column(String(40))


class QuestionnaireResponse(UUIDPrimaryKey, Base):
    __tablename__ = "questionnaire_responses"

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    assignment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("questionnaire_assignments.id", ondelete="CASCADE"), index=True
    )
    instrument_id: Mapped[str] = mapped_column(String(40))
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dosing_sessions.id"))
    # The due moment it answers: with the session (before or after it) or the month
    # (a follow-up). slot_key names that moment within the assignment ("once",
    # "before:<session id>", "after:<session id>", "end", "month:3"), so each is filed once.
    slot: Mapped[QuestionnaireSlot] = mapped_column(enum_column(QuestionnaireSlot))
    follow_up_month: Mapped[int | None]
    slot_key: Mapped[str] = mapped_column(String(50))
    result: Mapped[bytes] = sealed()  # answers, total, band, flags
    submitted_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (
        Index("ix_questionnaire_responses_course_at", "course_id", "submitted_at"),
        UniqueConstraint("assignment_id", "slot_key"),
    )


class SafetyFlag(UUIDPrimaryKey, Base):
    """Raised by a questionnaire answer, by a blood pressure past the clinic's thresholds
    on a session record (its sealed source: origin "vitals", record_id, reading,
    rule_id), or by the patient's "I need support" in quick capture; stays until a
    clinician acknowledges it, saying what was done.

    Nothing in clear points to what raised it: a link to the response, or the
    response's time, would name the questionnaire (questionnaire_responses keeps
    its instrument id in clear), so both are sealed in `source`."""

    __tablename__ = "safety_flags"

    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    detail: Mapped[bytes] = sealed()  # the words the clinician reads: questionnaire, item, answer
    # JSON: response_id, instrument_id, rule_id (the flag rule), raised_at. NULL only on
    # a row from before revision 0013 until `flask init` seals it (seal_clear_flags).
    source: Mapped[bytes | None] = sealed()
    acknowledged_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # JSON: action (what was done, journal/clinical/safety_flags.ACTIONS) and note (the
    # clinician's words). NULL while the flag is open, and on a flag acknowledged before 0015.
    acknowledgement: Mapped[bytes | None] = sealed()
    version: Mapped[int] = mapped_column(default=1)
    # In clear before revision 0013 (then `response_id` and `raised_at`): `flask init`
    # seals them into `source` and empties them. Always NULL afterwards; never written.
    legacy_response_id: Mapped[uuid.UUID | None]
    legacy_raised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
