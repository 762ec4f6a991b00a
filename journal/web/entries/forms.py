from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from journal.journaling.entries import BODY_MAX, INTENTION_MAX, TITLE_MAX, EntryInput
from journal.journaling.intentions import IntentionView, OutcomeInput
from journal.models import DosingSession, OutcomeStatus, Phase, Visibility
from journal.web.filters import PHASE_LABELS, STATUS_LABELS, VISIBILITY_LABELS
from journal.web.forms import Limit

INTENTIONS_TEXT_MAX = 6000  # the box of intentions, one a line
BETWEEN_SESSIONS = "between"  # the session choice of an entry tied to no session

# A clinician chooses between two levels, named by what they mean for the patient.
CLINICIAN_VISIBILITY_LABELS = {
    Visibility.CLINICIAN_ONLY: _l("Clinicians only: the patient cannot read this"),
    Visibility.CARE_TEAM: _l("Shared: the patient can read this"),
}


class EntryForm(FlaskForm):
    phase = SelectField(
        _l("Phase"), choices=[SelectChoice(p.value, _l(PHASE_LABELS[p])) for p in Phase]
    )
    session_id = SelectField(_l("Dosing session"), validate_choice=True)
    title = StringField(
        _l("Title (optional)"),
        validators=[Optional(), Limit(TITLE_MAX)],
        description=_l("Leave it empty and the first words stand in for it."),
    )
    body = TextAreaField(
        _l("Your words"),
        validators=[Limit(BODY_MAX)],
        description=_l("Markdown works: *emphasis*, lists, > quotes."),
    )
    intentions = TextAreaField(
        _l("Intentions for this session"),
        validators=[Optional(), Limit(INTENTIONS_TEXT_MAX)],
        description=_l(
            "One per line, up to %(max)s characters each. "
            "What would you like to bring into the session?",
            max=INTENTION_MAX,
        ),
    )
    mood = SelectField(
        _l("Mood right now"),
        choices=[SelectChoice("", _l("Not recorded"))]
        + [SelectChoice(str(n), str(n)) for n in range(1, 11)],
        validators=[Optional()],
        description=_l("1 is very low, 10 is very good."),
    )
    visibility = RadioField(_l("Who can read it"))
    version = HiddenField()
    prompt = HiddenField()  # the prompt assignment this entry answers
    builds_on = SelectField(
        _l("The first intention builds on"),
        validators=[Optional()],
        description=_l("An earlier intention this one carries on from, if any."),
    )

    def set_choices(
        self,
        sessions: Sequence[DosingSession],
        visibilities: list[Visibility],
        label: Callable[[datetime], str],
        *,
        for_clinician: bool = False,
    ) -> None:
        """`visibilities` in policy's order: the first is preselected on a new entry."""
        if not sessions:
            self.session_id.choices = [SelectChoice("", _("None yet: no session is scheduled"))]
        else:
            self.session_id.choices = [
                SelectChoice("", _("Let the journal choose by date")),
                *(
                    SelectChoice(
                        str(s.id),
                        _(
                            "Session %(number)s · %(when)s · %(status)s",
                            number=s.number,
                            when=label(s.scheduled_at),
                            status=_(STATUS_LABELS[s.status]),
                        ),
                    )
                    for s in sessions
                ),
                SelectChoice(BETWEEN_SESSIONS, _("Between sessions: not about one session")),
            ]
        labels = CLINICIAN_VISIBILITY_LABELS if for_clinician else VISIBILITY_LABELS
        self.visibility.choices = [SelectChoice(v.value, _(str(labels[v]))) for v in visibilities]
        if not self.visibility.data and visibilities:
            self.visibility.data = visibilities[0].value
        if not self.builds_on.choices:
            self.builds_on.choices = [SelectChoice("", _("Nothing earlier"))]

    def set_earlier_ids(self, ids: Sequence[uuid.UUID]) -> None:
        """The choices a submitted form is checked against; set_earlier_intentions labels them."""
        self.builds_on.choices = [SelectChoice("", _("Nothing earlier"))] + [
            SelectChoice(str(i), "") for i in ids
        ]

    def set_earlier_intentions(self, earlier: Sequence[IntentionView]) -> None:
        self.builds_on.choices = [SelectChoice("", _("Nothing earlier"))] + [
            SelectChoice(
                str(i.id),
                _("Session %(number)s: %(text)s", number=i.session_number, text=i.text[:80])
                if i.session_number
                else _("Between sessions: %(text)s", text=i.text[:80]),
            )
            for i in earlier
        ]

    def to_input(self, outcomes: dict[uuid.UUID, OutcomeInput] | None = None) -> EntryInput:
        return EntryInput(
            phase=Phase(self.phase.data),
            title=self.title.data or "",
            body=self.body.data or "",
            visibility=Visibility(self.visibility.data),
            session_id=_uuid(self.session_id.data),
            between_sessions=self.session_id.data == BETWEEN_SESSIONS,
            mood=int(self.mood.data) if self.mood.data else None,
            intentions=(self.intentions.data or "").splitlines(),
            assignment_id=_uuid(self.prompt.data),
            outcomes=outcomes or {},
            builds_on=_uuid(self.builds_on.data),
        )


def _uuid(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None


def outcomes_from(
    form: Mapping[str, str], intention_ids: Sequence[uuid.UUID]
) -> tuple[dict[uuid.UUID, OutcomeInput], str | None]:
    """The outcome fields of an integration entry: `outcome-<id>` and `reflection-<id>`.

    Only intentions offered on the form are read; an unknown answer is an error."""
    found: dict[uuid.UUID, OutcomeInput] = {}
    for iid in intention_ids:
        raw = form.get(f"outcome-{iid}", "")
        if not raw:
            continue
        try:
            status = OutcomeStatus(raw)
        except ValueError:
            return {}, _("Choose addressed, partly or not yet for each intention.")
        found[iid] = OutcomeInput(status, form.get(f"reflection-{iid}", ""))
    return found, None
