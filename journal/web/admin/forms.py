from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from journal.models import Role


class UserForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField(
        "Role",
        choices=[
            SelectChoice(Role.PATIENT.value, "Patient"),
            SelectChoice(Role.CLINICIAN.value, "Clinician"),
            SelectChoice(Role.ADMIN.value, "Admin"),
        ],
    )
    refer_to = EmailField(
        "Refer to a clinician (patients only)",
        validators=[Optional(), Email(), Length(max=254)],
        description="The clinician's email: they can then open a course for this patient.",
    )


class AdminCourseForm(FlaskForm):
    patient_email = EmailField(
        "Patient's email", validators=[DataRequired(), Email(), Length(max=254)]
    )
    clinician_emails = StringField(
        "Care team",
        validators=[DataRequired(), Length(max=1000)],
        description="Clinicians' emails, separated by commas.",
    )
    started_on = DateField("Course starts", validators=[DataRequired()])

    def emails(self) -> list[str]:
        return [e for e in (self.clinician_emails.data or "").split(",") if e.strip()]


class AddClinicianForm(FlaskForm):
    email = EmailField("Clinician's email", validators=[DataRequired(), Email(), Length(max=254)])


class ConfirmForm(FlaskForm):
    reason = StringField("Reason", validators=[Optional(), Length(max=200)])


class EraseForm(FlaskForm):
    reason = StringField(
        "Reason",
        validators=[DataRequired(), Length(max=200)],
        description="Administrative only, for example: the patient's request of 3 March. "
        "No clinical detail.",
    )
    confirm_email = StringField(
        "Type the patient's email to confirm", validators=[DataRequired(), Length(max=254)]
    )


class AuditFilterForm(FlaskForm):
    """The audit trail's filters: read from the address, so a filtered page can be
    bookmarked and its CSV downloaded with the same choices."""

    class Meta:
        csrf = False  # a GET that changes nothing but what its reads record

    since = DateField("From", validators=[Optional()])
    until = DateField("To (included)", validators=[Optional()])
    person = SelectField("Done by", validators=[Optional()])
    patient = SelectField("Patient", validators=[Optional()])
    action = SelectField("Action", validators=[Optional()])
