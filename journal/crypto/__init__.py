"""Encryption primitives: field encryption, key wrapping, the master key file.

This package depends only on the standard library and `cryptography`; it
knows nothing of Flask, SQLAlchemy or the journal's tables.
"""

from journal.crypto.errors import DecryptionError, KeyFileError
from journal.crypto.fields import (
    FieldContext,
    Key,
    blob_key_bytes,
    blob_key_id,
    decrypt_field,
    encrypt_field,
    prepare_key,
    reencrypt_field,
)
from journal.crypto.keys import (
    MasterKeyRing,
    audit_chain_mac,
    create_key_file,
    derive_recovery_code_key,
    new_data_key,
    recovery_code_mac,
    unwrap_data_key,
    wrap_data_key,
)

__all__ = [
    "DecryptionError",
    "FieldContext",
    "Key",
    "KeyFileError",
    "MasterKeyRing",
    "audit_chain_mac",
    "blob_key_bytes",
    "blob_key_id",
    "create_key_file",
    "decrypt_field",
    "derive_recovery_code_key",
    "encrypt_field",
    "new_data_key",
    "prepare_key",
    "recovery_code_mac",
    "reencrypt_field",
    "unwrap_data_key",
    "wrap_data_key",
]
