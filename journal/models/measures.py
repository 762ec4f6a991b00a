"""Questionnaires assigned on a course, the answers given, and safety flags.

Answers, scores and bands are encrypted (one JSON blob per response). A
safety flag's row is in clear so the caseload can count open flags without
keys; what raised it is encrypted.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from journal.db import Base, UTCDateTime, UUIDPrimaryKey, utcnow
from journal.models._types import enum_column
from journal.models.enums import Cadence
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


class QuestionnaireResponse(UUIDPrimaryKey, Base):
    __tablename__ = "questionnaire_responses"

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    assignment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("questionnaire_assignments.id", ondelete="CASCADE"), index=True
    )
    instrument_id: Mapped[str] = mapped_column(String(40))
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dosing_sessions.id"))
    result: Mapped[bytes] = sealed()  # answers, total, band, flags
    submitted_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (Index("ix_questionnaire_responses_course_at", "course_id", "submitted_at"),)


class SafetyFlag(UUIDPrimaryKey, Base):
    """Raised by a questionnaire answer; stays until a clinician acknowledges it."""

    __tablename__ = "safety_flags"

    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    response_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("questionnaire_responses.id", ondelete="CASCADE")
    )
    detail: Mapped[bytes] = sealed()  # what raised it
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    acknowledged_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)
