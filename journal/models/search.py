"""The sealed search index: each course's searchable words in shards, each shard
sealed under the patient's journal key like the entries it indexes (see
journal.journaling.search_index for the layout)."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from journal.db import Base, UUIDPrimaryKey
from journal.models.sealed import sealed


class SearchShard(UUIDPrimaryKey, Base):
    __tablename__ = "search_shards"

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    number: Mapped[int]  # within the course; entries.search_shard names it
    entry_count: Mapped[int] = mapped_column(default=0)  # a count the entries table shows too
    payload: Mapped[bytes] = sealed()
    version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (
        UniqueConstraint("course_id", "number", name="uq_search_shards_course_number"),
    )
    # The version is part of the payload's associated data; an UPDATE only applies
    # to the version the writer read.
    __mapper_args__ = {  # noqa: RUF012
        "version_id_col": version,
        "version_id_generator": False,
    }
