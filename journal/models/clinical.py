"""The dosing-session record and the screening before a course.

Both are written by care-team clinicians and hold clinical data, so every
clinical value is kept in one encrypted JSON column (`content`), sealed under
the patient's journal key and bound to the row and its version. Only the
links (course, session, who wrote it, when) stay in clear.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from journal.db import Base, UTCDateTime, UUIDPrimaryKey, utcnow
from journal.models.sealed import sealed


class SessionRecord(UUIDPrimaryKey, Base):
    """The clinical record of one dosing session: route, dose, vitals, side effects."""

    __tablename__ = "session_records"

    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("dosing_sessions.id", ondelete="CASCADE"), unique=True
    )
    content: Mapped[bytes] = sealed()  # JSON of the record
    version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __mapper_args__ = {  # noqa: RUF012
        "version_id_col": version,
        "version_id_generator": False,
    }


class Screening(UUIDPrimaryKey, Base):
    """The screening checklist reviewed with the patient before a course: one per course."""

    __tablename__ = "screenings"

    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), unique=True
    )
    content: Mapped[bytes] = sealed()  # JSON: answers, notes, date
    version: Mapped[int] = mapped_column(default=1)
    reviewer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __mapper_args__ = {  # noqa: RUF012
        "version_id_col": version,
        "version_id_generator": False,
    }
