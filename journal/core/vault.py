"""Sealing and opening encrypted fields with per-owner data keys.

A Vault lives for one unit of work (a request, a CLI command). It unwraps each
data key at most once and keeps the plaintext keys only in memory.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal.crypto import (
    DecryptionError,
    FieldContext,
    Key,
    MasterKeyRing,
    blob_key_bytes,
    decrypt_field,
    encrypt_field,
    new_data_key,
    prepare_key,
    reencrypt_field,
    unwrap_data_key,
    wrap_data_key,
)
from journal.db import if_rolled_back
from journal.models import DataKey, KeyScope
from journal.models.sealed_tables import sealed_columns


class SealedRow(Protocol):
    """A model row with encrypted columns: a UUID id and a row version."""

    __tablename__: str
    id: uuid.UUID
    version: int


def _declared(table: str, column: str) -> KeyScope:
    """Only columns the models declare sealed are sealed or opened (journal.models.sealed),
    and only with keys of the scope they declare."""
    scope = sealed_columns().get((table, column))
    if scope is None:
        raise ValueError(f"{table}.{column} is not declared sealed on its model")
    return scope


def column_context(
    table: str, column: str, row_id: uuid.UUID, owner_id: uuid.UUID, row_version: int
) -> FieldContext:
    """The associated data of one stored value, for code that reads plain columns."""
    _declared(table, column)
    return FieldContext(
        table=table, column=column, row_id=row_id, owner_id=owner_id, row_version=row_version
    )


def context(row: SealedRow, column: str, owner_id: uuid.UUID) -> FieldContext:
    """(The vault checks the column against the declaration as it seals or opens.)"""
    return FieldContext(
        table=row.__tablename__,
        column=column,
        row_id=row.id,
        owner_id=owner_id,
        row_version=row.version,
    )


class Vault:
    """Seals and opens with the data keys of one scope (journal, or notes)."""

    def __init__(
        self, db: Session, ring: MasterKeyRing, scope: KeyScope = KeyScope.JOURNAL
    ) -> None:
        self._db = db
        self._ring = ring
        self.scope = scope
        # key id (its 16 bytes, as in a blob's header) -> (owner, key prepared for AES-GCM)
        self._keys: dict[bytes, tuple[uuid.UUID, Key]] = {}
        self._active: dict[uuid.UUID, uuid.UUID] = {}  # owner -> active key id

    def for_scope(self, scope: KeyScope) -> Vault:
        """A vault over the same session for another scope's keys."""
        return self if scope == self.scope else Vault(self._db, self._ring, scope)

    # -- keys -------------------------------------------------------------
    def preload(self, owner_ids: Iterable[uuid.UUID]) -> None:
        """Load every data key of these owners in one query."""
        wanted = {o for o in owner_ids if o not in self._active}
        if not wanted:
            return
        rows = self._db.scalars(
            select(DataKey)
            .where(DataKey.owner_id.in_(wanted), DataKey.scope == self.scope)
            .order_by(DataKey.created_at)
        ).all()
        for row in rows:
            self._remember(row)

    def _remember(self, row: DataKey) -> None:
        if row.scope != self.scope:  # a notes key never opens journal text, nor the reverse
            return
        if row.id.bytes not in self._keys:
            master = self._ring.key(row.master_key_id)
            key = unwrap_data_key(master, row.wrapped, key_id=str(row.id))
            self._keys[row.id.bytes] = (row.owner_id, prepare_key(key))
        if row.retired_at is None:
            self._active[row.owner_id] = row.id

    def _active_key(self, owner_id: uuid.UUID) -> tuple[uuid.UUID, Key]:
        key_id = self._active.get(owner_id)
        if key_id is None:
            self.preload([owner_id])
            key_id = self._active.get(owner_id) or self.create_key(owner_id)
        return key_id, self._keys[key_id.bytes][1]

    def create_key(self, owner_id: uuid.UUID) -> uuid.UUID:
        """Make a new data key for an owner, wrapped with the active master key."""
        key = new_data_key()
        row = DataKey(
            id=uuid.uuid4(),
            owner_id=owner_id,
            scope=self.scope,
            wrapped=wrap_data_key(self._ring.active_key, key),
            master_key_id=self._ring.active_id,
        )
        self._db.add(row)
        self._keys[row.id.bytes] = (owner_id, prepare_key(key))
        self._active[owner_id] = row.id
        if_rolled_back(self._db, lambda: self._forget(row.id, owner_id))
        return row.id

    def _forget(self, key_id: uuid.UUID, owner_id: uuid.UUID) -> None:
        """A key whose row was rolled back must never seal anything."""
        self._keys.pop(key_id.bytes, None)
        if self._active.get(owner_id) == key_id:
            del self._active[owner_id]

    def _key_for(self, key_id: bytes, ctx: FieldContext) -> Key:
        def refuse(reason: str) -> DecryptionError:
            return DecryptionError(
                reason, where=ctx.describe(), key_id=str(uuid.UUID(bytes=key_id))
            )

        if key_id not in self._keys:
            row = self._db.get(DataKey, uuid.UUID(bytes=key_id))
            if row is None:
                raise refuse("data key not found")
            self._remember(row)
        if key_id not in self._keys:
            raise refuse("data key belongs to another scope")
        owner, key = self._keys[key_id]
        if owner != ctx.owner_id:
            raise refuse("data key belongs to another owner")
        return key

    def _blob_key(self, blob: bytes, ctx: FieldContext) -> bytes:
        try:
            return blob_key_bytes(blob)
        except DecryptionError as exc:
            raise DecryptionError(exc.reason, where=ctx.describe()) from None

    # -- fields -----------------------------------------------------------
    def _check_scope(self, ctx: FieldContext) -> None:
        if _declared(ctx.table, ctx.column) != self.scope:
            raise ValueError(f"{ctx.table}.{ctx.column} is not sealed with {self.scope} keys")

    def seal(self, ctx: FieldContext, plaintext: str) -> bytes:
        self._check_scope(ctx)
        key_id, key = self._active_key(ctx.owner_id)
        return encrypt_field(key, key_id, plaintext, ctx)

    def open(self, blob: bytes, ctx: FieldContext) -> str:
        self._check_scope(ctx)
        return decrypt_field(self._key_for(self._blob_key(blob, ctx), ctx), blob, ctx)

    def reseal(self, blob: bytes, ctx: FieldContext) -> bytes:
        """The same value sealed again with the owner's active key (key rotation)."""
        self._check_scope(ctx)
        old_key = self._key_for(self._blob_key(blob, ctx), ctx)
        new_id, new_key = self._active_key(ctx.owner_id)
        return reencrypt_field(old_key, new_key, new_id, blob, ctx)

    def seal_column(self, row: SealedRow, column: str, owner_id: uuid.UUID, text: str) -> bytes:
        return self.seal(context(row, column, owner_id), text)

    def open_column(self, row: SealedRow, column: str, owner_id: uuid.UUID) -> str:
        blob = getattr(row, column)
        if blob is None:
            raise DecryptionError(
                "no stored value", where=context(row, column, owner_id).describe()
            )
        return self.open(blob, context(row, column, owner_id))

    def open_optional(self, row: SealedRow, column: str, owner_id: uuid.UUID) -> str | None:
        if getattr(row, column) is None:
            return None
        return self.open_column(row, column, owner_id)
