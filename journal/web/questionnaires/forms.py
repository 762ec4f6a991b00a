from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from journal.clinical.instruments import Catalogue
from journal.clinical.questionnaires import AFTER_COURSE_OPEN_DAYS, DEFAULT_FOLLOW_UP_MONTHS
from journal.clinical.safety_flags import ACTIONS
from journal.config import Settings
from journal.models import Cadence
from journal.web.i18n import lazy_words, translate

# A questionnaire's language, as it reads inside a sentence ("it is in English").
LANGUAGE_NAMES = {"en": _l("English"), "fr": _l("French")}


def language_name(code: str) -> str:
    return str(LANGUAGE_NAMES[code]) if code in LANGUAGE_NAMES else code


CADENCE_LABELS = {
    Cadence.ONCE: _l("Once"),
    Cadence.BEFORE_EACH_SESSION: _l("Before every dosing session"),
    Cadence.AFTER_EACH_SESSION: _l("After every dosing session"),
    Cadence.END_OF_COURSE: _l("At the end of the course"),
    Cadence.FOLLOW_UP: _l("Follow-ups after the course ends"),
}


def cadence_help(settings: Settings) -> str:
    """When each cadence is due, in the clinic's own windows."""
    after = settings.questionnaire_after_hours
    after_words = (
        ngettext("%(num)d day", "%(num)d days", after // 24)
        if after % 24 == 0 and after >= 48
        else ngettext("%(num)d hour", "%(num)d hours", after)
    )
    return str(
        _(
            "Before a session: from %(window)s hours before it until it ends. After a session: "
            "from its end for %(after)s, or until the next session. End of course and "
            "follow-ups: once the course is closed, each open for %(days)s days.",
            window=settings.questionnaire_window_hours,
            after=after_words,
            days=AFTER_COURSE_OPEN_DAYS,
        )
    )


class AssignForm(FlaskForm):
    instrument_id = SelectField(_l("Questionnaire"), validate_choice=False)
    cadence = RadioField(
        _l("When"),
        choices=[SelectChoice(c.value, label) for c, label in CADENCE_LABELS.items()],
        default=Cadence.BEFORE_EACH_SESSION.value,
        validate_choice=False,
    )
    follow_up_months = StringField(
        _l("Follow-ups: months after the course ends"),
        default=", ".join(str(m) for m in DEFAULT_FOLLOW_UP_MONTHS),
        description=_l("Only for follow-ups. Whole months from 1 to 24, such as 1, 3, 6."),
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": "40"},
    )

    def set_choices(self, catalogue: Catalogue, *, show_languages: bool = False) -> None:
        """The questionnaires to choose from; with `show_languages` (a clinic offering
        several languages), each with the languages it has a validated version in."""
        self.instrument_id.choices = [
            SelectChoice(i, self._choice(catalogue, i, show_languages)) for i in catalogue.ids
        ]

    @staticmethod
    def _choice(catalogue: Catalogue, instrument_id: str, show_languages: bool) -> str:
        instrument = catalogue.get(instrument_id)
        title, measures = instrument.short_title, translate(instrument.measures)
        if not show_languages:
            return str(_("%(title)s: %(measures)s", title=title, measures=measures))
        codes = catalogue.languages(instrument_id)
        languages = (
            ", ".join(language_name(c) for c in codes)
            if len(codes) > 1
            else _("%(language)s only", language=language_name(codes[0]))
        )
        return str(
            _(
                "%(title)s: %(measures)s · %(languages)s",
                title=title,
                measures=measures,
                languages=languages,
            )
        )


class AcknowledgeForm(FlaskForm):
    """What was done about a safety flag; the service checks the choice and the reason.
    The template writes the fields out itself, with ids unique to each flag."""

    action = RadioField(
        _l("What was done"),
        choices=[SelectChoice(k, lazy_words(label)) for k, label in ACTIONS.items()],
        validate_choice=False,
    )
    note = TextAreaField(_l("Note (required for \u201cno action needed\u201d: say why)"))
