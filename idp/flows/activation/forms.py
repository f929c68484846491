"""The activation page's forms (field names per contract §4)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length

from idp.passwords import MAX_LENGTH


class BirthdateField(DateField):
    """`YYYY-MM-DD` (what a date picker sends) or `JJ/MM/AAAA` (what people type)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata([value.strip() for value in valuelist])
        except ValueError:
            raise ValueError(_l("Indiquez la date sous la forme JJ/MM/AAAA.")) from None


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


class ActivationForm(FlaskForm):
    email = email_field()
    new_password = PasswordField(
        _l("Nouveau mot de passe"),
        validators=[DataRequired(_l("Choisissez un mot de passe.")), Length(max=MAX_LENGTH * 4)],
        render_kw={"autocomplete": "new-password"},
    )
    new_password_confirm = PasswordField(
        _l("Confirmez le nouveau mot de passe"),
        validators=[
            DataRequired(_l("Saisissez de nouveau le mot de passe.")),
            EqualTo("new_password", _l("Les deux mots de passe ne sont pas identiques.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    child_birthdate = BirthdateField(
        _l("Date de naissance de l'enfant"),
        format=["%Y-%m-%d", "%d/%m/%Y"],
        validators=[InputRequired(_l("Indiquez la date de naissance, par exemple 14/02/2016."))],
        render_kw={"autocomplete": "off"},
    )


class EmailForm(FlaskForm):
    """Correct the address while the confirmation mail is awaited."""

    email = email_field()


class ConfirmForm(FlaskForm):
    """A button with only a CSRF token: resend the mail, report the wrong child."""
