"""Sign-in throttling with Flask-Limiter.

Only failed sign-ins count. One account gets a few tries in a window (others
still sign in); one address gets more, across all accounts. With Redis as the
storage the counts are shared by every worker and every app server.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, make_response, render_template, request
from flask_limiter import Limiter
from flask_limiter._extension import RequestLimit

from journal.accounts.accounts import normalise_email
from journal.web import context
from journal.web.auth.forms import LoginForm
from journal.web.auth.views import pending_user_key

PER_ACCOUNT = "5 per 15 minutes"
PER_ADDRESS = "30 per 15 minutes"
LOGIN_ENDPOINT = "auth.login"
SECOND_FACTOR_ENDPOINT = "auth.second_factor"


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
    _limit_failures(app, limiter, LOGIN_ENDPOINT, PER_ACCOUNT, _account, "account")
    _limit_failures(app, limiter, LOGIN_ENDPOINT, PER_ADDRESS, _address, "address")
    # Guessing the 6-digit code: the same few tries per account.
    _limit_failures(
        app, limiter, SECOND_FACTOR_ENDPOINT, PER_ACCOUNT, pending_user_key, "second-factor"
    )


def _limit_failures(
    app: Flask, limiter: Limiter, endpoint: str, limit: str, key: Callable[[], str], scope: str
) -> None:
    """Count failed POSTs to an endpoint under `key`; refuse once the limit is reached."""
    view: Any = app.view_functions[endpoint]
    app.view_functions[endpoint] = limiter.limit(
        limit,
        key_func=key,
        methods=["POST"],
        deduct_when=_failed,
        on_breach=_too_many,
        scope=scope,
    )(view)
