"""The screening checked again before each dosing session.

A re-check ("no change since last time", or the answers as they are now) is one
encrypted JSON value under the patient's journal key, kept for good: each re-check
is a row of its own, never edited. Only the links (course, screening, session, who,
when) stay in clear.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from journal.db import Base, UTCDateTime, UUIDPrimaryKey, utcnow
from journal.models.sealed import sealed


class ScreeningRecheck(UUIDPrimaryKey, Base):
    """The screening checked again with the patient before a dosing session."""

    __tablename__ = "screening_rechecks"

    screening_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("screenings.id", ondelete="CASCADE"), index=True
    )
    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    # The session it was checked before; None when none was chosen.
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("dosing_sessions.id", ondelete="CASCADE"), index=True
    )
    content: Mapped[bytes] = sealed()  # JSON: no change, or the answers and notes now
    checked_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(default=1)  # a re-check is never edited
