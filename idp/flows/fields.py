"""Form fields every flow shares, so that an address or a new password is checked alike."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from idp.passwords import MAX_LENGTH


def email_field() -> EmailField:
    return EmailField(
        _l("Adresse électronique"),
        validators=[
            DataRequired(_l("Indiquez votre adresse électronique.")),
            Length(max=254),
            Email(_l("Cette adresse électronique n'est pas valide (exemple : nom@exemple.fr).")),
        ],
        render_kw={"autocomplete": "email", "autocapitalize": "none", "spellcheck": "false"},
    )


def new_password_field() -> PasswordField:
    """Length is the policy's to judge (idp.passwords); here only an upper bound on input."""
    return PasswordField(
        _l("Nouveau mot de passe"),
        validators=[DataRequired(_l("Choisissez un mot de passe.")), Length(max=MAX_LENGTH * 4)],
        render_kw={"autocomplete": "new-password"},
    )


def new_password_confirm_field() -> PasswordField:
    return PasswordField(
        _l("Confirmez le nouveau mot de passe"),
        validators=[
            DataRequired(_l("Saisissez de nouveau le mot de passe.")),
            EqualTo("new_password", _l("Les deux mots de passe ne sont pas identiques.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
