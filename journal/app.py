"""Application assembly: settings, keys, database, extensions, blueprints, CLI."""

from __future__ import annotations

import logging

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from journal import cli, crisis, web
from journal.config import PROJECT_ROOT, ConfigError, Settings, load_settings
from journal.runtime import build_runtime

log = logging.getLogger("journal.help")


def build_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    secret_key = settings.read_secret_key()
    runtime = build_runtime(settings)

    app = Flask(
        "journal",
        instance_path=str(settings.instance_path),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(
        SECRET_KEY=secret_key,
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        MAX_FORM_MEMORY_SIZE=settings.max_request_bytes,
        SESSION_COOKIE_NAME="journal_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.https,
        PREFERRED_URL_SCHEME="https" if settings.https else "http",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the login session
        # Flask-WTF's HTTPS check wants a Referer header, which Referrer-Policy:
        # no-referrer removes; the token and SameSite cookies remain the defence.
        WTF_CSRF_SSL_STRICT=False,
        TESTING=settings.testing,
    )
    if app.debug and not settings.development:
        runtime.database.dispose()
        raise ConfigError(
            "debug mode shows program state to anyone who sees an error page; it is "
            "refused unless JOURNAL_DEVELOPMENT=1 is set on a development machine"
        )
    app.extensions["journal"] = runtime
    if settings.trusted_proxies:
        # Behind N reverse proxies: the client address is the Nth from the right of
        # X-Forwarded-For (what the proxies added; anything the client sent is further
        # left) and the scheme is theirs. Not the host: links use base_url.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]

    web.init_app(app)
    cli.register(app)
    _warn_of_default_crisis_help(settings)
    return app


def _warn_of_default_crisis_help(settings: Settings) -> None:
    """Until the clinic sets its own, patients in distress see the shipped crisis help."""
    defaults = crisis.defaults_in_place(settings)
    if defaults:
        log.warning(
            "the crisis help patients see is still the shipped default; set your clinic's "
            "own in instance/config.toml (docs/clinical-content.md): %s",
            "; ".join(defaults),
        )
