from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from werkzeug.wrappers import Response

from journal.accounts import accounts
from journal.config import LANGUAGES
from journal.web import context
from journal.web.language.forms import LanguageForm

bp = Blueprint("language", __name__)
BROWSER = "browser"  # the choice of no language of one's own: the browser's


@bp.route("/account/language", methods=["GET", "POST"])
def settings() -> str | Response:
    offered = context.runtime().settings.languages
    form = LanguageForm(data={"language": context.user().language or BROWSER})
    form.language.choices = [(BROWSER, _("My browser's language"))] + [
        (code, LANGUAGES[code]) for code in offered
    ]
    if form.validate_on_submit():
        chosen = form.language.data
        accounts.set_language(context.work(), None if chosen == BROWSER else chosen, offered)
        refresh()  # said in the language just chosen
        flash(_("Your language is saved."))
        return redirect(url_for("language.settings"))
    return render_template("language/settings.html", form=form)
