"""The self-help forms (field names per docs/contract.md §4)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from idp.flows.fields import email_field, new_password_confirm_field, new_password_field
from idp.messages import lazy_message


class ForgottenIdentifierForm(FlaskForm):
    email = email_field()


class ForgottenPasswordForm(FlaskForm):
    identifier = StringField(
        _l("Identifiant"),
        validators=[DataRequired(lazy_message("field.identifier_missing")), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )


class ResetForm(FlaskForm):
    new_password = new_password_field()
    new_password_confirm = new_password_confirm_field()
