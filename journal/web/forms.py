"""Form helpers shared by the feature blueprints."""

from __future__ import annotations

from flask_wtf import FlaskForm

from journal.core.errors import ValidationError


class ButtonForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that POST."""


def apply_errors(form: FlaskForm, error: ValidationError) -> None:
    """Show a service's validation messages beside the matching fields."""
    for name, message in error.errors.items():
        field = form._fields.get(name)
        if field is None:
            form.form_errors.append(message)
        else:
            field.errors = [*field.errors, message]
