"""Unsaved writing kept by autosave, so a long reflection survives a closed tab.

Encrypted like entries (under the patient's journal key) and readable only by
the person writing it. One draft per writer and form: a new entry on a
course, or an edit of one entry.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from journal.db import Base, UTCDateTime, UUIDPrimaryKey, utcnow
from journal.models.sealed import sealed


class Draft(UUIDPrimaryKey, Base):
    __tablename__ = "drafts"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    slot: Mapped[str] = mapped_column(String(60))  # "new:<course id>" or "edit:<entry id>"
    content: Mapped[bytes] = sealed()  # JSON of the form's fields
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "slot", name="uq_drafts_user_slot"),)
