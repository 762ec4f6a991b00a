from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from journal.accounts.courses import INDICATION_MAX, MAX_SESSIONS
from journal.models import SessionStatus
from journal.web.filters import STATUS_LABELS


class CourseForm(FlaskForm):
    patient_email = EmailField(
        _l("Patient's email"),
        validators=[DataRequired(), Email(), Length(max=254)],
        description=_l("The patient needs an account first; the clinic's admin creates it."),
    )
    started_on = DateField(_l("Course starts"), validators=[DataRequired()])
    indication = TextAreaField(
        _l("Indication"),
        validators=[Optional(), Length(max=INDICATION_MAX)],
        description=_l("Stored encrypted. For example: treatment-resistant depression."),
    )
    colleagues = StringField(
        _l("Other clinicians on the care team"),
        validators=[Optional(), Length(max=1000)],
        description=_l("Their emails, separated by commas. You are added yourself."),
    )

    def colleague_emails(self) -> list[str]:
        return [e for e in (self.colleagues.data or "").split(",") if e.strip()]


class SessionForm(FlaskForm):
    scheduled_at = DateTimeLocalField(
        _l("Date and time"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()]
    )
    number = IntegerField(
        _l("Number in the course"),
        validators=[Optional(), NumberRange(1, MAX_SESSIONS)],
        description=_l("Left empty, the next number is used."),
    )
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice(s.value, _l(STATUS_LABELS[s])) for s in SessionStatus],
        default=SessionStatus.SCHEDULED.value,
    )

    def aware_time(self, zone: ZoneInfo) -> datetime:
        value: datetime = self.scheduled_at.data
        return value.replace(tzinfo=zone)
