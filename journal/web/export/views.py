"""Exports: the course summary (`/courses/<id>/export`) and the patient's own data
(`/account/export`).

Exporting needs a recent sign-in. A POST whose sign-in is not recent answers
401 with the re-login form itself: it posts back to the same URL, carries the
chosen options as hidden fields (never the passphrase, which is asked again),
and adds the password (and, for accounts with two-factor, a code). When the
password matches, the export is made at once from the carried options.
"""

from __future__ import annotations

import logging
import uuid

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse

from journal import export
from journal.config import LANGUAGES
from journal.core.errors import ValidationError
from journal.export import jobs
from journal.models import Role
from journal.web import context
from journal.web.export.forms import CARRIED, CourseExportForm, DownloadForm, PatientDataForm
from journal.web.filters import day
from journal.web.form_tokens import once
from journal.web.forms import apply_errors
from journal.web.i18n import translate
from journal.web.security import login_is_recent, recheck_identity, roles

bp = Blueprint("export", __name__)

RELOGIN_STATUS = 401
REFRESH_SECONDS = 3  # the progress page reloads itself this often while it waits
log = logging.getLogger("journal.export")


def _attachment(pending: export.PendingFile) -> BaseResponse | tuple[str, int]:
    if jobs.should_queue(context.runtime().settings, pending):
        # A long PDF: made by the worker while its page shows the progress.
        job_id = jobs.queue_pdf(context.work(), pending, context.runtime().enqueue_export)
        return redirect(url_for("export.job", job_id=job_id))
    context.commit_before_slow_work()
    try:
        file = pending.file()
    except export.PdfFailed as exc:
        # Nothing is sent: the person reads what failed, the log names the cause.
        log.error("PDF export failed: %s", exc.cause)
        context.discard_work()
        return (
            render_template(
                "errors/error.html",
                status=500,
                title=_("The PDF could not be made"),
                text=_(
                    "Typesetting failed: %(what)s. Nothing was sent. The other formats "
                    "still work, and the administrator will find the cause in the log.",
                    what=translate(exc.what),
                ),
            ),
            500,
        )
    return _send(file)


def _send(file: export.ExportFile) -> Response:
    response = Response(file.content, content_type=file.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    return response  # Cache-Control: no-store is added to every response


def page_language() -> str:
    return str(get_locale() or context.runtime().settings.default_language)


def _offer_languages(form: CourseExportForm) -> None:
    """The clinic's languages, each named as its speakers write it."""
    form.language.choices = [(c, LANGUAGES[c]) for c in context.runtime().settings.languages]


def patients_language() -> str:
    """The patient's own data is in the patient's language: their setting when the
    clinic offers it, else the page's (itself one the clinic offers)."""
    own = context.user().language
    return own if own in context.runtime().settings.languages else page_language()


def _identity_confirmed(form: CourseExportForm | PatientDataForm) -> bool:
    """True if the sign-in is recent, or the re-login fields on this POST confirm it."""
    if login_is_recent():
        return True
    if form.password.data:
        if recheck_identity(form.password.data, form.code.data or ""):
            return True
        form.password.errors = [_("That did not match. Please try again.")]
    return False


def _relogin(form: FlaskForm, action: str) -> tuple[str, int]:
    carried = [(name, form[name]) for name in CARRIED if name in form]
    return (
        render_template(
            "export/confirm.html",
            form=form,
            carried=carried,
            action=action,
            needs_code=context.user().two_factor_enabled,
        ),
        RELOGIN_STATUS,
    )


@bp.route("/courses/<uuid:course_id>/export", methods=["GET", "POST"])
@once
def course_export(course_id: uuid.UUID) -> str | BaseResponse | tuple[str, int]:
    found = export.export_page(context.work(), course_id)  # 404 before anything else
    form = CourseExportForm(
        page_size=context.runtime().settings.pdf_page_size, language=page_language()
    )
    _offer_languages(form)
    form.sessions.choices = [
        (str(s.id), _("Session %(number)s, %(day)s", number=s.number, day=day(s.scheduled_at)))
        for s in found.sessions
    ]

    def page(status: int = 200) -> tuple[str, int]:
        return (
            render_template("export/course.html", form=form, page=found),
            status,
        )

    if request.method == "GET":
        return page()
    if not form.validate_on_submit():
        return page(400)
    if not _identity_confirmed(form):
        return _relogin(form, request.path)
    settings = context.runtime().settings
    try:
        pending = export.export_course(
            context.work(),
            course_id,
            form.format.data or "",
            form.options(),
            passphrase=form.chosen_passphrase(),
            clinic_name=settings.clinic_name,
            zone=settings.zone,
            catalogue=context.runtime().clinical.instruments,
            checklist=context.runtime().clinical.screening,
            page_size=form.page_size.data or "a4",
        )
    except ValidationError as exc:
        apply_errors(form, exc)
        return page(400)
    return _attachment(pending)


@bp.route("/account/export", methods=["GET", "POST"])
@roles(Role.PATIENT)
@once
def my_data() -> str | BaseResponse | tuple[str, int]:
    form = PatientDataForm(page_size=context.runtime().settings.pdf_page_size)
    if request.method == "GET":
        return render_template("export/my_data.html", form=form)
    if not form.validate_on_submit():
        return render_template("export/my_data.html", form=form), 400
    if not _identity_confirmed(form):
        return _relogin(form, request.path)
    settings = context.runtime().settings
    try:
        pending = export.export_patient_data(
            context.work(),
            form.format.data or "",
            passphrase=form.chosen_passphrase(),
            clinic_name=settings.clinic_name,
            zone=settings.zone,
            catalogue=context.runtime().clinical.instruments,
            page_size=form.page_size.data or "a4",
            language=patients_language(),
        )
    except ValidationError as exc:
        apply_errors(form, exc)
        return render_template("export/my_data.html", form=form), 400
    return _attachment(pending)


def _job_page(page: jobs.JobPage, form: DownloadForm, status: int = 200) -> Response:
    response = Response(
        render_template("export/job.html", page=page, form=form, refresh=REFRESH_SECONDS),
        status,
    )
    if page.waiting:
        # The page reloads itself while the worker typesets (the Refresh header does what
        # <meta http-equiv="refresh"> does, with no script).
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


@bp.route("/exports/<uuid:job_id>")
def job(job_id: uuid.UUID) -> Response:
    """A long PDF's progress: queued, typesetting, ready (the download) or failed."""
    page = jobs.job_page(context.work(), job_id)
    return _job_page(page, DownloadForm(), 410 if page.expired else 200)


@bp.route("/exports/<uuid:job_id>/download", methods=["POST"])
def job_download(job_id: uuid.UUID) -> Response:
    form = DownloadForm()
    page = jobs.job_page(context.work(), job_id)
    if not page.ready:
        return _job_page(page, form, 410 if page.expired else 409)
    if not form.validate_on_submit():
        return _job_page(page, form, 400)
    try:
        file = jobs.download(context.work(), job_id, form.chosen_passphrase(page.protect))
    except ValidationError as exc:
        apply_errors(form, exc)
        return _job_page(page, form, 400)
    return _send(file)
