"""One-time form tokens: a form that creates something carries a random token, and the
first POST with it records what it made, so the same POST sent again (a browser's
resend, a retry) leads to that instead of making a second one.

Only a hash of the token is kept, with the address of what was made (no content);
rows are scoped to the person who posted and removed after a day.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from journal.db import Base, UTCDateTime


class FormToken(Base):
    __tablename__ = "form_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(String(500))  # where the first POST led
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
