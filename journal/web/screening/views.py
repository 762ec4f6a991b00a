from __future__ import annotations

import uuid
from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from journal.clinical import screenings
from journal.clinical.checklist import ScreeningAnswer
from journal.clinical.screenings import (
    RecheckInput,
    ScreeningInput,
    SessionChoice,
    answer_field,
    note_field,
)
from journal.core.errors import ConflictError, ValidationError
from journal.models import Role
from journal.web import context
from journal.web.filters import day
from journal.web.form_tokens import once
from journal.web.forms import apply_errors
from journal.web.i18n import translate
from journal.web.screening.forms import RecheckForm, ScreeningForm
from journal.web.security import roles

bp = Blueprint("screening", __name__)

# The radio buttons' labels, and the words for an answer shown in a sentence.
ANSWER_LABELS = {
    ScreeningAnswer.YES: _l("Yes"),
    ScreeningAnswer.NO: _l("No"),
    ScreeningAnswer.UNKNOWN: _l("Unknown"),
}
ANSWER_WORDS = {
    ScreeningAnswer.YES.value: _l("yes"),
    ScreeningAnswer.NO.value: _l("no"),
    ScreeningAnswer.UNKNOWN.value: _l("unknown"),
}
ANSWERS = [(a.value, ANSWER_LABELS.get(a, a.value.capitalize())) for a in ScreeningAnswer]
CONFLICT = _l(
    "This screening was changed by someone else since you opened it. Your answers are "
    "below and were not saved: reload the page to see theirs, then apply yours again."
)


@bp.app_template_global()
def answer_words(value: str | None) -> str:
    """An answer as words in a sentence: None is "not answered"."""
    if value is None:
        return str(_("not answered"))
    return str(ANSWER_WORDS.get(value, value))


def _session_label(choice: SessionChoice) -> str:
    """ "Session 2, Tue 01 Dec 2026", with the day in the page's language."""
    if choice.scheduled_at is None or str(get_locale() or "en").startswith("en"):
        return choice.label
    return str(_("Session %(number)s, %(day)s", number=choice.number, day=day(choice.scheduled_at)))


@bp.route("/courses/<uuid:course_id>/screening", methods=["GET", "POST"])
@roles(Role.CLINICIAN)
def screening(course_id: uuid.UUID) -> str | tuple[str, int] | Response:
    db = context.db()
    checklist = context.runtime().clinical.screening
    form = ScreeningForm()
    item_errors: dict[str, str] = {}
    failed = request.method == "POST"
    answers = {i.id: request.form.get(answer_field(i.id), "") for i in checklist.items}
    notes = {i.id: request.form.get(note_field(i.id), "") for i in checklist.items}
    if failed and form.validate_on_submit():
        try:
            screenings.save_screening(
                context.work(),
                course_id,
                checklist,
                ScreeningInput(answers, notes, form.reviewed_on.data or ""),
                expected_version=form.expected_version(),
            )
        except ValidationError as exc:
            for name, message in exc.errors.items():
                if name == "reviewed_on":
                    form.reviewed_on.errors = [translate(message)]
                else:
                    item_errors[name] = translate(message)
        except ConflictError:
            form.form_errors.append(str(CONFLICT))
        else:
            flash(_("Screening saved."))
            return redirect(url_for("screening.screening", course_id=course_id))
    if failed:
        db.rollback()
    page = screenings.screening_page(context.work(), course_id, checklist)
    if not failed:
        today = datetime.now(context.runtime().settings.zone).date().isoformat()
        saved = page.screening
        if saved is not None:
            answers, notes = dict(saved.data.answers), dict(saved.data.notes)
        form = ScreeningForm(
            data={"reviewed_on": today, "version": str(saved.version) if saved else ""}
        )
    recheck = RecheckForm(formdata=None)
    recheck.session_id.choices = [(str(c.id), _session_label(c)) for c in page.sessions]
    recheck.session_id.data = str(page.next_session) if page.next_session else ""
    html = render_template(
        "screening/screening.html",
        page=page,
        form=form,
        recheck=recheck,
        checklist=checklist,
        answers=answers,
        notes=notes,
        item_errors=item_errors,
        choices=ANSWERS,
        answer_field=answer_field,
        note_field=note_field,
        failed=failed,
    )
    return (html, 400) if failed else html


@bp.route("/courses/<uuid:course_id>/screening/recheck", methods=["GET", "POST"])
@roles(Role.CLINICIAN)
@once
def recheck(course_id: uuid.UUID) -> str | tuple[str, int] | Response:
    """Re-check the screening before a session: "no change since last time" in one click
    (from the screening page), or every item answered again here."""
    checklist = context.runtime().clinical.screening
    form = RecheckForm()
    item_errors: dict[str, str] = {}
    failed = request.method == "POST"
    no_change = request.form.get("no_change") == "1"
    answers = {i.id: request.form.get(answer_field(i.id), "") for i in checklist.items}
    notes = {i.id: request.form.get(note_field(i.id), "") for i in checklist.items}
    if failed and form.validate_on_submit():
        try:
            screenings.recheck_screening(
                context.work(),
                course_id,
                checklist,
                RecheckInput(
                    no_change=no_change,
                    answers=answers,
                    notes=notes,
                    session_id=form.session_id.data or "",
                    note=form.note.data or "",
                ),
            )
        except ValidationError as exc:
            for name, message in exc.errors.items():
                if name.startswith(("answer_", "note_")):
                    item_errors[name] = translate(message)
                else:
                    apply_errors(form, ValidationError({name: message}))
        else:
            flash(_("Re-check saved."))
            return redirect(url_for("screening.screening", course_id=course_id))
    if failed:
        context.db().rollback()
    page = screenings.screening_page(context.work(), course_id, checklist)
    if page.screening is None or not page.can_recheck:
        abort(404 if page.screening is None else 403)
    form.session_id.choices = [(str(c.id), _session_label(c)) for c in page.sessions]
    if not failed:
        answers, notes = dict(page.screening.answers_now), dict(page.screening.notes_now)
        form.session_id.data = str(page.next_session) if page.next_session else ""
    html = render_template(
        "screening/recheck.html",
        page=page,
        form=form,
        checklist=checklist,
        answers=answers,
        notes=notes,
        item_errors=item_errors,
        choices=ANSWERS,
        answer_field=answer_field,
        note_field=note_field,
        no_change=no_change,
    )
    return (html, 400) if failed else html


@bp.get("/courses/<uuid:course_id>/screening/history")
@roles(Role.CLINICIAN)
def history(course_id: uuid.UUID) -> str:
    """Every version of the screening as recorded, with who saved it, when and what it
    changed."""
    checklist = context.runtime().clinical.screening
    page = screenings.screening_history_page(context.work(), course_id, checklist)
    return render_template("screening/history.html", page=page)
