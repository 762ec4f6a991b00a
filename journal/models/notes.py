"""Psychotherapy notes: a clinician's process notes, kept apart from the journal.

Their own table and their own data key (scope "notes"), so no query or key
that serves the journal can reach them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from journal.db import Base, UTCDateTime, UUIDPrimaryKey, utcnow
from journal.models.enums import KeyScope
from journal.models.sealed import sealed


class PsychotherapyNote(UUIDPrimaryKey, Base):
    __tablename__ = "psychotherapy_notes"

    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dosing_sessions.id"), index=True)
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    body: Mapped[bytes] = sealed(KeyScope.NOTES)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __mapper_args__ = {  # noqa: RUF012
        "version_id_col": version,
        "version_id_generator": False,
    }


class NoteDisclosure(UUIDPrimaryKey, Base):
    """A clinician included psychotherapy notes in an export: who, when, which
    format, and why (the reason is encrypted with the patient's notes key)."""

    __tablename__ = "note_disclosures"

    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    exported_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    exported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    format: Mapped[str] = mapped_column(String(10))
    reason: Mapped[bytes] = sealed(KeyScope.NOTES)
    version: Mapped[int] = mapped_column(default=1)  # part of the reason's sealing context
