"""A record that a patient was erased: ids, time and an administrative reason.

The patient's keys go with the erasure, so the reason is sealed with the data key
of the admin who erased (scope `admin`): any admin can read it later, and a copy
of the database shows no word of it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from journal.db import Base, UTCDateTime, UUIDPrimaryKey, utcnow
from journal.models.enums import KeyScope
from journal.models.sealed import sealed


class Erasure(UUIDPrimaryKey, Base):
    __tablename__ = "erasures"

    patient_id: Mapped[uuid.UUID] = mapped_column(index=True)
    erased_by: Mapped[uuid.UUID]
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # NULL only on a row from before revision 0013 until `flask init` seals it.
    reason: Mapped[bytes | None] = sealed(KeyScope.ADMIN, owner="erased_by")
    version: Mapped[int] = mapped_column(default=1)
    # The reason in clear before revision 0013: `flask init` seals it into `reason`
    # and empties it (journal.accounts.erasure.seal_clear_reasons). Never written.
    legacy_reason: Mapped[str | None] = mapped_column(String(200))
