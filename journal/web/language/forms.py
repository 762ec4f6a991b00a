from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import InputRequired


class LanguageForm(FlaskForm):
    # InputRequired: a form sent without the field is refused, not taken as "unchanged".
    language = SelectField(_l("Language"), choices=[], validators=[InputRequired()])
