from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from journal.accounts import courses, policy
from journal.core.errors import ConflictError, ValidationError
from journal.journaling import entries
from journal.models import DosingSession, Role
from journal.review import notes
from journal.web import context
from journal.web.filters import when
from journal.web.form_tokens import once
from journal.web.forms import apply_errors
from journal.web.notes.forms import NoteEditForm, NoteForm
from journal.web.security import roles

bp = Blueprint("notes", __name__)


@bp.route("/courses/<uuid:course_id>/notes", methods=["GET", "POST"])
@roles(Role.CLINICIAN)
@once
def course_notes(course_id: uuid.UUID) -> str | tuple[str, int] | Response:
    db, actor = context.db(), context.actor()
    policy.course_access(db, actor.user, course_id)  # 404 before anything about the course
    form = NoteForm()
    sessions = courses.list_sessions(db, course_id)
    form.set_sessions(sessions, when)
    focus = entries.session_in_focus(sessions)
    if focus is not None and not form.is_submitted():
        # The session just held (or the next one): not whichever is listed first.
        form.session_id.data = str(focus.id)
        form.session_id.description = _focus_hint(focus)
    if form.validate_on_submit():
        try:
            notes.add_note(
                context.work(), course_id, uuid.UUID(form.session_id.data), form.body.data or ""
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            flash(_("Note saved, apart from the journal."))
            return redirect(url_for("notes.course_notes", course_id=course_id))
    status = 400 if form.is_submitted() else 200
    access, items = notes.course_notes(context.work(), course_id)
    return render_template("notes/list.html", access=access, notes=items, form=form), status


def _focus_hint(session: DosingSession) -> str:
    if entries.was_held(session):
        return str(
            _("Set to session %(number)s, the one held most recently.", number=session.number)
        )
    return str(
        _("Set to session %(number)s, the next one: none has been held yet.", number=session.number)
    )


@bp.route("/notes/<uuid:note_id>/edit", methods=["GET", "POST"])
@roles(Role.CLINICIAN)
def edit(note_id: uuid.UUID) -> str | Response:
    note = notes.note_for_edit(context.work(), note_id)
    form = NoteEditForm(data={"body": note.body, "version": str(note.version)})
    if form.validate_on_submit():
        raw = form.version.data or ""
        try:
            saved = notes.edit_note(
                context.work(),
                note_id,
                form.body.data or "",
                expected_version=int(raw) if raw.isdigit() and len(raw) < 10 else -1,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except ConflictError:
            form.form_errors.append(
                _(
                    "This note was changed elsewhere since you opened it. Copy your text, "
                    "reload the page, and apply your changes again."
                )
            )
        else:
            flash(_("Note saved."))
            return redirect(url_for("notes.course_notes", course_id=saved.course_id))
    return render_template("notes/edit.html", note=note, form=form)
