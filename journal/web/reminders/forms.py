from __future__ import annotations

from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf

HOURS = [SelectChoice(str(h), f"{h:02d}:00") for h in range(24)]
HOUR_VALUES = [str(h) for h in range(24)]
ZONES = sorted(available_timezones())


class ReminderForm(FlaskForm):
    preparation = BooleanField("Before a dosing session: a day ahead, to prepare")
    capture = BooleanField("After a dosing session: a few hours later, for what came up")
    integration = BooleanField("In the days after a session: a few minutes to write")
    questionnaire = BooleanField("When a questionnaire is waiting for you")
    quiet_from = SelectField("Quiet from", choices=HOURS, validators=[AnyOf(HOUR_VALUES)])
    quiet_until = SelectField("until", choices=HOURS, validators=[AnyOf(HOUR_VALUES)])
    timezone = SelectField("Your time zone", validators=[AnyOf(["", *ZONES])])

    def set_zones(self, clinic_zone: str) -> None:
        self.timezone.choices = [
            SelectChoice("", f"The clinic's ({clinic_zone})"),
            *(SelectChoice(z, z) for z in ZONES),
        ]


NO_DIGEST = "none"


class DigestForm(FlaskForm):
    digest_hour = SelectField(
        "Send it at",
        choices=[SelectChoice(NO_DIGEST, "Never: no digest"), *HOURS],
        validators=[AnyOf([NO_DIGEST, *HOUR_VALUES])],
    )
    timezone = SelectField("Your time zone", validators=[AnyOf(["", *ZONES])])

    def set_zones(self, clinic_zone: str) -> None:
        self.timezone.choices = [
            SelectChoice("", f"The clinic's ({clinic_zone})"),
            *(SelectChoice(z, z) for z in ZONES),
        ]
