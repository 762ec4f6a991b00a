"""Sign-in throttling with Flask-Limiter.

Only failed sign-ins count. One account gets a few tries in a window (others
still sign in); one address gets more, across all accounts. With Redis as the
storage the counts are shared by every worker and every app server.
"""

from __future__ import annotations

import math
import time
from typing import Any

from flask import Flask, Response, make_response, render_template, request
from flask_limiter import Limiter
from flask_limiter._extension import RequestLimit

from journal.services.accounts import normalise_email
from journal.web import context
from journal.web.auth.forms import LoginForm

PER_ACCOUNT = "5 per 15 minutes"
PER_ADDRESS = "30 per 15 minutes"
LOGIN_ENDPOINT = "auth.login"


def _address() -> str:
    return context.client_address() or "unknown"


def _account() -> str:
    return normalise_email(request.form.get("email", "")) or "-"


def _failed(response: Response) -> bool:
    # A failed sign-in shows the form again (200); success redirects (302).
    return response.status_code == 200


def _too_many(limit: RequestLimit) -> Response:
    minutes = max(1, math.ceil((limit.reset_at - time.time()) / 60))
    form = LoginForm()
    form.form_errors.append(
        f"Too many attempts to sign in. Please try again in {minutes} "
        f"minute{'s' if minutes != 1 else ''}."
    )
    response = make_response(render_template("auth/login.html", form=form), 429)
    response.headers["Retry-After"] = str(minutes * 60)
    return response


def init_throttle(app: Flask, storage_uri: str, key_prefix: str) -> None:
    """One limiter per app, so each app (and each test) has its own storage."""
    limiter = Limiter(
        key_func=_address,
        storage_uri=storage_uri,
        strategy="moving-window",
        key_prefix=f"{key_prefix}-login",
    )
    limiter.init_app(app)
    view: Any = app.view_functions[LOGIN_ENDPOINT]
    for limit, key, scope in (
        (PER_ACCOUNT, _account, "account"),
        (PER_ADDRESS, _address, "address"),
    ):
        view = limiter.limit(
            limit,
            key_func=key,
            methods=["POST"],
            deduct_when=_failed,
            on_breach=_too_many,
            scope=scope,
        )(view)
    app.view_functions[LOGIN_ENDPOINT] = view
