"""Generic error pages. They say what happened, never why in detail."""

from __future__ import annotations

import logging
import traceback

from flask import Flask, Response, render_template, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from journal.core.errors import DecryptionError, Forbidden, NotFound, Unavailable
from journal.web import context

log = logging.getLogger("journal.integrity")

MESSAGES = {
    400: (
        _l("Something in that request was not right"),
        _l("Go back, reload the page and try again."),
    ),
    403: (_l("Not available to you"), _l("Your account cannot open or change this.")),
    404: (_l("Not found"), _l("There is nothing here, or it is not yours to see.")),
    405: (_l("Not allowed"), _l("That action is not possible here.")),
    413: (_l("Too large"), _l("What you sent is larger than the journal accepts.")),
    414: (
        _l("Too long"),
        _l("That address is longer than the journal accepts. Go back and use fewer words."),
    ),
    431: (
        _l("Too large"),
        _l("What your browser sent is larger than the journal accepts. Reload the page."),
    ),
    429: (_l("Too many attempts"), _l("Please wait a few minutes and try again.")),
    503: (_l("Not available"), _l("Please try again later.")),
    500: (_l("Something went wrong"), _l("The error was logged. Please try again later.")),
}


def _page(status: int, title: str | None = None, text: str | None = None) -> tuple[str, int]:
    context.discard_work()
    default_title, default_text = MESSAGES.get(status, MESSAGES[500])
    return (
        render_template(
            "errors/error.html",
            status=status,
            title=title or default_title,
            text=text or default_text,
        ),
        status,
    )


def standalone_page(app: Flask, status: int) -> str:
    """The error page for a status, made outside any request: for the answers the web
    server gives before the app sees a request (a URL too long, a malformed line)."""
    title, text = MESSAGES.get(status, MESSAGES[400])
    with app.test_request_context("/"):
        return render_template("errors/error.html", status=status, title=title, text=text)


def init_errors(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int] | Response:
        if exc.response is not None:  # a view built its own answer (e.g. throttled sign-in)
            context.discard_work()
            return exc.response  # type: ignore[return-value]
        return _page(exc.code or 500)

    @app.errorhandler(CSRFError)
    def csrf_error(_exc: CSRFError) -> tuple[str, int]:
        return _page(400, _("The form expired"), _("Reload the page and send it again."))

    @app.errorhandler(NotFound)
    def not_found(_exc: NotFound) -> tuple[str, int]:
        return _page(404)

    @app.errorhandler(Forbidden)
    def forbidden(_exc: Forbidden) -> tuple[str, int]:
        return _page(403)

    @app.errorhandler(Unavailable)
    def unavailable(exc: Unavailable) -> tuple[str, int]:
        log.error("not available on this server: %s", exc)
        return _page(
            503,
            _("Not available on this server"),
            _(
                "This server is missing something it needs for this. The administrator will "
                "find what to install in the log."
            ),
        )

    @app.errorhandler(DecryptionError)
    def integrity(exc: DecryptionError) -> tuple[str, int]:
        # Row, column and key id only: the exception never carries content.
        log.error("decryption failed: %s at %s key %s", exc.reason, exc.where, exc.key_id)
        return _page(
            500,
            _("This record could not be read"),
            _(
                "It failed its integrity check. "
                "The event was logged for the clinic's administrator."
            ),
        )

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[str, int]:
        _log_unexpected(app, exc)
        return _page(500)

    @app.after_request
    def commit(response: Response) -> Response:
        """Keep what the request did before its answer leaves. If that fails, the answer
        becomes the error page: nothing was kept, so neither is the session's new state
        (a flashed "saved", a signed-out cookie)."""
        try:
            context.commit_work()
        except Exception as exc:
            _log_unexpected(app, exc)
            context.discard_work()
            session.pop("_flashes", None)  # nothing was kept: nothing to announce
            session.modified = False  # the cookie keeps the state it came with
            raise CommitFailed from None  # the 500 page; the log has no values
        return response


class CommitFailed(Exception):
    """The request's changes could not be kept (the cause is logged, without values)."""


def _log_unexpected(app: Flask, exc: BaseException) -> None:
    # The type and the frames, not the message: messages can quote values.
    frames = "".join(traceback.format_tb(exc.__traceback__))
    app.logger.error("unhandled %s\n%s", type(exc).__name__, frames)
