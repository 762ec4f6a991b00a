"""Two-factor sign-in with TOTP (RFC 6238) and one-time recovery codes.

Required for clinicians and admins, optional for patients. The TOTP secret is
encrypted with the user's own data key. A code is accepted at most once: the
last accepted 30-second step is remembered.

Recovery codes (40 random bits each) are stored as a keyed hash,
"hmac1:" + HMAC-SHA256(key, SHA-256(code)) in unpadded base64url, under a key
derived from the key file's audit key (`MasterKeyRing.recovery_code_key`), never
stored in the database: a copy of the database alone gives nothing to guess
against. A keyed hash rather than a slow one (argon2id): a slow hash only makes
guessing 40 bits from the database expensive, a keyed hash makes it impossible
without the key file; and a sign-in checks every unused code of the account (up
to ten), a wrong six-digit code included, which with argon2id would cost ten slow
hashes of time and memory per attempt. Rows stored before this (a bare SHA-256 hex
digest) are still accepted, and are keyed in place, because the keyed value is
computed from that digest: all of them by `upgrade_recovery_codes` (run by `init`),
and one account's whenever its codes are checked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid

import pyotp
import segno
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.accounts import end_other_sessions
from journal.accounts.passwords import Passwords
from journal.accounts.policy import works_at_the_clinic
from journal.core.errors import ValidationError
from journal.core.labels import N_
from journal.core.vault import Vault
from journal.core.work import Work
from journal.crypto import recovery_code_mac
from journal.db import atomic, new_id, utcnow
from journal.models import RecoveryCode, TotpCredential, User

ISSUER = "KAP journal"
STEP_SECONDS = 30
RECOVERY_CODES = 10
# The database session's info entry that holds the recovery-code key (set by the
# runtime, like the audit key).
RECOVERY_CODE_KEY = "recovery_code_key"
KEYED = "hmac1:"  # the scheme of a stored recovery code; a bare hex digest is the old one


def required_for(user: User) -> bool:
    return works_at_the_clinic(user)


def needs_enrolment(user: User) -> bool:
    return required_for(user) and not user.two_factor_enabled


def _code_digest(code: str) -> bytes:
    return hashlib.sha256(code.strip().lower().replace("-", "").encode()).digest()


def _keyed(key: bytes, code_digest: bytes) -> str:
    """The stored form: 49 characters, within the column's 64."""
    mac = base64.urlsafe_b64encode(recovery_code_mac(key, code_digest))
    return KEYED + mac.rstrip(b"=").decode()


def _old_digest(stored: str) -> bytes | None:
    """The SHA-256 digest of a row stored the old way (64 hex digits), else None."""
    if stored.startswith(KEYED) or len(stored) != 64:
        return None
    try:
        return bytes.fromhex(stored)
    except ValueError:
        return None


def _recovery_code_key(db: Session) -> bytes:
    key = db.info.get(RECOVERY_CODE_KEY)
    if not key:
        raise RuntimeError("this database session has no recovery-code key")
    return bytes(key)


def _credential(db: Session, user_id: uuid.UUID) -> TotpCredential | None:
    return db.scalar(select(TotpCredential).where(TotpCredential.user_id == user_id))


@atomic
def begin_enrolment(work: Work) -> str:
    """Make a new, unconfirmed secret (replacing any unconfirmed one); return it."""
    existing = _credential(work.db, work.actor.id)
    if existing is not None and existing.confirmed_at is not None:
        raise ValidationError({"code": N_("Two-factor sign-in is already set up.")})
    if existing is not None:
        work.db.delete(existing)
        work.db.flush()
    secret = pyotp.random_base32()
    cred = TotpCredential(id=new_id(), user_id=work.actor.id, version=1, last_used_step=0)
    cred.secret = work.vault.seal_column(cred, "secret", work.actor.id, secret)
    work.db.add(cred)
    return secret


def pending_secret(work: Work) -> str | None:
    cred = _credential(work.db, work.actor.id)
    if cred is None or cred.confirmed_at is not None:
        return None
    return work.vault.open_column(cred, "secret", work.actor.id)


