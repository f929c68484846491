"""Form fields every flow shares, so that an address or a new password is checked alike."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length
from wtforms.widgets import PasswordInput

from idp.messages import lazy_message
from idp.passwords import MAX_LENGTH

# A new password is put back only when it was right and another field was not (the ``keep``
# of templates/_field.html, which empties it in every other case).
SHOWN_BY_TEMPLATE = PasswordInput(hide_value=False)


def email_field() -> EmailField:
    return EmailField(
        _l("Adresse électronique"),
        validators=[
            DataRequired(lazy_message("field.email_missing")),
            Length(max=254),
            Email(lazy_message("field.email_invalid")),
        ],
        render_kw={"autocomplete": "email", "autocapitalize": "none", "spellcheck": "false"},
    )


def new_password_field() -> PasswordField:
    """Length is the policy's to judge (idp.passwords); here only an upper bound on input."""
    return PasswordField(
        _l("Nouveau mot de passe"),
        validators=[
            DataRequired(lazy_message("field.password_missing")),
            Length(max=MAX_LENGTH * 4),
        ],
        render_kw={"autocomplete": "new-password"},
        widget=SHOWN_BY_TEMPLATE,
    )


def new_password_confirm_field() -> PasswordField:
    return PasswordField(
        _l("Confirmez le nouveau mot de passe"),
        validators=[
            DataRequired(lazy_message("field.password_confirm_missing")),
            EqualTo("new_password", lazy_message("field.passwords_differ")),
        ],
        render_kw={"autocomplete": "new-password"},
        widget=SHOWN_BY_TEMPLATE,
    )
