"""Per-request access to the runtime and the request's unit of work.

A request is one unit of work: made at its first use, committed once after the
view has answered (before the response leaves), rolled back when the answer is
an error page. A state-changing request writes; a GET reads, and what its reads
must write (audit rows, last-seen times) is written as the unit ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, current_app, g, request
from flask_login import current_user
from sqlalchemy.orm import Session

from journal.core.actor import Actor
from journal.core.vault import Vault
from journal.core.work import Work
from journal.models import LoginSession, User
from journal.runtime import Runtime

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
F = TypeVar("F", bound=Callable[..., Any])


def runtime() -> Runtime:
    return runtime_of(current_app)


def runtime_of(app: Flask) -> Runtime:
    return cast(Runtime, app.extensions["journal"])


def reads_only(view: F) -> F:
    """A POST that changes nothing but what its reads record (a search, sent as a POST
    so its words stay out of URLs): its unit reads, so it queues on no write lock and
    its audit rows are written as it ends. Its view must not write otherwise."""
    view.reads_only = True  # type: ignore[attr-defined]
    return view


def _writes() -> bool:
    if request.method in SAFE_METHODS:
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return not getattr(view, "reads_only", False)


def work() -> Work:
    if "work" not in g:
        g.work = runtime().work(write=_writes(), actor=_signed_in)
    return cast(Work, g.work)


def db() -> Session:
    return work().db


def vault() -> Vault:
    return work().vault


def commit_work() -> None:
    """After the view: keep what the request did (journal.web.errors turns a failure
    here into the error page)."""
    unit = g.get("work")
    if unit is not None:
        unit.commit()


def commit_before_slow_work() -> None:
    """Commit the request's unit now, before work that needs no database and takes
    seconds (typesetting a PDF), so no transaction (on SQLite, the write lock) waits
    on it. The unit stays open for anything after; the end of the request commits it."""
    work().commit()


def discard_work() -> None:
    """An error page keeps nothing of the request's changes."""
    unit = g.get("work")
    if unit is not None:
        unit.discard()


def close_work(_exc: BaseException | None = None) -> None:
    unit = g.pop("work", None)
    if unit is not None:
        unit.close()


def client_address() -> str | None:
    return request.remote_addr


def user() -> User:
    return cast(User, current_user.user)


def actor() -> Actor:
    return Actor(user(), client_address())


def _signed_in() -> Actor | None:
    """The request's actor, once the session is loaded: nobody for a visitor."""
    return actor() if current_user.is_authenticated else None


def current_login() -> LoginSession:
    return cast(LoginSession, current_user.login)


def current_login_id() -> uuid.UUID:
    return current_login().id
