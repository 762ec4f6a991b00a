"""Key records: master-key check values and wrapped per-owner data keys."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from journal.db import Base, UTCDateTime, UUIDPrimaryKey, utcnow
from journal.models._types import enum_column
from journal.models.enums import KeyScope
from journal.models.sealed import plain_bytes


class MasterKeyRecord(Base):
    """Proves at start-up that the key file holds the key the data was wrapped with."""

    __tablename__ = "master_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    check_value: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DataKey(UUIDPrimaryKey, Base):
    """A 256-bit key for one owner's data, stored only wrapped by a master key."""

    __tablename__ = "data_keys"

    owner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    scope: Mapped[KeyScope] = mapped_column(enum_column(KeyScope))
    wrapped: Mapped[bytes] = plain_bytes("a data key wrapped with a master key (AES key wrap)")
    master_key_id: Mapped[str] = mapped_column(ForeignKey("master_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
