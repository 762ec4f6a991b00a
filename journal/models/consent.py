"""A course's consent to treatment.

The consent record (the consent document's version, the date, the witness, the
checkboxes the clinic defines and a note) is one encrypted JSON value under the
patient's journal key; every amendment keeps the version it replaces in
`consent_versions`, sealed under that row's own id, as the safety plan does.
Only the links (course, session, who, when, version numbers) stay in clear.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from journal.db import Base, UTCDateTime, UUIDPrimaryKey, utcnow
from journal.models.sealed import sealed


class Consent(UUIDPrimaryKey, Base):
    """The current version of a course's consent record: one per course."""

    __tablename__ = "consents"

    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), unique=True
    )
    content: Mapped[bytes] = sealed()  # JSON: document version, date, witness, items, note
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __mapper_args__ = {  # noqa: RUF012
        "version_id_col": version,
        "version_id_generator": False,
    }


class ConsentVersion(UUIDPrimaryKey, Base):
    """An earlier version of a consent record, kept (encrypted) when it is amended."""

    __tablename__ = "consent_versions"
    __table_args__ = (UniqueConstraint("consent_id", "consent_version"),)

    consent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("consents.id", ondelete="CASCADE"), index=True
    )
    # The course names whose key seals the row, and lets erasure find it.
    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    consent_version: Mapped[int]  # which version of the record this was
    content: Mapped[bytes] = sealed()
    saved_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)  # kept versions are never edited
