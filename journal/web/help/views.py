from __future__ import annotations

from flask import Blueprint, has_request_context, render_template
from flask_babel import get_locale
from flask_login import current_user

from journal import crisis
from journal.accounts import policy
from journal.clinical import safety_plan
from journal.web import context

bp = Blueprint("help", __name__)


@bp.get("/help")
def page() -> str:
    """Public (journal/web/security.py): the sign-in page and every page link here.
    A signed-in patient also finds their safety plan here; nobody else learns of one."""
    plans = safety_plan.courses_with_a_plan(context.work()) if current_user.is_authenticated else []
    return render_template("help/page.html", plans=plans)


@bp.app_template_global("crisis_help")
def crisis_help() -> crisis.CrisisHelp:
    """The emergency number and lines, for this page and the crisis message, in the
    page's language."""
    return crisis.help_for(context.runtime().settings, _language())


@bp.app_template_global("crisis_text")
def crisis_text() -> str:
    """The clinic's crisis text (`crisis_resources`), shipped text in the page's language."""
    return crisis.resources_for(context.runtime().settings, _language())


def _language() -> str:
    return str(get_locale() or "en")


@bp.app_context_processor
def _setup_notice() -> dict[str, object]:
    """On the admin's pages: which crisis settings are still the shipped defaults."""
    if not has_request_context() or not current_user.is_authenticated:
        return {"crisis_defaults": []}
    if not policy.administers(context.user()):
        return {"crisis_defaults": []}
    return {"crisis_defaults": crisis.defaults_in_place(context.runtime().settings, _language())}
