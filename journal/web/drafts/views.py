from __future__ import annotations

import uuid

from flask import Blueprint, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from journal.core.errors import ValidationError
from journal.journaling import drafts
from journal.web import context
from journal.web.filters import clock
from journal.web.forms import ButtonForm
from journal.web.i18n import translate

bp = Blueprint("drafts", __name__)


def _fields() -> dict[str, str]:
    return {name: request.form.get(name, "") for name in drafts.FIELDS}


def _save(course_id: uuid.UUID | None, entry_id: uuid.UUID | None) -> tuple[Response, int]:
    """Called by the page's script while the writer types; answers JSON."""
    try:
        at = drafts.save_draft(context.work(), _fields(), course_id=course_id, entry_id=entry_id)
    except ValidationError as exc:
        return jsonify(saved=False, error=translate(next(iter(exc.errors.values())))), 400
    return jsonify(saved=True, at=clock(at)), 200


@bp.post("/courses/<uuid:course_id>/draft")
def save_new(course_id: uuid.UUID) -> tuple[Response, int]:
    return _save(course_id, None)


@bp.post("/entries/<uuid:entry_id>/draft")
def save_edit(entry_id: uuid.UUID) -> tuple[Response, int]:
    return _save(None, entry_id)


@bp.post("/courses/<uuid:course_id>/draft/discard")
def discard_new(course_id: uuid.UUID) -> Response:
    if ButtonForm().validate_on_submit():
        drafts.discard_draft(context.work(), course_id=course_id)
        flash(_("Draft discarded."))
    return redirect(url_for("entries.new_entry", course_id=course_id))


@bp.post("/entries/<uuid:entry_id>/draft/discard")
def discard_edit(entry_id: uuid.UUID) -> Response:
    if ButtonForm().validate_on_submit():
        drafts.discard_draft(context.work(), entry_id=entry_id)
        flash(_("Draft discarded."))
    return redirect(url_for("entries.edit", entry_id=entry_id))
