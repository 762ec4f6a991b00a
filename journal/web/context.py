"""Per-request access to the runtime, the database session, the vault and the actor."""

from __future__ import annotations

import uuid
from typing import cast

from flask import Flask, current_app, g, request
from flask_login import current_user
from sqlalchemy.orm import Session

from journal.models import LoginSession, User
from journal.runtime import Runtime
from journal.services.actor import Actor
from journal.services.vault import Vault

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def runtime() -> Runtime:
    return runtime_of(current_app)


def runtime_of(app: Flask) -> Runtime:
    return cast(Runtime, app.extensions["journal"])


def db() -> Session:
    """The request's session; state-changing requests take the write lock up front."""
    if "db" not in g:
        g.db = runtime().database.session(write=request.method not in SAFE_METHODS)
    return cast(Session, g.db)


def vault() -> Vault:
    if "vault" not in g:
        g.vault = Vault(db(), runtime().ring)
    return cast(Vault, g.vault)


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    g.pop("vault", None)
    if session is not None:
        session.close()


def client_address() -> str | None:
    return request.remote_addr


def user() -> User:
    return cast(User, current_user.user)


def actor() -> Actor:
    return Actor(user(), client_address())


def current_login() -> LoginSession:
    return cast(LoginSession, current_user.login)


def current_login_id() -> uuid.UUID:
    return current_login().id