def provisioning_svg(secret: str, account: str) -> str:
    """The QR code for authenticator apps, as inline SVG (no outside service)."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)
    svg: str = segno.make(uri, error="m").svg_inline(scale=5, dark="#1f2a2a", light="#ffffff")
    return svg


def _accept_totp(cred: TotpCredential, secret: str, code: str, now: float) -> bool:
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    for step in (current - 1, current, current + 1):  # allow a little clock drift
        if step > cred.last_used_step and hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            cred.last_used_step = step
            return True
    return False


@atomic
def confirm_enrolment(
    work: Work,
    code: str,
    now: float | None = None,
    *,
    keep: uuid.UUID | None = None,
) -> list[str]:
    """Check the first code from the app, switch two-factor on, return recovery codes.

    Every other sign-in of the account ends (`keep`: the one doing this): a session
    opened with the password alone must not outlive the second factor."""
    cred = _credential(work.db, work.actor.id)
    if cred is None or cred.confirmed_at is not None:
        raise ValidationError({"code": N_("Start the set-up again.")})
    secret = work.vault.open_column(cred, "secret", work.actor.id)
    if not _accept_totp(cred, secret, code, time.time() if now is None else now):
        raise ValidationError(
            {"code": N_("That code did not match. Check the time on your phone.")}
        )
    cred.confirmed_at = utcnow()
    work.actor.user.two_factor_enabled = True
    codes = _new_recovery_codes(work.db, work.actor.id)
    end_other_sessions(work.db, work.actor.id, keep)
    audit.record(
        work.db, "two_factor.enable", actor=work.actor, object_type="user", object_id=work.actor.id
    )
    return codes


def _new_recovery_codes(db: Session, user_id: uuid.UUID) -> list[str]:
    key = _recovery_code_key(db)
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(5)  # 40 bits each, shown as xxxxx-xxxxx
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.add(RecoveryCode(id=new_id(), user_id=user_id, code_hash=_keyed(key, _code_digest(raw))))
    return codes


def upgrade_recovery_codes(db: Session, key: bytes) -> int:
    """Key every recovery code still stored as a bare SHA-256 digest, used or not, in
    place; return how many. Idempotent: a keyed row is left as it is."""
    upgraded = 0
    for row in db.scalars(select(RecoveryCode).where(~RecoveryCode.code_hash.startswith(KEYED))):
        digest = _old_digest(row.code_hash)
        if digest is not None:
            row.code_hash = _keyed(key, digest)
            upgraded += 1
    db.flush()
    return upgraded


@atomic
def verify(db: Session, vault: Vault, user: User, code: str, now: float | None = None) -> bool:
    """Check a TOTP code or an unused recovery code; either is used up on success."""
    cred = _credential(db, user.id)
    if cred is None or cred.confirmed_at is None:
        return False
    secret = vault.open_column(cred, "secret", user.id)
    if _accept_totp(cred, secret, code, time.time() if now is None else now):
        return True
    key = _recovery_code_key(db)
    digest = _code_digest(code)
    wanted, wanted_old = _keyed(key, digest), digest.hex()
    matched = None
    for row in db.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ):
        old = _old_digest(row.code_hash)
        if old is None:
            hit = hmac.compare_digest(row.code_hash, wanted)
        else:  # stored the old way: compared the old way, then keyed in place
            hit = hmac.compare_digest(row.code_hash, wanted_old)
            row.code_hash = _keyed(key, old)
        if hit and matched is None:
            matched = row
    if matched is None:
        return False
    matched.used_at = utcnow()
    audit.record(db, "two_factor.recovery_code", user=user, object_type="user", object_id=user.id)
    return True


def remaining_recovery_codes(db: Session, user_id: uuid.UUID) -> int:
    return (
        db.scalar(
            select(func.count()).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


@atomic
def remove(
    work: Work,
    passwords: Passwords,
    *,
    password: str,
    code: str,
    keep_session: uuid.UUID | None,
) -> None:
    """Drop the second factor (a new phone, or a lost one: then a recovery code). Needs
    the password and the second factor once more, and ends every other session;
    clinicians and admins must then set up a new one."""
    if not passwords.verify(work.actor.user.password_hash, password):
        raise ValidationError({"password": N_("That is not your current password.")})
    if not verify(work.db, work.vault, work.actor.user, code):
        raise ValidationError(
            {"code": N_("That code did not work. Use a code from your app or a recovery code.")}
        )
    work.db.execute(delete(TotpCredential).where(TotpCredential.user_id == work.actor.id))
    work.db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == work.actor.id))
    work.actor.user.two_factor_enabled = False
    end_other_sessions(work.db, work.actor.id, keep=keep_session)
    audit.record(
        work.db, "two_factor.remove", actor=work.actor, object_type="user", object_id=work.actor.id
    )
