"""The web side: one blueprint per feature. Views call services, never crypto or raw SQL."""

from __future__ import annotations

from flask import Flask

from journal.web import context
from journal.web.admin import bp as admin_bp
from journal.web.auth import bp as auth_bp
from journal.web.courses import bp as courses_bp
from journal.web.entries import bp as entries_bp
from journal.web.errors import init_errors
from journal.web.export import bp as export_bp
from journal.web.filters import init_filters
from journal.web.health import bp as health_bp
from journal.web.home import bp as home_bp
from journal.web.security import init_security
from journal.web.throttle import init_throttle


def init_app(app: Flask) -> None:
    init_security(app)
    init_errors(app)
    init_filters(app)
    app.teardown_appcontext(context.close_db)
    for bp in (auth_bp, home_bp, courses_bp, entries_bp, export_bp, admin_bp, health_bp):
        app.register_blueprint(bp)
    settings = context.runtime_of(app).settings
    init_throttle(app, settings.ratelimit_storage_uri, settings.ratelimit_key_prefix)
