"""Throttling with Flask-Limiter: guessing passwords, and writing by script.

Password checks. Every form that checks a signed-in or signing-in person's password
counts its failures in two budgets, one per account and one per client address, and
all of them share the same two: the sign-in form and the re-checks before sensitive
actions (`/account/confirm`, the current password on a password change, removing
two-factor sign-in, the export's re-sign-in). A wrong password on a re-check costs what
it costs on the sign-in form, so a stolen session guesses no faster than a stranger.
Wrong two-factor codes at sign-in count per pending account.

Instead of a lock, the waits double. The budget is a ladder of moving windows, each one
try more over about twice the time (5 in 1 minute, 6 in 3, 7 in 7, ...): after 5 quick
failures the next try waits a minute, the one after 2 minutes, then 4, 8, 16, 32. The
answer says how long; the right password after the wait gets in. Only failures count,
and a refused try is not one. A person who mistypes a few times waits a minute or two;
a guesser gets about 10 tries an hour per account.

Writes. Each signed-in person may send `write_limit` forms (every POST), by default
60 a minute and 1000 a day: more than a person types, less than a script sends.

The counts live where `ratelimit_storage_uri` says: in memory they are the process's
own, so a server with several workers needs Redis (`check_workers`).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable
from typing import Any

from flask import (
    Flask,
    Response,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter._extension import RequestLimit
from flask_login import current_user

from journal.accounts import accounts
from journal.accounts.accounts import normalise_email
from journal.config import WRITE_LIMIT_OFF, ConfigError
from journal.web import context
from journal.web.auth.forms import LoginForm
from journal.web.auth.views import pending_user_key
from journal.web.security import check_failed, login_is_recent

# Windows of 2^k - 1 minutes: each further try waits twice as long as the one before.
ACCOUNT_BUDGET = (
    "5 per minute;6 per 3 minutes;7 per 7 minutes;8 per 15 minutes;9 per 31 minutes;"
    "10 per 63 minutes"
)
# Many people may share an address (a clinic's network): five tries a step.
ADDRESS_BUDGET = (
    "20 per minute;25 per 3 minutes;30 per 7 minutes;35 per 15 minutes;40 per 31 minutes;"
    "45 per 63 minutes"
)
LOGIN = "auth.login"
SECOND_FACTOR = "auth.second_factor"
# "Forgot my password" sends e-mail for anonymous visitors: a few a minute per address,
# and a few an hour per address asked about, known or not (so the answer tells nothing).
RESET = "password_links.forgot"
RESET_PER_ADDRESS = "5 per minute;20 per hour"
RESET_PER_ACCOUNT = "3 per hour"


def _hashed(value: str) -> str:
    """Counters are keyed by a keyed hash: Redis never holds an email or an address."""
    key = str(current_app.secret_key).encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]


def _address() -> str:
    return _hashed(context.client_address() or "unknown")


def _posted_account() -> str:
    return _hashed(normalise_email(request.form.get("email", "")) or "-")


def _signed_in_account() -> str:
    # The same key as the sign-in form's for this account: the budget is one.
    return _hashed(normalise_email(context.user().email))


def _never() -> bool:
    return False


def _export_without_recheck() -> bool:
    """An export re-checks the password only on a stale sign-in, with one posted."""
    return login_is_recent() or not request.form.get("password")


# The re-checks of a signed-in person's password, and when a request makes none.
RECHECKS: dict[str, Callable[[], bool]] = {
    "auth.confirm_identity": _never,
    "auth.change_password": _never,
    "auth.two_factor_remove": _never,
    "export.course_export": _export_without_recheck,
    "export.my_data": _export_without_recheck,
}


def _failed(_response: Response) -> bool:
    return check_failed()


def _now() -> float:
    return time.time()


def _wait_seconds(limit: RequestLimit) -> int:
    """Until the budget allows one more try: the latest of the breached windows."""
    breached = [lim.reset_at for lim in limit.extension.current_limits if lim.breached]
    return max(1, math.ceil(max(breached, default=limit.reset_at) - _now()))


def _in_words(seconds: int) -> str:
    """Rounded up, so that trying again after the time said works."""
    if seconds < 120:
        return str(ngettext("%(num)s second", "%(num)s seconds", seconds))
    if seconds < 2 * 3600:
        return str(ngettext("%(num)s minute", "%(num)s minutes", math.ceil(seconds / 60)))
    return str(ngettext("%(num)s hour", "%(num)s hours", math.ceil(seconds / 3600)))


def _refusal(body: Any, seconds: int) -> Response:
    response = make_response(body, 429)
    response.headers["Retry-After"] = str(seconds)
    return response


def _too_many_sign_ins(limit: RequestLimit) -> Response:
    seconds = _wait_seconds(limit)
    if request.endpoint == LOGIN and _account_budget_spent(limit):
        # The owner hears of it, once an hour at most; a refusal for the address alone
        # (someone trying many accounts) writes nothing, so it cannot send mail at will.
        # A unit of its own: the refusal is an error answer, whose unit keeps nothing.
        with context.runtime().work(write=True) as unit:
            accounts.warn_of_failed_sign_ins(unit, request.form.get("email", ""))
    form = LoginForm()
    form.form_errors.append(
        _("Too many attempts to sign in. Please try again in %(wait)s.", wait=_in_words(seconds))
    )
    return _refusal(render_template("auth/login.html", form=form), seconds)


def _account_budget_spent(limit: RequestLimit) -> bool:
    return any(
        lim.breached and "password-account" in lim.key for lim in limit.extension.current_limits
    )


def _error_page(title: str, text: str) -> str:
    return render_template("errors/error.html", status=429, title=title, text=text)


def _too_many_rechecks(limit: RequestLimit) -> Response:
    seconds = _wait_seconds(limit)
    text = _(
        "There were too many wrong passwords for this account or from this address. "
        "Please wait %(wait)s, then try again.",
        wait=_in_words(seconds),
    )
    return _refusal(_error_page(_("Too many attempts"), text), seconds)


def _too_many_writes(limit: RequestLimit) -> Response:
    seconds = _wait_seconds(limit)
    wait = _in_words(seconds)
    if request.accept_mimetypes.best == "application/json":  # autosave
        return _refusal(
            jsonify(saved=False, error=_("too many saves; wait %(wait)s.", wait=wait)), seconds
        )
    text = _(
        "You sent more in a short time than the journal takes from one person, and this "
        "was not saved. Please wait %(wait)s, then go back and send it again.",
        wait=wait,
    )
    return _refusal(_error_page(_("Too many changes at once"), text), seconds)


def _too_many_resets(limit: RequestLimit) -> Response:
    seconds = _wait_seconds(limit)
    text = _("Too many requests for a new password. Please wait %(wait)s.", wait=_in_words(seconds))
    return _refusal(_error_page(_("Too many requests"), text), seconds)


def _person() -> str:
    return str(context.user().id)


def _not_a_write() -> bool:
    return request.method in context.SAFE_METHODS or not current_user.is_authenticated


def _not_refused(response: Response) -> bool:
    # A write refused here is not charged, in any of the limit's windows.
    return response.status_code != 429


def init_throttle(app: Flask, storage_uri: str, key_prefix: str) -> None:
    """One limiter per app, so each app (and each test) has its own storage."""
    write_limit = context.runtime_of(app).settings.write_limit
    writes: list[str | Callable[[], str] | ApplicationLimit] = []
    if write_limit != WRITE_LIMIT_OFF:
        writes.append(
            ApplicationLimit(
                write_limit,
                key_function=_person,
                scope="writes",
                exempt_when=_not_a_write,
                deduct_when=_not_refused,
                on_breach=_too_many_writes,
            )
        )
    limiter = Limiter(
        key_func=_address,
        storage_uri=storage_uri,
        strategy="moving-window",
        key_prefix=f"{key_prefix}-login",
        application_limits=writes,
        fail_on_first_breach=False,  # every breached window is known: the wait is the longest
    )
    limiter.init_app(app)
    _count_failures(app, limiter, LOGIN, _posted_account, _too_many_sign_ins)
    for endpoint, exempt in RECHECKS.items():
        _count_failures(app, limiter, endpoint, _signed_in_account, _too_many_rechecks, exempt)
    for budget, key, scope in (
        (RESET_PER_ADDRESS, _address, "reset-address"),
        (RESET_PER_ACCOUNT, _posted_account, "reset-account"),
    ):
        _wrap(
            app,
            RESET,
            limiter.limit(
                budget, key_func=key, methods=["POST"], scope=scope, on_breach=_too_many_resets
            ),
        )
    # Guessing the 6-digit code: the same tiers per pending account.
    _wrap(
        app,
        SECOND_FACTOR,
        limiter.limit(
            ACCOUNT_BUDGET,
            key_func=pending_user_key,
            methods=["POST"],
            deduct_when=_failed,
            on_breach=_too_many_sign_ins,
            scope="second-factor",
        ),
    )


def _count_failures(
    app: Flask,
    limiter: Limiter,
    endpoint: str,
    account: Callable[[], str],
    refuse: Callable[[RequestLimit], Response],
    exempt: Callable[[], bool] = _never,
) -> None:
    """Failed password checks at `endpoint` count in the shared per-account and
    per-address budgets; over either, the endpoint refuses before checking anything."""
    for budget, key, scope in (
        (ACCOUNT_BUDGET, account, "password-account"),
        (ADDRESS_BUDGET, _address, "password-address"),
    ):
        _wrap(
            app,
            endpoint,
            limiter.shared_limit(
                budget,
                scope=scope,
                key_func=key,
                methods=["POST"],
                deduct_when=_failed,
                exempt_when=exempt,
                on_breach=refuse,
            ),
        )


def _wrap(app: Flask, endpoint: str, decorator: Callable[[Any], Any]) -> None:
    app.view_functions[endpoint] = decorator(app.view_functions[endpoint])


def check_workers(app: Flask, workers: int) -> None:
    """Refuse counts kept in memory under a server with several worker processes: each
    would count on its own, and a guesser would get every budget once per worker."""
    uri = context.runtime_of(app).settings.ratelimit_storage_uri
    if workers > 1 and uri.startswith("memory://"):
        raise ConfigError(
            f"gunicorn runs {workers} workers but ratelimit_storage_uri is {uri!r}, which "
            "counts failed sign-ins and writes in each worker apart; set "
            "JOURNAL_RATELIMIT_STORAGE_URI (or ratelimit_storage_uri in config.toml) to a "
            "Redis URL such as redis://127.0.0.1:6379/0, or serve with --workers 1"
        )
