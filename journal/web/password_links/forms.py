from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from journal.accounts.passwords import MAX_LENGTH


class ChoosePasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "new-password"},
        description=_l("At least 10 characters. A few unrelated words make a strong password."),
    )
    confirm_password = PasswordField(
        _l("New password again"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_confirm_password(self, field: PasswordField) -> None:
        if field.data != self.password.data:
            raise ValidationError(_("The two passwords differ."))


class ForgotForm(FlaskForm):
    email = EmailField(
        _l("Your email"),
        validators=[DataRequired(), Email(), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )
