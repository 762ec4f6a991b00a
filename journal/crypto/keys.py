"""The master key file and wrapping of per-patient data keys.

The master key file is JSON holding one or more 256-bit keys, one of them
active. Several keys may be present while a rotation is under way; data keys
record which master key wrapped them. The file also holds the key that signs
the audit trail's hash chain, kept apart so master-key rotation leaves the
chain verifiable; the key that hashes two-factor recovery codes is derived
from it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_wrap,
)

from journal.crypto.errors import DecryptionError, KeyFileError
from journal.crypto.folder import sync_folder

KEY_BYTES = 32
_FILE_FORMAT = 1
_CHECK_LABEL = b"kapj-master-key-check-v1"
_RECOVERY_CODE_LABEL = b"kapj-recovery-code-key-v1"


def new_data_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def wrap_data_key(master_key: bytes, data_key: bytes) -> bytes:
    return aes_key_wrap(master_key, data_key)


def unwrap_data_key(master_key: bytes, wrapped: bytes, *, key_id: str) -> bytes:
    try:
        return aes_key_unwrap(master_key, wrapped)
    except InvalidUnwrap:
        raise DecryptionError("data key failed to unwrap", key_id=key_id) from None


@dataclass(frozen=True)
class MasterKeyRing:
    """The master keys loaded from the key file."""

    active_id: str
    keys: dict[str, bytes]
    audit_key: bytes | None = None
    # Asked for a key this ring lacks before giving up: a running app re-reads the key
    # file, which another server's rotation may have changed (journal/runtime.py).
    missing: Callable[[str], bytes | None] | None = field(default=None, compare=False, repr=False)

    @property
    def active_key(self) -> bytes:
        return self.keys[self.active_id]

    def key(self, key_id: str) -> bytes:
        try:
            return self.keys[key_id]
        except KeyError:
            found = None if self.missing is None else self.missing(key_id)
            if found is None:
                raise KeyFileError(f"master key {key_id!r} is not in the key file") from None
            return found

    def check_value(self, key_id: str) -> str:
        """A value stored in the database to prove later that the key is the same."""
        digest = hmac.new(self.key(key_id), _CHECK_LABEL, hashlib.sha256).hexdigest()
        return digest[:32]

    def matches(self, key_id: str, stored_check: str) -> bool:
        return hmac.compare_digest(self.check_value(key_id), stored_check)

    @classmethod
    def load(cls, path: Path) -> MasterKeyRing:
        """Read and check the key file; refuse unsafe permissions."""
        if not path.exists():
            raise KeyFileError(f"master key file {path} is missing; run 'flask --app journal init'")
        _require_private(path.parent, 0o700, "key directory")
        _require_private(path, 0o600, "master key file")
        try:
            data = json.loads(path.read_text())
            if data.get("format") != _FILE_FORMAT:
                raise ValueError("unknown format")
            keys = {str(k["id"]): base64.b64decode(k["key"], validate=True) for k in data["keys"]}
            active = str(data["active"])
            audit = data.get("audit_key")
            audit_key = None if audit is None else base64.b64decode(audit, validate=True)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyFileError(f"master key file {path} is malformed: {exc}") from None
        if active not in keys or any(len(k) != KEY_BYTES for k in keys.values()):
            raise KeyFileError(f"master key file {path} is malformed: bad key or active id")
        if audit_key is not None and len(audit_key) != KEY_BYTES:
            raise KeyFileError(f"master key file {path} is malformed: bad audit key")
        return cls(active_id=active, keys=keys, audit_key=audit_key)

    @property
    def recovery_code_key(self) -> bytes | None:
        """The key of the keyed hashes of two-factor recovery codes (None without an
        audit key). Derived from the audit key with HKDF under its own label, so it
        is independent of the audit chain's MACs, needs nothing new stored, backed up
        or copied to other servers, and stays the same through master-key rotation
        (which keeps the audit key)."""
        if self.audit_key is None:
            return None
        return derive_recovery_code_key(self.audit_key)

    def with_audit_key(self) -> MasterKeyRing:
        """The same ring with an audit key (a new one if it had none)."""
        if self.audit_key is not None:
            return self
        return MasterKeyRing(self.active_id, dict(self.keys), secrets.token_bytes(KEY_BYTES))

    def save(self, path: Path) -> None:
        """Write the ring atomically with owner-only permissions."""
        body = {
            "format": _FILE_FORMAT,
            "active": self.active_id,
            "keys": [
                {"id": kid, "key": base64.b64encode(key).decode()} for kid, key in self.keys.items()
            ],
        }
        if self.audit_key is not None:
            body["audit_key"] = base64.b64encode(self.audit_key).decode()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_private_json(path, body)


def new_master_key_id() -> str:
    return "mk-" + secrets.token_hex(8)


def create_key_file(path: Path) -> MasterKeyRing:
    """Create a new key file with one fresh master key; never overwrites."""
    if path.exists():
        raise KeyFileError(f"refusing to overwrite existing key file {path}")
    key_id = new_master_key_id()
    ring = MasterKeyRing(
        active_id=key_id,
        keys={key_id: secrets.token_bytes(KEY_BYTES)},
        audit_key=secrets.token_bytes(KEY_BYTES),
    )
    ring.save(path)
    return ring


def _require_private(path: Path, allowed: int, what: str) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & ~allowed:
        raise KeyFileError(
            f"{what} {path} has permissions {mode:o}; it must be {allowed:o} or stricter"
        )


def audit_chain_mac(audit_key: bytes, previous: str, record: str) -> str:
    """The link of one audit event in the chain: HMAC-SHA256 over the previous
    link and the event's fields. Without the audit key nobody can forge it."""
    return hmac.new(audit_key, f"{previous}\n{record}".encode(), hashlib.sha256).hexdigest()


def derive_recovery_code_key(audit_key: bytes) -> bytes:
    """HKDF-SHA256 of the audit key under the recovery codes' own label."""
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=_RECOVERY_CODE_LABEL
    ).derive(audit_key)


def recovery_code_mac(key: bytes, code_digest: bytes) -> bytes:
    """The keyed hash of a recovery code: HMAC-SHA256 over its SHA-256 digest. Keyed
    over the digest (not the code) so that digests stored before keying existed can
    be upgraded in place without knowing the codes."""
    return hmac.new(key, code_digest, hashlib.sha256).digest()


def write_private_json(path: Path, body: object) -> None:
    """Replace a key file whole (never half-written), readable by its owner only."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(body, fh)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    sync_folder(path.parent)  # the rename itself survives a crash
