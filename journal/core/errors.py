"""Errors the web layer turns into responses."""

from __future__ import annotations

# Crypto errors the web layer handles, re-exported so it never imports crypto itself.
from journal.crypto.errors import DecryptionError, KeyFileError

__all__ = [
    "ConflictError",
    "DecryptionError",
    "Forbidden",
    "KeyFileError",
    "NotFound",
    "Unavailable",
    "ValidationError",
]


class NotFound(Exception):
    """The object does not exist or the actor may not know it exists."""


class Forbidden(Exception):
    """The actor may see the object but not do this to it."""


class ValidationError(Exception):
    """Bad input; `errors` maps a field name to a message a person can act on."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class ConflictError(Exception):
    """The record changed since the form was opened."""


class Unavailable(Exception):
    """This server cannot do it as installed; the message says what to install (for the
    log and the administrator: no content, no personal data)."""
