"""The plan's form: one text area a step. The service checks the lengths, so text
over the limit comes back beside its step with nothing saved and nothing lost."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField

from journal.clinical.safety_plan import SECTION_KEYS, SECTIONS
from journal.web.i18n import lazy_words


class PlanForm(FlaskForm):
    version = HiddenField()

    def sections(self) -> dict[str, str]:
        return {key: str(getattr(self, key).data or "") for key in SECTION_KEYS}

    def expected_version(self) -> int | None:
        raw = self.version.data or ""
        if not raw:
            return None
        return int(raw) if raw.isdigit() and len(raw) < 10 else -1


for _section in SECTIONS:
    setattr(
        PlanForm,
        _section.key,
        TextAreaField(
            lazy_words(_section.title),
            description=lazy_words(_section.hint),
            render_kw={"rows": 4},
        ),
    )
