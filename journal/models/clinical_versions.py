"""Earlier versions of the sealed clinical records that are amended in place.

A dosing-session record and a course's screening are each one encrypted JSON value
(`models/clinical.py`). Every save that changes one keeps the version it replaces
here, in the same unit of work: sealed again under the patient's journal key and
bound to this row, with who saved that version and when. Kept versions are never
edited. Only the links (kind, the record's id, course, version numbers, who, when)
stay in clear.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from journal.db import Base, UTCDateTime, UUIDPrimaryKey
from journal.models._types import enum_column
from journal.models.sealed import sealed


class VersionKind(StrEnum):
    """Which record a kept version belongs to."""

    SESSION_RECORD = "session_record"  # session_records.id
    SCREENING = "screening"  # screenings.id


class ClinicalVersion(UUIDPrimaryKey, Base):
    """An earlier version of a session record or a screening, kept when it was changed."""

    __tablename__ = "clinical_versions"
    __table_args__ = (UniqueConstraint("kind", "object_id", "object_version"),)

    kind: Mapped[VersionKind] = mapped_column(enum_column(VersionKind))
    object_id: Mapped[uuid.UUID] = mapped_column(index=True)  # the record's id
    # The course names whose key seals the row, and lets erasure find it.
    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    object_version: Mapped[int]  # which version of the record this was
    content: Mapped[bytes] = sealed()  # the record's JSON as it was
    saved_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)  # kept versions are never edited
