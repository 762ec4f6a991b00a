from __future__ import annotations

import uuid
from dataclasses import asdict

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from journal.clinical import session_records
from journal.core.errors import ConflictError, ValidationError
from journal.models import Role
from journal.web import context
from journal.web.form_tokens import once
from journal.web.forms import apply_errors
from journal.web.security import roles
from journal.web.session_record.forms import RecordForm

bp = Blueprint("session_record", __name__)

CONFLICT = (
    "This record was changed by someone else since you opened it. Your changes are "
    "below and were not saved: reload the page to see theirs, then apply yours again."
)


@bp.route("/courses/<uuid:course_id>/sessions/<uuid:session_id>/record", methods=["GET", "POST"])
@roles(Role.CLINICIAN)
@once
def record(course_id: uuid.UUID, session_id: uuid.UUID) -> str | tuple[str, int] | Response:
    db = context.db()
    failed = request.method == "POST"
    form = RecordForm()
    if failed and form.validate_on_submit():
        try:
            session_records.save_record(
                context.work(),
                course_id,
                session_id,
                form.to_input(),
                expected_version=form.expected_version(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except ConflictError:
            form.form_errors.append(CONFLICT)
        else:
            flash("Session record saved.")
            return redirect(
                url_for("session_record.record", course_id=course_id, session_id=session_id)
            )
    if failed:
        db.rollback()  # nothing of a refused record is kept
    page = session_records.record_page(context.work(), course_id, session_id)
    if not failed:
        saved = page.record
        data = asdict(saved.data.as_input()) if saved else {}
        form = RecordForm(data={**data, "version": str(saved.version) if saved else ""})
    form.set_team(page.team)
    html = render_template("session_record/record.html", page=page, form=form, failed=failed)
    return (html, 400) if failed else html
