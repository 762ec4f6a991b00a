from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from journal.core.errors import ValidationError
from journal.review import comments
from journal.web import context
from journal.web.entries.page import entry_page
from journal.web.entries.page_forms import CommentForm
from journal.web.form_tokens import once
from journal.web.forms import apply_errors

bp = Blueprint("comments", __name__)


@bp.post("/entries/<uuid:entry_id>/comments")
@once
def add(entry_id: uuid.UUID) -> str | tuple[str, int] | Response:
    form = CommentForm()
    if form.validate_on_submit():
        try:
            comment = comments.add_comment(context.work(), entry_id, form.to_input())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            flash(_("Reply sent.") if comment.parent_id else _("Comment saved."))
            return redirect(url_for("entries.view", entry_id=entry_id, _anchor=f"c-{comment.id}"))
    return entry_page(entry_id, comment_form=form, reply_to=form.parent()), 400
