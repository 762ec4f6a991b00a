"""A clinic's own guided prompts and the prompts assigned for a dosing session.

The shipped library lives in TOML files (journal/prompts/). A clinic's edits
are rows here: a row whose key is a shipped prompt's id overrides or hides it,
any other row is a prompt of the clinic's own. Prompt texts are library
wording, the same for every patient, and are stored in clear (see
docs/security.md); assignments are structure and hold no content.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from journal.db import Base, UTCDateTime, UUIDPrimaryKey, utcnow
from journal.models._types import enum_column
from journal.models.enums import Phase


class ClinicPrompt(UUIDPrimaryKey, Base):
    __tablename__ = "clinic_prompts"

    key: Mapped[str] = mapped_column(String(80), unique=True)
    phase: Mapped[Phase] = mapped_column(enum_column(Phase))
    theme: Mapped[str] = mapped_column(String(60))
    text: Mapped[str] = mapped_column(Text)
    due: Mapped[str | None] = mapped_column(String(30))
    hidden: Mapped[bool] = mapped_column(default=False)
    updated_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PromptAssignment(UUIDPrimaryKey, Base):
    """A prompt a care-team clinician asked the patient to answer around one session."""

    __tablename__ = "prompt_assignments"

    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("dosing_sessions.id", ondelete="CASCADE"), index=True
    )
    prompt_key: Mapped[str] = mapped_column(String(80))
    phase: Mapped[Phase] = mapped_column(enum_column(Phase))
    assigned_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answered_entry_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("entries.id", ondelete="SET NULL"), index=True
    )

    __table_args__ = (
        UniqueConstraint("session_id", "prompt_key", name="uq_prompt_assignments_session_prompt"),
    )
