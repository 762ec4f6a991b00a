"""The one declaration of encrypted columns: a model declares a column `sealed(...)`
(encrypted with its owner's data key of a scope) or `plain_bytes(reason)` (binary
but not content, e.g. a wrapped key). journal.models.sealed_tables reads them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import LargeBinary
from sqlalchemy.orm import MappedColumn, mapped_column

from journal.models.enums import KeyScope

SEALED = "journal_sealed"  # Column.info key: the KeyScope of the data key
SEALED_OWNER = "journal_sealed_owner"  # Column.info key: the row's column naming the owner
PLAIN_BYTES = "journal_plain_bytes"  # Column.info key: why binary data is not sealed


def sealed(scope: KeyScope = KeyScope.JOURNAL, *, owner: str | None = None) -> MappedColumn[Any]:
    """An encrypted column: AES-256-GCM bound to its table, column, row, owner and row
    version (journal.crypto.fields), with the owner's data key of `scope`.

    The owner follows from the schema (journal.models.sealed_tables) unless `owner`
    names the row's own column that holds the owner's user id."""
    info: dict[str, Any] = {SEALED: scope}
    if owner is not None:
        info[SEALED_OWNER] = owner
    return mapped_column(LargeBinary, info=info)


def plain_bytes(reason: str) -> MappedColumn[Any]:
    """A binary column that is not content, with the reason it needs no sealing."""
    return mapped_column(LargeBinary, info={PLAIN_BYTES: reason})
