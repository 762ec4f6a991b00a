"""Accounts, sign-in and login sessions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.passwords import Passwords, password_problem, temporary_password
from journal.accounts.policy import administers, keeps_a_journal, require
from journal.core.actor import Actor
from journal.core.catalogues import reader_words
from journal.core.errors import NotFound, ValidationError
from journal.core.labels import N_
from journal.core.mail import Mail
from journal.core.work import Work
from journal.db import atomic, new_id, utcnow, write_soon
from journal.models import LoginSession, PasswordLink, Role, User

EMAIL_MAX = 254
NAME_MAX = 120


@dataclass(frozen=True)
class SessionLimits:
    idle_staff: timedelta = timedelta(minutes=30)
    idle_patient: timedelta = timedelta(minutes=60)
    absolute: timedelta = timedelta(hours=12)
    touch_every: timedelta = timedelta(minutes=1)
    recent: timedelta = timedelta(minutes=5)  # export, two-factor and key changes


def has_control_chars(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


def normalise_email(email: str) -> str:
    """Lower-cased and trimmed; a value with control characters matches no one
    (PostgreSQL refuses NUL in text, so such a value must never reach a query)."""
    email = email.strip().lower()
    return "" if has_control_chars(email) else email


def _validate_identity(db: Session, email: str, name: str) -> None:
    errors: dict[str, str] = {}
    if not email or "@" not in email or len(email) > EMAIL_MAX or " " in email:
        errors["email"] = N_("Enter a valid email address.")
    elif db.scalar(select(User.id).where(User.email == email)) is not None:
        errors["email"] = N_("An account with this email already exists.")
    if not name.strip() or len(name) > NAME_MAX or has_control_chars(name):
        errors["name"] = N_("Enter a name of 1 to %(limit)s characters.", limit=NAME_MAX)
    if errors:
        raise ValidationError(errors)


@atomic
def create_user(
    db: Session,
    passwords: Passwords,
    *,
    email: str,
    name: str,
    role: Role,
    password: str | None = None,
    actor: Actor | None = None,
) -> tuple[User, str | None]:
    """Create an account. Without a password, a temporary one is made and returned;
    it must be changed at first sign-in."""
    email = normalise_email(email)
    _validate_identity(db, email, name)
    temp = None
    if password is None:
        temp = password = temporary_password()
    elif problem := password_problem(password, email=email):
        raise ValidationError({"password": problem})
    user = User(
        id=new_id(),
        email=email,
        name=name.strip(),
        role=role,
        password_hash=passwords.hash(password),
        must_change_password=temp is not None,
        active=True,
    )
    db.add(user)
    audit.record(db, "user.create", actor=actor, object_type="user", object_id=user.id)
    return user, temp


@atomic
def authenticate(
    db: Session, passwords: Passwords, email: str, password: str, address: str | None
) -> User | None:
    """The user for these credentials, or None; both failure kinds look the same."""
    user = db.scalar(select(User).where(User.email == normalise_email(email)))
    ok = passwords.verify(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        audit.record(db, "login", user=user, outcome="failure", address=address)
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash(password)
    audit.record(db, "login.password", user=user, address=address)
    return user


@atomic
def start_login_session(db: Session, user: User, address: str | None) -> LoginSession:
    """Every factor is checked: the person is signed in."""
    now = utcnow()
    login = LoginSession(
        id=new_id(), user_id=user.id, created_at=now, last_seen_at=now, authenticated_at=now
    )
    user.last_login_at = now
    db.add(login)
    audit.record(db, "login", user=user, address=address)
    return login


@atomic
def record_failed_second_factor(db: Session, user: User, address: str | None) -> None:
    audit.record(db, "login.second_factor", user=user, outcome="failure", address=address)


@atomic
def confirm_identity(db: Session, login: LoginSession) -> None:
    """The person re-entered their credentials: their login counts as recent again."""
    login.authenticated_at = utcnow()


def is_recent(login: LoginSession, within: timedelta, now: datetime | None = None) -> bool:
    proven = login.authenticated_at or login.created_at
    return (now or utcnow()) - proven <= within


@atomic
def end_login_session(work: Work, login_id: uuid.UUID) -> None:
    work.db.execute(
        update(LoginSession)
        .where(LoginSession.id == login_id, LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    audit.record(work.db, "logout", actor=work.actor)


def end_other_sessions(db: Session, user_id: uuid.UUID, keep: uuid.UUID | None) -> None:
    stmt = update(LoginSession).where(
        LoginSession.user_id == user_id, LoginSession.ended_at.is_(None)
    )
    if keep is not None:
        stmt = stmt.where(LoginSession.id != keep)
    db.execute(stmt.values(ended_at=utcnow()))


@cache
def _resume_statement() -> Select[LoginSession, User]:
    """Built once: it runs on every signed-in request."""
    return (
        select(LoginSession, User)
        .join(User, User.id == LoginSession.user_id)
        .where(LoginSession.id == bindparam("login_id"))
    )


def resume_login_session(
    db: Session, login_id: uuid.UUID, limits: SessionLimits, now: datetime | None = None
) -> tuple[LoginSession, User] | None:
    """The live session and its user, or None if it ended, expired or the user is inactive."""
    now = now or utcnow()
    row = db.execute(_resume_statement(), {"login_id": login_id}).first()
    if row is None:
        return None
    login, user = row
    idle = limits.idle_patient if keeps_a_journal(user) else limits.idle_staff
    expired = now - login.last_seen_at > idle or now - login.created_at > limits.absolute
    if login.ended_at is not None or not user.active or expired:
        return None
    if now - login.last_seen_at > limits.touch_every:

        def touch(_db: Session) -> None:
            login.last_seen_at = now

        write_soon(db, touch)
    return login, user


@atomic
def change_password(
    work: Work,
    passwords: Passwords,
    *,
    current: str,
    new: str,
    keep_session: uuid.UUID | None,
) -> None:
    """Change the actor's password; every other session of theirs ends."""
    user = work.actor.user
    if not passwords.verify(user.password_hash, current):
        raise ValidationError({"current_password": N_("That is not your current password.")})
    if problem := password_problem(new, email=user.email):
        raise ValidationError({"new_password": problem})
    if new == current:
        raise ValidationError(
            {"new_password": N_("Choose a password different from the current one.")}
        )
    user.password_hash = passwords.hash(new)
    user.must_change_password = False
    end_other_sessions(work.db, user.id, keep=keep_session)
    expire_password_links(work.db, user.id)
    audit.record(
        work.db, "user.password_change", actor=work.actor, object_type="user", object_id=user.id
    )


