from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from journal.accounts.passwords import MAX_LENGTH


class ChoosePasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "new-password"},
        description="At least 10 characters. A few unrelated words make a strong password.",
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[DataRequired()],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_confirm_password(self, field: PasswordField) -> None:
        if field.data != self.password.data:
            raise ValidationError("The two passwords differ.")


class ForgotForm(FlaskForm):
    email = EmailField(
        "Your email",
        validators=[DataRequired(), Email(), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )
