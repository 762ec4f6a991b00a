"""A long PDF export made by the worker: queued, typeset, kept a short time, deleted.

The document's data waits sealed until the worker typesets it; then the PDF is kept
sealed, both with the data key of the patient whose journal it holds (`owner_id`),
until `expires_at`. What stays in clear is who asked, for which course, the state,
the file's name and the times: never a word of the document. A passphrase is never
kept: the person types it on the download page, and it is applied in memory.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from journal.db import Base, UTCDateTime, UUIDPrimaryKey, utcnow
from journal.models.sealed import sealed

QUEUED, TYPESETTING, READY, FAILED = "queued", "typesetting", "ready", "failed"


class ExportJob(UUIDPrimaryKey, Base):
    __tablename__ = "export_jobs"

    requested_by: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # None: the patient's own data (every course of theirs).
    course_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    filename: Mapped[str] = mapped_column(String(100))  # made by the server, no content
    protect: Mapped[bool] = mapped_column(default=False)  # ask a passphrase at download
    made_at: Mapped[int] = mapped_column()  # the document's time, as the PDF records it
    data: Mapped[bytes | None] = sealed(owner="owner_id")  # dropped once typeset
    pdf: Mapped[bytes | None] = sealed(owner="owner_id")
    error: Mapped[str | None] = mapped_column(String(200))  # what failed, for the person
    version: Mapped[int] = mapped_column(default=1)  # part of the sealing context
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
