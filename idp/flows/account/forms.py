"""The account pages' forms (field names per docs/contract.md §4)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from idp.flows.fields import email_field, new_password_confirm_field, new_password_field
from idp.messages import lazy_message


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Mot de passe actuel"),
        validators=[DataRequired(lazy_message("field.current_password_missing")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = new_password_field()
    new_password_confirm = new_password_confirm_field()


class EmailForm(FlaskForm):
    """The new address; the syntax check is the activation's."""

    email = email_field()


class ButtonForm(FlaskForm):
    """A button with only a CSRF token: revoke a teleservice, end a session."""
