from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from journal.models import Role


class UserForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField(
        _l("Role"),
        choices=[
            SelectChoice(Role.PATIENT.value, _l("Patient")),
            SelectChoice(Role.CLINICIAN.value, _l("Clinician")),
            SelectChoice(Role.ADMIN.value, _l("Admin")),
        ],
    )
    refer_to = EmailField(
        _l("Refer to a clinician (patients only)"),
        validators=[Optional(), Email(), Length(max=254)],
        description=_l("The clinician's email: they can then open a course for this patient."),
    )


class AdminCourseForm(FlaskForm):
    patient_email = EmailField(
        _l("Patient's email"), validators=[DataRequired(), Email(), Length(max=254)]
    )
    clinician_emails = StringField(
        _l("Care team"),
        validators=[DataRequired(), Length(max=1000)],
        description=_l("Clinicians' emails, separated by commas."),
    )
    started_on = DateField(_l("Course starts"), validators=[DataRequired()])

    def emails(self) -> list[str]:
        return [e for e in (self.clinician_emails.data or "").split(",") if e.strip()]


class AddClinicianForm(FlaskForm):
    email = EmailField(
        _l("Clinician's email"), validators=[DataRequired(), Email(), Length(max=254)]
    )


class ConfirmForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])


class EraseForm(FlaskForm):
    reason = StringField(
        _l("Reason"),
        validators=[DataRequired(), Length(max=200)],
        description=_l(
            "Administrative only, for example: the patient's request of 3 March. "
            "No clinical detail."
        ),
    )
    confirm_email = StringField(
        _l("Type the patient's email to confirm"), validators=[DataRequired(), Length(max=254)]
    )


class AuditFilterForm(FlaskForm):
    """The audit trail's filters: read from the address, so a filtered page can be
    bookmarked and its CSV downloaded with the same choices."""

    class Meta:
        csrf = False  # a GET that changes nothing but what its reads record

    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To (included)"), validators=[Optional()])
    person = SelectField(_l("Done by"), validators=[Optional()])
    patient = SelectField(_l("Patient"), validators=[Optional()])
    action = SelectField(_l("Action"), validators=[Optional()])
