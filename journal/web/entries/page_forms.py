"""Forms shown on the entry page: comments and replies, and themes."""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional

from journal.journaling.themes import NAME_MAX
from journal.models import ThemeKind, Visibility
from journal.review.comments import COMMENT_MAX, QUOTE_MAX, CommentInput
from journal.web.forms import Limit

LEVELS = {
    Visibility.CARE_TEAM: _l("Shared with the patient"),
    Visibility.CLINICIAN_ONLY: _l("Clinicians only"),
}


class CommentForm(FlaskForm):
    quote = TextAreaField(
        _l("Passage (optional)"),
        validators=[Optional(), Limit(QUOTE_MAX)],
        description=_l("Select words in the entry, or paste them here, to comment on a passage."),
    )
    body = TextAreaField(_l("Comment"), validators=[DataRequired(), Limit(COMMENT_MAX)])
    visibility = RadioField(_l("Who can read it"), validators=[Optional()], validate_choice=False)
    parent_id = HiddenField()

    def set_choices(self, levels: list[Visibility]) -> None:
        self.visibility.choices = [SelectChoice(v.value, LEVELS[v]) for v in levels]
        if not self.visibility.data and levels:
            self.visibility.data = levels[0].value

    def parent(self) -> uuid.UUID | None:
        raw = (self.parent_id.data or "").strip()
        try:
            return uuid.UUID(raw) if raw else None
        except ValueError:
            return uuid.UUID(int=0)  # an unknown id: answered as not found

    def to_input(self) -> CommentInput:
        raw = self.visibility.data or ""
        return CommentInput(
            body=self.body.data or "",
            visibility=Visibility(raw) if raw in {v.value for v in LEVELS} else None,
            quote=self.quote.data or "",
            parent_id=self.parent(),
        )


KIND_LABELS = {
    ThemeKind.PEOPLE: _l("Person"),
    ThemeKind.FEELINGS: _l("Feeling"),
    ThemeKind.IMAGES: _l("Image"),
    ThemeKind.PLACES: _l("Place"),
}


class ThemeForm(FlaskForm):
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()]
    )
    name = StringField(_l("Theme"), validators=[DataRequired(), Limit(NAME_MAX)])


class AttachForm(FlaskForm):
    """Link an entry written between sessions to one of its course's sessions."""

    session_id = SelectField(_l("Dosing session"), validate_choice=True)