def expire_password_links(db: Session, user_id: uuid.UUID) -> None:
    """A changed password ends every invitation or reset link still waiting for it."""
    db.execute(
        update(PasswordLink)
        .where(PasswordLink.user_id == user_id, PasswordLink.used_at.is_(None))
        .values(used_at=utcnow())
    )


@atomic
def set_active(work: Work, user_id: uuid.UUID, active: bool) -> User:
    """Activate or deactivate an account; deactivation ends its sessions at once."""
    require(administers(work.actor.user))
    user = work.db.get(User, user_id)
    if user is None:
        raise NotFound()
    if user.id == work.actor.id and not active:
        raise ValidationError({"active": N_("You cannot deactivate your own account.")})
    user.active = active
    if not active:
        end_other_sessions(work.db, user.id, keep=None)
    action = "user.activate" if active else "user.deactivate"
    audit.record(work.db, action, actor=work.actor, object_type="user", object_id=user.id)
    return user


def list_users(work: Work) -> list[User]:
    require(administers(work.actor.user))
    return list(work.db.scalars(select(User).order_by(User.role, User.name)))


def find_user_by_email(db: Session, email: str, role: Role | None = None) -> User | None:
    stmt = select(User).where(User.email == normalise_email(email))
    if role is not None:
        stmt = stmt.where(User.role == role)
    return db.scalar(stmt)


def get_user(db: Session, user_id: uuid.UUID) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound()
    return user


def warn_of_failed_sign_ins(work: Work, email: str) -> None:
    """Tell an account's owner that sign-in is being slowed down for it: at most one
    message an hour. Nothing is said to the person at the form either way."""
    user = work.db.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not user.active:
        return
    hour = utcnow().strftime("%Y%m%d%H")
    clinic = work.settings.clinic_name
    w = reader_words(work.settings, user.language)
    work.send_mail(
        Mail(
            kind="sign_in_failures",
            key=f"sign_in_failures:{user.id}:{hour}",
            user_id=user.id,
            to=user.email,
            subject=w(N_("Several wrong passwords for your account at %(clinic)s"), clinic=clinic),
            body=(
                w(N_("Hello %(name)s,"), name=user.name)
                + "\n\n"
                + w(
                    N_(
                        "Someone typed a wrong password for your account several times, so "
                        "signing in is slowed down for a while. If it was you, wait a little "
                        "and try again, or choose a new password: %(url)s"
                    ),
                    url=f"{work.settings.base_url}/reset",
                )
                + "\n\n"
                + w(
                    N_(
                        "If it was not you, your password still protects your account; you "
                        "may want to change it once you are signed in, and to turn on "
                        "two-factor sign-in."
                    )
                )
                + "\n"
            ),
        )
    )


def names_of(db: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """People's names by id, in one query (for who saved, witnessed or was present)."""
    if not ids:
        return {}
    return dict(db.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


@atomic
def set_language(work: Work, language: str | None, offered: tuple[str, ...]) -> None:
    """The actor's own language for the pages (None: their browser's); one the clinic
    offers."""
    if language is not None and language not in offered:
        raise ValidationError({"language": N_("Choose one of the languages listed.")})
    work.actor.user.language = language
