"""AES-256-GCM encryption of single stored fields.

A stored blob is laid out as::

    version (1 byte) | data-key id (16 bytes) | nonce (12 bytes) | ciphertext + tag

The associated data binds the ciphertext to its place (table, column, row,
patient, row version) and to its own header (version and data-key id), so a
blob copied elsewhere, rolled back to an older row version, or relabelled
with another key id fails to decrypt.
"""

from __future__ import annotations

import os
import uuid
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from journal.crypto.errors import DecryptionError

BLOB_VERSION = 1
_NONCE_BYTES = 12
_KEY_ID_BYTES = 16
_TAG_BYTES = 16
_HEADER_BYTES = 1 + _KEY_ID_BYTES + _NONCE_BYTES
_AAD_SCHEME = "kapj-field-v1"

# A data key, as raw bytes or already prepared: preparing AES-GCM (the key
# schedule) costs as much as sealing a short value, so callers that use a key
# many times (the vault, key rotation) prepare it once.
Key = bytes | AESGCM


def prepare_key(key: bytes) -> Key:
    return AESGCM(key)


def _aead(key: Key) -> AESGCM:
    return key if isinstance(key, AESGCM) else AESGCM(key)


class FieldContext(NamedTuple):
    """Where a ciphertext lives; becomes the AES-GCM associated data.

    A named tuple rather than a frozen dataclass: one is made for every value
    opened or sealed, and a tuple is made several times faster.
    """

    table: str
    column: str
    row_id: uuid.UUID
    owner_id: uuid.UUID
    row_version: int

    def associated_data(self) -> bytes:
        parts = (
            _AAD_SCHEME,
            self.table,
            self.column,
            str(self.row_id),
            str(self.owner_id),
            str(self.row_version),
        )
        return "|".join(parts).encode()

    def describe(self) -> str:
        """A log-safe description: names and ids only."""
        return f"{self.table}.{self.column} row {self.row_id} v{self.row_version}"


def encrypt_field(key: Key, key_id: uuid.UUID, plaintext: str, ctx: FieldContext) -> bytes:
    """Encrypt one field value with a fresh random nonce."""
    nonce = os.urandom(_NONCE_BYTES)
    header = bytes([BLOB_VERSION]) + key_id.bytes
    sealed = _aead(key).encrypt(nonce, plaintext.encode("utf-8"), header + ctx.associated_data())
    return header + nonce + sealed


def blob_key_id(blob: bytes) -> uuid.UUID:
    """The id of the data key a blob was sealed with (checks the header)."""
    return uuid.UUID(bytes=blob_key_bytes(blob))


def blob_key_bytes(blob: bytes) -> bytes:
    """blob_key_id as its 16 bytes: cheaper where every stored value is looked at."""
    if len(blob) < _HEADER_BYTES + _TAG_BYTES:
        raise DecryptionError("stored value is truncated")
    if blob[0] != BLOB_VERSION:
        raise DecryptionError(f"unknown blob version {blob[0]}")
    return bytes(blob[1 : 1 + _KEY_ID_BYTES])


def decrypt_field(key: Key, blob: bytes, ctx: FieldContext) -> str:
    """Decrypt one field value; any mismatch raises DecryptionError."""
    key_id = blob_key_id(blob)
    header = bytes(blob[: 1 + _KEY_ID_BYTES])
    nonce = bytes(blob[1 + _KEY_ID_BYTES : _HEADER_BYTES])
    aad = header + ctx.associated_data()
    try:
        plain = _aead(key).decrypt(nonce, bytes(blob[_HEADER_BYTES:]), aad)
    except InvalidTag:
        raise DecryptionError(
            "integrity check failed", where=ctx.describe(), key_id=str(key_id)
        ) from None
    return plain.decode("utf-8")


def reencrypt_field(
    old_key: Key, new_key: Key, new_key_id: uuid.UUID, blob: bytes, ctx: FieldContext
) -> bytes:
    """Decrypt a value and encrypt it again under another key, in the same place.

    The same as decrypt_field then encrypt_field (fresh nonce, the new key's
    id in the header), with the associated data built once: key rotation does
    this for every stored value.
    """
    if len(blob) < _HEADER_BYTES + _TAG_BYTES or blob[0] != BLOB_VERSION:
        blob_key_id(blob)  # raises, saying what is wrong
    place = ctx.associated_data()
    header = bytes(blob[: 1 + _KEY_ID_BYTES])
    try:
        plain = _aead(old_key).decrypt(
            bytes(blob[1 + _KEY_ID_BYTES : _HEADER_BYTES]),
            bytes(blob[_HEADER_BYTES:]),
            header + place,
        )
    except InvalidTag:
        raise DecryptionError(
            "integrity check failed", where=ctx.describe(), key_id=str(blob_key_id(blob))
        ) from None
    nonce = os.urandom(_NONCE_BYTES)
    new_header = bytes([BLOB_VERSION]) + new_key_id.bytes
    return new_header + nonce + _aead(new_key).encrypt(nonce, plain, new_header + place)
