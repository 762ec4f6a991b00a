from __future__ import annotations

from zoneinfo import available_timezones

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf

HOURS = [SelectChoice(str(h), f"{h:02d}:00") for h in range(24)]
HOUR_VALUES = [str(h) for h in range(24)]
ZONES = sorted(available_timezones())


class ReminderForm(FlaskForm):
    preparation = BooleanField(_l("Before a dosing session: a day ahead, to prepare"))
    capture = BooleanField(_l("After a dosing session: a few hours later, for what came up"))
    integration = BooleanField(_l("In the days after a session: a few minutes to write"))
    questionnaire = BooleanField(_l("When a questionnaire is waiting for you"))
    quiet_from = SelectField(_l("Quiet from"), choices=HOURS, validators=[AnyOf(HOUR_VALUES)])
    quiet_until = SelectField(_l("until"), choices=HOURS, validators=[AnyOf(HOUR_VALUES)])
    timezone = SelectField(_l("Your time zone"), validators=[AnyOf(["", *ZONES])])

    def set_zones(self, clinic_zone: str) -> None:
        self.timezone.choices = [
            SelectChoice("", _("The clinic's (%(zone)s)", zone=clinic_zone)),
            *(SelectChoice(z, z) for z in ZONES),
        ]


NO_DIGEST = "none"


class DigestForm(FlaskForm):
    digest_hour = SelectField(
        _l("Send it at"),
        choices=[SelectChoice(NO_DIGEST, _l("Never: no digest")), *HOURS],
        validators=[AnyOf([NO_DIGEST, *HOUR_VALUES])],
    )
    timezone = SelectField(_l("Your time zone"), validators=[AnyOf(["", *ZONES])])

    def set_zones(self, clinic_zone: str) -> None:
        self.timezone.choices = [
            SelectChoice("", _("The clinic's (%(zone)s)", zone=clinic_zone)),
            *(SelectChoice(z, z) for z in ZONES),
        ]
