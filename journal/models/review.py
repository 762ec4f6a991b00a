"""A clinician's review of entries, comments on them, and who has seen what.

Comment text and quoted passages are encrypted like entries, under the
patient's journal key.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from journal.db import Base, UTCDateTime, UUIDPrimaryKey, utcnow
from journal.models._types import enum_column
from journal.models.enums import Visibility
from journal.models.sealed import sealed


class EntryReview(Base):
    """The latest review of an entry by one clinician, at the version they read."""

    __tablename__ = "entry_reviews"

    entry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True
    )
    clinician_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    entry_version: Mapped[int]
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Comment(UUIDPrimaryKey, Base):
    """A comment on a whole entry or on a quoted passage, or a reply to one."""

    __tablename__ = "comments"

    entry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("entries.id", ondelete="CASCADE"), index=True
    )
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility))
    quote: Mapped[bytes | None] = sealed()
    body: Mapped[bytes] = sealed()
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_comments_course_created", "course_id", "created_at"),)


class CommentRead(Base):
    """A user has seen a comment (drives the unread count)."""

    __tablename__ = "comment_reads"

    comment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    read_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CourseVisit(Base):
    """When a user last opened a course's timeline ("new since you last looked")."""

    __tablename__ = "course_visits"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
