"""Form helpers shared by the feature blueprints."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.validators import StopValidation

from journal.core.errors import ValidationError
from journal.core.limits import too_long
from journal.web.i18n import translate


class ButtonForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that POST."""


class Limit:
    """At most `limit` characters, refused whole with both numbers when longer.

    Unlike wtforms' Length it sets no `maxlength` on the field: a browser cuts a paste
    at maxlength without a word, so the page shows the limit (`flags.limit`, read by
    the `field` macro and static/js/limits.js) and the server refuses."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.field_flags = {"limit": limit}

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if problem := too_long(field.data or "", self.limit):
            raise StopValidation(translate(problem))


def apply_errors(form: FlaskForm, error: ValidationError) -> None:
    """Show a service's validation messages beside the matching fields."""
    for name, words in error.errors.items():
        message = translate(words)
        field = form._fields.get(name)
        if field is None:
            form.form_errors.append(message)
        else:
            field.errors = [*field.errors, message]
