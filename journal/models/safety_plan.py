"""The safety plan of a course, written by the patient and the care team together.

The whole plan (each section's text) is one encrypted JSON value under the
patient's journal key, bound to the row and its version. Every save keeps the
version it replaces in `safety_plan_versions`, sealed under that row's own id.
Only the links (course, who saved, when, version numbers) stay in clear.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from journal.db import Base, UTCDateTime, UUIDPrimaryKey, utcnow
from journal.models.sealed import sealed


class SafetyPlan(UUIDPrimaryKey, Base):
    """The current version of a course's safety plan: one per course."""

    __tablename__ = "safety_plans"

    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), unique=True
    )
    content: Mapped[bytes] = sealed()  # JSON: each section's text
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __mapper_args__ = {  # noqa: RUF012
        "version_id_col": version,
        "version_id_generator": False,
    }


class SafetyPlanVersion(UUIDPrimaryKey, Base):
    """An earlier version of a safety plan, kept (encrypted) when someone saves a new one."""

    __tablename__ = "safety_plan_versions"
    __table_args__ = (UniqueConstraint("plan_id", "plan_version"),)

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("safety_plans.id", ondelete="CASCADE"), index=True
    )
    # The course names whose key seals the row, and lets erasure find it.
    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    plan_version: Mapped[int]  # which version of the plan this was
    content: Mapped[bytes] = sealed()
    saved_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)  # kept versions are never edited
