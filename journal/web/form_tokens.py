"""One-time form tokens on the web side: a form that creates something says
`{{ form_token() }}` inside its <form>, and its view is decorated with `@once`.

The same POST sent again (a browser's resend, a retry) then makes nothing and is sent
to what the first one made. A POST without a token (an older page, a script) works as
before, only without that protection.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, flash, redirect, request
from flask_login import current_user
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from journal.accounts import form_tokens
from journal.web import context

FIELD = "form_token"
ALREADY_SAVED = "This was already saved; here it is. Nothing was saved twice."
F = TypeVar("F", bound=Callable[..., Any])


def _posted() -> str | None:
    raw = request.form.get(FIELD, "")
    return raw if form_tokens.is_token(raw) else None


def form_token() -> Markup:
    """The hidden field, with a fresh token each time a form is shown: two forms on one
    page (a comment and a reply) never share one."""
    token = form_tokens.new_token()
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, escape(token))


def once(view: F) -> F:
    """A POST whose token already made something redirects there; a first POST that
    answers with a redirect records the token with that address, in the request's unit
    of work, so both are kept or neither."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = _posted() if request.method == "POST" else None
        if token is None or not current_user.is_authenticated:
            return view(*args, **kwargs)
        if (url := form_tokens.answered(context.work(), token)) is not None:
            flash(ALREADY_SAVED)
            return redirect(url)
        answer = view(*args, **kwargs)
        if isinstance(answer, Response) and answer.status_code in {302, 303} and answer.location:
            form_tokens.remember(context.work(), token, answer.location)
        return answer

    return cast(F, wrapper)


def init_form_tokens(app: Flask) -> None:
    app.add_template_global(form_token)
