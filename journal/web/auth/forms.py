from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from journal.accounts.passwords import MAX_LENGTH


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    # No length check here: an over-long password is an ordinary failed sign-in,
    # refused by the service before any hashing, and audited like the others.
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=20)],
        description=_l("The 6-digit code from your authenticator app, or a recovery code."),
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        description=_l("At least 10 characters. A few unrelated words make a strong password."),
    )
    confirm_password = PasswordField(_l("New password again"), validators=[DataRequired()])

    def validate_confirm_password(self, field: PasswordField) -> None:
        if field.data != self.new_password.data:
            raise ValidationError(_("The two new passwords differ."))


class ConfirmIdentityForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    code = StringField(
        _l("Code from your authenticator app"),
        validators=[Length(max=20)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class PasswordOnlyForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[DataRequired()])


class RemoveTwoFactorForm(FlaskForm):
    """Removing the second factor needs it once more: a password alone is not enough."""

    password = PasswordField(_l("Your password"), validators=[DataRequired()])
    code = StringField(
        _l("A code from your authenticator app, or one of your recovery codes"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={"autocomplete": "one-time-code"},
    )
