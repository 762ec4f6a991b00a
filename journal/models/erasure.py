"""A record that a patient was erased: ids, time and an administrative reason only."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from journal.db import Base, UTCDateTime, UUIDPrimaryKey, utcnow


class Erasure(UUIDPrimaryKey, Base):
    __tablename__ = "erasures"

    patient_id: Mapped[uuid.UUID] = mapped_column(index=True)
    erased_by: Mapped[uuid.UUID]
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str] = mapped_column(String(200))
