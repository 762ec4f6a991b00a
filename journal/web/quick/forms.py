from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice

from journal.journaling.quick_capture import (
    BODY,
    FEELINGS,
    IMAGE_MAX,
    INTENSITY,
    PHRASE_MAX,
    QuickInput,
)
from journal.models import Visibility
from journal.web.filters import VISIBILITY_LABELS
from journal.web.forms import Limit


class QuickForm(FlaskForm):
    # Choices are checked by the service, which gives the clear messages.
    feelings = SelectMultipleField(
        _l("Feelings"),
        choices=[SelectChoice(k, _l(v)) for k, v in FEELINGS.items()],
        validate_choice=False,
    )
    body = SelectMultipleField(
        _l("In the body"),
        choices=[SelectChoice(k, _l(v)) for k, v in BODY.items()],
        validate_choice=False,
    )
    intensity = RadioField(
        _l("How strong was it?"),
        choices=[SelectChoice(str(n), str(n)) for n in INTENSITY],
        validate_choice=False,
    )
    phrase = StringField(_l("One word or phrase"), validators=[Limit(PHRASE_MAX)])
    image = StringField(_l("One image, in words"), validators=[Limit(IMAGE_MAX)])
    visibility = RadioField(
        _l("Who can read it"),
        choices=[
            SelectChoice(v.value, _l(VISIBILITY_LABELS[v]))
            for v in (Visibility.CARE_TEAM, Visibility.PRIVATE)
        ],
        default=Visibility.CARE_TEAM.value,
    )

    def to_input(self) -> QuickInput:
        raw = self.intensity.data or ""
        return QuickInput(
            feelings=list(self.feelings.data or []),
            body=list(self.body.data or []),
            intensity=(int(raw) if raw.isdigit() and len(raw) < 3 else 0) if raw else None,
            phrase=self.phrase.data or "",
            image=self.image.data or "",
            visibility=Visibility(self.visibility.data),
        )
