from __future__ import annotations

import uuid
from dataclasses import replace

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from journal.accounts import policy
from journal.clinical import charts, questionnaires, safety_flags, score_details
from journal.clinical.instruments import BASE_LANGUAGE, Catalogue, answers_from_form
from journal.core.errors import NotFound, ValidationError
from journal.core.labels import Phrase
from journal.models import Role
from journal.web import context
from journal.web.form_tokens import once
from journal.web.forms import ButtonForm, apply_errors
from journal.web.i18n import translate
from journal.web.questionnaires.forms import (
    CADENCE_LABELS,
    AcknowledgeForm,
    AssignForm,
    cadence_help,
    language_name,
)
from journal.web.security import roles

bp = Blueprint("questionnaires", __name__)


def _answer_words(words: str) -> str:
    """An answer in words: the published option label as it is (never through the
    catalogue, which could change a validated wording), or "37 of 100" translated."""
    return translate(words) if isinstance(words, Phrase) else words


@bp.context_processor
def _flag_actions() -> dict[str, object]:
    return {
        "actions": safety_flags.ACTIONS,
        # The journal's own words about a score (bands, clusters, flags, what it
        # measures), in the page's language; the questionnaire's wording is never.
        "score_words": translate,
        "answer_words": _answer_words,
        "language_name": language_name,
    }


def _catalogue() -> Catalogue:
    return context.runtime().clinical.instruments


def _several_languages() -> bool:
    return len(context.runtime().settings.languages) > 1


def _language() -> str:
    """The page's language: the questionnaires are shown in it where they have a
    published, validated version in it, else in English (and the page says so)."""
    return str(get_locale() or BASE_LANGUAGE)


@bp.route("/courses/<uuid:course_id>/questionnaires", methods=["GET", "POST"])
def course(course_id: uuid.UUID) -> str | tuple[str, int] | Response:
    actor = context.actor()
    catalogue = _catalogue()
    form = AssignForm()
    form.set_choices(catalogue, show_languages=_several_languages())
    status = 200
    if request.method == "POST":
        if not policy.treats(actor.user):
            raise NotFound()
        if form.validate_on_submit():
            try:
                questionnaires.assign(
                    context.work(),
                    catalogue,
                    course_id,
                    form.instrument_id.data or "",
                    form.cadence.data or "",
                    follow_up_months=form.follow_up_months.data or "",
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                flash(_("Questionnaire assigned. The patient sees it where they write."))
                return redirect(url_for("questionnaires.course", course_id=course_id))
        status = 400
    return _course_page(catalogue, course_id, form), status


def _course_page(
    catalogue: Catalogue, course_id: uuid.UUID, form: AssignForm, **extra: object
) -> str:
    """The course's questionnaires page (`extra`: a refused acknowledgement's form)."""
    shown = catalogue.in_language(_language())
    measures = questionnaires.course_measures(
        context.work(), shown, course_id, words=translate, day=charts.days_in(_language())
    )
    form.cadence.description = cadence_help(context.runtime().settings)
    due = (
        questionnaires.due_for_patient(context.work(), shown, course_id)
        if measures.access.as_patient
        else []
    )
    return render_template(
        "questionnaires/course.html",
        m=measures,
        details=score_details.by_instrument(catalogue, measures.responses),
        answered_in={r.id: r.language for r in measures.responses},
        offered={i: catalogue.languages(i) for i in catalogue.ids},
        due=due,
        form=form,
        button=ButtonForm(),
        cadences=CADENCE_LABELS,
        labels={r.id: translate(r.label) for r in measures.responses if r.label},
        **extra,
    )


@bp.post("/questionnaires/<uuid:assignment_id>/end")
@roles(Role.CLINICIAN)
def end(assignment_id: uuid.UUID) -> Response:
    # The CSRF token of every POST is checked app-wide before this runs.
    row = questionnaires.end_assignment(context.work(), assignment_id)
    flash(_("The questionnaire is no longer assigned; earlier answers are kept."))
    return redirect(url_for("questionnaires.course", course_id=row.course_id))


@bp.route("/questionnaires/<uuid:assignment_id>/answer", methods=["GET", "POST"])
@roles(Role.PATIENT)
@once
def answer(assignment_id: uuid.UUID) -> str | tuple[str, int] | Response:
    # The version in the patient's language if there is a validated one, else English;
    # scored the same either way, and the response keeps which one was answered.
    catalogue = _catalogue().in_language(_language())
    due = next(
        (
            d
            for d in questionnaires.due_for_patient(context.work(), catalogue)
            if d.assignment_id == assignment_id
        ),
        None,
    )
    if due is None:
        raise NotFound()
    errors: dict[str, str] = {}
    chosen = {k: v for k, v in request.form.items() if k != "csrf_token"}
    if request.method == "POST" and ButtonForm().validate_on_submit():
        try:
            done = questionnaires.submit(
                context.work(), catalogue, assignment_id, answers_from_form(due.instrument, chosen)
            )
        except ValidationError as exc:
            errors = {k: translate(v) for k, v in exc.errors.items()}
        else:
            # Post/redirect/get: the thank-you page can be reloaded and bookmarked.
            return redirect(url_for("questionnaires.answered", response_id=done.response_id))
    page = render_template(
        "questionnaires/answer.html",
        due=due,
        errors=errors,
        chosen=chosen,
        button=ButtonForm(),
    )
    return (page, 400) if request.method == "POST" else page


@bp.get("/questionnaires/answers/<uuid:response_id>")
@roles(Role.PATIENT)
def answered(response_id: uuid.UUID) -> str:
    catalogue = _catalogue()
    own = questionnaires.own_answer(context.work(), catalogue, response_id)
    if own.instrument is not None:  # the version they answered
        own = replace(own, instrument=catalogue.version(own.instrument.id, own.response.language))
    shown = score_details.detail(own.instrument, own.response)
    return render_template(
        "questionnaires/done.html",
        instrument=own.instrument,
        label=own.instrument.short_title if own.instrument else own.response.instrument_id,
        shown=shown,
        safety=shown.safety_flag,
        course_id=own.course_id,
    )


@bp.post("/flags/<uuid:flag_id>/acknowledge")
@roles(Role.CLINICIAN)
def acknowledge(flag_id: uuid.UUID) -> Response | tuple[str, int]:
    ack = AcknowledgeForm()
    if ack.validate_on_submit():
        try:
            flag = questionnaires.acknowledge(
                context.work(), flag_id, ack.action.data or "", ack.note.data or ""
            )
        except ValidationError as exc:
            apply_errors(ack, exc)
        else:
            flash(_("Flag acknowledged; what was done, your name and the time are recorded."))
            return redirect(
                url_for("questionnaires.course", course_id=flag.course_id, _anchor="flags")
            )
    # The choice or the reason is missing: the course's page again, the errors by that flag.
    course_id = safety_flags.flag_course(context.work(), flag_id)
    catalogue = _catalogue()
    form = AssignForm()
    form.set_choices(catalogue, show_languages=_several_languages())
    return _course_page(catalogue, course_id, form, ack=ack, ack_flag_id=flag_id), 400
