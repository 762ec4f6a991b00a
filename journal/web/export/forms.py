from __future__ import annotations

import uuid
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    PasswordField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional
from wtforms.validators import ValidationError as FieldError

from journal.export import (
    NOTES_REASON_MAX,
    NOTES_REASON_MIN,
    PASSPHRASE_MAX,
    ExportFormat,
    ExportOptions,
)
from journal.export.model import Span
from journal.models import Phase
from journal.web.filters import PHASE_LABELS

FORMAT_LABELS = {
    ExportFormat.PDF: _l("PDF, for filing, printing or sending"),
    ExportFormat.HTML: _l("Printable web page (HTML)"),
    ExportFormat.MARKDOWN: _l("Markdown, plain text with headings"),
    ExportFormat.JSON: _l("JSON, for importing into another system"),
}
SPAN_LABELS = {
    Span.ALL: _l("The whole course"),
    Span.DATES: _l("Sessions dated between two days"),
    Span.SESSIONS: _l("Chosen sessions"),
}
# Options the re-login form carries over as hidden fields (never the passphrase).
CARRIED = (
    "format",
    "span",
    "date_from",
    "date_to",
    "sessions",
    "phases",
    "include_private",
    "include_psychotherapy_notes",
    "notes_reason",
    "protect",
    "page_size",
    "language",
)


class IdentityFields:
    """The re-check of a stale sign-in, answered on the export form itself."""

    password = PasswordField(_l("Your password"), validators=[Optional(), Length(max=1024)])
    code = StringField(
        _l("Code from your authenticator app"),
        validators=[Optional(), Length(max=20)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class PassphraseFields:
    protect = BooleanField(_l("Protect the PDF with a passphrase"))
    passphrase = PasswordField(
        _l("Passphrase"),
        validators=[Optional(), Length(max=PASSPHRASE_MAX)],
        description=_l("At least 12 characters. Send it by another way than the file."),
        render_kw={"autocomplete": "new-password"},
    )
    passphrase_again = PasswordField(
        _l("Passphrase again"), validators=[Optional()], render_kw={"autocomplete": "new-password"}
    )

    def validate_passphrase_again(self, field: PasswordField) -> None:
        if self.protect.data and field.data != self.passphrase.data:
            raise FieldError(_("The two passphrases differ."))

    def chosen_passphrase(self) -> str | None:
        if not self.protect.data:
            return None
        return str(self.passphrase.data or "")


class PaperFields:
    # The view passes the clinic's setting (pdf_page_size) as the default.
    page_size = RadioField(
        _l("Paper size"),
        choices=[SelectChoice("a4", "A4"), SelectChoice("letter", _l("Letter (US)"))],
        default="a4",
        description=_l("For the PDF."),
    )


class LanguageFields:
    # The view offers the clinic's languages, the page's own as the default; with one
    # language the field is not shown and keeps its default.
    language = RadioField(
        _l("Language of the document"),
        choices=[],
        description=_l("Its headings, labels and dates. What people wrote stays as written."),
    )


class CourseExportForm(IdentityFields, PassphraseFields, PaperFields, LanguageFields, FlaskForm):
    format = RadioField(
        _l("Format"),
        choices=[SelectChoice(f.value, FORMAT_LABELS[f]) for f in ExportFormat],
        default=ExportFormat.PDF.value,
        validate_choice=False,  # the service names the formats in its message
    )
    span = RadioField(
        _l("What to include"),
        choices=[SelectChoice(s.value, SPAN_LABELS[s]) for s in Span],
        default=Span.ALL.value,
    )
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    sessions = SelectMultipleField(_l("Sessions"), choices=[], validate_choice=False)
    phases = SelectMultipleField(
        _l("Phases"),
        choices=[SelectChoice(p.value, _l(PHASE_LABELS[p])) for p in Phase],
        default=[p.value for p in Phase],
    )
    include_private = BooleanField(_l("Include my private entries"))
    include_psychotherapy_notes = BooleanField(_l("Include psychotherapy notes"))
    notes_reason = TextAreaField(
        _l("Reason for including them"),
        # The length is checked by the service, with a clear message; this only caps input.
        validators=[Optional(), Length(max=10 * NOTES_REASON_MAX)],
        description=_l(
            "Required with the notes: %(min)s to %(max)s characters. "
            "It is recorded, encrypted, with who exported and when.",
            min=NOTES_REASON_MIN,
            max=NOTES_REASON_MAX,
        ),
    )

    def validate_sessions(self, field: SelectMultipleField) -> None:
        try:
            [uuid.UUID(v) for v in field.data or []]
        except ValueError:
            raise FieldError(_("Choose dosing sessions of this course.")) from None

    def options(self) -> ExportOptions:
        date_from: date | None = self.date_from.data
        date_to: date | None = self.date_to.data
        picked = set(self.phases.data or [])
        return ExportOptions(
            span=Span(self.span.data),
            date_from=date_from,
            date_to=date_to,
            session_ids=frozenset(uuid.UUID(v) for v in self.sessions.data or []),
            # None ticked (or a tool posting no phases at all): every phase.
            phases=tuple(p for p in Phase if p.value in picked or not picked),
            include_private=bool(self.include_private.data),
            include_psychotherapy_notes=bool(self.include_psychotherapy_notes.data),
            notes_reason=str(self.notes_reason.data or "")
            if self.include_psychotherapy_notes.data
            else "",
            language=str(self.language.data or "en"),
        )


class PatientDataForm(IdentityFields, PassphraseFields, PaperFields, FlaskForm):
    format = RadioField(
        _l("Format"),
        choices=[
            SelectChoice(ExportFormat.JSON.value, FORMAT_LABELS[ExportFormat.JSON]),
            SelectChoice(ExportFormat.PDF.value, FORMAT_LABELS[ExportFormat.PDF]),
        ],
        default=ExportFormat.JSON.value,
        validate_choice=False,
    )


class DownloadForm(FlaskForm):
    """The download of a PDF the worker made: the passphrase, when one was asked for,
    is typed here and applied in memory (it is never kept)."""

    passphrase = PasswordField(
        _l("Passphrase"),
        validators=[Optional(), Length(max=PASSPHRASE_MAX)],
        description=_l("At least 12 characters. Send it by another way than the file."),
        render_kw={"autocomplete": "new-password"},
    )
    passphrase_again = PasswordField(
        _l("Passphrase again"), validators=[Optional()], render_kw={"autocomplete": "new-password"}
    )

    def validate_passphrase_again(self, field: PasswordField) -> None:
        if field.data != self.passphrase.data:
            raise FieldError(_("The two passphrases differ."))

    def chosen_passphrase(self, protect: bool) -> str | None:
        return str(self.passphrase.data or "") if protect else None
