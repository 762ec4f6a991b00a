"""Password hashing (argon2id) and the password rules.

Rules follow NIST SP 800-63B: a minimum length, a list of common passwords,
no composition rules, and a maximum length checked before any hashing.
"""

from __future__ import annotations

import secrets
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from journal.core.labels import N_

MIN_LENGTH = 10
MAX_LENGTH = 256


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    # Imported on first use: the lists take about 13 MB, which every gunicorn
    # worker would otherwise hold from the start, and only a password change needs them.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, email: str = "") -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    if len(password) > MAX_LENGTH:
        return N_("Use at most %(limit)s characters.", limit=MAX_LENGTH)
    if len(password) < MIN_LENGTH:
        return N_(
            "Use at least %(limit)s characters; a few words together work well.", limit=MIN_LENGTH
        )
    lowered = password.lower()
    if lowered in _common_passwords() or (email and lowered == email.lower()):
        return N_("This password is too common or too easy to guess; choose another.")
    return None


def temporary_password() -> str:
    return secrets.token_urlsafe(12)


class Passwords:
    def __init__(self, *, time_cost: int, memory_cost_kib: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            type=Type.ID,
        )
        # Verified against when an email is unknown, so both cases cost the same.
        self._decoy = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        if len(password) > MAX_LENGTH:
            raise ValueError("password too long to hash")
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        if len(password) > MAX_LENGTH:
            return False
        try:
            return self._hasher.verify(stored_hash or self._decoy, password) and bool(stored_hash)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)
