from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from journal.core.errors import ValidationError
from journal.journaling import themes
from journal.web import context
from journal.web.entries.page import entry_page
from journal.web.entries.page_forms import KIND_LABELS, ThemeForm
from journal.web.forms import apply_errors

bp = Blueprint("themes", __name__)


@bp.post("/entries/<uuid:entry_id>/themes")
def tag(entry_id: uuid.UUID) -> str | tuple[str, int] | Response:
    form = ThemeForm()
    if form.validate_on_submit():
        try:
            themes.tag_entry(context.work(), entry_id, form.kind.data or "", form.name.data or "")
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            flash(_("Theme added."))
            return redirect(url_for("entries.view", entry_id=entry_id, _anchor="themes"))
    return entry_page(entry_id, theme_form=form), 400


@bp.post("/entries/<uuid:entry_id>/themes/<uuid:theme_id>/remove")
def untag(entry_id: uuid.UUID, theme_id: uuid.UUID) -> Response:
    themes.untag_entry(context.work(), entry_id, theme_id)
    flash(_("Theme removed from this entry."))
    return redirect(url_for("entries.view", entry_id=entry_id, _anchor="themes"))


@bp.get("/courses/<uuid:course_id>/themes")
def course_themes(course_id: uuid.UUID) -> str:
    access, summaries = themes.course_themes(context.work(), course_id)
    return render_template(
        "themes/list.html", access=access, summaries=summaries, kinds=KIND_LABELS
    )


@bp.get("/themes/<uuid:theme_id>")
def theme(theme_id: uuid.UUID) -> str:
    access, tag, items = themes.theme_entries(context.work(), theme_id)
    return render_template(
        "themes/theme.html", access=access, tag=tag, items=items, kinds=KIND_LABELS
    )
