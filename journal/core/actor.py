"""Who is acting, passed explicitly to every service call."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from journal.models import Role, User


@dataclass(frozen=True)
class Actor:
    user: User
    address: str | None = None

    @property
    def id(self) -> uuid.UUID:
        return self.user.id

    @property
    def role(self) -> Role:
        return self.user.role
