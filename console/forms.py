"""The console's forms; every one inherits CSRF protection from FlaskForm."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from foundation.staff.permissions import ROLE_LABELS


class SignInForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class TotpForm(FlaskForm):
    code = StringField("Six-digit code", validators=[DataRequired(), Length(min=6, max=8)])


class ConfirmForm(FlaskForm):
    """A bare form for buttons that change state: it carries only the CSRF token."""


def role_choices():
    return [SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()]


class CreateStaffForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    display_name = StringField("Name", validators=[Optional(), Length(max=120)])
    role = SelectField("Role", choices=role_choices())
    password = PasswordField("Initial password", validators=[DataRequired(), Length(max=1024)])


class ChangeRoleForm(FlaskForm):
    role = SelectField("Role", choices=role_choices())


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(max=1024)])
