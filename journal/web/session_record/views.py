from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from journal.clinical import session_records
from journal.clinical.session_records import DISCHARGE, MAX_READINGS, PRE_SESSION, RecordInput
from journal.clinical.vitals import POINTS
from journal.core.errors import ConflictError, ValidationError
from journal.models import DosingSession, Role, SessionStatus
from journal.web import context
from journal.web.form_tokens import once
from journal.web.forms import apply_errors
from journal.web.security import roles
from journal.web.session_record.forms import EXTRA_ROWS, form_data, record_form, row_count

bp = Blueprint("session_record", __name__)

CONFLICT = _l(
    "This record was changed by someone else since you opened it. Your changes are "
    "below and were not saved: reload the page to see theirs, then apply yours again."
)
LABELS = {"points": POINTS, "pre_session": PRE_SESSION, "discharge": DISCHARGE}
MORE_ROWS = "more_rows"  # the name of the "Add more rows" button


def _held(session: DosingSession) -> bool:
    """Whether the form ticks "the session was held" to begin with."""
    if session.status == SessionStatus.COMPLETED:
        return True
    due = session.scheduled_at
    if due.tzinfo is None:  # SQLite gives it back without its zone
        due = due.replace(tzinfo=UTC)
    return session.status == SessionStatus.SCHEDULED and due <= datetime.now(UTC)


@bp.route("/courses/<uuid:course_id>/sessions/<uuid:session_id>/record", methods=["GET", "POST"])
@roles(Role.CLINICIAN)
@once
def record(course_id: uuid.UUID, session_id: uuid.UUID) -> str | tuple[str, int] | Response:
    db = context.db()
    posted = request.method == "POST"
    more = posted and MORE_ROWS in request.form
    failed = posted and not more
    count = row_count(request.form.get("rows")) if posted else 0
    if more:
        count = min(count + EXTRA_ROWS, MAX_READINGS)
    form = record_form(count) if posted else None
    if more and form is not None and not form.validate_on_submit() and form.csrf_token.errors:
        abort(400)  # a form from elsewhere: nothing is shown back
    if form is not None and failed and form.validate_on_submit():
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
            form.form_errors.append(str(CONFLICT))
        else:
            flash(_("Session record saved."))  # the page shows any dose notice
            return redirect(
                url_for("session_record.record", course_id=course_id, session_id=session_id)
            )
    if posted:
        db.rollback()  # nothing of a refused record is kept
    page = session_records.record_page(context.work(), course_id, session_id)
    if form is None:
        saved_record = page.record
        raw: RecordInput = saved_record.data.as_input() if saved_record else page.defaults
        count = row_count(None, raw.readings)
        data = form_data(raw, count)
        data["version"] = str(saved_record.version) if saved_record else ""
        data["completed"] = _held(page.session)
        form = record_form(count, data)
    form.rows.data = str(count)
    form.set_team(page.team)
    choices = page.choices
    assert choices is not None
    form.set_lists(choices.drugs, choices.modalities)
    html = render_template(
        "session_record/record.html", page=page, form=form, failed=failed, more=more, **LABELS
    )
    return (html, 400) if failed else html


@bp.route("/courses/<uuid:course_id>/sessions/<uuid:session_id>/dosing-record")
@roles(Role.PATIENT)
def mine(course_id: uuid.UUID, session_id: uuid.UUID) -> str:
    """The patient's own view of a session's record."""
    page = session_records.patient_record_page(context.work(), course_id, session_id)
    return render_template("session_record/mine.html", page=page, **LABELS)


@bp.get("/courses/<uuid:course_id>/sessions/<uuid:session_id>/record/history")
@roles(Role.CLINICIAN)
def history(course_id: uuid.UUID, session_id: uuid.UUID) -> str:
    """Every version of the record, with who saved it, when and what it changed."""
    page = session_records.record_history_page(context.work(), course_id, session_id)
    return render_template("session_record/history.html", page=page)
