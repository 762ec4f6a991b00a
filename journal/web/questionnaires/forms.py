from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from journal.clinical.instruments import Catalogue
from journal.clinical.questionnaires import AFTER_COURSE_OPEN_DAYS, DEFAULT_FOLLOW_UP_MONTHS
from journal.clinical.safety_flags import ACTIONS
from journal.config import Settings
from journal.models import Cadence

CADENCE_LABELS = {
    Cadence.ONCE: "Once",
    Cadence.BEFORE_EACH_SESSION: "Before every dosing session",
    Cadence.AFTER_EACH_SESSION: "After every dosing session",
    Cadence.END_OF_COURSE: "At the end of the course",
    Cadence.FOLLOW_UP: "Follow-ups after the course ends",
}


def cadence_help(settings: Settings) -> str:
    """When each cadence is due, in the clinic's own windows."""
    after = settings.questionnaire_after_hours
    after_words = f"{after // 24} days" if after % 24 == 0 and after >= 48 else f"{after} hours"
    return (
        f"Before a session: from {settings.questionnaire_window_hours} hours before it "
        "until it ends. After a session: from its end for "
        f"{after_words}, or until the next session. End of course and follow-ups: "
        f"once the course is closed, each open for {AFTER_COURSE_OPEN_DAYS} days."
    )


class AssignForm(FlaskForm):
    instrument_id = SelectField("Questionnaire", validate_choice=False)
    cadence = RadioField(
        "When",
        choices=[SelectChoice(c.value, label) for c, label in CADENCE_LABELS.items()],
        default=Cadence.BEFORE_EACH_SESSION.value,
        validate_choice=False,
    )
    follow_up_months = StringField(
        "Follow-ups: months after the course ends",
        default=", ".join(str(m) for m in DEFAULT_FOLLOW_UP_MONTHS),
        description="Only for follow-ups. Whole months from 1 to 24, such as 1, 3, 6.",
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": "40"},
    )

    def set_choices(self, catalogue: Catalogue) -> None:
        self.instrument_id.choices = [
            SelectChoice(i, f"{catalogue.get(i).short_title}: {catalogue.get(i).measures}")
            for i in catalogue.ids
        ]


class AcknowledgeForm(FlaskForm):
    """What was done about a safety flag; the service checks the choice and the reason.
    The template writes the fields out itself, with ids unique to each flag."""

    action = RadioField(
        "What was done",
        choices=[SelectChoice(k, label) for k, label in ACTIONS.items()],
        validate_choice=False,
    )
    note = TextAreaField("Note (required for \u201cno action needed\u201d: say why)")
