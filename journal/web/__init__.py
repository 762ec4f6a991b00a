"""The web side: one blueprint per feature. Views call services, never crypto or raw SQL."""

from __future__ import annotations

from flask import Flask

from journal.web import context
from journal.web.access_log import bp as access_log_bp
from journal.web.admin import bp as admin_bp
from journal.web.auth import bp as auth_bp
from journal.web.care_team import bp as care_team_bp
from journal.web.comments import bp as comments_bp
from journal.web.consent import bp as consent_bp
from journal.web.courses import bp as courses_bp
from journal.web.drafts import bp as drafts_bp
from journal.web.entries import bp as entries_bp
from journal.web.errors import init_errors
from journal.web.export import bp as export_bp
from journal.web.filters import init_filters
from journal.web.form_tokens import init_form_tokens
from journal.web.health import bp as health_bp
from journal.web.help import bp as help_bp
from journal.web.home import bp as home_bp
from journal.web.i18n import init_i18n
from journal.web.intentions import bp as intentions_bp
from journal.web.language import bp as language_bp
from journal.web.notes import bp as notes_bp
from journal.web.notices import init_notices
from journal.web.password_links import bp as password_links_bp
from journal.web.prompts import bp as prompts_bp
from journal.web.questionnaires import bp as questionnaires_bp
from journal.web.quick import bp as quick_bp
from journal.web.reminders import bp as reminders_bp
from journal.web.review import bp as review_bp
from journal.web.safety_plan import bp as safety_plan_bp
from journal.web.screening import bp as screening_bp
from journal.web.search import bp as search_bp
from journal.web.security import init_security
from journal.web.session_record import bp as session_record_bp
from journal.web.themes import bp as themes_bp
from journal.web.throttle import init_throttle


def init_app(app: Flask) -> None:
    init_security(app)
    init_i18n(app)
    init_errors(app)
    init_filters(app)
    init_form_tokens(app)
    init_notices(app)
    app.teardown_appcontext(context.close_work)
    for bp in (
        auth_bp,
        password_links_bp,
        home_bp,
        courses_bp,
        care_team_bp,
        entries_bp,
        export_bp,
        drafts_bp,
        review_bp,
        comments_bp,
        themes_bp,
        notes_bp,
        questionnaires_bp,
        session_record_bp,
        screening_bp,
        safety_plan_bp,
        consent_bp,
        prompts_bp,
        intentions_bp,
        quick_bp,
        reminders_bp,
        language_bp,
        search_bp,
        access_log_bp,
        admin_bp,
        health_bp,
        help_bp,
    ):
        app.register_blueprint(bp)
    settings = context.runtime_of(app).settings
    init_throttle(app, settings.ratelimit_storage_uri, settings.ratelimit_key_prefix)
