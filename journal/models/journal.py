"""Journal entries, their earlier versions and their intentions.

Every content column holds an encrypted blob bound to its row, column,
patient and row version (see journal.crypto.fields).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from journal.db import Base, UTCDateTime, UUIDPrimaryKey, utcnow
from journal.models._types import enum_column
from journal.models.enums import OutcomeStatus, Phase, Visibility
from journal.models.sealed import sealed


class Entry(UUIDPrimaryKey, Base):
    __tablename__ = "entries"

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    # None: written between sessions or before the first one; a clinician can attach it later.
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("dosing_sessions.id"), index=True
    )
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    phase: Mapped[Phase] = mapped_column(enum_column(Phase))
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility))
    title: Mapped[bytes] = sealed()
    body: Mapped[bytes] = sealed()
    mood: Mapped[bytes | None] = sealed()
    # The card's excerpt (the body's first words as plain text), made when the body is
    # saved so the timeline does not render every card's Markdown; None for entries
    # saved before it existed (their excerpt is made when read).
    excerpt: Mapped[bytes | None] = sealed()
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    # Deleted by its writer: a tombstone from then on. The words are kept, sealed and
    # unread, for the clinic's `deleted_entry_days` (the writer may restore it), then
    # erased (erased_at set).
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The course's search shard that holds its words (journal.journaling.search_index);
    # None: not in the index (written before it existed, or deleted).
    search_shard: Mapped[int | None] = mapped_column()

    __table_args__ = (
        Index("ix_entries_course_created", "course_id", "created_at"),
        # Finds a course's entries missing from the search index without reading them.
        Index("ix_entries_course_search_shard", "course_id", "search_shard"),
        # Covering indexes for counts: the caseload's (new since a visit, not
        # reviewed) and the timeline's per session, read from the index alone (every
        # count leaves deleted entries out, so deleted_at is in both).
        Index(
            "ix_entries_course_updated",
            "course_id",
            "updated_at",
            "author_id",
            "visibility",
            "deleted_at",
        ),
        Index(
            "ix_entries_course_author",
            "course_id",
            "author_id",
            "visibility",
            "deleted_at",
            "version",
            "id",
            "session_id",
        ),
        # A course's tombstones, shown on every page of its timeline: the few deleted
        # entries, without walking the others.
        Index(
            "ix_entries_tombstones",
            "course_id",
            "created_at",
            sqlite_where=text("deleted_at IS NOT NULL"),
            postgresql_where=text("deleted_at IS NOT NULL"),
        ),
    )
    # The version is part of each ciphertext's associated data; services set it,
    # and an UPDATE only applies to the version the writer read.
    __mapper_args__ = {  # noqa: RUF012
        "version_id_col": version,
        "version_id_generator": False,
    }


class EntryRevision(UUIDPrimaryKey, Base):
    """An earlier version of an entry, kept (encrypted) when the entry is edited."""

    __tablename__ = "entry_revisions"

    entry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("entries.id", ondelete="CASCADE"), index=True
    )
    entry_version: Mapped[int]
    phase: Mapped[Phase] = mapped_column(enum_column(Phase))
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility))
    title: Mapped[bytes] = sealed()
    body: Mapped[bytes] = sealed()
    mood: Mapped[bytes | None] = sealed()
    written_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)  # revisions are never edited


class Intention(UUIDPrimaryKey, Base):
    """A goal set in a preparation entry for its dosing session."""

    __tablename__ = "intentions"

    entry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("entries.id", ondelete="CASCADE"), index=True
    )
    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    text: Mapped[bytes] = sealed()
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # An earlier intention of the same course that this one carries on from.
    builds_on_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("intentions.id", ondelete="SET NULL")
    )


class IntentionOutcome(UUIDPrimaryKey, Base):
    """How an intention went, recorded in an integration entry.

    The outcome is read only by those who may read the entry it was written
    in, so a private entry's outcomes stay with the patient.
    """

    __tablename__ = "intention_outcomes"

    intention_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("intentions.id", ondelete="CASCADE"), index=True
    )
    entry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("entries.id", ondelete="CASCADE"), index=True
    )
    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[OutcomeStatus] = mapped_column(enum_column(OutcomeStatus))
    reflection: Mapped[bytes | None] = sealed()
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("entry_id", "intention_id", name="uq_intention_outcomes_entry_intention"),
    )
